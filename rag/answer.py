"""What the assistant returns: an answer whose every claim points at a numbered citation.

``Answer.to_json()`` is the stable contract of ``python -m rag ask --json`` (see README).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .documents import StoredDocument
from .framing import Cue, find_cues, one_sided_notices, partisan_warning
from .retrieval import Passage
from .sources import Source


@dataclass
class Citation:
    n: int
    passage: Passage
    source: Source
    highlights: list[tuple[int, int]] = field(default_factory=list)  # cited sentences, offsets in the passage
    cues: list[Cue] = field(default_factory=list)  # offsets in the passage text

    @property
    def doc_id(self) -> str:
        return self.passage.doc_id

    @property
    def segment(self) -> str:
        return self.passage.meta.get("segment_label", "article body")

    @property
    def speaker(self) -> str | None:
        return self.passage.meta.get("speaker")

    @property
    def is_comment(self) -> bool:
        return self.passage.meta.get("segment_kind") == "comment"

    def metadata_text(self) -> str:
        """Who/where the passage is from: names an attribution may use without them being in the passage."""
        s = self.source
        return f"{s.outlet} {s.title} {s.author or ''} {self.speaker or ''} {s.label} {self.segment}"

    def to_json(self) -> dict:
        s, p = self.source, self.passage
        return {
            "n": self.n, "doc_id": p.doc_id, "title": s.title, "outlet": s.outlet, "author": s.author,
            "published": s.published_iso or s.published, "url": s.url, "segment": self.segment,
            "speaker": self.speaker, "segment_kind": p.meta.get("segment_kind"), "doc_type": s.doc_type,
            "text": p.text, "start": p.start, "end": p.end, "score": round(p.score, 6),
            "highlights": [{"start": a, "end": b} for a, b in self.highlights],
            "framing": {**s.framing(), "cues": [c.to_json() for c in self.cues]},
        }


@dataclass
class Answer:
    question: str
    standalone_query: str
    answer: str
    refused: bool
    mode: str  # "offline" | "llm" | "offline-fallback"
    citations: list[Citation]
    warnings: list[str] = field(default_factory=list)
    unsupported_sentences: list[str] = field(default_factory=list)
    timings_ms: dict = field(default_factory=dict)
    closest: list[Citation] = field(default_factory=list)  # shown apart when the documents don't answer
    notice: str | None = None  # e.g. why the LLM answer was replaced by the offline one
    removed_citations: list[str] = field(default_factory=list)
    checks: list = field(default_factory=list)  # rag.support.SupportResult per sentence (LLM answers)

    def to_json(self) -> dict:
        return {
            "question": self.question, "standalone_query": self.standalone_query, "answer": self.answer,
            "refused": self.refused, "mode": self.mode, "citations": [c.to_json() for c in self.citations],
            "warnings": self.warnings, "unsupported_sentences": self.unsupported_sentences,
            "timings_ms": self.timings_ms, "closest": [c.to_json() for c in self.closest],
            "notice": self.notice, "removed_citations": self.removed_citations,
            "sentences": [{"text": c.sentence, "citations": c.cited, "supported": c.supported, "reasons": c.reasons}
                          for c in self.checks],
        }


def make_citation(n: int, passage: Passage, doc: StoredDocument | None) -> Citation:
    source = doc.source if doc else Source.from_mapping(passage.doc_id, {
        k: passage.meta.get(k) for k in ("title", "outlet", "author", "published", "published_iso", "doc_type", "label")
    } | {"partisan": bool(passage.meta.get("partisan"))})
    return Citation(n, passage, source, cues=find_cues(passage.text))


def framing_warnings(citations: list[Citation]) -> list[str]:
    """One warning per partisan source, a note per cited comment, and one-sided-evidence notices."""
    warnings = []
    by_doc: dict[str, list[Citation]] = {}
    for c in citations:
        by_doc.setdefault(c.doc_id, []).append(c)
    for cites in by_doc.values():
        s = cites[0].source
        if s.partisan:
            warnings.append(partisan_warning([c.n for c in cites], s.outlet, s.label))
    for c in citations:
        if c.is_comment:
            who = c.speaker or "an unnamed poster"
            warnings.append(f"[{c.n}] is a comment by {who} ({c.segment}), not the outlet's own text.")
    warnings.extend(one_sided_notices([{"outlet": c.source.outlet, "partisan": c.source.partisan} for c in citations]))
    return warnings
