"""corpus -> clean segments -> chunks -> embeddings -> Chroma + BM25, incrementally.

    >>> report = ingest(Settings.from_env())          # doctest: +SKIP
    >>> report.to_json()["skipped"]                    # doctest: +SKIP
    5

Every document gets a hash of its bytes, its metadata and the cleaning/chunking/model
settings. A document whose chunks are all in Chroma with that hash is skipped; a changed
one is upserted and its stale chunks deleted; a document whose file is gone (under a
folder being ingested) is deleted. Chunk ids come from content, so a run killed at any
point and started again converges on exactly the index an uninterrupted run builds:
nothing is marked done except by the chunks themselves.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import documents
from .chunking import Chunk, chunk_document
from .cleaning import ARTICLE, CLEANER_VERSION, CleanDocument, clean
from .documents import StoredDocument
from .embeddings import get_embeddings
from .lexical import LexicalIndex
from .loaders import SUPPORTED, BadFile, LoadedFile, load_file
from .settings import Settings
from .sources import MetadataError, Source, load_registry
from .store import Store, index_version

Progress = Callable[[int, int, str], None]  # (chunks done, chunks total, message)
EMBED_BATCH_CHUNKS = 256  # chunks per encoder call: big enough for the encoder's length sorting to pay off


@dataclass
class Prepared:
    loaded: LoadedFile
    source: Source
    doc: CleanDocument
    chunks: list[Chunk]
    doc_hash: str


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    skipped: int = 0
    removed: int = 0
    failed: list[dict] = field(default_factory=list)
    documents: int = 0
    chunks: int = 0
    seconds: float = 0.0
    doc_ids: list[str] = field(default_factory=list)  # documents added or updated in this run

    def to_json(self) -> dict:
        return {
            "added": self.added, "updated": self.updated, "skipped": self.skipped, "removed": self.removed,
            "failed": self.failed, "documents": self.documents, "chunks": self.chunks,
            "seconds": round(self.seconds, 3),
        }


def search_text(text: str, meta: dict) -> str:
    """What the encoder and BM25 see: the chunk with a short header saying where it is from."""
    header = f"{meta.get('title', '')} ({meta.get('outlet', '')})"
    if meta.get("segment_kind") != ARTICLE:
        header += f", {meta.get('segment_label', '')}"
    return f"{header}\n{text}"


def chunk_metadata(prepared: Prepared, chunk: Chunk) -> dict:
    source, segment = prepared.source, chunk.segment
    meta = {
        "doc_id": prepared.loaded.doc_id, "doc_hash": prepared.doc_hash, "path": str(prepared.loaded.path),
        "chunk_index": chunk.index, "start": chunk.start, "end": chunk.end, "tokens": chunk.tokens,
        "segment_kind": segment.kind, "segment_label": segment.label, "speaker": segment.speaker,
        "title": source.title, "outlet": source.outlet, "author": source.author,
        "published": source.published, "published_iso": source.published_iso,
        "date_num": int(source.published_iso.replace("-", "")) if source.published_iso else None,
        "doc_type": source.doc_type, "partisan": source.partisan, "label": source.label,
    }
    return {k: v for k, v in meta.items() if v is not None}  # Chroma metadata cannot hold None


def discover(paths: list[Path]) -> tuple[list[Path], list[Path], list[dict]]:
    """Expand folders. Returns (files, folders, failures for paths that do not exist)."""
    files, folders, failed = [], [], []
    for path in paths:
        path = Path(path).expanduser().resolve()
        if path.is_dir():
            folders.append(path)
            for item in sorted(path.rglob("*")):
                if item.is_file() and not _is_metadata_file(item) and not any(
                    part.startswith(".") for part in item.relative_to(path).parts
                ):
                    files.append(item)
        elif path.is_file():
            files.append(path)
        else:
            failed.append({"path": str(path), "reason": "no such file or folder"})
    return files, folders, failed


def _is_metadata_file(path: Path) -> bool:
    """Registry, sidecars, alias and cue lists live beside documents; they are not documents."""
    return path.suffix.lower() in (".yaml", ".yml")


def prepare(path: Path, settings: Settings, registry: dict, model_name: str) -> Prepared:
    loaded = load_file(path, max_bytes=int(settings.max_file_mb * 1_000_000))
    try:
        source = Source.from_mapping(loaded.doc_id, registry.get(loaded.doc_id))
        source = Source.from_mapping(loaded.doc_id, loaded.meta, base=source)
    except MetadataError as error:
        raise BadFile(str(error)) from None
    doc = clean(loaded.text, loaded.comments)
    if not doc.segments:
        raise BadFile("nothing left after removing page chrome (no text to index)")
    if not source.title:
        first = doc.text.split("\n", 1)[0]
        source = Source.from_mapping(loaded.doc_id, {"title": first[:120] or loaded.path.name}, base=source)
    chunks = chunk_document(loaded.doc_id, doc, settings.chunk_tokens, settings.chunk_overlap)
    fingerprint = json.dumps(
        [source.to_dict(), CLEANER_VERSION, settings.chunk_tokens, settings.chunk_overlap, model_name],
        sort_keys=True, ensure_ascii=False,
    )
    doc_hash = hashlib.sha256(loaded.raw + b"\x00" + fingerprint.encode()).hexdigest()[:20]
    return Prepared(loaded, source, doc, chunks, doc_hash)


@contextmanager
def _ingest_lock(settings: Settings, wait: bool = True):
    """One ingest or BM25 rebuild at a time per data directory (the UI's upload, the CLI and a
    reader catching up may race). Yields whether it is held: False only when ``wait`` is False
    and someone else holds it. A flock on a file opened anew also excludes this process's other threads."""
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


