"""corpus -> clean segments -> chunks -> the index, incrementally.

    >>> report = ingest(Settings.from_env())          # doctest: +SKIP
    >>> report.to_json()["skipped"]                    # doctest: +SKIP
    5

Every document gets a hash of its bytes, its metadata and the cleaning/chunking/model
settings. A file whose size and modification time (and its sidecar's) are as when it was last
indexed is skipped unread (``statcache``); otherwise the hash decides: a document whose chunks
are all indexed with that hash is skipped; a changed
one is replaced; a document whose file is gone (under a folder being ingested) is removed.
Chunk ids come from content, so a run killed at any point and started again converges on
exactly the index an uninterrupted run builds: nothing is marked done except by the
chunks themselves. All writing goes through ``rag.index.Index``.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Callable, NamedTuple

from ..errors import BadFile, IndexDamaged, MetadataError
from ..index import Index, IndexedDoc, get_embeddings
from ..model import Chunk, Document, Rating, RatingOrigin, Source
from ..settings import Settings
from . import history, outlets
from .chunking import chunk_document
from .cleaning import CLEANER_VERSION, CleanDocument, clean
from .loaders import LoadedFile, doc_id_for, load_file
from .sources import load_registry, sidecar_path
from .statcache import Seen, Stamp, key as stat_key, stamp



class Phase(str, Enum):
    """The steps of an ingest, in order, as the progress callback hears them (each is also its
    own message, so a callback that only prints strings still reads well)."""

    WAITING = "waiting for another ingest to finish"
    FINDING = "finding files"
    READING = "reading and cleaning"
    EMBEDDING = "embedding"
    KEYWORDS = "updating the keyword index"

    @property
    def unit(self) -> str:
        return "files" if self in (Phase.FINDING, Phase.READING) else "chunks"


# progress(done, total, phase): ``total`` 0 while unknown (files still being found); a
# waiting message names who holds the lock.
Progress = Callable[[int, int, str], None]
EMBED_BATCH_CHUNKS = 256  # chunks per encoder call: big enough for the encoder's length sorting to pay off


@dataclass(frozen=True)
class Failure:
    """A file that could not be ingested, and why (for the person who supplied it)."""

    path: str
    reason: str

    def to_json(self) -> dict:
        return {"path": self.path, "reason": self.reason}


@dataclass
class Prepared:
    loaded: LoadedFile
    document: Document
    chunks: list[Chunk]

    @property
    def doc_id(self) -> str:
        return self.document.doc_id


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    skipped: int = 0
    removed: int = 0
    failed: list[Failure] = field(default_factory=list)
    documents: int = 0
    chunks: int = 0
    seconds: float = 0.0
    doc_ids: list[str] = field(default_factory=list)  # documents added or updated in this run

    def to_json(self) -> dict:
        return {
            "added": self.added, "updated": self.updated, "skipped": self.skipped, "removed": self.removed,
            "failed": [f.to_json() for f in self.failed], "documents": self.documents, "chunks": self.chunks,
            "seconds": round(self.seconds, 3),
        }


class Found(NamedTuple):
    path: Path
    doc_id: str  # the file's stem; "sub__stem" for a file in a subfolder of a folder being ingested
    direct: bool = False  # given by its own path, not found in a folder


def discover(paths: list[Path], found: Callable[[int], None] | None = None
             ) -> tuple[list[Found], list[Path], list[Failure]]:
    """Expand folders. Returns (files, folders, failures): paths that do not exist, folders that
    cannot be read, and symbolic links, which are never followed (one leaving the folder could
    index /etc/passwd; one inside it would index a file twice). ``found(n)`` hears the count of
    files found so far, once per folder walked."""
    found = found or (lambda n: None)
    files: list[Found] = []
    folders, failed = [], []
    for path in paths:
        given = Path(path).expanduser()
        try:
            resolved = given.resolve()
            is_dir, is_file = resolved.is_dir(), resolved.is_file()
        except OSError as error:
            failed.append(Failure(str(given), f"cannot be read ({error.strerror or error})"))
            continue
        if is_dir:
            folders.append(resolved)
            files += [Found(item, doc_id_for(item, resolved))
                      for item in _walk(resolved, failed, lambda n, before=len(files): found(before + n))]
        elif is_file:
            files.append(Found(resolved, doc_id_for(resolved), direct=True))
        else:
            failed.append(Failure(str(given), "no such file or folder"))
    return files, folders, failed


def _walk(folder: Path, failed: list[Failure], found: Callable[[int], None]) -> list[Path]:
    def unreadable(error: OSError) -> None:
        failed.append(Failure(error.filename or str(folder), f"folder cannot be read ({error.strerror or error}); "
                                                            "what was indexed from it stays as it was"))

    files = []
    for root, dirs, names in os.walk(folder, onerror=unreadable):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in dirs:
            if (here / name).is_symlink():  # os.walk does not descend into it
                failed.append(Failure(str(here / name), _link_reason(here / name, folder)))
        for name in sorted(names):
            item = here / name
            if name.startswith(".") or _is_metadata_file(item):
                continue
            if item.is_symlink():
                failed.append(Failure(str(item), _link_reason(item, folder)))
            elif item.is_file():
                files.append(item)
        found(len(files))
    return files


def _link_reason(link: Path, folder: Path) -> str:
    try:
        target = link.resolve()
    except (OSError, RuntimeError):  # a loop
        return "symbolic link that cannot be resolved (a loop?): not followed"
    if target.is_relative_to(folder):
        return f"symbolic link to {target}, which is read from its own place: not followed"
    return f"symbolic link leaving the folder (to {target}): not followed; copy the file in to index it"


def _is_metadata_file(path: Path) -> bool:
    """Registry, sidecars, alias and cue lists live beside documents; they are not documents."""
    return path.suffix.lower() in (".yaml", ".yml")


def prepare(found: Found, settings: Settings, registry: dict) -> Prepared:
    """Read, attribute, clean and chunk one file (no index involved). BadFile says why not."""
    loaded, document = read_document(found, settings, registry)
    return Prepared(loaded, document, chunks_of(document, settings))


def read_document(found: Found, settings: Settings, registry: dict) -> tuple[LoadedFile, Document]:
    """Read, attribute and clean one file. BadFile says why not."""
    loaded = load_file(found.path, max_bytes=int(settings.max_file_mb * 1_000_000), doc_id=found.doc_id)
    given = (registry.get(loaded.doc_id), loaded.meta)
    try:
        source = Source.from_mapping(loaded.doc_id, given[0])
        source = Source.from_mapping(loaded.doc_id, given[1], base=source)
    except MetadataError as error:
        raise BadFile(str(error)) from None
    doc = clean(loaded.text, loaded.comments)
    if any(_rated(loaded.doc_id, meta) for meta in given):
        source = replace(source, rating_origin=RatingOrigin.USER)  # the journalist's rating always wins
    else:
        found_outlet = outlets.load(settings.outlets_file).match(source, doc.text)
        if found_outlet is not None:
            source = outlets.apply(source, found_outlet)
    if not doc.segments:
        raise BadFile("nothing left after removing page chrome (no text to index)")
    if not source.title:
        first = doc.text.split("\n", 1)[0]
        source = Source.from_mapping(loaded.doc_id, {"title": first[:120] or loaded.path.name}, base=source)
    fingerprint = json.dumps(
        [source.to_dict(), CLEANER_VERSION, settings.chunk_tokens, settings.chunk_overlap, settings.embedding],
        sort_keys=True, ensure_ascii=False,
    )
    doc_hash = hashlib.sha256(loaded.raw + b"\x00" + fingerprint.encode()).hexdigest()[:20]
    return loaded, Document(loaded.doc_id, doc_hash, str(loaded.path), source, doc.text, doc.segments)


def _rated(doc_id: str, meta: dict | None) -> bool:
    """Does this metadata give a rating? ("unrated", as the upload form writes by default, is none.)"""
    return Source.from_mapping(doc_id, meta).rating is not Rating.UNRATED


def chunks_of(document: Document, settings: Settings) -> list[Chunk]:
    """The chunks ingest makes of a document (the same ids, offsets and texts)."""
    doc = CleanDocument(document.text, document.segments)
    return chunk_document(document.doc_id, doc, settings.chunk_tokens, settings.chunk_overlap)


def read_documents(settings: Settings, paths: list[Path] | None = None) -> tuple[list[Document], list[Failure]]:
    """The documents an ingest of ``paths`` (default: the corpus) would index, read the same
    way but indexed nowhere: for checks that must see exactly what the index sees (the evals)."""
    files, _, failed = discover(paths or [settings.corpus_dir])
    registry = load_registry(settings.registry_path)
    outlets.load(settings.outlets_file)  # a broken outlet registry stops here, once, not file by file
    docs = []
    for found in files:
        try:
            docs.append(_or_fail(read_document, found, settings, registry)[1])
        except BadFile as error:
            failed.append(Failure(str(found.path), str(error)))
    return docs, failed


def _or_fail(step, found: Found, settings: Settings, registry: dict):
    try:
        return step(found, settings, registry)
    except BadFile:
        raise
    except Exception as error:  # one odd file must never stop the run or cost what is indexed
        raise BadFile(f"could not be read ({type(error).__name__}: {error})") from None


def ingest(
    settings: Settings,
    paths: list[Path] | None = None,
    progress: Progress | None = None,
    rebuild: bool = False,
) -> IngestReport:
    started = time.perf_counter()
    progress = progress or (lambda *_: None)

    def waiting(holder: str) -> None:
        progress(0, 0, f"{Phase.WAITING.value} in {settings.data_dir} ({holder})")

    with Index.write_lock(settings, on_wait=waiting):
        report = _ingest_locked(settings, paths, progress, rebuild)
    report.seconds = time.perf_counter() - started
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.logs_dir / "ingest.jsonl", "a", encoding="utf-8") as log:
        log.write(json.dumps({"at": time.strftime("%Y-%m-%dT%H:%M:%S"), **report.to_json()}) + "\n")
    return report


def _ingest_locked(settings: Settings, paths, progress: Progress, rebuild: bool) -> IngestReport:
    report = IngestReport()
    files, folders, report.failed = discover(paths or [settings.corpus_dir],
                                             found=lambda n: progress(n, 0, Phase.FINDING))
    progress(len(files), len(files), Phase.FINDING)
    registry = load_registry(settings.registry_path)
    outlets.load(settings.outlets_file)  # a broken outlet registry stops here, once, not file by file
    encoder = get_embeddings(settings)
    if rebuild or Index.surely_missing(settings):
        encoder.preload()  # everything will need embedding: load the model while Chroma opens
    # A rebuild fills a new generation; readers keep the old one until it is complete.
    if rebuild:
        try:
            index = Index.new_generation(settings, encoder)
        except IndexDamaged:  # a rebuild starts over anyway: keep the damaged files aside, build anew
            Index.set_aside(settings, "chroma")
            index = Index.new_generation(settings, encoder)
    else:
        index = Index.open(settings, encoder, create=True)
    indexed = index.manifest()
    if not indexed:
        encoder.preload()  # an empty collection: the same (a second call just waits for the first)
    # A file given by its own path keeps the id it is indexed under (a file of an unpacked archive,
    # "2024__report", re-indexed alone after an edit is not a new document "report").
    ids_by_path = {have.path: doc_id for doc_id, have in indexed.items()}
    files = [f._replace(doc_id=ids_by_path.get(str(f.path), f.doc_id)) if f.direct else f for f in files]
    events: list[history.HistoryEntry] = []

    # Files whose size and time (and their sidecar's) are as last indexed are not read at all.
    seen_path = settings.data_dir / "ingest-stat.json"
    racy_after = time.time_ns() - 2_000_000_000
    seen = Seen({}) if rebuild else Seen.load(seen_path)
    run_key = stat_key(CLEANER_VERSION, settings.chunk_tokens, settings.chunk_overlap, settings.embedding,
                       settings.max_file_mb, _file_stat(settings.registry_path), _file_stat(settings.outlets_file))
    held = {doc_id: (have.doc_hash, have.path) for doc_id, have in indexed.items()}
    stamps: dict[str, Stamp] = {}
    unchanged: dict[str, str] = {}  # doc id -> path, skipped on their stamps
    prepared: dict[str, Prepared] = {}
    for n, found in enumerate(files):
        progress(n, len(files), Phase.READING)
        now = stamp(found.path, sidecar_path(found.path))
        if (found.doc_id not in unchanged and found.doc_id not in prepared
                and seen.unchanged(found.doc_id, now, run_key, held) and index.has_stored(found.doc_id)):
            unchanged[found.doc_id] = str(found.path)
            stamps[found.doc_id] = seen.stamps[found.doc_id]
            continue
        try:
            item = _or_fail(prepare, found, settings, registry)
            if item.doc_id in unchanged:
                raise BadFile(f"document id '{item.doc_id}' is also used by {unchanged[item.doc_id]}; rename one of them")
            _check_id_is_free(item, prepared, indexed)
        except BadFile as error:
            report.failed.append(Failure(str(found.path), str(error)))
            continue
        prepared[item.doc_id] = item
        have = indexed.get(item.doc_id)
        if have is None or have.doc_hash != item.document.doc_hash:  # (if it turns out unchanged: a wasted guess)
            index.encode_ahead(item.document, item.chunks)  # encoding starts while the next files are read
        if now is not None and max(now.stat[1], (now.stat[2] or (0, 0))[1]) < racy_after:
            # (a file written just now may change again within the clock's tick: not recorded)
            stamps[item.doc_id] = Stamp(now.path, now.stat, item.document.doc_hash)
    report.skipped += len(unchanged)
    progress(len(files), len(files), Phase.READING)

    # A file indexed under another id (ingested before ids named subfolders, or from another
    # folder level) is the same document: the old id goes.
    by_path = {item.document.path: doc_id for doc_id, item in prepared.items()}
    by_path.update({path: doc_id for doc_id, path in unchanged.items()})
    for doc_id, have in list(indexed.items()):
        if by_path.get(have.path, doc_id) != doc_id:
            index.remove(have)
            del indexed[doc_id]
            report.removed += 1
            events.append(_event(have, history.HistoryEvent.REMOVED, f"indexed again as {by_path[have.path]}"))

    todo = []
    for doc_id, item in prepared.items():
        have = indexed.get(doc_id)
        same_path = have and have.path == item.document.path  # a moved file is re-recorded under its new path
        if same_path and have.doc_hash == item.document.doc_hash and have.ids == {c.id for c in item.chunks}:
            report.skipped += 1
            index.keep(item.document)
        else:
            todo.append(item)
            report.updated += bool(have)
            report.added += not have
            events.append(history.HistoryEntry(
                "", doc_id, history.HistoryEvent.UPDATED if have else history.HistoryEvent.ADDED, item.document.path,
                item.document.doc_hash, hashlib.sha256(item.loaded.raw).hexdigest(), len(item.chunks)))

    index.begin(pending=len(todo))
    _embed_and_store(todo, index, indexed, progress)
    report.doc_ids = [item.doc_id for item in todo]

    gone = set()
    for doc_id, have in indexed.items():
        if doc_id not in prepared and doc_id not in unchanged and _gone(have.path, folders):
            index.remove(have)
            gone.add(doc_id)
            report.removed += 1
            events.append(_event(have, history.HistoryEvent.REMOVED, "its file is gone from the folder"))

    report.documents, report.chunks = index.commit(progress=lambda done, total: progress(done, total, Phase.KEYWORDS))
    at = history.now()
    history.record(settings, [replace(e, at=at) for e in events])  # what the index now holds, and only that
    # Recorded only now that every document is in (a killed run leaves the old record, a hint only);
    # the records of documents ingested from other paths (uploads, other folders) are carried over,
    # unless they were made under other settings or registries.
    this_run = {found.doc_id for found in files}
    carried = {d: s for d, s in seen.stamps.items()
               if seen.key == run_key and d not in this_run and d not in gone and d in indexed}
    seen.save(seen_path, {**carried, **stamps}, run_key)
    return report


def _event(have: IndexedDoc, event: history.HistoryEvent, note: str) -> history.HistoryEntry:
    return history.HistoryEntry("", have.doc_id, event, have.path, have.doc_hash, chunks=len(have.ids), note=note)


def _file_stat(path: Path | None) -> tuple | None:
    try:
        st = os.stat(path) if path else None
    except OSError:
        return None
    return st and (str(path), st.st_size, st.st_mtime_ns)


def _gone(path: str, folders: list[Path]) -> bool:
    """Was the file deleted from a folder being ingested? (Unreadable is not gone: it stays indexed.)"""
    try:  # (the folder test first: it needs no disk access, and an upload has no folder)
        return any(Path(path).is_relative_to(f) for f in folders) and not Path(path).exists()
    except OSError:
        return False


def _check_id_is_free(item: Prepared, prepared: dict[str, Prepared], indexed: dict[str, IndexedDoc]) -> None:
    doc_id, path = item.doc_id, item.document.path
    if doc_id in prepared:
        raise BadFile(f"document id '{doc_id}' is also used by {prepared[doc_id].document.path}; rename one of them")
    have = indexed.get(doc_id)
    if have and have.path != path and Path(have.path).exists():
        raise BadFile(f"document id '{doc_id}' is already indexed from {have.path}; rename this file")


def _embed_and_store(todo: list[Prepared], index: Index, indexed: dict[str, IndexedDoc], progress: Progress) -> None:
    total = sum(len(item.chunks) for item in todo)
    done = 0
    progress(0, total, Phase.EMBEDDING)
    batch: list[Prepared] = []
    for n, item in enumerate(todo):
        batch.append(item)
        if sum(len(b.chunks) for b in batch) >= EMBED_BATCH_CHUNKS or n == len(todo) - 1:
            index.add([(b.document, b.chunks) for b in batch], indexed,
                      progress=lambda k: progress(done + k, total, Phase.EMBEDDING), pending=len(todo) - n - 1)
            done += sum(len(b.chunks) for b in batch)
            progress(done, total, Phase.EMBEDDING)
            batch = []
