"""The index: one Chroma collection, its BM25 snapshot and the stored documents, kept in step.

    >>> index = Index.open(Settings.from_env())                                   # doctest: +SKIP
    >>> [p.doc_id for p in index.search_lexical("Lavrov Kuril", 2, Filters())]     # doctest: +SKIP
    ['003_b5aeacde14fc594e', '001_68ffb54545db6918']

Search by meaning compares the question with every chunk's vector, held in memory (read from
Chroma once per contents' version), up to ``exact_search_limit`` chunks; above that Chroma's
approximate HNSW graph answers.

Writers (ingest) hold ``Index.write_lock``, ``add`` and ``remove`` documents, and end with
``commit``: it rebuilds BM25 from Chroma when the contents changed, saves it, and only then
records the contents' version in Chroma's pointer, so a reader that sees a new version always
finds its BM25 snapshot on disk. A rebuild writes a new generation (``Index.new_generation``)
that its ``commit`` switches to in one step. Readers look at the pointer at most every
``VERSION_CHECK_SECONDS``; when another process re-indexed or rebuilt they load the new
snapshot, or rebuild it under the lock if nobody did, and keep serving the old one meanwhile.

An ingest records that it is running (``ingest.state``); one killed before its ``commit``
leaves the record behind, and ``incomplete()`` then says how many documents are missing.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ..errors import IndexUnavailable
from ..model import Chunk, Document, Filters, Passage, Source
from ..settings import Settings
from . import documents as stored
from .chroma import Catalog, ChromaStore, IndexedDoc, forget, indexed_docs, surely_missing
from .embeddings import EncodeAhead, get_embeddings
from .lexical import LexicalIndex
from .records import allows, chroma_where, chunk_metadata, passage_from, search_text

VERSION_CHECK_SECONDS = 2.0
DOCUMENTS_KEPT = 256  # documents kept in memory once read (``Index.document``)

__all__ = ["Index", "IndexedDoc", "documents_version", "list_documents"]


@dataclass
class _Snapshot:
    lexical: LexicalIndex
    checked: float  # time.monotonic() of the last version check


@dataclass
class _Vectors:
    """Every live chunk's vector for exact search: ``matrix[j]`` is BM25 position ``positions[j]``,
    ``row[i]`` the matrix row of BM25 position ``i`` (-1: none)."""
    version: str
    keys: list[tuple[str, str]]  # (chunk id, its document's hash) of each matrix row
    positions: np.ndarray
    matrix: np.ndarray
    row: np.ndarray


class Index:
    def __init__(self, settings: Settings, encoder, catalog: Catalog, store: ChromaStore,
                 replaces: str | None = None):
        self.settings = settings
        self.encoder = encoder
        self._catalog = catalog
        self._store = store
        self._replaces = replaces  # a new generation: the one it replaces when committed
        self._snapshot: _Snapshot | None = None
        self._lock = threading.Lock()
        self._vectors: _Vectors | None = None
        self._vectors_lock = threading.Lock()
        self._docs: OrderedDict[str, Document] = OrderedDict()  # the last ``documents_kept`` read, newest last
        self.documents_kept = DOCUMENTS_KEPT
        self._docs_lock = threading.Lock()
        self._incomplete: tuple[float, int | None] = (float("-inf"), None)
        # What this writer changed since its last commit, for BM25 to take in without a full read.
        self._added: dict[str, tuple[str, dict]] = {}  # chunk id -> (text, metadata)
        self._removed: set[str] = set()
        self._killed_run: bool | None = None  # did an earlier ingest die before its commit?
        self._filled_empty: bool | None = None  # was the collection empty when this writer began?
        self._write_base: LexicalIndex | None = None
        self._ahead: EncodeAhead | None = None  # chunks an ingest asked to encode while it reads on

    # -- opening -------------------------------------------------------------------------------
    @classmethod
    def open(cls, settings: Settings, encoder=None, create: bool = False) -> "Index":
        """The active index of ``settings``; IndexMissing when there is none and ``create`` is False,
        EmbeddingMismatch when it was built with another embedding model."""
        encoder = encoder if encoder is not None else get_embeddings(settings)
        catalog = Catalog(settings)
        version = catalog.active().version
        if not catalog.knows(version):  # another process wrote since this process's client read the files
            catalog = Catalog(settings, fresh=True)
            catalog.learn(version)
        return cls(settings, encoder, catalog, catalog.open_active(encoder.name, create=create))

    @classmethod
    def new_generation(cls, settings: Settings, encoder=None) -> "Index":
        """An empty index that replaces the active one when committed (``ingest --rebuild``).
        Until then readers keep using the active one; if this is never committed, the next
        rebuild deletes it. Callers hold the write lock."""
        encoder = encoder if encoder is not None else get_embeddings(settings)
        catalog = Catalog(settings)
        active = catalog.active().name
        store = catalog.open(catalog.new_name(), encoder.name, create=True)
        return cls(settings, encoder, catalog, store, replaces=active or "")

    @staticmethod
    def surely_missing(settings: Settings) -> bool:
        """True when an embedded index plainly does not exist yet (checked without importing chromadb)."""
        return surely_missing(settings)

    @staticmethod
    def exists(settings: Settings) -> bool:
        return not surely_missing(settings) and Catalog(settings).active().name is not None

    @staticmethod
    @contextmanager
    def write_lock(settings: Settings, wait: bool = True,
                   on_wait: Callable[[str], None] | None = None) -> Iterator[bool]:
        """One writer at a time per data directory (an ingest, an upload, a reader rebuilding BM25).

        Yields whether it is held: False only when ``wait`` is False and someone else holds it.
        ``on_wait(who)`` is told once, before waiting, who holds it. A flock on a file opened
        anew also excludes this process's other threads."""
        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            lock = _open_lock_file(settings)
        except OSError as error:
            raise IndexUnavailable(
                f"The data directory {settings.data_dir} cannot be written ({error.strerror or error}). Fix its "
                "permissions or point RAG_DATA_DIR at a writable folder.") from None
        with lock as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not wait:
                    yield False
                    return
                if on_wait:
                    fh.seek(0)
                    on_wait(fh.read().strip() or "another process")
                fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                fh.seek(0)
                fh.truncate()
                fh.write(f"pid {os.getpid()}")
                fh.flush()
                yield True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @staticmethod
    def writer_active(settings: Settings) -> bool:
        """Is a writer holding the lock right now (in any process)?"""
        try:
            fh = open(settings.data_dir / ".ingest.lock", encoding="utf-8")  # reading is enough to flock
        except OSError:
            return False
        with fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(fh, fcntl.LOCK_UN)
            return False

    @staticmethod
    def ingest_state(settings: Settings) -> dict:
        """What the last ingest recorded: {"state": "complete" | "running", "pending": n, ...} ({} if none)."""
        return _read_state(settings)

    @staticmethod
    def set_aside(settings: Settings, part: str) -> Path | None:
        """Move a damaged part of the data directory ("chroma", "bm25" or "documents") to
        ``<data>/damaged/<part>-<time>`` (kept for inspection, never deleted). Callers hold the
        write lock. Returns where it went (None: there was nothing to move)."""
        source = settings.data_dir / part
        if not source.exists():
            return None
        target = settings.data_dir / "damaged" / f"{part}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        if part == "chroma":
            forget(settings)
        return target

    def prune(self) -> list[str]:
        """Delete generations nobody uses: abandoned rebuilds (callers hold the write lock)."""
        return self._catalog.prune(keep={self._store.name})

    @staticmethod
    def search_text(chunk: Chunk, source: Source) -> str:
        """What the encoder and BM25 see of a chunk: the text under a short who/where header."""
        return search_text(chunk.text, chunk_metadata(chunk, source, "", ""))

    # -- writing (callers hold write_lock) --------------------------------------------------------
    def manifest(self) -> dict[str, IndexedDoc]:
        """What is indexed now, per document (to decide what to skip, replace or remove): from
        the BM25 snapshot when it is in step with Chroma, else read from Chroma."""
        lexical = self._in_step()
        if lexical is None:
            return self._store.indexed_docs()
        return indexed_docs((chunk_id, lexical.metas[i]) for chunk_id, i in lexical.position.items())

    def _in_step(self) -> LexicalIndex | None:
        """The saved BM25 snapshot if it holds exactly what Chroma holds (its version is the one
        the pointer records, and no ingest died since, leaving chunks in Chroma only), else None.
        Callers hold the write lock, so nobody changes either meanwhile."""
        if self._earlier_run_killed():
            return None
        if self._filled_empty:
            # A first build or a rebuild: everything Chroma holds, this writer added, and BM25 can
            # take it from what it kept, without reading a 100,000-chunk collection back.
            return LexicalIndex.empty()
        if self._replaces is not None:
            return None
        previous = self._write_base or (self._snapshot and self._snapshot.lexical)
        lexical = LexicalIndex.load(self.settings.bm25_dir, previous=previous)
        if lexical is None or lexical.version != self._catalog.active().version:
            return None
        self._write_base = lexical  # its segments are reused by the next load
        return lexical

    def _earlier_run_killed(self) -> bool:
        """Did an ingest die before its commit (its "running" record is still there)? Read once
        per writer, before ``begin`` writes this run's record."""
        if self._killed_run is None:
            self._killed_run = _read_state(self.settings).get("state") == "running"
        return self._killed_run

    def begin(self, pending: int) -> None:
        """Record that ``pending`` documents are about to be (re)indexed; ``commit`` clears it.
        A run killed in between leaves the record, which ``incomplete`` reports."""
        self._earlier_run_killed()  # read before this run's record replaces it
        if self._filled_empty is None:
            self._filled_empty = self._store.count() == 0 and not self._added and not self._removed
        _write_state(self.settings, {"state": "running", "pending": pending, "pid": os.getpid(),
                                     "started": time.strftime("%Y-%m-%dT%H:%M:%S")})

    def encode_ahead(self, doc: Document, chunks: list[Chunk]) -> None:
        """Start encoding a document's chunks in the background, while the caller reads the next
        files; ``add`` takes what was made (the same vectors) and encodes the rest."""
        if self._ahead is None:
            self._ahead = EncodeAhead(self.encoder)
        self._ahead.submit([search_text(c.text, chunk_metadata(c, doc.source, doc.doc_hash, doc.path))
                            for c in chunks])

    def add(self, items: list[tuple[Document, list[Chunk]]], replacing: dict[str, IndexedDoc],
            progress: Callable[[int], None] | None = None, pending: int | None = None) -> None:
        """Embed and store the documents' chunks; a replaced document's stale chunks go only after
        its new ones are in. ``progress(n)`` hears how many chunks are embedded so far;
        ``pending`` is how many documents remain after these (recorded for ``incomplete``)."""
        chunks = [(doc, chunk) for doc, doc_chunks in items for chunk in doc_chunks]
        metas = [chunk_metadata(chunk, doc.source, doc.doc_hash, doc.path) for doc, chunk in chunks]
        texts = [chunk.text for _, chunk in chunks]
        encoder = self._ahead or self.encoder
        vectors = encoder.encode([search_text(t, m) for t, m in zip(texts, metas)], progress=progress)
        self._store.upsert([chunk.id for _, chunk in chunks], vectors, texts, metas)
        for (_, chunk), text, meta in zip(chunks, texts, metas):
            self._added[chunk.id] = (text, meta)
        for doc, doc_chunks in items:
            have = replacing.get(doc.doc_id)
            if have:
                self._forget(have.ids - {c.id for c in doc_chunks})
        if pending is not None:  # these documents are in: count them done before anything else
            _write_state(self.settings, {**_read_state(self.settings), "pending": pending})
        for doc, _ in items:
            stored.save(self.settings, doc)

    def keep(self, doc: Document) -> None:
        """An unchanged document: make sure its stored copy is there and current."""
        current = stored.load(self.settings, doc.doc_id)
        if current is None or current.doc_hash != doc.doc_hash:
            stored.save(self.settings, doc)

    def has_stored(self, doc_id: str) -> bool:
        """Is there a stored copy of the document (without reading it)?"""
        return stored.exists(self.settings, doc_id)

    def remove(self, have: IndexedDoc) -> None:
        self._forget(have.ids)
        stored.delete(self.settings, have.doc_id)

    def _forget(self, ids: set[str]) -> None:
        self._store.delete(ids)
        for chunk_id in ids:
            self._added.pop(chunk_id, None)
            self._removed.add(chunk_id)

    def remove_stored(self, doc_id: str) -> None:
        """Delete the stored copy of a document the index does not hold."""
        stored.delete(self.settings, doc_id)

    def commit(self, progress: Callable[[int, int], None] | None = None) -> tuple[int, int]:
        """Bring BM25 in step with Chroma and record the version (a new generation becomes the
        active one here). Returns (documents, chunks); ``progress(done, total)`` hears chunks.

        BM25 takes in only what this writer added and removed when its snapshot was in step
        before (a new segment and tombstones: no read of Chroma); otherwise it is rebuilt from
        one full read of Chroma (a rebuild, after a killed ingest, or when it was out of step)."""
        base = self._in_step()
        if base is None:
            lexical = self._rebuild_lexical(progress)
        else:
            if progress:
                progress(0, len(self._added))
            if self._added or self._removed:
                ids = list(self._added)
                texts = [self._added[i][0] for i in ids]
                metas = [self._added[i][1] for i in ids]
                base = base.updated(self.settings.bm25_dir, ids, texts, metas,
                                    (search_text(t, m) for t, m in zip(texts, metas)), self._removed)
            lexical = base
            self._catalog.point(self._store.name, lexical.version)
            self._catalog.learn(lexical.version)
            if progress:
                progress(len(self._added), len(self._added))
        self._added, self._removed, self._killed_run, self._filled_empty = {}, set(), False, None
        if self._ahead is not None:
            self._ahead.stop()
            self._ahead = None
        if self._replaces is not None:
            kept = {self._store.name} | ({self._replaces} if self._replaces else set())
            self._catalog.prune(keep=kept)  # abandoned rebuilds and the generation before the previous
            indexed = {lexical.metas[i]["doc_id"] for i in lexical.position.values()}
            for doc_id in stored.ids(self.settings):
                if doc_id not in indexed:
                    stored.delete(self.settings, doc_id)
            self._replaces = None
        _write_state(self.settings, {"state": "complete", "finished": time.strftime("%Y-%m-%dT%H:%M:%S")})
        with self._lock:
            self._snapshot = _Snapshot(lexical, time.monotonic())
            self._docs.clear()
        return len({lexical.metas[i]["doc_id"] for i in lexical.position.values()}), lexical.live_count

    def _rebuild_lexical(self, progress: Callable[[int, int], None] | None = None) -> LexicalIndex:
        """BM25 for what the collection holds now (one full read), rebuilt only when the contents
        changed, saved, and only then named by the pointer."""
        ids, texts, metas = self._store.all_chunks()
        if progress:
            progress(0, len(ids))
        version = LexicalIndex.version_of(ids, metas)
        lexical = LexicalIndex.load(self.settings.bm25_dir)
        if lexical is None or lexical.version != version:
            lexical = LexicalIndex.build(
                self.settings.bm25_dir, ids, texts, metas, [search_text(t, m) for t, m in zip(texts, metas)]
            )
        self._catalog.point(self._store.name, version)
        self._catalog.learn(version)
        if progress:
            progress(len(ids), len(ids))
        return lexical

    # -- reading ------------------------------------------------------------------------------------
    def version(self) -> str:
        """The contents' version as recorded now (re-read: another process may have re-indexed)."""
        return self._catalog.active().version

    def incomplete(self) -> int | None:
        """How many documents an interrupted ingest left unindexed (None: the last ingest completed,
        or one is running now). Checked at most every ``VERSION_CHECK_SECONDS``."""
        checked, value = self._incomplete
        now = time.monotonic()
        if now - checked > VERSION_CHECK_SECONDS:
            state = _read_state(self.settings)
            value = None
            if state.get("state") == "running" and not Index.writer_active(self.settings):
                value = int(state.get("pending", 0))
            self._incomplete = (now, value)
        return value

    def search_dense(self, vector, n: int, filters: Filters) -> list[Passage]:
        """The ``n`` chunks closest in meaning to ``vector``, closest first, each with its
        ``dense_similarity``: compared with every vector when the index is within
        ``exact_search_limit`` (exact, and the same after any rebuild: Chroma's HNSW graph is
        built in parallel, so two builds of one corpus can miss different neighbours), else by
        Chroma's approximate search."""
        lexical = self._lexical()
        exact = self._exact(lexical)
        if exact is None:
            rows = self._with_store(lambda store: store.query(vector, n, chroma_where(filters)))
            return [passage_from(chunk_id, text, meta, similarity=1 - distance)
                    for chunk_id, text, meta, distance in rows]
        similarity = exact.matrix @ np.asarray(vector, dtype=np.float32)
        mask = self._mask(lexical, filters)
        if mask is not None:
            similarity = np.where(mask[exact.positions], similarity, -np.inf)
        k = min(n, len(similarity))
        if k == 0:
            return []
        # The k best, and every chunk tied with the k-th, ordered by similarity then position:
        # duplicates (one article filed twice) always come in the same order.
        kth = np.partition(-similarity, k - 1)[k - 1]
        best = np.flatnonzero(-similarity <= kth)
        best = best[np.lexsort((exact.positions[best], -similarity[best]))][:k]
        return [passage_from(lexical.ids[i], lexical.text(i), lexical.metas[i], similarity=float(similarity[j]))
                for j, i in ((j, int(exact.positions[j])) for j in best) if np.isfinite(similarity[j])]

    def _exact(self, lexical: LexicalIndex) -> _Vectors | None:
        """The vectors of this BM25 snapshot's chunks; None above ``exact_search_limit``, or when
        Chroma does not give every one of them (another process is re-indexing): the approximate
        search answers then. Read from Chroma once per version, in full the first time; after an
        upload, only the new chunks' vectors are read (a chunk keeps its vector while its id and
        its document's hash are the same)."""
        if lexical.live_count > self.settings.exact_search_limit:
            return None
        with self._vectors_lock:
            have = self._vectors
            if have is not None and have.version == lexical.version:
                return have if have.keys else None  # no keys: this version's read failed
            live = sorted(lexical.position.values())
            keys = [(lexical.ids[i], lexical.metas[i].get("doc_hash", "")) for i in live]
            found = self._reused_vectors(have, keys) if have is not None and have.keys else None
            if found is None:
                got = self._with_store(lambda store: store.all_embeddings())
                found = {} if got is None else dict(zip(got[0], got[1]))
            rows = [found.get(chunk_id) for chunk_id, _ in keys]
            if not live or any(r is None for r in rows):
                none = np.empty(0, dtype=np.int64)  # remembered, so each search does not read it all again
                self._vectors = _Vectors(lexical.version, [], none, np.empty((0, 0), dtype=np.float32), none)
                return None
            positions = np.asarray(live, dtype=np.int64)
            row = np.full(len(lexical.ids), -1, dtype=np.int64)
            row[positions] = np.arange(len(positions))
            self._vectors = _Vectors(lexical.version, keys, positions, np.stack(rows).astype(np.float32), row)
            return self._vectors

    def _reused_vectors(self, have: _Vectors, keys: list[tuple[str, str]]) -> dict | None:
        """chunk id -> vector for ``keys``: the ones ``have`` holds, and the rest read by id when
        they are few (an upload); None when most are new (a full read is faster then)."""
        known = {key: j for j, key in enumerate(have.keys)}
        new = [chunk_id for chunk_id, doc_hash in keys if (chunk_id, doc_hash) not in known]
        if len(new) > max(256, len(keys) // 10):
            return None
        found = {key[0]: have.matrix[j] for key, j in known.items()}
        found.update(self._with_store(lambda store: store.embeddings(new)) if new else {})
        return found

    def search_lexical(self, query: str, n: int, filters: Filters) -> list[Passage]:
        """BM25 hits in rank order; each passage's ``score`` is its BM25 score."""
        lexical = self._lexical()
        hits = lexical.search(query, n, self._mask(lexical, filters))
        return [self._passage(lexical, lexical.position[chunk_id], score) for chunk_id, score in hits]

    def search_phrases(self, phrases: list[str], filters: Filters, among: str = "") -> list[Passage]:
        """Chunks containing any of the (``rag.text.fold``-ed) phrases word for word (and, when
        given, all the indexed words of ``among``)."""
        if not phrases:
            return []
        lexical = self._lexical()
        mask = self._mask(lexical, filters)
        found = sorted({i for phrase in phrases for i in lexical.containing(phrase, among)})
        return [self._passage(lexical, i) for i in found if mask is None or mask[i]]

    def similarities(self, vector, ids: list[str]) -> dict[str, float]:
        """Cosine similarity of ``vector`` to the stored vectors of ``ids`` (ids not indexed are left out)."""
        if not ids:
            return {}
        lexical = self._lexical()
        exact = self._exact(lexical)
        if exact is not None:
            vector = np.asarray(vector, dtype=np.float32)
            rows = {i: exact.row[lexical.position[i]] for i in ids if i in lexical.position}
            return {i: float(exact.matrix[r] @ vector) for i, r in rows.items() if r >= 0}
        vectors = self._with_store(lambda store: store.embeddings(ids))
        return {i: float(np.dot(v, vector)) for i, v in vectors.items()}

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
        """The cleaned document (the last ``documents_kept`` read are kept in memory: every answer reads
        its passages' documents, and an archive's thousands need not all stay; forgotten when a
        re-index is picked up, or on ``reload``)."""
        with self._docs_lock:
            doc = self._docs.get(doc_id)
            if doc is not None:
                self._docs.move_to_end(doc_id)
                return doc
        doc = stored.load(self.settings, doc_id)
        if doc is not None:
            with self._docs_lock:
                self._docs[doc_id] = doc
                while len(self._docs) > self.documents_kept:
                    self._docs.popitem(last=False)
        return doc

    def documents(self) -> list[Document]:
        return stored.all_documents(self.settings)

    def reload(self) -> None:
        """Forget the loaded snapshot and documents (after an ingest in this process). Its BM25
        segments are kept aside: the next load reuses those the new snapshot still has."""
        with self._lock:
            if self._snapshot is not None:
                self._write_base = self._snapshot.lexical
            self._snapshot = None
            self._docs.clear()

    # -- the active generation and its BM25 snapshot, kept in step with Chroma --------------------
    def _lexical(self) -> LexicalIndex:
        with self._lock:
            now = time.monotonic()
            snap = self._snapshot
            if snap is not None and now - snap.checked <= VERSION_CHECK_SECONDS:
                return snap.lexical
            version = self._follow_pointer()
            if snap is None or snap.lexical.version != version:
                fresh = LexicalIndex.load(self.settings.bm25_dir,
                                          previous=snap.lexical if snap else self._write_base)
                if fresh is None or fresh.version != version:
                    # Only wait for a running ingest when there is no snapshot to serve meanwhile.
                    fresh = self._catch_up(wait=snap is None)
                if fresh is not None:
                    snap = _Snapshot(fresh, now)
                    self._write_base = None  # its segments are in ``fresh`` now, or gone
                    self._docs.clear()  # the documents were re-indexed too
            self._snapshot = _Snapshot(snap.lexical, now)
            return snap.lexical

    def _follow_pointer(self) -> str:
        """Switch to the active generation if a rebuild replaced ours, and re-read the embedded
        files if another process changed the contents; returns the active version."""
        active = self._catalog.active()
        if self._replaces is None and active.name:
            stale = not self._catalog.knows(active.version)
            if stale:
                self._catalog = Catalog(self.settings, fresh=True)
                self._catalog.learn(active.version)
            if stale or active.name != self._store.name:
                self._store = self._catalog.open(active.name, self.encoder.name)
        return active.version

    def _with_store(self, call):
        """Run ``call(store)``; if our generation was deleted meanwhile (a reader two rebuilds
        behind), follow the pointer and try once more."""
        store = self._store
        try:
            return call(store)
        except Exception as error:
            if type(error).__name__ != "NotFoundError" and "does not exist" not in str(error):
                raise
            with self._lock:
                self._follow_pointer()
                self._snapshot = None
            return call(self._store)

    def _catch_up(self, wait: bool) -> LexicalIndex | None:
        """BM25 matching the version in Chroma, rebuilt under the write lock if needed (an ingest
        elsewhere, or another machine re-indexing a shared Chroma server). None when ``wait`` is
        False and a writer holds the lock (it leaves BM25 up to date)."""
        with Index.write_lock(self.settings, wait) as held:
            if not held:
                return None
            version = self._follow_pointer()  # a rebuild we waited for may have switched generations
            current = LexicalIndex.load(self.settings.bm25_dir)
            if current is not None and current.version == version:
                return current  # built by the writer we waited for
            return self._rebuild_lexical()

    def _mask(self, lexical: LexicalIndex, filters: Filters) -> np.ndarray | None:
        if not filters.active:
            return None
        day_range = filters.day_range()
        return np.array([allows(filters, meta, day_range) for meta in lexical.metas], dtype=bool)

    @staticmethod
    def _passage(lexical: LexicalIndex, i: int, score: float = 0.0) -> Passage:
        return passage_from(lexical.ids[i], lexical.text(i), lexical.metas[i], score=score)


def _open_lock_file(settings: Settings):
    # "a+": opening must not truncate what the holder wrote (its pid); it truncates once it holds the lock.
    return open(settings.data_dir / ".ingest.lock", "a+", encoding="utf-8")


def _state_path(settings: Settings):
    return settings.data_dir / "ingest.state"


def _read_state(settings: Settings) -> dict:
    try:
        data = json.loads(_state_path(settings).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_state(settings: Settings, state: dict) -> None:
    path = _state_path(settings)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    tmp.write_text(json.dumps(state), encoding="utf-8")
    os.replace(tmp, path)


def list_documents(settings: Settings) -> list[Document]:
    """Every stored document, without opening Chroma (for lists and filters)."""
    return stored.all_documents(settings)


def documents_version(settings: Settings) -> str:
    """Changes whenever a stored document is written or removed (a cache key for document lists)."""
    return stored.version(settings)
