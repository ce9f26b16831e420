"""A bulk upload on its way in (no streamlit here): staged, previewed, described, moved into place,
indexed by the one ingest path, and put back where a file failed.

The files are first written to a staging folder that mirrors the uploads folder
(``<uploads>/.incoming/<batch>/``; a ZIP is unpacked there with ``rag.unpack_zip`` into a folder
named after it, as ``python -m rag ingest x.zip`` does). Each file is then read the way ingest
reads it (``rag.read_documents``: its sidecar, the page's meta tags, the outlet registry) to show
the rating the registry suggests and what matched. The person's choices go into sidecars in the
staging folder; only then do the files move into the uploads folder, keeping the bytes of any file
they replace. After the ingest a failed file is put back as it was (the earlier copy, which the
index still holds, or nothing), so a bad upload never costs a good document.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path, PurePosixPath

import rag
from rag import Rating

STAGING = ".incoming"  # under the uploads folder; a dot folder, so no folder ingest ever walks it
STALE_SECONDS = 24 * 3600  # staging folders of sessions that went away are removed after a day
RATED_BY = "newsroom bulk upload form"


class Result(StrEnum):
    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "already indexed (unchanged)"
    FAILED = "failed"
    SKIPPED = "skipped"  # an archive entry ingest does not read (its type, hidden, too large)
    REFUSED = "refused"  # an unsafe archive entry, or an archive refused whole


@dataclass
class Staged:
    name: str  # as uploaded; "desk.zip/2024/a.txt" for a file of an archive
    rel: PurePosixPath  # where it goes, inside the uploads folder
    doc_id: str
    source: rag.Source | None = None  # as ingest would read it now (None: it cannot be read)
    problem: str = ""  # why it cannot be read (ingest will say so too)


@dataclass(frozen=True)
class LeftOut:
    name: str
    result: Result
    reason: str


@dataclass(frozen=True)
class Choice:
    """What the person set for a file ("" / None: keep the file's own, or the registry's suggestion)."""

    outlet: str = ""
    doc_type: str = ""
    rating: Rating | None = None
    label: str = ""


@dataclass(frozen=True)
class Row:
    name: str
    doc_id: str
    result: Result
    reason: str = ""


@dataclass
class Batch:
    key: tuple  # the uploader's file ids: another selection is another batch
    root: Path  # the staging folder
    uploads: Path
    files: list[Staged] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    targets: list[PurePosixPath] = field(default_factory=list)  # what ingest is given: files and archive folders
    previous: dict[Path, bytes | None] = field(default_factory=dict)  # after move_in: what each file replaced

    def discard(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    # -- before indexing -----------------------------------------------------------------------------
    def describe(self, choices: dict[PurePosixPath, Choice]) -> None:
        """Write each file's choices into its sidecar in the staging folder (a rating given here
        wins over the registry's suggestion at ingest)."""
        today = dt.date.today().isoformat()
        for item in self.files:
            choice = choices.get(item.rel)
            if choice is None:
                continue
            path = self.root / item.rel
            fields = {k: v for k, v in (("outlet", choice.outlet.strip()), ("doc_type", choice.doc_type)) if v}
            if fields:
                rag.update_sidecar(path, fields)
            if choice.rating in (Rating.PARTISAN, Rating.NOT_PARTISAN):
                partisan = choice.rating is Rating.PARTISAN
                rag.rate_document(path, partisan, choice.label, None, RATED_BY, today)

    def move_in(self) -> list[Path]:
        """Move the staged files (and sidecars) into the uploads folder, remembering what each
        replaced; returns the paths to give ingest. If one cannot be moved, those moved are put
        back and the error is raised: the uploads folder is as it was."""
        try:
            for item in self.files:
                for staged in (self.root / item.rel, rag.sidecar_path(self.root / item.rel)):
                    if not staged.exists():
                        continue
                    dest = self.uploads / staged.relative_to(self.root)
                    self.previous[dest] = dest.read_bytes() if dest.is_file() else None
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(staged, dest)
        except OSError:
            for item in self.files:
                self._put_back(self.uploads / item.rel)
            self._remove_empty_folders()
            raise
        self.discard()
        return [self.uploads / t for t in self.targets]

    # -- after indexing ------------------------------------------------------------------------------
    def finish(self, report: rag.IngestReport | None, error: str | None, before: set[str]) -> list[Row]:
        """The per-file results; files that failed (every file, when the ingest itself failed) are
        put back as they were before this upload."""
        failed = {_key(f.path): f.reason for f in (report.failed if report else [])}
        rows, matched = [], set()
        for item in self.files:
            dest = self.uploads / item.rel
            reason = error or failed.get(_key(dest))
            matched.add(_key(dest))
            if reason is not None:
                earlier = self.previous.get(dest) is not None
                self._put_back(dest)
                rows.append(Row(item.name, item.doc_id, Result.FAILED, reason + (
                    " (the earlier copy is kept, still indexed)" if earlier else "")))
            elif item.doc_id in report.doc_ids:
                rows.append(Row(item.name, item.doc_id, Result.UPDATED if item.doc_id in before else Result.ADDED))
            else:
                rows.append(Row(item.name, item.doc_id, Result.UNCHANGED))
        rows += [Row(f"{Path(p).name}", "", Result.FAILED, why) for p, why in failed.items() if p not in matched]
        rows += [Row(o.name, "", o.result, o.reason) for o in self.left_out]
        self._remove_empty_folders()
        return rows

    def _put_back(self, dest: Path) -> None:
        for path in (dest, rag.sidecar_path(dest)):
            if path not in self.previous:
                continue
            data = self.previous[path]
            if data is not None:
                path.write_bytes(data)
            elif path.is_file() or path.is_symlink():  # (never a folder that happens to have the name)
                path.unlink()

    def _remove_empty_folders(self) -> None:
        for target in self.targets:
            folder = self.uploads / target
            if not folder.is_dir():
                continue
            for root, _, _ in sorted(os.walk(folder), key=lambda w: -len(w[0])):  # deepest first
                try:
                    Path(root).rmdir()  # only when empty
                except OSError:
                    pass


