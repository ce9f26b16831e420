"""Who published a document, when, and how partisan it is.

Metadata comes from three places, later ones winning field by field:
the corpus registry (``corpus/sources.yaml``), a sidecar file next to the document
(``report.pdf.meta.yaml``), and YAML front matter at the top of a .md/.txt file.

    >>> s = Source.from_mapping("d1", {"outlet": "TASS", "framing": {"partisan": True, "label": "state media"}})
    >>> s.partisan, s.label, s.outlet
    (True, 'state media', 'TASS')
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import yaml

FRAMING_FIELDS = ("partisan", "label", "rationale", "confidence", "rated_by", "rated_on")
DOC_TYPES = (
    "news report",
    "opinion",
    "analysis",
    "forum thread",
    "content site",
    "state-aligned outlet",
    "other",
)


class MetadataError(ValueError):
    """Document metadata (registry, sidecar or front matter) is malformed."""


@dataclass(frozen=True)
class Source:
    doc_id: str
    title: str = ""
    outlet: str = "unknown outlet"
    author: str | None = None
    published: str | None = None
    published_iso: str | None = None
    date_basis: str | None = None
    url: str | None = None
    language: str | None = None
    translation: str | None = None
    doc_type: str = "other"
    partisan: bool = False
    label: str = "unrated"
    rationale: str | None = None
    confidence: str | None = None
    rated_by: str | None = None
    rated_on: str | None = None

    @classmethod
    def from_mapping(cls, doc_id: str, data: dict | None, base: "Source | None" = None) -> "Source":
        """Build from a registry/sidecar/front-matter mapping; ``base`` supplies fields it leaves out."""
        data = dict(data or {})
        framing = data.pop("framing", None) or {}
        if not isinstance(framing, dict):
            raise MetadataError(f"{doc_id}: 'framing' must be a mapping, got {type(framing).__name__}")
        data.update(framing)
        known = {f.name for f in fields(cls)} - {"doc_id"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise MetadataError(f"{doc_id}: unknown metadata field(s): {', '.join(unknown)}")
        values = asdict(base) if base else {}
        values["doc_id"] = doc_id
        for key, value in data.items():
            if value is None or value == "":
                continue
            values[key] = _clean_value(doc_id, key, value)
        return cls(**values)

    def to_dict(self) -> dict:
        return asdict(self)

    def framing(self) -> dict:
        return {key: getattr(self, key) for key in FRAMING_FIELDS}


def _clean_value(doc_id: str, key: str, value):
    if key == "partisan":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("yes", "true", "1", "y"):
            return True
        if text in ("no", "false", "0", "n"):
            return False
        raise MetadataError(f"{doc_id}: 'partisan' must be yes/no, got {value!r}")
    if key in ("published_iso", "rated_on"):
        return normalise_date(doc_id, key, value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if not isinstance(value, (str, int, float)):
        raise MetadataError(f"{doc_id}: '{key}' must be text, got {type(value).__name__}")
    return str(value).strip()


def normalise_date(doc_id: str, key: str, value) -> str:
    """'2023-12' -> '2023-12-01'; dates must look like YYYY, YYYY-MM or YYYY-MM-DD."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    match = re.fullmatch(r"(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", text)
    if not match:
        raise MetadataError(f"{doc_id}: '{key}' must be a date like 2023-12-20, got {text!r}")
    year, month, day = int(match[1]), int(match[2] or 1), int(match[3] or 1)
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        raise MetadataError(f"{doc_id}: '{key}' is not a real date: {text!r}") from None


def load_registry(path: Path) -> dict[str, dict]:
    """The registry as raw mappings keyed by doc id (validated lazily per document)."""
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise MetadataError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise MetadataError(f"{path}: must map document ids to metadata")
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
    try:
        data = yaml.safe_load(side.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise MetadataError(f"{side.name}: not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise MetadataError(f"{side.name}: must be a mapping of metadata fields")
    return data


FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*(?:\n|\Z)", re.S)


def split_front_matter(text: str, name: str) -> tuple[dict, str, int]:
    """Return (metadata, body, offset of body in text)."""
    match = FRONT_MATTER.match(text)
    if not match:
        return {}, text, 0
    try:
        data = yaml.safe_load(match[1]) or {}
    except yaml.YAMLError as error:
        raise MetadataError(f"{name}: front matter is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise MetadataError(f"{name}: front matter must be a mapping of metadata fields")
    return data, text[match.end():], match.end()
