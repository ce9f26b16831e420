"""Unpack a ZIP a journalist uploads into a folder that ``ingest`` then indexes, safely.

    >>> import tempfile, zipfile
    >>> root = Path(tempfile.mkdtemp())
    >>> with zipfile.ZipFile(root / "desk.zip", "w") as z:
    ...     z.writestr("2024/Report (final).txt", "Tokyo said so.")
    ...     z.writestr("../evil.txt", "escape")
    ...     z.writestr("photo.jpg", "not a document")
    >>> done = unpack_zip(root / "desk.zip", root / "uploads" / "desk", Settings())
    >>> for entry in done.entries:
    ...     print(entry.line())
    extracted: 2024/Report (final).txt -> 2024/Report_final.txt
    refused: ../evil.txt: '..' in the path: it would be written outside the folder
    skipped: photo.jpg: file type '.jpg' is not one ingest reads (.txt, ...)
    >>> sorted(p.name for p in (root / "uploads").rglob("*"))
    ['2024', 'Report_final.txt', 'desk']

Every entry is judged before anything is written: names leaving the folder ("../", "/abs",
"C:", backslashes), symbolic links and entries compressed past ``RAG_ZIP_MAX_RATIO`` are
refused; types ingest does not read are skipped. The archive as a whole is refused
(``ArchiveError``, one line) when damaged, or when it holds more than ``RAG_ZIP_MAX_FILES``
files, would unpack to more than ``RAG_ZIP_MAX_MB`` (a nested ZIP counts with its own size and
what it holds) or is compressed past the ratio as a whole.
Declared sizes are checked first and the bytes are counted again while unpacking. A ZIP inside
the ZIP is unpacked one level deep (into a folder named after it; its files count toward the
same limits); a ZIP inside that is refused. Files are unpacked into a temporary folder beside
the target and moved into place only when the whole archive passed: a refused archive leaves
the target as it was. Moving in never deletes: a file of the same name is replaced (a newer
copy of that document), everything else already in the target stays.
"""

from __future__ import annotations

import lzma
import os
import re
import shutil
import stat
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path, PurePosixPath

from ..errors import ArchiveError
from ..settings import Settings
from .loaders import SUPPORTED, safe_file_name, safe_folder_name

SIDECAR = ".meta.yaml"  # sidecar_path's suffix: metadata ingest reads beside its document
_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_DAMAGED = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, ValueError, struct.error, NotImplementedError,
            RuntimeError, OSError)
_BLOCK = 1 << 16
_FIX = "copy or download it again, or re-create it with your system's ZIP tool"


class EntryStatus(str, Enum):
    EXTRACTED = "extracted"
    SKIPPED = "skipped"  # not a document ingest reads (its type, hidden, too large): left out, nothing wrong
    REFUSED = "refused"  # unsafe (leaves the folder, a link, a likely bomb) or unreadable (encrypted)


@dataclass(frozen=True)
class UnpackedEntry:
    name: str  # as in the archive; "inner.zip/a.txt" for a file of a nested ZIP
    status: EntryStatus
    reason: str = ""  # why skipped or refused
    path: PurePosixPath | None = None  # where an extracted file lies, inside the target folder
    replaced: bool = False  # an earlier file of that name was in the target

    def line(self) -> str:
        if self.status is EntryStatus.EXTRACTED:
            return f"extracted: {self.name} -> {self.path}" + (" (replaced the earlier copy)" if self.replaced else "")
        return f"{self.status.value}: {self.name}: {self.reason}"

    def to_json(self) -> dict:
        return {"name": self.name, "status": self.status.value, "reason": self.reason,
                "path": str(self.path) if self.path else None, "replaced": self.replaced}


@dataclass
class Unpacked:
    archive: Path
    folder: Path  # the target: give it to ``ingest``
    entries: list[UnpackedEntry] = field(default_factory=list)

    def of(self, status: EntryStatus) -> list[UnpackedEntry]:
        return [e for e in self.entries if e.status is status]

    @property
    def files(self) -> list[Path]:
        return [self.folder / e.path for e in self.of(EntryStatus.EXTRACTED)]

    def to_json(self) -> dict:
        return {"archive": str(self.archive), "folder": str(self.folder), "extracted": len(self.files),
                "skipped": [e.to_json() for e in self.of(EntryStatus.SKIPPED)],
                "refused": [e.to_json() for e in self.of(EntryStatus.REFUSED)]}


def unpack_zip(archive: Path, target: Path, settings: Settings) -> Unpacked:
    """Unpack ``archive`` into ``target`` (created if need be); ArchiveError says why not."""
    archive, target = Path(archive), Path(target)
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise ArchiveError(f"{target} is a file or a symbolic link, not a folder: unpack into another folder")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{target.name}.unpacking-", dir=target.parent))
    except OSError as error:
        raise ArchiveError(_cannot_write(error)) from None
    try:
        job = _Job(settings, work / "files", work / "nested")
        job.unpack(archive, archive.name, depth=0, folder="", shown="")
        return Unpacked(archive, target, _move_into_place(job, target))
    finally:
        shutil.rmtree(work, ignore_errors=True)