def stage(settings: rag.Settings, uploads: list[tuple[str, bytes]], key: tuple) -> Batch:
    """Write the uploaded files (and unpack the ZIPs) into a new staging folder, then read them."""
    _remove_stale(settings.uploads_dir / STAGING)
    batch = Batch(key, settings.uploads_dir / STAGING / uuid.uuid4().hex, settings.uploads_dir)
    batch.root.mkdir(parents=True)
    taken: dict[PurePosixPath, str] = {}
    for name, data in uploads:
        safe = rag.safe_file_name(name)
        if Path(safe).suffix == ".zip":
            _stage_zip(settings, batch, name, safe, data, taken)
        elif Path(safe).suffix not in rag.SUPPORTED:
            batch.left_out.append(LeftOut(name, Result.SKIPPED, f"file type '{Path(safe).suffix}' is not one "
                                                                 f"ingest reads ({', '.join(rag.SUPPORTED)})"))
        elif PurePosixPath(safe) in taken:
            batch.left_out.append(LeftOut(name, Result.REFUSED, f"its safe name {safe} is already taken by "
                                                                 f"{taken[PurePosixPath(safe)]}: rename one of them"))
        else:
            rel = PurePosixPath(safe)
            taken[rel] = name
            (batch.root / rel).write_bytes(data)
            batch.files.append(Staged(name, rel, rag.doc_id_for(Path(safe))))
            batch.targets.append(rel)
    for item in batch.files:  # an earlier upload's sidecar (its rating) stays with the new copy
        earlier, staged = rag.sidecar_path(batch.uploads / item.rel), rag.sidecar_path(batch.root / item.rel)
        if earlier.is_file() and not staged.exists():
            shutil.copyfile(earlier, staged)
    _preview(settings, batch)
    return batch


def _stage_zip(settings, batch: Batch, name: str, safe: str, data: bytes, taken: dict) -> None:
    folder = PurePosixPath(rag.doc_id_for(Path(safe)))
    archive = batch.root / ".zips" / safe
    archive.parent.mkdir(exist_ok=True)
    archive.write_bytes(data)
    try:
        unpacked = rag.unpack_zip(archive, batch.root / folder, settings)
    except rag.ArchiveError as error:
        batch.left_out.append(LeftOut(name, Result.REFUSED, str(error)))
        return
    finally:
        archive.unlink(missing_ok=True)
    for entry in unpacked.entries:
        if entry.status is not rag.EntryStatus.EXTRACTED:
            status = Result.REFUSED if entry.status is rag.EntryStatus.REFUSED else Result.SKIPPED
            batch.left_out.append(LeftOut(f"{name}/{entry.name}", status, entry.reason))
        elif not entry.name.lower().endswith(".meta.yaml"):  # a sidecar travels with its document
            rel = folder / entry.path
            taken[rel] = f"{name}/{entry.name}"
            doc_id = rag.doc_id_for(batch.root / rel, batch.root / folder)  # as ingest names it (preview confirms)
            batch.files.append(Staged(f"{name}/{entry.name}", rel, doc_id))
    if folder not in batch.targets:
        batch.targets.append(folder)


def _preview(settings, batch: Batch) -> None:
    """Each staged file read as ingest will read it: its id, source and suggested rating."""
    if not batch.targets:
        return
    docs, failures = rag.read_documents(settings, [batch.root / t for t in batch.targets])
    by_path = {_key(d.path): d for d in docs}
    problems = {_key(f.path): f.reason for f in failures}
    for item in batch.files:
        key = _key(batch.root / item.rel)
        doc = by_path.get(key)
        if doc is not None:
            item.doc_id, item.source = doc.doc_id, doc.source
        else:
            item.problem = problems.get(key, "cannot be read")


def _key(path) -> str:
    try:
        return str(Path(path).resolve())
    except OSError:
        return str(path)


def _remove_stale(staging: Path) -> None:
    if not staging.is_dir():
        return
    for folder in staging.iterdir():
        try:
            if time.time() - folder.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            pass
