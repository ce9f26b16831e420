"""Cleaned documents as the index saw them, one JSON file each under ``<data>/documents``.

    >>> import tempfile
    >>> from rag.model import Document, Source
    >>> s = Settings(data_dir=Path(tempfile.mkdtemp()))
    >>> save(s, Document("d1", "h1", "/c/d1.txt", Source("d1"), "Text.", []))
    >>> load(s, "d1").text, load(s, "missing")
    ('Text.', None)

The app's "open document" view reads these, and chunk offsets point into ``text``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..model import Document
from ..settings import Settings


def _path(settings: Settings, doc_id: str) -> Path:
    return settings.documents_dir / f"{doc_id}.json"


def save(settings: Settings, doc: Document) -> None:
    settings.documents_dir.mkdir(parents=True, exist_ok=True)
    path = _path(settings, doc.doc_id)
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    tmp.write_text(json.dumps(doc.to_json(), ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def load(settings: Settings, doc_id: str) -> Document | None:
    try:
        return Document.from_json(json.loads(_path(settings, doc_id).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def exists(settings: Settings, doc_id: str) -> bool:
    return _path(settings, doc_id).exists()


def delete(settings: Settings, doc_id: str) -> None:
    _path(settings, doc_id).unlink(missing_ok=True)


def all_documents(settings: Settings) -> list[Document]:
    if not settings.documents_dir.exists():
        return []
    docs = [load(settings, p.stem) for p in sorted(settings.documents_dir.glob("*.json"))]
    return [d for d in docs if d is not None]


def version(settings: Settings) -> tuple:
    """Changes whenever a stored document is written or removed (names and modification times)."""
    folder = settings.documents_dir
    if not folder.exists():
        return ()
    return tuple(sorted((e.name, e.stat().st_mtime_ns) for e in os.scandir(folder) if e.name.endswith(".json")))
