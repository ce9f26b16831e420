"""What happened to each document, in order: an append-only JSON-lines log, ``<data>/history.jsonl``.

Ingest appends one line per document it adds, updates or removes (after its commit, so only what
the index really holds is recorded), and ``delete_document`` one per deletion; nothing rewrites
a line. ``document_history`` reads one document's lines back, oldest first.

    >>> import tempfile
    >>> s = Settings(data_dir=Path(tempfile.mkdtemp()))
    >>> record(s, [HistoryEntry("2026-12-04T10:00:00", "note", HistoryEvent.ADDED, "/up/note.txt", "3f2c", "9a1b", 2)])
    >>> [(e.event, e.path, e.content_sha256) for e in document_history(s, "note")]
    [(<HistoryEvent.ADDED: 'added'>, '/up/note.txt', '9a1b')]
    >>> document_history(s, "other")
    []
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path

from ..settings import Settings


class HistoryEvent(StrEnum):
    ADDED = "added"
    UPDATED = "updated"  # its file, its metadata or the settings changed: indexed again
    REMOVED = "removed"  # its file left a folder being ingested, or it was indexed again under another id
    DELETED = "deleted"  # deleted by a person (``delete_document``)


@dataclass(frozen=True)
class HistoryEntry:
    at: str  # local time, YYYY-MM-DDTHH:MM:SS
    doc_id: str
    event: HistoryEvent
    path: str  # the file it was read from
    doc_hash: str = ""  # the index's hash: the file's bytes, its metadata and the settings
    content_sha256: str = ""  # the file's bytes alone (what ``sha256sum`` prints); "" when not read
    chunks: int = 0  # passages indexed (for a removal: passages removed)
    note: str = ""

    def to_json(self) -> dict:
        return {**asdict(self), "event": self.event.value}

    @classmethod
    def from_json(cls, data: dict) -> "HistoryEntry":
        return cls(**{**data, "event": HistoryEvent(data["event"])})


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


def record(settings: Settings, entries: list[HistoryEntry]) -> None:
    """Append ``entries`` (callers hold the index's write lock, so lines never interleave)."""
    if not entries:
        return
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(e.to_json(), ensure_ascii=False) + "\n" for e in entries)
    with open(settings.history_path, "a", encoding="utf-8") as log:
        log.write(lines)


def document_history(settings: Settings, doc_id: str) -> list[HistoryEntry]:
    """Every recorded event of ``doc_id``, oldest first ([] when none was recorded: a document
    indexed before the log existed). A line cut short by a crash is left out."""
    path: Path = settings.history_path
    if not path.exists():
        return []
    found = []
    needle = json.dumps(doc_id, ensure_ascii=False)
    with open(path, encoding="utf-8") as log:
        for line in log:
            if needle not in line:  # cheap: most lines are other documents'
                continue
            try:
                entry = HistoryEntry.from_json(json.loads(line))
            except (ValueError, TypeError, KeyError):
                continue
            if entry.doc_id == doc_id:
                found.append(entry)
    return found
