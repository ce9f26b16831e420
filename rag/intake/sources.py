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