class _Job:
    """One archive's unpacking: the running totals, the staging folder, the verdicts."""

    def __init__(self, settings: Settings, staging: Path, scratch: Path):
        self.max_files, self.max_ratio = settings.zip_max_files, settings.zip_max_ratio
        self.max_bytes, self.max_file = int(settings.zip_max_mb * 1e6), int(settings.max_file_mb * 1e6)
        self.staging, self.scratch = staging, scratch
        staging.mkdir()
        scratch.mkdir()
        self.files = self.declared = self.written = self.nests = 0
        self.entries: list[UnpackedEntry] = []
        self.taken: dict[PurePosixPath, str] = {}  # path in the target -> the entry that took it
        self.dirs: set[PurePosixPath] = set()

    def unpack(self, path: Path, label: str, depth: int, folder: str, shown: str) -> None:
        try:
            with zipfile.ZipFile(path) as zf:
                infos = [info for info in zf.infolist() if not info.is_dir()]
                plan = [(info, self.verdict(info, depth)) for info in infos]
                self.check_totals(label, infos, [info for info, why in plan if why is None])
                for info, why in plan:
                    name = shown + info.filename
                    if why is not None:
                        self.entries.append(UnpackedEntry(name, *why))
                    elif _is_zip(info.filename):
                        self.nested(zf, info, label, name)
                    else:
                        self.extract(zf, info, label, name, folder)
        except ArchiveError:
            raise
        except FileNotFoundError:
            raise ArchiveError(f"{label}: no such file") from None
        except _DAMAGED as error:
            raise ArchiveError(f"{label} is not a readable ZIP ({_cause(error)}): {_FIX}") from None

    def verdict(self, info: zipfile.ZipInfo, depth: int) -> tuple[EntryStatus, str] | None:
        """Why this entry is not unpacked (None: it is)."""
        refused, skipped = EntryStatus.REFUSED, EntryStatus.SKIPPED
        name, mode = info.filename, info.external_attr >> 16
        unsafe = _unsafe_name(name)
        if unsafe:
            return refused, f"{unsafe}: it would be written outside the folder"
        if stat.S_ISLNK(mode):
            return refused, "a symbolic link: links are never unpacked (one could point outside the folder)"
        if stat.S_IFMT(mode) and not stat.S_ISREG(mode):
            return refused, "not a regular file (a device or a pipe)"
        if any(part.startswith(".") or part == "__MACOSX" for part in PurePosixPath(name).parts):
            return skipped, "hidden or system file (.DS_Store, __MACOSX …): not a document"
        suffix = PurePosixPath(name).suffix.lower()
        if _is_zip(name) and depth > 0:
            return refused, "a ZIP inside a ZIP inside the archive: only one level is unpacked; unpack it and upload its files"
        if not (_is_zip(name) or suffix in SUPPORTED or name.lower().endswith(SIDECAR)):
            return skipped, f"file type '{suffix or '(none)'}' is not one ingest reads ({', '.join(SUPPORTED)})"
        if info.flag_bits & 0x1:
            return refused, "encrypted: unzip it with its password and upload the files"
        if info.compress_type not in _METHODS:
            return refused, f"compressed with a method Python cannot read (#{info.compress_type}): {_FIX}"
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > self.max_ratio:
            return refused, (f"compressed {ratio:.0f}:1, over the {self.max_ratio:g}:1 limit (RAG_ZIP_MAX_RATIO): "
                             "it looks like a zip bomb")
        if not _is_zip(name) and info.file_size > self.max_file:
            return skipped, f"{_mb(info.file_size)}, over the {_mb(self.max_file)} limit (RAG_MAX_FILE_MB)"
        return None

    def check_totals(self, label: str, infos: list[zipfile.ZipInfo], wanted: list[zipfile.ZipInfo]) -> None:
        """The declared sizes, before anything of this archive is written."""
        self.files += len(infos)
        if self.files > self.max_files:
            raise ArchiveError(f"{label} holds {self.files:,} files (nested ZIPs' included), over the "
                               f"{self.max_files:,} limit (RAG_ZIP_MAX_FILES): split it or raise the limit")
        self.declared += sum(info.file_size for info in wanted)
        if self.declared > self.max_bytes:
            raise ArchiveError(f"{label} would unpack to {_mb(self.declared)}, over the {_mb(self.max_bytes)} "
                               "limit (RAG_ZIP_MAX_MB): split it or raise the limit")
        ratio = sum(i.file_size for i in infos) / max(sum(i.compress_size for i in infos), 1)
        if ratio > self.max_ratio:
            raise ArchiveError(f"{label} is compressed {ratio:.0f}:1 as a whole, over the {self.max_ratio:g}:1 limit "
                               "(RAG_ZIP_MAX_RATIO): it looks like a zip bomb; if it is genuine, raise the limit")

    def nested(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, name: str) -> None:
        """A ZIP in the ZIP: into a folder named after it, one level deep."""
        self.nests += 1
        scratch = self.scratch / f"{self.nests}.zip"
        self.copy(zf, info, scratch, label)
        self.unpack(scratch, f"{label}/{info.filename}", depth=1, folder=str(PurePosixPath(info.filename).with_suffix("")),
                    shown=name + "/")

    def extract(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, name: str, folder: str) -> None:
        rel = _target_path(f"{folder}/{info.filename}" if folder else info.filename)
        clash = self.taken.get(rel) or (
            "a folder of the same name" if rel in self.dirs else
            next((self.taken[p] for p in rel.parents if p in self.taken), None))
        if clash:
            self.entries.append(UnpackedEntry(name, EntryStatus.REFUSED, f"its safe name {rel} is already taken by "
                                              f"{clash}: rename one of them"))
            return
        self.taken[rel] = name
        self.dirs.update(rel.parents)
        self.copy(zf, info, self.staging / rel, label)
        self.entries.append(UnpackedEntry(name, EntryStatus.EXTRACTED, path=rel))

    def copy(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, label: str) -> None:
        with zf.open(info) as source:
            try:
                dest.parent.mkdir(parents=True, exist_ok=True)
                out = open(dest, "wb")
            except OSError as error:
                raise ArchiveError(_cannot_write(error)) from None
            with out:
                count_while_copying(source, out, info.file_size, self, f"{label}: {info.filename}")


