"""One settings object, read from the environment.

Every piece of state the assistant writes (Chroma index, BM25 files, cleaned
documents, caches, logs, feedback, uploads) lives under ``data_dir``; point
``RAG_DATA_DIR`` somewhere else (tests use a temp dir) and nothing else moves.

    >>> s = Settings.from_env({"RAG_DATA_DIR": "/tmp/x", "RAG_K": "8"})
    >>> s.k, str(s.chroma_dir)
    (8, '/tmp/x/chroma')
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import SettingsError

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_EMBEDDING = "all-MiniLM-L6-v2"
ENCODERS = ("onnx-int8", "onnx-fp32", "torch")  # how the bundled model runs (RAG_ENCODER)


def _int(env, name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(env, name: str, default: float) -> float:
    """A positive number of seconds or megabytes."""
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not value > 0:
        raise SettingsError(f"{name} must be more than 0, got {raw!r}")
    return value


def _bool(env, name: str, default: bool = False) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name} must be 1 or 0 (yes/no), got {raw!r}")


@dataclass(frozen=True)
class Settings:
    data_dir: Path = PROJECT_DIR / "data"
    corpus_dir: Path = PROJECT_DIR / "corpus"
    # Editable lists and templates (defaults: the bundled ones).
    aliases_file: Path | None = None  # None: <corpus_dir>/aliases.yaml
    place_aliases: bool = True  # countries and their capitals as name variants (rag.answer.places)
    cues_file: Path = PROJECT_DIR / "corpus" / "framing_cues.yaml"
    outlets_file: Path = PROJECT_DIR / "corpus" / "outlets.yaml"  # the outlet registry (ratings with provenance)
    prompts_dir: Path = PROJECT_DIR / "prompts"
    # Chunking (cl100k tokens). MiniLM truncates at 256 word pieces, so chunks stay below that.
    chunk_tokens: int = 180
    chunk_overlap: int = 30
    max_file_mb: float = 20.0
    # ZIP uploads (rag.intake.archive): the most files and megabytes one may unpack to, and the
    # most it (or any file in it) may be compressed: a higher ratio is what a zip bomb looks like.
    zip_max_files: int = 10_000
    zip_max_mb: float = 500.0
    zip_max_ratio: float = 100.0
    # "all-MiniLM-L6-v2" (bundled, offline) or "openai:<model>" (needs OPENAI_API_KEY).
    embedding: str = DEFAULT_EMBEDDING
    embed_batch_size: int = 16
    # How the bundled model runs: "onnx-int8" (its weights exported to ONNX and quantized once,
    # offline, into models_dir; 1.8x faster), "onnx-fp32" (exported, not quantized: torch's
    # numbers without importing torch) or "torch" (the reference). Same model, same index.
    encoder: str = "onnx-int8"
    models_dir: Path | None = None  # None: <data_dir>/models
    # Chroma: embedded PersistentClient unless a server host is given.
    chroma_host: str | None = None
    chroma_port: int = 8000
    collection: str = "passages"
    # Retrieval and answering.
    k: int = 6
    # Up to this many chunks, the closest in meaning are found exactly (every vector compared,
    # held in memory: 1.5 KB a chunk); above it, by Chroma's approximate HNSW graph. 0: always HNSW.
    exact_search_limit: int = 200_000
    llm_model: str | None = None
    openai_base_url: str | None = None
    openai_api_key: str | None = field(default=None, repr=False)
    llm_timeout: float = 30.0  # seconds per read from the LLM endpoint
    llm_deadline: float = 120.0  # seconds for a whole answer
    llm_max_tokens: int = 600
    # The app's Evals page shows the report here.
    eval_report_dir: Path = PROJECT_DIR / "evals" / "out" / "latest"
    # The app: a password for every page (None: open to whoever reaches the port, which is
    # localhost unless the server address is changed), and error details for developers only.
    app_password: str | None = field(default=None, repr=False)
    dev_mode: bool = False

    @classmethod
    def from_env(cls, env=None) -> "Settings":
        env = os.environ if env is None else env
        base = cls()

        def path(name: str, default: Path | None) -> Path | None:
            raw = env.get(name) or default
            return None if raw is None else Path(raw).expanduser().resolve()

        settings = cls(
            data_dir=path("RAG_DATA_DIR", base.data_dir),
            corpus_dir=path("RAG_CORPUS_DIR", base.corpus_dir),
            aliases_file=path("RAG_ALIASES_FILE", None),
            place_aliases=_bool(env, "RAG_PLACE_ALIASES", base.place_aliases),
            cues_file=path("RAG_CUES_FILE", base.cues_file),
            outlets_file=path("RAG_OUTLETS_FILE", base.outlets_file),
            prompts_dir=path("RAG_PROMPTS_DIR", base.prompts_dir),
            eval_report_dir=path("RAG_EVAL_REPORT_DIR", base.eval_report_dir),
            app_password=env.get("RAG_APP_PASSWORD") or None,
            dev_mode=_bool(env, "RAG_DEV_MODE"),
            chunk_tokens=_int(env, "RAG_CHUNK_TOKENS", base.chunk_tokens, minimum=16),
            chunk_overlap=_int(env, "RAG_CHUNK_OVERLAP", base.chunk_overlap),
            max_file_mb=_float(env, "RAG_MAX_FILE_MB", base.max_file_mb),
            zip_max_files=_int(env, "RAG_ZIP_MAX_FILES", base.zip_max_files, minimum=1),
            zip_max_mb=_float(env, "RAG_ZIP_MAX_MB", base.zip_max_mb),
            zip_max_ratio=_float(env, "RAG_ZIP_MAX_RATIO", base.zip_max_ratio),
            embedding=env.get("RAG_EMBEDDINGS") or base.embedding,
            embed_batch_size=_int(env, "RAG_EMBED_BATCH", base.embed_batch_size, minimum=1),
            encoder=(env.get("RAG_ENCODER") or base.encoder).strip().lower(),
            models_dir=path("RAG_MODELS_DIR", None),
            chroma_host=env.get("CHROMA_HOST") or None,
            chroma_port=_int(env, "CHROMA_PORT", base.chroma_port, minimum=1),
            collection=env.get("RAG_COLLECTION") or base.collection,
            k=_int(env, "RAG_K", base.k, minimum=1),
            exact_search_limit=_int(env, "RAG_EXACT_SEARCH_LIMIT", base.exact_search_limit),
            llm_model=env.get("RAG_LLM_MODEL") or None,
            openai_base_url=env.get("OPENAI_BASE_URL") or None,
            openai_api_key=env.get("OPENAI_API_KEY") or None,
            llm_timeout=_float(env, "RAG_LLM_TIMEOUT", base.llm_timeout),
            llm_deadline=_float(env, "RAG_LLM_DEADLINE", base.llm_deadline),
            llm_max_tokens=_int(env, "RAG_LLM_MAX_TOKENS", base.llm_max_tokens, minimum=16),
        )
        if settings.encoder not in ENCODERS:
            raise SettingsError(f"RAG_ENCODER must be one of {', '.join(ENCODERS)}, got {settings.encoder!r}")
        if settings.chunk_overlap >= settings.chunk_tokens:
            raise SettingsError("RAG_CHUNK_OVERLAP must be smaller than RAG_CHUNK_TOKENS")
        return settings

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)

    @property
    def llm_configured(self) -> bool:
        """An LLM is used when a model is named and there is somewhere to send it."""
        return bool(self.llm_model and (self.openai_base_url or self.openai_api_key))

    # Everything below is derived from data_dir.
    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def bm25_dir(self) -> Path:
        return self.data_dir / "bm25"

    @property
    def documents_dir(self) -> Path:
        return self.data_dir / "documents"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def feedback_path(self) -> Path:
        return self.data_dir / "feedback.jsonl"

    @property
    def history_path(self) -> Path:
        """Each document's ingest history: added, updated, removed, deleted (append-only JSON lines)."""
        return self.data_dir / "history.jsonl"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def model_cache_dir(self) -> Path:
        """Where the ONNX export of the bundled model is kept (built once, never committed)."""
        return self.models_dir or self.data_dir / "models"

    # ... and from corpus_dir.
    @property
    def registry_path(self) -> Path:
        return self.corpus_dir / "sources.yaml"

    @property
    def aliases_path(self) -> Path:
        return self.aliases_file or self.corpus_dir / "aliases.yaml"
