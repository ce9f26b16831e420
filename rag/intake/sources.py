"""Where a document's metadata comes from: the registry, a sidecar, or front matter.

Three places, later ones winning field by field: the corpus registry
(``corpus/sources.yaml``), a sidecar file next to the document (``report.pdf.meta.yaml``),
and YAML front matter at the top of a .md/.txt file. ``rag.model.Source`` validates them.

    >>> meta, body, offset = split_front_matter("---\\noutlet: Kyodo\\n---\\nTokyo said so.", "note.md")
    >>> meta, body, offset
    ({'outlet': 'Kyodo'}, 'Tokyo said so.', 22)
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ..errors import MetadataError
from ..model import Source


def _mapping(text: str, where: str, must_be: str) -> dict:
    """YAML text that must hold a mapping (empty: {}); MetadataError names ``where`` otherwise."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise MetadataError(f"{where}: not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise MetadataError(f"{where}: must be {must_be}")
    return data


def load_registry(path: Path) -> dict[str, dict]:
    """The registry as raw mappings keyed by doc id (validated lazily per document)."""
    if not path.exists():
        return {}
    data = _mapping(path.read_text(encoding="utf-8"), str(path), "a mapping of document ids to metadata")
    for doc_id, entry in data.items():
        if not isinstance(entry, dict):
            raise MetadataError(f"{path}: entry {doc_id!r} must be a mapping")
    return {str(k): v for k, v in data.items()}


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + ".meta.yaml")


def read_sidecar(path: Path) -> dict:
    side = sidecar_path(path)
    if not side.exists():
        return {}
    return _mapping(side.read_text(encoding="utf-8"), side.name, "a mapping of metadata fields")


FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*(?:\n|\Z)", re.S)


def split_front_matter(text: str, name: str) -> tuple[dict, str, int]:
    """Return (metadata, body, offset of body in text)."""
    match = FRONT_MATTER.match(text)
    if not match:
        return {}, text, 0
    data = _mapping(match[1], f"{name}: front matter", "a mapping of metadata fields")
    return data, text[match.end():], match.end()


def rate_document(path: Path, partisan: bool | None, label: str, rationale: str | None, rated_by: str,
                  rated_on: str) -> Path:
    """Write a journalist's rating into the document's sidecar (other fields kept) and return the
    sidecar's path; re-ingest ``path`` to apply it. ``partisan=None`` clears the rating: the
    document is then unrated, or rated by the outlet registry if it matches there.

        >>> import tempfile
        >>> doc = Path(tempfile.mkdtemp()) / "note.txt"; _ = doc.write_text("Tokyo said so.")
        >>> side = rate_document(doc, True, "state media", "Owned by the state.", "desk", "2026-12-04")
        >>> read_sidecar(doc)["framing"]["label"]
        'state media'
    """
    data = read_sidecar(path)
    if partisan is None:
        data.pop("framing", None)
    else:
        data["framing"] = {"partisan": partisan, "label": label.strip() or ("partisan" if partisan else "not partisan"),
                           "rationale": (rationale or "").strip() or None, "rated_by": rated_by, "rated_on": rated_on}
        data["framing"] = {k: v for k, v in data["framing"].items() if v is not None}
    _write_sidecar(path, data)
    return sidecar_path(path)


def update_sidecar(path: Path, changes: dict) -> Path:
    """Set metadata fields in the document's sidecar (others kept; a ``None`` or "" value removes
    the field, so the corpus registry's or the page's own value shows again) and return the
    sidecar's path; re-ingest ``path`` to apply it. The rating is ``rate_document``'s.

        >>> import tempfile
        >>> doc = Path(tempfile.mkdtemp()) / "note.txt"; _ = doc.write_text("Tokyo said so.")
        >>> _ = update_sidecar(doc, {"outlet": "Kyodo", "doc_type": "news report"})
        >>> _ = update_sidecar(doc, {"outlet": None, "title": "Talks"})
        >>> read_sidecar(doc)
        {'doc_type': 'news report', 'title': 'Talks'}
    """
    data = read_sidecar(path)
    for key, value in changes.items():
        if key == "framing":
            raise MetadataError(f"{sidecar_path(path).name}: set the rating with rate_document")
        if value is None or value == "":
            data.pop(key, None)
        else:
            data[key] = value
    Source.from_mapping(path.name, data)  # MetadataError, one line, for a field or a date it cannot take
    _write_sidecar(path, data)
    return sidecar_path(path)


def _write_sidecar(path: Path, data: dict) -> None:
    side = sidecar_path(path)
    tmp = side.with_name(side.name + ".tmp")
    tmp.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    tmp.replace(side)  # never a half-written sidecar
