"""``python -m rag doctor [--repair]``: check the data directory, and fix what can be fixed.

    >>> for check in diagnose(Settings.from_env()):                 # doctest: +SKIP
    ...     print(check.line())
    ok       chroma     the active index holds 76 passages (passages-18c2a9f1e07b3d40)
    PROBLEM  bm25       the keyword index does not match the passages (it will be rebuilt from Chroma)

Checks: the data directory is writable; Chroma opens and reads; the BM25 snapshot matches
the version Chroma records; every indexed document has its stored copy and no stored copy is
orphaned; the last ingest completed; no abandoned rebuild is left. ``--repair`` moves damaged
parts aside to ``<data>/damaged/`` (never deletes them), rebuilds them, and re-ingests the
documents the index knew about. Nothing in the corpus or in the user's folders is touched.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import RagError
from ..index import Index, get_embeddings, list_documents
from ..index.chroma import Catalog
from ..index.lexical import LexicalIndex
from ..intake import ingest
from ..settings import Settings


@dataclass
class Check:
    name: str  # datadir | chroma | bm25 | documents | ingest | generations
    ok: bool
    detail: str
    repair: str | None = None  # what --repair does about it (None: nothing it can do)

    def line(self) -> str:
        return f"{'ok' if self.ok else 'PROBLEM':8} {self.name:11} {self.detail}"

    def to_json(self) -> dict:
        return {"check": self.name, "ok": self.ok, "detail": self.detail, "repair": self.repair}


@dataclass
class Findings:
    checks: list[Check] = field(default_factory=list)
    active: str | None = None
    version: str = ""

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def failed(self, name: str) -> bool:
        return any(c.name == name and not c.ok for c in self.checks)


def diagnose(settings: Settings) -> Findings:
    found = Findings()
    add = found.checks.append
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=settings.data_dir, prefix=".doctor-"):
            pass
        add(Check("datadir", True, f"{settings.data_dir} is writable"))
    except OSError as error:
        add(Check("datadir", False, f"{settings.data_dir} cannot be written ({error.strerror or error}): fix its "
                                    "permissions or point RAG_DATA_DIR elsewhere"))
        return found  # nothing else can be repaired there
    try:
        catalog = Catalog(settings, fresh=True)
        found.active, found.version = catalog.active()
        if found.active is None:
            add(Check("chroma", True, "no index yet (python -m rag ingest builds one)"))
            return found
        store = catalog.open(found.active, get_embeddings(settings).name)
        manifest = store.indexed_docs()
        add(Check("chroma", True, f"the active index holds {sum(len(d.ids) for d in manifest.values())} passages "
                                  f"of {len(manifest)} documents ({found.active})"))
    except RagError as error:
        damaged = type(error).__name__ == "IndexDamaged"
        add(Check("chroma", False, str(error), "move the damaged index aside and re-index" if damaged else None))
        return found

    lexical = LexicalIndex.load(settings.bm25_dir)
    if lexical is not None and lexical.version == found.version:
        add(Check("bm25", True, f"the keyword index matches ({lexical.live_count} passages)"))
    else:
        why = "is missing, unreadable or of an older version" if lexical is None else "does not match the passages"
        add(Check("bm25", False, f"the keyword index {why}", "rebuild it from Chroma"))

    stored = {d.doc_id: d for d in list_documents(settings)}
    missing = sorted(d for d, have in manifest.items() if d not in stored or stored[d].doc_hash != have.doc_hash)
    orphans = sorted(set(stored) - set(manifest))
    if missing or orphans:
        add(Check("documents", False, f"{len(missing)} indexed document(s) without a matching stored copy, "
                                      f"{len(orphans)} stored cop(ies) of documents not indexed",
                  "re-ingest the documents the index knows about; remove orphaned copies"))
    else:
        add(Check("documents", True, f"{len(stored)} stored documents match the index"))

    state = Index.ingest_state(settings)
    if state.get("state") == "running" and not Index.writer_active(settings):
        add(Check("ingest", False, f"the last ingest was interrupted ({state.get('pending', '?')} document(s) "
                                   "not yet indexed)", "run the ingest again"))
    else:
        add(Check("ingest", True, "an ingest is running now" if Index.writer_active(settings)
                  else "the last ingest completed"))

    generations = {n for n in catalog.names() if n.startswith(settings.collection + "-")} - {
        found.active, settings.collection + "-active"}
    if len(generations) > 1:  # the previous generation is kept on purpose; more are leftovers
        add(Check("generations", False, f"{len(generations)} unused index generations (abandoned rebuilds)",
                  "delete them"))
    else:
        add(Check("generations", True, "no abandoned rebuild"))
    return found


def repair(settings: Settings, found: Findings, progress=None) -> list[str]:
    """Fix what ``diagnose`` found; returns what was done, one line each."""
    done: list[str] = []
    if found.failed("datadir") or (found.failed("chroma") and not any(
            c.repair for c in found.checks if c.name == "chroma")):
        return done  # a read-only folder or an unreachable server: the person has to act
    paths = _known_paths(settings)
    if found.failed("chroma"):
        with Index.write_lock(settings):
            for part in ("chroma", "bm25"):
                moved = Index.set_aside(settings, part)
                if moved:
                    done.append(f"moved the damaged {part} folder to {moved}")
        report = ingest(settings, paths, progress=progress)
        done.append(f"re-indexed {report.added + report.updated} document(s) into a new index "
                    f"({report.chunks} passages; {len(report.failed)} failed)")
        return done + _remove_orphans(settings)
    if found.failed("bm25"):
        with Index.write_lock(settings):
            moved = Index.set_aside(settings, "bm25")
            documents, chunks = Index.open(settings).commit()
        done.append(f"rebuilt the keyword index from Chroma ({chunks} passages)"
                    + (f"; the old one is in {moved}" if moved else ""))
    if found.failed("documents") or found.failed("ingest"):
        report = ingest(settings, paths, progress=progress)
        done.append(f"re-ingested: {report.added} added, {report.updated} updated, {report.skipped} unchanged, "
                    f"{len(report.failed)} failed")
        done += _remove_orphans(settings)
    if found.failed("generations"):
        with Index.write_lock(settings):
            dropped = Index.open(settings).prune()
        done.append(f"deleted {len(dropped)} unused index generation(s)")
    return done


def _remove_orphans(settings: Settings) -> list[str]:
    """Stored copies of documents the index does not hold (their files are gone) are removed."""
    done = []
    with Index.write_lock(settings):
        index = Index.open(settings)
        indexed = set(index.manifest())
        for doc in list_documents(settings):
            if doc.doc_id not in indexed:
                index.remove_stored(doc.doc_id)
                done.append(f"removed the stored copy of {doc.doc_id} (its file is gone: {doc.path})")
    return done


def _known_paths(settings: Settings) -> list[Path]:
    """The folders and files the index was built from: the corpus, the uploads, and every file a
    stored document came from (those that still exist)."""
    paths = [settings.corpus_dir]
    if settings.uploads_dir.exists():
        paths.append(settings.uploads_dir)
    for doc in list_documents(settings):
        path = Path(doc.path)
        if path.exists() and not any(path.is_relative_to(p) for p in paths):
            paths.append(path)
    return paths
