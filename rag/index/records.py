"""The store boundary: typed chunks in, flat Chroma metadata stored, typed passages out.

    >>> from rag.model import Chunk, Segment, SegmentKind, Source
    >>> seg = Segment(SegmentKind.COMMENT, "Ann", "comment by Ann", 0, 12)
    >>> chunk = Chunk("d1:ab", "d1", 0, seg, 0, 12, "Nice report.", 3)
    >>> meta = chunk_metadata(chunk, Source("d1", title="Kuril talks", outlet="Forum"), "h1", "/c/d1.txt")
    >>> search_text(chunk.text, meta)
    'Kuril talks (Forum), comment by Ann\\nNice report.'
    >>> p = passage_from("d1:ab", chunk.text, meta)
    >>> p.segment_kind is SegmentKind.COMMENT, p.speaker, p.source.outlet
    (True, 'Ann', 'Forum')

Nothing outside ``rag.index`` reads a metadata dict: this module is the only place that
knows the field names, and ``search_text`` is the one text both Chroma and BM25 index.
"""

from __future__ import annotations


from ..model import Chunk, Filters, PartialDate, Passage, SegmentKind, Source

# Source fields each chunk carries (enough to filter, to build the search text and to attribute).
SOURCE_FIELDS = ("title", "outlet", "author", "published", "published_iso", "doc_type", "partisan", "label")


def chunk_metadata(chunk: Chunk, source: Source, doc_hash: str, path: str) -> dict:
    segment = chunk.segment
    meta = {
        "doc_id": chunk.doc_id, "doc_hash": doc_hash, "path": path,
        "chunk_index": chunk.index, "start": chunk.start, "end": chunk.end, "tokens": chunk.tokens,
        "segment_kind": segment.kind.value, "segment_label": segment.label, "speaker": segment.speaker,
        **{name: getattr(source, name) for name in SOURCE_FIELDS},
        "date_num": _day_number(source.published_iso),
    }
    return {k: v for k, v in meta.items() if v is not None}  # Chroma metadata cannot hold None


def _day_number(iso: str | None) -> int | None:
    return PartialDate.number(PartialDate.parse(iso).first_day()) if iso else None


def search_text(text: str, meta: dict) -> str:
    """What the encoder and BM25 see: the chunk with a short header saying where it is from."""
    header = f"{meta.get('title', '')} ({meta.get('outlet', '')})"
    if meta.get("segment_kind") != SegmentKind.ARTICLE:
        header += f", {meta.get('segment_label', '')}"
    return f"{header}\n{text}"


def passage_from(chunk_id: str, text: str, meta: dict, score: float = 0.0,
                 similarity: float | None = None) -> Passage:
    source = Source(meta["doc_id"], **{name: meta[name] for name in SOURCE_FIELDS if name in meta})
    return Passage(
        id=chunk_id, doc_id=meta["doc_id"], doc_hash=meta.get("doc_hash", ""), text=text,
        start=meta["start"], end=meta["end"], chunk_index=meta.get("chunk_index", 0),
        segment_kind=SegmentKind(meta.get("segment_kind", SegmentKind.ARTICLE)),
        segment_label=meta.get("segment_label", "article body"), speaker=meta.get("speaker"),
        source=source, score=score, dense_similarity=similarity,
    )


def chroma_where(filters: Filters) -> dict | None:
    """The filters as a Chroma ``where`` clause (None: no filter)."""
    low, high = filters.day_range()
    clauses = []
    if filters.outlets:
        clauses.append({"outlet": {"$in": list(filters.outlets)}})
    if filters.doc_types:
        clauses.append({"doc_type": {"$in": list(filters.doc_types)}})
    if low is not None:
        clauses.append({"date_num": {"$gte": low}})
    if high is not None:
        clauses.append({"date_num": {"$lte": high}})
    if filters.partisan is not None:
        clauses.append({"partisan": {"$eq": filters.partisan}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def allows(filters: Filters, meta: dict, day_range: tuple[int | None, int | None]) -> bool:
    """The same test as ``chroma_where``, on one chunk's metadata (for BM25 hits)."""
    low, high = day_range
    if filters.outlets and meta.get("outlet") not in filters.outlets:
        return False
    if filters.doc_types and meta.get("doc_type") not in filters.doc_types:
        return False
    day = meta.get("date_num")
    if (low is not None or high is not None) and day is None:
        return False
    if (low is not None and day < low) or (high is not None and day > high):
        return False
    return filters.partisan is None or bool(meta.get("partisan")) == filters.partisan
