"""The Chroma side of the index: embedded by default, a server when CHROMA_HOST is set.

    >>> catalog = Catalog(Settings.from_env())                           # doctest: +SKIP
    >>> catalog.active()                                                 # doctest: +SKIP
    Active(name='passages-18c2a9f1e07b3d40', version='5f1c0e9ab2d4c7e8a1b3f6d2')
    >>> store = catalog.open("passages-18c2a9f1e07b3d40", "all-MiniLM-L6-v2")   # doctest: +SKIP

The logical index (``RAG_COLLECTION``, "passages") is a *generation*: one physical collection
named ``passages-<stamp>``, which a tiny pointer collection (``passages-active``) names,
together with the contents' version. A rebuild fills a new generation while readers keep
using the active one, then switches the pointer in one write; the previous generation stays
until the rebuild after, so a reader that has not looked at the pointer yet never finds its
collection gone. An index built before generations existed is the collection ``passages``
itself, until its first rebuild.

Each collection records which embedding model built it; opening it with another raises
``EmbeddingMismatch`` so vectors from two models are never mixed. Chroma's own failures
(server down, a damaged or read-only database) become one-line ``RagError``s here.
"""

from __future__ import annotations

import functools
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..errors import EmbeddingMismatch, IndexDamaged, IndexMissing, IndexUnavailable, RagError
from ..settings import Settings

POINTER = "-active"  # the pointer collection's name is the logical name plus this


@dataclass
class IndexedDoc:
    doc_id: str
    doc_hash: str
    path: str
    ids: set[str]


def indexed_docs(rows) -> dict[str, IndexedDoc]:
    """Per document, from (chunk id, metadata) rows: its hash, path and chunk ids."""
    docs: dict[str, IndexedDoc] = {}
    for chunk_id, meta in rows:
        doc = docs.setdefault(meta["doc_id"], IndexedDoc(meta["doc_id"], meta["doc_hash"], meta["path"], set()))
        doc.ids.add(chunk_id)
        if meta["doc_hash"] != doc.doc_hash:
            doc.doc_hash = "mixed"  # half-replaced by an interrupted run: redo it
    return docs


class Active(NamedTuple):
    name: str | None  # the physical collection readers should use (None: no index yet)
    version: str  # the version of its contents (what the BM25 snapshot must match)


@contextmanager
def translated(settings: Settings):
    """Chroma's exceptions as one-line errors naming the cause and the fix."""
    try:
        yield
    except RagError:
        raise
    except Exception as error:  # chromadb raises ValueError, sqlite and Rust errors alike
        mapped = _translate(error, settings)
        if mapped is None:
            raise
        raise mapped from None


def _translate(error: Exception, settings: Settings) -> RagError | None:
    text = f"{type(error).__name__}: {error}"
    low = text.lower()
    if settings.chroma_host and ("could not connect" in low or "connect" in type(error).__name__.lower()):
        return IndexUnavailable(
            f"Cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port}. Start it "
            f"(chroma run --path DIR --port {settings.chroma_port}) or unset CHROMA_HOST to use the embedded index.")
    if "not a database" in low or "malformed" in low or "database disk image" in low:
        return IndexDamaged(
            f"The index database {settings.chroma_dir / 'chroma.sqlite3'} is damaged ({str(error)[:80]}). "
            "Run: python -m rag doctor --repair (your documents are not touched).")
    if "readonly" in low or "read-only" in low or isinstance(error, PermissionError):
        return IndexUnavailable(
            f"The data directory {settings.data_dir} cannot be written ({str(error)[:80]}). Fix its permissions "
            "or point RAG_DATA_DIR at a writable folder.")
    return None


def _guarded(method):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with translated(self.settings):
            return method(self, *args, **kwargs)
    return wrapper