def ingest(
    settings: Settings,
    paths: list[Path] | None = None,
    progress: Progress | None = None,
    rebuild: bool = False,
) -> IngestReport:
    started = time.perf_counter()
    with _ingest_lock(settings):
        report = _ingest_locked(settings, paths, progress or (lambda *_: None), rebuild)
    report.seconds = time.perf_counter() - started
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.logs_dir / "ingest.jsonl", "a", encoding="utf-8") as log:
        log.write(json.dumps({"at": time.strftime("%Y-%m-%dT%H:%M:%S"), **report.to_json()}) + "\n")
    return report


def _preload_model(embedder) -> None:
    """Start loading the local model in the background, so documents are prepared meanwhile."""
    if hasattr(embedder, "model"):
        threading.Thread(target=lambda: embedder.model, daemon=True, name="model-load").start()


def _ingest_locked(settings, paths, progress, rebuild) -> IngestReport:
    report = IngestReport()
    files, folders, report.failed = discover(paths or [settings.corpus_dir])
    registry = load_registry(settings.registry_path)
    embedder = get_embeddings(settings)
    if rebuild or Store.surely_missing(settings):
        _preload_model(embedder)  # everything will need embedding: load it while Chroma opens
    if rebuild:
        Store.drop(settings)
        for doc in documents.all_documents(settings):
            documents.delete(settings, doc.doc_id)
    store = Store(settings, embedder.name)
    indexed = store.indexed_docs()
    if not indexed:
        _preload_model(embedder)  # an empty collection: the same (a second call just waits for the first)

    prepared: dict[str, Prepared] = {}
    for path in files:
        try:
            item = prepare(path, settings, registry, embedder.name)
            _check_id_is_free(item, prepared, indexed)
        except BadFile as error:
            report.failed.append({"path": str(path), "reason": str(error)})
            continue
        except Exception as error:  # one odd file must never stop the run or cost what is indexed
            report.failed.append({"path": str(path), "reason": f"could not be read ({type(error).__name__}: {error})"})
            continue
        prepared[item.loaded.doc_id] = item

    todo = []
    for doc_id, item in prepared.items():
        have = indexed.get(doc_id)
        same_path = have and have.path == str(item.loaded.path)  # a moved file is re-recorded under its new path
        if same_path and have.doc_hash == item.doc_hash and have.ids == {c.id for c in item.chunks}:
            report.skipped += 1
            stored = documents.load(settings, doc_id)
            if stored is None or stored.doc_hash != item.doc_hash:
                documents.save(settings, _stored(item))
        else:
            todo.append(item)
            report.updated += bool(have)
            report.added += not have

    _embed_and_store(todo, store, embedder, indexed, settings, progress)
    report.doc_ids = [item.loaded.doc_id for item in todo]

    for doc_id, have in indexed.items():
        gone = not Path(have.path).exists() and any(_inside(have.path, folder) for folder in folders)
        if doc_id not in prepared and gone:
            store.delete(have.ids)
            documents.delete(settings, doc_id)
            report.removed += 1

    lexical = refresh_lexical(settings, store)
    report.chunks = len(lexical.ids)
    report.documents = len({meta["doc_id"] for meta in lexical.metas})
    return report


