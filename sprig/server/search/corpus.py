"""One tenant's searchable chunks in memory: ids, doc and owner of each, unit vectors and
an inverted index, addressed by position. No I/O: ``search.cache`` fills it from
the store and keeps it in step.

Scoping is a boolean mask over positions (owners, docs passing a metadata filter, live),
so a search never leaves its scope and never needs a list of allowed ids. Deleted chunks
are tombstoned (``live`` false) and the arrays compacted once a quarter of them are dead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

import numpy as np
import numpy.typing as npt

from sprig.server.embeddings.base import Vectors, l2_normalise
from sprig.server.search.lexical import LexicalIndex, stemmer_name
from sprig.server.search.vector import normalise_query, top_k

Owner = tuple[str, UUID]
Hit = tuple[int, UUID, float]
Mask = npt.NDArray[np.bool_]
COMPACT_DEAD_RATIO = 0.25


@dataclass(frozen=True, slots=True)
class ChunkRow:
    """A chunk as the store has it, with what search needs of its doc."""

    id: int
    doc_id: UUID
    owner: Owner
    language: str
    title: str
    content: str
    embedding: bytes | None  # float32, or None while the doc is pending


class Corpus:
    def __init__(self, dimensions: int | None = None) -> None:
        self.dimensions = dimensions
        self.size = 0  # positions used (live or dead)
        self._ids = np.zeros(0, dtype=np.int64)
        self._doc = np.zeros(0, dtype=np.int32)  # position -> doc code
        self._owner = np.zeros(0, dtype=np.int32)  # position -> owner code
        self._live = np.zeros(0, dtype=bool)
        self._has_vector = np.zeros(0, dtype=bool)
        self._vectors: Vectors = np.zeros((0, dimensions or 1), dtype=np.float32)
        self._position: dict[int, int] = {}
        self._docs: list[UUID] = []
        self._doc_code: dict[UUID, int] = {}
        self._owner_code: dict[Owner, int] = {}
        self._owner_masks: dict[frozenset[int], Mask] = {}  # cleared by every write
        self.lexical = LexicalIndex()

    # -- reading ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._position)

    def __contains__(self, chunk_id: object) -> bool:
        return chunk_id in self._position

    @property
    def max_id(self) -> int:
        return max(self._position, default=0)

    def doc_of(self, chunk_id: int) -> UUID | None:
        position = self._position.get(chunk_id)
        return None if position is None else self._docs[self._doc[position]]

    def pending_ids(self) -> list[int]:
        """Live chunks still waiting for their embedding."""
        missing = self._live[: self.size] & ~self._has_vector[: self.size]
        return [int(i) for i in self._ids[: self.size][missing]]

    def items(self) -> Iterable[tuple[int, UUID]]:
        """(chunk id, doc id) of every live chunk."""
        return ((cid, self._docs[self._doc[p]]) for cid, p in self._position.items())

    @property
    def nbytes(self) -> int:
        return int(self._vectors.nbytes + self.size * 40)

    # -- scope -----------------------------------------------------------------------------
    def mask(self, owners: Iterable[Owner], docs: Iterable[UUID] | None = None) -> Mask:
        """Live positions owned by one of ``owners`` (and among ``docs`` when given).

        Read-only: the owners' part is kept until the next write (a search repeats it)."""
        codes = frozenset(self._owner_code[o] for o in owners if o in self._owner_code)
        mask = self._owner_masks.get(codes)
        if mask is None:
            if len(self._owner_masks) >= 64:
                self._owner_masks.clear()
            n = self.size
            mask = np.isin(self._owner[:n], list(codes)) & self._live[:n]
            mask.flags.writeable = False
            self._owner_masks[codes] = mask
        if docs is not None:
            allowed = [self._doc_code[d] for d in docs if d in self._doc_code]
            mask = mask & np.isin(self._doc[: self.size], allowed)
        return mask

    # -- search ----------------------------------------------------------------------------
    def text_search(self, text: str, mask: Mask, k: int) -> list[Hit]:
        """BM25 top ``k`` within ``mask``; the query is analysed for every language present."""
        if not mask.any():
            return []
        scores = self.lexical.scores(text, self._live, self.size)
        candidates = np.flatnonzero((scores > 0) & mask)
        best = candidates[top_k(scores[candidates], k)]
        return [self._hit(int(p), float(scores[p])) for p in best]

    def vector_search(self, query: npt.ArrayLike, mask: Mask, k: int) -> list[Hit]:
        """Exact cosine top ``k`` within ``mask`` (chunks without a vector excluded)."""
        if self.dimensions is None:
            return []
        unit = normalise_query(query, self.dimensions)
        usable = mask & self._has_vector[: self.size]
        if usable.all():  # the whole corpus (one owner holds every chunk): no gather
            scores = self._vectors[: self.size] @ unit
            return [self._hit(int(p), float(scores[p])) for p in top_k(scores, k)]
        positions = np.flatnonzero(usable)
        if len(positions) == 0:
            return []
        if len(positions) * 8 < self.size:  # a small scope: gather its rows
            scores = self._vectors[positions] @ unit
        else:  # a big one: score every row (one matmul), then pick the scope's
            scores = (self._vectors[: self.size] @ unit)[positions]
        best = top_k(scores, k)
        return [self._hit(int(positions[i]), float(scores[i])) for i in best]

    def vectors(self, chunk_ids: Sequence[int]) -> Vectors:
        """Unit vectors of ``chunk_ids``; zeros for an unknown chunk or one not embedded."""
        out = np.zeros((len(chunk_ids), self.dimensions or 1), dtype=np.float32)
        for i, cid in enumerate(chunk_ids):
            position = self._position.get(int(cid))
            if position is not None and self._has_vector[position]:
                out[i] = self._vectors[position]
        return out

    def _hit(self, position: int, score: float) -> Hit:
        return int(self._ids[position]), self._docs[self._doc[position]], score

    # -- writing ---------------------------------------------------------------------------
    def add(self, rows: Sequence[ChunkRow]) -> None:
        """Insert chunks (a known id is replaced: its old position dies)."""
        if not rows:
            return
        self.remove([r.id for r in rows if r.id in self._position])
        self._owner_masks.clear()
        start = self.size
        end = start + len(rows)
        self._grow(end)
        self._ids[start:end] = [r.id for r in rows]
        self._doc[start:end] = [self._code(self._doc_code, r.doc_id, self._docs) for r in rows]
        owner = self._owner_code
        self._owner[start:end] = [owner.setdefault(r.owner, len(owner)) for r in rows]
        self._live[start:end] = True
        self._position.update((r.id, start + i) for i, r in enumerate(rows))
        self._set_vectors(range(start, end), [r.embedding for r in rows])
        self.size = end
        texts = [(stemmer_name(r.language), f"{r.title}\n{r.content}") for r in rows]
        self.lexical.add(start, texts)

    @staticmethod
    def _code(codes: dict[UUID, int], key: UUID, values: list[UUID]) -> int:
        code = codes.get(key)
        if code is None:
            code = codes[key] = len(values)
            values.append(key)
        return code

    def _fits(self, blob: bytes) -> bool:
        """The first vector fixes the dimensions; one of another size is not indexed."""
        if self.dimensions is None:
            self.dimensions = len(blob) // 4
            self._vectors = np.zeros((len(self._ids), self.dimensions), dtype=np.float32)
        return len(blob) == 4 * self.dimensions

    def _set_vectors(self, positions: Sequence[int], blobs: Sequence[bytes | None]) -> None:
        """Store the vectors given (normalised); a missing or misfit one marks no vector."""
        fit = [i for i, blob in enumerate(blobs) if blob is not None and self._fits(blob)]
        rows = np.asarray(positions, dtype=np.intp)
        self._has_vector[rows] = False
        if fit:
            joined = b"".join(blobs[i] or b"" for i in fit)
            vectors = np.frombuffer(joined, dtype=np.float32).reshape(len(fit), -1)
            self._vectors[rows[fit]] = l2_normalise(vectors)
            self._has_vector[rows[fit]] = True

    def set_embeddings(self, pairs: Iterable[tuple[int, bytes]]) -> None:
        """Vectors of chunks that were pending."""
        known = [(self._position[cid], blob) for cid, blob in pairs if cid in self._position]
        self._set_vectors([p for p, _ in known], [b for _, b in known])

    def remove(self, chunk_ids: Iterable[int]) -> int:
        self._owner_masks.clear()
        removed = 0
        for chunk_id in chunk_ids:
            position = self._position.pop(int(chunk_id), None)
            if position is not None:
                self._live[position] = False
                removed += 1
        if self.size and (self.size - len(self._position)) > COMPACT_DEAD_RATIO * self.size:
            self._compact()
        return removed

    def _grow(self, needed: int) -> None:
        capacity = len(self._ids)
        if needed <= capacity:
            return
        capacity = max(needed, 2 * capacity, 1024)
        self._ids = _resized(self._ids, capacity)
        self._doc = _resized(self._doc, capacity)
        self._owner = _resized(self._owner, capacity)
        self._live = _resized(self._live, capacity)
        self._has_vector = _resized(self._has_vector, capacity)
        vectors = np.zeros((capacity, self.dimensions or 1), dtype=np.float32)
        vectors[: len(self._vectors)] = self._vectors
        self._vectors = vectors

    def _compact(self) -> None:
        """Drop dead positions from every array and the postings."""
        keep = np.flatnonzero(self._live[: self.size])
        new_position = np.full(self.size, -1, dtype=np.int64)
        new_position[keep] = np.arange(len(keep))
        for name in ("_ids", "_doc", "_owner", "_live", "_has_vector", "_vectors"):
            array = getattr(self, name)
            setattr(self, name, array[keep].copy())
        self.lexical.remap(new_position, len(keep))
        self.size = len(keep)
        self._position = {int(cid): p for p, cid in enumerate(self._ids[: self.size])}


_A = TypeVar("_A", bound=np.generic)


def _resized(array: npt.NDArray[_A], capacity: int) -> npt.NDArray[_A]:
    out: npt.NDArray[_A] = np.zeros(capacity, dtype=array.dtype)
    out[: len(array)] = array
    return out