def connect(settings: Settings, fresh: bool = False):
    """A Chroma client. ``fresh``: for an embedded index, one that re-reads the files.

    chromadb keeps one embedded "System" per folder and process, and that System never sees
    vectors another process added to a collection it has already loaded (its metadata it does:
    a query then fails with "Error finding id"). A reader that learns another process changed
    the index asks for a fresh one; chromadb has no public call for it, hence its private cache
    (chromadb is pinned in requirements.txt; tests/test_index.py checks this still works)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    with translated(settings):
        if settings.chroma_host:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        settings.chroma_dir.mkdir(parents=True, exist_ok=True)
        if fresh:
            from chromadb.api.client import SharedSystemClient

            SharedSystemClient._identifier_to_system.pop(str(settings.chroma_dir), None)
        return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


def surely_missing(settings: Settings) -> bool:
    """True when an embedded index plainly does not exist yet (checked without importing chromadb).

    False means "maybe": a server, or an embedded folder whose collection may still be missing."""
    return not settings.chroma_host and not (settings.chroma_dir / "chroma.sqlite3").exists()


# Which contents' versions each embedded System of this process has all the vectors of. A System
# is known by (folder, epoch); a fresh one starts a new epoch. A server has no such problem.
_epochs: dict[str, int] = {}
_known: dict[tuple[str, int], set[str]] = {}
_systems_lock = threading.Lock()


def forget(settings: Settings) -> None:
    """Drop this process's cached embedded System for the folder (it was moved or is damaged)."""
    from chromadb.api.client import SharedSystemClient

    with _systems_lock:
        SharedSystemClient._identifier_to_system.pop(str(settings.chroma_dir), None)
        folder = str(settings.chroma_dir)
        _epochs[folder] = _epochs.get(folder, 0) + 1


class Catalog:
    """The logical index: its generations and the pointer that names the active one."""

    def __init__(self, settings: Settings, fresh: bool = False):
        self.settings = settings
        self.logical = settings.collection
        folder = str(settings.chroma_dir)
        with _systems_lock:
            if fresh:
                _epochs[folder] = _epochs.get(folder, 0) + 1
            self._system = (folder, _epochs.setdefault(folder, 0))
            self.client = connect(settings, fresh)

    def knows(self, version: str) -> bool:
        """Does this client see every vector of the contents ``version``? (Always, for a server.)"""
        return bool(self.settings.chroma_host) or version in _known.get(self._system, ())

    def learn(self, version: str) -> None:
        """This client has read, or written, the contents ``version``."""
        with _systems_lock:
            _known.setdefault(self._system, set()).add(version)

    @_guarded
    def names(self) -> set[str]:
        # some chromadb versions list names, others Collection objects
        return {c if isinstance(c, str) else c.name for c in self.client.list_collections()}

    @_guarded
    def active(self) -> Active:
        """Which generation readers use now, and its version (re-read: another process may switch it)."""
        try:
            pointer = self.client.get_collection(self.logical + POINTER, embedding_function=None)
            meta = pointer.metadata or {}
            return Active(meta.get("active") or None, meta.get("index_version", ""))
        except Exception as error:
            if not _is_not_found(error):
                raise
        if self.logical in self.names():  # built before generations existed
            legacy = self.client.get_collection(self.logical, embedding_function=None)
            return Active(self.logical, (legacy.metadata or {}).get("index_version", ""))
        return Active(None, "")

    @_guarded
    def open(self, name: str, model_name: str, create: bool = False) -> "ChromaStore":
        if not create and name not in self.names():
            raise IndexMissing(f"No index yet in {self.where}. Run: python -m rag ingest")
        return ChromaStore(self.settings, self.client, name, model_name)

    def open_active(self, model_name: str, create: bool = False) -> "ChromaStore":
        name = self.active().name
        if name is not None:
            return self.open(name, model_name)
        if not create:
            raise IndexMissing(f"No index yet in {self.where}. Run: python -m rag ingest")
        store = self.open(self.new_name(), model_name, create=True)
        self.point(store.name, "")  # the first generation is active at once: a killed first ingest resumes
        return store

    def new_name(self) -> str:
        return f"{self.logical}-{time.time_ns():x}"

    @_guarded
    def point(self, name: str, version: str) -> None:
        """Make ``name`` (with contents ``version``) the active generation: one metadata write."""
        pointer = self.client.get_or_create_collection(self.logical + POINTER, embedding_function=None)
        if (pointer.metadata or {}) != {"active": name, "index_version": version}:
            pointer.modify(metadata={"active": name, "index_version": version})

    @_guarded
    def prune(self, keep: set[str]) -> list[str]:
        """Delete the generations not in ``keep`` (abandoned rebuilds, generations two rebuilds old)."""
        dropped = []
        for name in self.names():
            if name not in keep and (name == self.logical or _is_generation(name, self.logical)):
                self.client.delete_collection(name)
                dropped.append(name)
        return dropped

    @property
    def where(self) -> str:
        s = self.settings
        return f"the Chroma server at {s.chroma_host}:{s.chroma_port}" if s.chroma_host else str(s.chroma_dir)


