"""The index: one Chroma collection, its BM25 snapshot and the stored documents, kept in step.

    >>> index = Index.open(Settings.from_env())                                   # doctest: +SKIP
    >>> [p.doc_id for p in index.search_lexical("Lavrov Kuril", 2, Filters())]     # doctest: +SKIP
    ['003_b5aeacde14fc594e', '001_68ffb54545db6918']

Writers (ingest) hold ``Index.write_lock``, ``add`` and ``remove`` documents, and end with
``commit``: it rebuilds BM25 from Chroma when the contents changed, saves it, and only then
records the contents' version in Chroma, so a reader that sees a new version always finds
its BM25 snapshot on disk. Readers compare that version with their snapshot at most every
``VERSION_CHECK_SECONDS``; when another process re-indexed they load the new snapshot, or
rebuild it under the lock if nobody did, and keep serving the old one meanwhile.
"""

from __future__ import annotations

import fcntl
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from ..errors import IndexMissing
from ..model import Chunk, Document, Filters, Passage, Source
from ..settings import Settings
from . import documents as stored
from .chroma import ChromaStore, IndexedDoc
from .embeddings import get_embeddings
from .lexical import LexicalIndex
from .records import allows, chroma_where, chunk_metadata, index_version, passage_from, search_text

VERSION_CHECK_SECONDS = 2.0

__all__ = ["Index", "IndexedDoc", "documents_version", "list_documents"]


@dataclass
class _Snapshot:
    lexical: LexicalIndex
    checked: float  # time.monotonic() of the last version check


