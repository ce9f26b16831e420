"""Cleaned documents as the index saw them, one JSON file each under ``<data>/documents``.

The UI's "open document" view reads these, and chunk offsets point into ``text``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .cleaning import Segment
from .settings import Settings
from .sources import Source


@dataclass
class StoredDocument:
    doc_id: str
    doc_hash: str
    path: str
    source: Source
    text: str
    segments: list[Segment]

    def segment_at(self, offset: int) -> Segment | None:
        return next((s for s in self.segments if s.start <= offset < s.end), None)

    def to_json(self) -> dict:
        return {
            "doc_id": self.doc_id, "doc_hash": self.doc_hash, "path": self.path,
            "source": self.source.to_dict(), "text": self.text,
            "segments": [s.__dict__ for s in self.segments],
        }

    @classmethod
    def from_json(cls, data: dict) -> "StoredDocument":
        source = data["source"]
        return cls(
            data["doc_id"], data["doc_hash"], data["path"], Source(**source), data["text"],
            [Segment(**s) for s in data["segments"]],
        )


def _path(settings: Settings, doc_id: str) -> Path:
    return settings.documents_dir / f"{doc_id}.json"


def save(settings: Settings, doc: StoredDocument) -> None:
    settings.documents_dir.mkdir(parents=True, exist_ok=True)
    path = _path(settings, doc.doc_id)
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    tmp.write_text(json.dumps(doc.to_json(), ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def load(settings: Settings, doc_id: str) -> StoredDocument | None:
    try:
        return StoredDocument.from_json(json.loads(_path(settings, doc_id).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def delete(settings: Settings, doc_id: str) -> None:
    _path(settings, doc_id).unlink(missing_ok=True)


def all_documents(settings: Settings) -> list[StoredDocument]:
    if not settings.documents_dir.exists():
        return []
    docs = [load(settings, p.stem) for p in sorted(settings.documents_dir.glob("*.json"))]
    return [d for d in docs if d is not None]