def count_while_copying(source, out, declared: int, job: _Job, what: str) -> int:
    """Copy, counting the bytes as they come: past the declared size or the total limit, stop."""
    written = 0
    while block := source.read(_BLOCK):
        written += len(block)
        job.written += len(block)
        if written > declared:
            raise ArchiveError(f"{what} unpacks to more bytes than the archive declares: it is damaged or "
                               f"crafted; {_FIX}")
        if job.written > job.max_bytes:
            raise ArchiveError(f"{what}: unpacking passed the {_mb(job.max_bytes)} limit (RAG_ZIP_MAX_MB): "
                               "split the archive or raise the limit")
        try:
            out.write(block)
        except OSError as error:  # a full disk is not a damaged archive
            raise ArchiveError(_cannot_write(error)) from None
    return written


def _move_into_place(job: _Job, target: Path) -> list[UnpackedEntry]:
    """The staging folder into the target: renamed whole when the target is new, else file by file."""
    if not target.exists():
        try:
            job.staging.rename(target)
            return job.entries
        except OSError:  # made meanwhile by someone else: merge into it
            pass
    entries, plan = [], []
    for entry in job.entries:
        blocked = entry.path and _blocked(target, entry.path)
        if blocked:
            entry = UnpackedEntry(entry.name, EntryStatus.REFUSED, f"{blocked} in {target}: rename one of them")
        elif entry.path:
            plan.append((job.staging / entry.path, target / entry.path))
            entry = UnpackedEntry(entry.name, entry.status, path=entry.path, replaced=(target / entry.path).exists())
        entries.append(entry)
    for n, (source, dest) in enumerate(plan):
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, dest)
        except OSError as error:
            raise ArchiveError(f"could not move {dest} into place ({error.strerror or error}); {n} of {len(plan)} "
                               "files were moved: fix the folder's permissions and unpack it again") from None
    return entries


def _blocked(target: Path, rel: PurePosixPath) -> str | None:
    """What already in the target keeps this file from being placed (a link, or a file where a folder goes)."""
    here = target
    for part in rel.parts[:-1]:
        here = here / part
        if here.is_symlink() or (here.exists() and not here.is_dir()):
            return f"{rel}: '{here.name}' is a file or a symbolic link"
    dest = target / rel
    if dest.is_symlink() or dest.is_dir():
        return f"{rel} is already a folder or a symbolic link"
    return None


def _unsafe_name(name: str) -> str | None:
    if "\\" in name:
        return "a backslash in the name (a Windows path)"
    if name.startswith("/"):
        return "an absolute path"
    if re.match(r"[A-Za-z]:", name):
        return "a drive letter"
    if ".." in name.split("/"):
        return "'..' in the path"
    return None


def _target_path(name: str) -> PurePosixPath:
    """The entry's path inside the target: safe folder names, a safe file name (a sidecar keeps
    matching its document's safe name)."""
    *folders, base = name.split("/")
    if base.lower().endswith(SIDECAR):
        base = safe_file_name(base[: -len(SIDECAR)]) + SIDECAR
    else:
        base = safe_file_name(base)
    return PurePosixPath(*[f for f in map(safe_folder_name, folders) if f], base)


def _is_zip(name: str) -> bool:
    return name.lower().endswith(".zip")


def _cannot_write(error: OSError) -> str:
    return (f"cannot write the unpacked files ({error.strerror or error}): free some space or check the "
            "data folder's permissions, then try again")


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def _cause(error: Exception) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
