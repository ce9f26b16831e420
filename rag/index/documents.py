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

import hashlib
import json
import os
import threading
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


# folder -> {file name: ((inode, size, mtime), the document read from it)}
_READ: dict[str, dict[str, tuple[tuple[int, int, int], Document]]] = {}
_READ_LOCK = threading.Lock()


def all_documents(settings: Settings) -> list[Document]:
    """Every stored document. A file read before and not changed since (same inode, size and
    modification time; ``save`` always writes a new file) is not read again: after one upload
    into an archive of 20,000 documents, the list costs one file read, not 20,000."""
    folder = settings.documents_dir
    if not folder.exists():
        return []
    with _READ_LOCK:
        known = _READ.get(str(folder), {})
    now: dict[str, tuple[tuple[int, int, int], Document]] = {}
    for entry in sorted((e for e in os.scandir(folder) if e.name.endswith(".json")), key=lambda e: e.name):
        try:
            st = entry.stat()
        except OSError:  # deleted meanwhile
            continue
        stamp = (entry.inode(), st.st_size, st.st_mtime_ns)
        seen = known.get(entry.name)
        doc = seen[1] if seen is not None and seen[0] == stamp else load(settings, entry.name[:-len(".json")])
        if doc is not None:
            now[entry.name] = (stamp, doc)
    with _READ_LOCK:
        _READ[str(folder)] = now  # (documents deleted since are forgotten)
    return [doc for _, doc in now.values()]


def ids(settings: Settings) -> list[str]:
    """The ids of the stored documents, without reading them."""
    folder = settings.documents_dir
    return sorted(p.stem for p in folder.glob("*.json")) if folder.exists() else []


def version(settings: Settings) -> str:
    """Changes whenever a stored document is written or removed: a digest of the files' names and
    modification times (short, so a cache keyed on it costs nothing to compare at 100,000 documents)."""
    folder = settings.documents_dir
    if not folder.exists():
        return ""
    digest = hashlib.blake2b(digest_size=16)
    for name, mtime in sorted((e.name, e.stat().st_mtime_ns) for e in os.scandir(folder) if e.name.endswith(".json")):
        digest.update(f"{name}\0{mtime}\n".encode())
    return digest.hexdigest()
