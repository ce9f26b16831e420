"""The cheap no-change check: a file whose size and modification time (and its sidecar's) are
what they were when it was last indexed is skipped without being read, cleaned or hashed.

    >>> seen = Seen({"a": Stamp("/c/a.txt", (120, 1700000000000000000, None), "3f2c")}, "k1")
    >>> indexed = {"a": ("3f2c", "/c/a.txt")}  # what the index holds: content hash and path
    >>> seen.unchanged("a", Stamp("/c/a.txt", (120, 1700000000000000000, None), ""), "k1", indexed)
    True
    >>> seen.unchanged("a", Stamp("/c/a.txt", (121, 1700000000000000000, None), ""), "k1", indexed)
    False

The record is a hint, never the truth: a file is skipped only when the index still holds the
document under the recorded content hash (the manifest) and its stored copy exists. Anything else
(a different size or time, a touched sidecar, another document-registry entry, new settings or a
new outlet registry, which change the ``key``) goes the full way, where the content hash decides.
It lives in ``<data_dir>/ingest-stat.json``; losing it only costs one full read.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Stamp:
    path: str
    stat: tuple  # (size, mtime_ns, the sidecar's (size, mtime_ns) or None)
    doc_hash: str  # the content hash the document was indexed with ("" until known)


def stamp(path: Path, sidecar: Path) -> Stamp | None:
    """The file's stamp, or None when it cannot be read (then the full path reports why)."""
    try:
        st = os.stat(path)
        try:
            side = os.stat(sidecar)
            side_stat = (side.st_size, side.st_mtime_ns)
        except FileNotFoundError:
            side_stat = None
    except OSError:
        return None
    return Stamp(str(path), (st.st_size, st.st_mtime_ns, side_stat), "")


def key(*parts) -> str:
    """One string for everything outside the file that shapes its chunks."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


class Seen:
    """What the last ingests saw of each file, by document id."""

    def __init__(self, stamps: dict[str, Stamp], key: str = ""):
        self.stamps, self.key = stamps, key

    @classmethod
    def load(cls, path: Path) -> Seen:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            stamps = {d: Stamp(s["path"], tuple(tuple(x) if isinstance(x, list) else x for x in s["stat"]),
                               s["hash"]) for d, s in data["files"].items()}
            return cls(stamps, data["key"])
        except (OSError, ValueError, KeyError, TypeError):
            return cls({})  # missing or damaged: every file goes the full way once

    def unchanged(self, doc_id: str, now: Stamp | None, key: str, indexed: dict[str, tuple[str, str]]) -> bool:
        """Same file, same stat, same outside inputs, and the index holds what was recorded."""
        before = self.stamps.get(doc_id)
        return (now is not None and before is not None and key == self.key and before.path == now.path
                and before.stat == now.stat and indexed.get(doc_id) == (before.doc_hash, now.path))

    def save(self, path: Path, stamps: dict[str, Stamp], key: str) -> None:
        files = {d: {"path": s.path, "stat": list(s.stat), "hash": s.doc_hash} for d, s in stamps.items()}
        tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({"key": key, "files": files}), encoding="utf-8")
        os.replace(tmp, path)