def _is_generation(name: str, logical: str) -> bool:
    stamp = name[len(logical) + 1:]
    return name.startswith(logical + "-") and stamp != POINTER[1:] and all(c in "0123456789abcdef" for c in stamp)


def _is_not_found(error: Exception) -> bool:
    return type(error).__name__ == "NotFoundError" or "does not exist" in str(error)


class ChromaStore:
    """One physical collection; ids and metadata are ours, vectors come in precomputed."""

    def __init__(self, settings: Settings, client, name: str, model_name: str):
        self.settings = settings
        self.client = client
        self.name = name
        self.model_name = model_name
        with translated(settings):
            self.collection = client.get_or_create_collection(
                name, metadata={"embedding_model": model_name},
                configuration={"hnsw": {"space": "cosine"}}, embedding_function=None,
            )
        built_with = (self.collection.metadata or {}).get("embedding_model")
        if built_with and built_with != model_name:
            raise EmbeddingMismatch(
                f"The index was built with embeddings '{built_with}' but this run uses '{model_name}'. "
                "Mixing them would give meaningless results. Re-index with: python -m rag ingest --rebuild "
                f"(or set RAG_EMBEDDINGS={built_with})."
            )

    # -- reading -----------------------------------------------------------------
    @_guarded
    def count(self) -> int:
        return self.collection.count()

    def indexed_docs(self) -> dict[str, IndexedDoc]:
        """What is in the collection now, per document (used to decide what to skip, replace or delete)."""
        return indexed_docs((row for ids, metas in self._pages(include=["metadatas"]) for row in zip(ids, metas)))

    def all_chunks(self):
        """(ids, texts, metadatas) for the whole collection, in id order."""
        rows = []
        for ids, metas, texts in self._pages(include=["metadatas", "documents"]):
            rows.extend(zip(ids, texts, metas))
        rows.sort(key=lambda row: row[0])
        return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]

    def _pages(self, include, page: int = 5000):
        offset = 0
        while True:
            with translated(self.settings):
                got = self.collection.get(include=include, limit=page, offset=offset)
            if not got["ids"]:
                return
            yield (got["ids"], *(got[key] for key in include))
            offset += len(got["ids"])

    @_guarded
    def query(self, embedding, n: int, where: dict | None = None):
        result = self.collection.query(
            query_embeddings=[embedding], n_results=n, where=where or None,
            include=["metadatas", "documents", "distances"],
        )
        return list(zip(result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0]))

    def embeddings(self, ids: list[str]) -> dict[str, np.ndarray]:
        """The stored vectors of ``ids`` (ids not in the index are left out)."""
        from chromadb.errors import ChromaError

        try:
            got = self.collection.get(ids=ids, include=["embeddings"])
        except ChromaError:
            # An embedded client does not see vectors another process added since it opened the
            # collection (its metadata it does): those passages simply have no similarity yet.
            return {}
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"])}

    def all_embeddings(self) -> tuple[list[str], np.ndarray] | None:
        """(ids, vectors) of the whole collection, read page by page (about 0.3 s per 8,000
        chunks; asking by id is ten times slower). None when this client cannot see them all
        (see ``embeddings``)."""
        from chromadb.errors import ChromaError

        ids, vectors = [], []
        try:
            for page_ids, page_vectors in self._pages(include=["embeddings"]):
                ids.extend(page_ids)
                vectors.append(np.asarray(page_vectors, dtype=np.float32))
        except ChromaError:
            return None
        return ids, (np.concatenate(vectors) if vectors else np.empty((0, 0), dtype=np.float32))

    # -- writing -----------------------------------------------------------------
    @_guarded
    def upsert(self, ids, embeddings, texts, metadatas) -> None:
        step = self.client.get_max_batch_size() if hasattr(self.client, "get_max_batch_size") else 5000
        for start in range(0, len(ids), step):
            end = start + step
            self.collection.upsert(
                ids=ids[start:end], embeddings=embeddings[start:end],
                documents=texts[start:end], metadatas=metadatas[start:end],
            )

    @_guarded
    def delete(self, ids) -> None:
        ids = list(ids)
        for start in range(0, len(ids), 5000):
            self.collection.delete(ids=ids[start:start + 5000])