class Index:
    def __init__(self, settings: Settings, encoder, store: ChromaStore):
        self.settings = settings
        self.encoder = encoder
        self._store = store
        self._snapshot: _Snapshot | None = None
        self._lock = threading.Lock()
        self._docs: dict[str, Document] = {}

    # -- opening -------------------------------------------------------------------------------
    @classmethod
    def open(cls, settings: Settings, encoder=None, create: bool = False) -> "Index":
        """The index of ``settings``; IndexMissing when there is none and ``create`` is False,
        EmbeddingMismatch when it was built with another embedding model."""
        encoder = encoder if encoder is not None else get_embeddings(settings)
        return cls(settings, encoder, ChromaStore(settings, encoder.name, create=create))

    @staticmethod
    def surely_missing(settings: Settings) -> bool:
        """True when an embedded index plainly does not exist yet (checked without importing chromadb)."""
        return ChromaStore.surely_missing(settings)

    @staticmethod
    def exists(settings: Settings) -> bool:
        if Index.surely_missing(settings):
            return False
        try:
            ChromaStore(settings, get_embeddings(settings).name, create=False)
            return True
        except IndexMissing:
            return False

    @staticmethod
    def drop(settings: Settings) -> None:
        """Delete the collection and the stored documents (callers hold the write lock)."""
        ChromaStore.drop(settings)
        for doc in stored.all_documents(settings):
            stored.delete(settings, doc.doc_id)

    @staticmethod
    @contextmanager
    def write_lock(settings: Settings, wait: bool = True) -> Iterator[bool]:
        """One writer at a time per data directory (an ingest, an upload, a reader rebuilding BM25).

        Yields whether it is held: False only when ``wait`` is False and someone else holds it.
        A flock on a file opened anew also excludes this process's other threads."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with open(settings.data_dir / ".ingest.lock", "w") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @staticmethod
    def search_text(chunk: Chunk, source: Source) -> str:
        """What the encoder and BM25 see of a chunk: the text under a short who/where header."""
        return search_text(chunk.text, chunk_metadata(chunk, source, "", ""))

    # -- writing (callers hold write_lock) --------------------------------------------------------
    def manifest(self) -> dict[str, IndexedDoc]:
        """What is indexed now, per document (to decide what to skip, replace or remove)."""
        return self._store.indexed_docs()

    def add(self, items: list[tuple[Document, list[Chunk]]], replacing: dict[str, IndexedDoc],
            progress: Callable[[int], None] | None = None) -> None:
        """Embed and store the documents' chunks; a replaced document's stale chunks go only after
        its new ones are in. ``progress(n)`` hears how many chunks are embedded so far."""
        chunks = [(doc, chunk) for doc, doc_chunks in items for chunk in doc_chunks]
        metas = [chunk_metadata(chunk, doc.source, doc.doc_hash, doc.path) for doc, chunk in chunks]
        texts = [chunk.text for _, chunk in chunks]
        vectors = self.encoder.encode([search_text(t, m) for t, m in zip(texts, metas)], progress=progress)
        self._store.upsert([chunk.id for _, chunk in chunks], vectors, texts, metas)
        for doc, doc_chunks in items:
            have = replacing.get(doc.doc_id)
            if have:
                self._store.delete(have.ids - {c.id for c in doc_chunks})
            stored.save(self.settings, doc)

    def keep(self, doc: Document) -> None:
        """An unchanged document: make sure its stored copy is there and current."""
        current = stored.load(self.settings, doc.doc_id)
        if current is None or current.doc_hash != doc.doc_hash:
            stored.save(self.settings, doc)

    def remove(self, have: IndexedDoc) -> None:
        self._store.delete(have.ids)
        stored.delete(self.settings, have.doc_id)

    def commit(self) -> tuple[int, int]:
        """Bring BM25 in step with Chroma and record the version. Returns (documents, chunks)."""
        lexical = self._rebuild_lexical()
        with self._lock:
            self._snapshot = _Snapshot(lexical, time.monotonic())
            self._docs.clear()
        return len({meta["doc_id"] for meta in lexical.metas}), len(lexical.ids)

    def _rebuild_lexical(self) -> LexicalIndex:
        """BM25 for what Chroma holds now (one full read), rebuilt only when the contents changed."""
        ids, texts, metas = self._store.all_chunks()
        version = index_version(ids, metas)
        lexical = LexicalIndex.load(self.settings.bm25_dir)
        if lexical is None or lexical.version != version:
            lexical = LexicalIndex.build(
                self.settings.bm25_dir, ids, texts, metas, [search_text(t, m) for t, m in zip(texts, metas)], version
            )
        self._store.record_version(version)
        return lexical

    # -- reading ------------------------------------------------------------------------------------
    def version(self) -> str:
        """The contents' version as recorded now (re-read: another process may have re-indexed)."""
        return self._store.version()

    def search_dense(self, vector, n: int, filters: Filters) -> list[Passage]:
        rows = self._store.query(vector, n, chroma_where(filters))
        return [passage_from(chunk_id, text, meta, similarity=1 - distance) for chunk_id, text, meta, distance in rows]

    def search_lexical(self, query: str, n: int, filters: Filters) -> list[Passage]:
        """BM25 hits in rank order; each passage's ``score`` is its BM25 score."""
        lexical = self._lexical()
        hits = lexical.search(query, n, self._mask(lexical, filters))
        return [self._passage(lexical, lexical.position[chunk_id], score) for chunk_id, score in hits]

    def search_phrases(self, phrases: list[str], filters: Filters) -> list[Passage]:
        """Chunks containing any of the (``rag.text.fold``-ed) phrases word for word."""
        if not phrases:
            return []
        lexical = self._lexical()
        mask = self._mask(lexical, filters)
        return [self._passage(lexical, i) for i, folded in enumerate(lexical.folded_texts)
                if (mask is None or mask[i]) and any(p in folded for p in phrases)]

    def similarities(self, vector, ids: list[str]) -> dict[str, float]:
        """Cosine similarity of ``vector`` to the stored vectors of ``ids`` (ids not indexed are left out)."""
        return {i: float(np.dot(v, vector)) for i, v in self._store.embeddings(ids).items()} if ids else {}

    def neighbour(self, passage: Passage, step: int = 1) -> Passage | None:
        """The chunk ``step`` places after (or before) this one in its document, if indexed."""
        lexical = self._lexical()
        i = lexical.at(passage.doc_id, passage.chunk_index + step)
        return None if i is None else self._passage(lexical, i)

    def chunk_texts(self) -> tuple[str, list[str]]:
        """(version, every chunk's text): for statistics over the whole index."""
        lexical = self._lexical()
        return lexical.version, lexical.texts

    def document(self, doc_id: str) -> Document | None:
        """The cleaned document (cached; forgotten when a re-index is picked up, or on ``reload``)."""
        doc = self._docs.get(doc_id)
        if doc is None:
            doc = stored.load(self.settings, doc_id)
            if doc is not None:
                self._docs[doc_id] = doc
        return doc

    def documents(self) -> list[Document]:
        return stored.all_documents(self.settings)

    def reload(self) -> None:
        """Forget the loaded snapshot and documents (after an ingest in this process)."""
        with self._lock:
            self._snapshot = None
            self._docs.clear()

    # -- the BM25 snapshot, kept in step with Chroma -----------------------------------------------
    def _lexical(self) -> LexicalIndex:
        with self._lock:
            now = time.monotonic()
            snap = self._snapshot
            if snap is not None and now - snap.checked <= VERSION_CHECK_SECONDS:
                return snap.lexical
            version = self._store.version()
            if snap is None or snap.lexical.version != version:
                fresh = LexicalIndex.load(self.settings.bm25_dir)
                if fresh is None or fresh.version != version:
                    # Only wait for a running ingest when there is no snapshot to serve meanwhile.
                    fresh = self._catch_up(wait=snap is None)
                if fresh is not None:
                    snap = _Snapshot(fresh, now)
                    self._docs.clear()  # the documents were re-indexed too
            self._snapshot = _Snapshot(snap.lexical, now)
            return snap.lexical

    def _catch_up(self, wait: bool) -> LexicalIndex | None:
        """BM25 matching the version in Chroma, rebuilt under the write lock if needed (an ingest
        elsewhere, or another machine re-indexing a shared Chroma server). None when ``wait`` is
        False and a writer holds the lock (it leaves BM25 up to date)."""
        with Index.write_lock(self.settings, wait) as held:
            if not held:
                return None
            current = LexicalIndex.load(self.settings.bm25_dir)
            if current is not None and current.version == self._store.version():
                return current  # built by the writer we waited for
            return self._rebuild_lexical()

    def _mask(self, lexical: LexicalIndex, filters: Filters) -> np.ndarray | None:
        if not filters.active:
            return None
        day_range = filters.day_range()
        return np.array([allows(filters, meta, day_range) for meta in lexical.metas], dtype=bool)

    @staticmethod
    def _passage(lexical: LexicalIndex, i: int, score: float = 0.0) -> Passage:
        return passage_from(lexical.ids[i], lexical.texts[i], lexical.metas[i], score=score)


def list_documents(settings: Settings) -> list[Document]:
    """Every stored document, without opening Chroma (for lists and filters)."""
    return stored.all_documents(settings)


def documents_version(settings: Settings) -> tuple:
    """Changes whenever a stored document is written or removed (a cache key for document lists)."""
    return stored.version(settings)