def _check_id_is_free(item: Prepared, prepared: dict, indexed: dict) -> None:
    doc_id, path = item.loaded.doc_id, str(item.loaded.path)
    if doc_id in prepared:
        raise BadFile(f"document id '{doc_id}' is also used by {prepared[doc_id].loaded.path}; rename one of them")
    have = indexed.get(doc_id)
    if have and have.path != path and Path(have.path).exists():
        raise BadFile(f"document id '{doc_id}' is already indexed from {have.path}; rename this file")


def _inside(path: str, folder: Path) -> bool:
    return Path(path).is_relative_to(folder)


def _stored(item: Prepared) -> StoredDocument:
    return StoredDocument(
        item.loaded.doc_id, item.doc_hash, str(item.loaded.path), item.source, item.doc.text, item.doc.segments
    )


def _embed_and_store(todo, store, embedder, indexed, settings, progress) -> None:
    total = sum(len(item.chunks) for item in todo)
    done = 0
    progress(0, total, "embedding")
    batch: list[Prepared] = []
    for n, item in enumerate(todo):
        batch.append(item)
        if sum(len(b.chunks) for b in batch) >= EMBED_BATCH_CHUNKS or n == len(todo) - 1:
            metas = [chunk_metadata(b, c) for b in batch for c in b.chunks]
            texts = [c.text for b in batch for c in b.chunks]
            vectors = embedder.encode([search_text(t, m) for t, m in zip(texts, metas)],
                                      progress=lambda n: progress(done + n, total, "embedding"))
            store.upsert([c.id for b in batch for c in b.chunks], vectors, texts, metas)
            for b in batch:
                have = indexed.get(b.loaded.doc_id)
                if have:  # stale chunks go only after the new ones are in
                    store.delete(have.ids - {c.id for c in b.chunks})
                documents.save(settings, _stored(b))
            done += len(texts)
            progress(done, total, "embedding")
            batch = []


def refresh_lexical(settings: Settings, store: Store) -> LexicalIndex:
    """Rebuild BM25 from Chroma when it does not match the contents (one read of Chroma).

    Callers hold the ingest lock. BM25 is saved before the version is recorded in Chroma, so a
    reader that sees the new version finds its BM25 folder already there.
    """
    ids, texts, metas = store.all_chunks()
    version = index_version(ids, metas)
    lexical = LexicalIndex.load(settings.bm25_dir)
    if lexical is None or lexical.version != version:
        lexical = LexicalIndex.build(
            settings.bm25_dir, ids, texts, metas, [search_text(t, m) for t, m in zip(texts, metas)], version
        )
    store.record_version(version)
    return lexical


def catch_up_lexical(settings: Settings, store: Store, wait: bool) -> LexicalIndex | None:
    """For readers: BM25 matching the version recorded in Chroma, rebuilt under the ingest lock if
    needed (an ingest elsewhere, or another machine re-indexing a shared Chroma server).

    Returns None when ``wait`` is False and an ingest holds the lock (it leaves BM25 up to date).
    """
    with _ingest_lock(settings, wait) as held:
        if not held:
            return None
        current = LexicalIndex.load(settings.bm25_dir)
        if current is not None and current.version == store.version():
            return current  # built by the ingest we waited for
        return refresh_lexical(settings, store)


__all__ = ["ingest", "IngestReport", "SUPPORTED", "catch_up_lexical", "refresh_lexical", "search_text"]
