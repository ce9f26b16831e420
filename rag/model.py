"""The types that flow through the pipeline: corpus -> chunks -> index -> retrieval -> answer.

    >>> PartialDate.parse("2023-12").last_day()
    datetime.date(2023, 12, 31)
    >>> s = Source.from_mapping("d1", {"outlet": "TASS", "framing": {"partisan": True, "label": "state media"}})
    >>> s.rating, s.rating_text()
    (<Rating.PARTISAN: 'partisan'>, 'partisan source, rated “state media”')
    >>> w = Warning(WarningKind.COMMENT, "[2] is a comment by Ann (comment by Ann), not the outlet's own text.", (2,))
    >>> w.kind is WarningKind.COMMENT, w.citations
    (True, (2,))

Everything downstream dispatches on these types and enums, never on wording: rewording a
warning or a segment label cannot break the app or the evals. Kinds are ``StrEnum``s, so
they serialise to the same strings the JSON contract and the Chroma metadata always used.
Conversion to and from Chroma's flat metadata happens in ``rag.index.records`` only.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum

from .errors import DateError, MetadataError

# -- dates -------------------------------------------------------------------------------------------
_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


@dataclass(frozen=True)
class PartialDate:
    """A date as precise as it was given: a year, a month or a day."""

    year: int
    month: int | None = None
    day: int | None = None

    @classmethod
    def parse(cls, value) -> "PartialDate":
        """'2023', '2023-12' or '2023-12-20' (or a ``date``); DateError for anything else."""
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return cls(value.year, value.month, value.day)
        match = _DATE.fullmatch(str(value).strip())
        if not match:
            raise DateError(f"not a YYYY, YYYY-MM or YYYY-MM-DD date: {value!r}")
        year, month, day = (None if g is None else int(g) for g in match.groups())
        date = cls(year, month, day)
        try:
            date.first_day()  # 2023-13 and 2023-02-30 are not dates
        except ValueError:
            raise DateError(f"not a real date: {value!r}") from None
        return date

    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month or 1, self.day or 1)

    def last_day(self) -> dt.date:
        if self.day:
            return self.first_day()
        if self.month:
            following = dt.date(self.year + self.month // 12, self.month % 12 + 1, 1)
            return following - dt.timedelta(days=1)
        return dt.date(self.year, 12, 31)

    @staticmethod
    def number(day: dt.date) -> int:
        """A day as the integer YYYYMMDD (how the index compares dates)."""
        return day.year * 10000 + day.month * 100 + day.day


# -- documents and their parts ---------------------------------------------------------------------
class SegmentKind(StrEnum):
    """Whose voice a stretch of a document is."""

    ARTICLE = "article"  # the outlet's own text
    OPENING_POST = "opening post"  # a forum thread's first post (its poster is the author)
    COMMENT = "comment"  # a reply or reader comment: never the outlet's words


@dataclass(frozen=True)
class Segment:
    kind: SegmentKind
    speaker: str | None  # poster's name; None for the outlet's own text or an unnamed poster
    label: str  # what the UI shows: "article body", "comment by Adelaide", "post #3 (poster not shown)"
    start: int  # offsets in the cleaned document text
    end: int


class Rating(StrEnum):
    PARTISAN = "partisan"
    NOT_PARTISAN = "not partisan"
    UNRATED = "unrated"

    @property
    def title(self) -> str:
        """For badges: "Partisan", "Not partisan", "Unrated"."""
        return self.value.capitalize()


class RatingOrigin(StrEnum):
    """Where a document's rating comes from."""

    USER = "user"  # the corpus registry, a sidecar, front matter or the upload form: always wins
    REGISTRY = "registry"  # matched in the outlet registry (corpus/outlets.yaml) at ingest
    NONE = "none"  # nobody rated it: unrated


# Set by ingest, never by metadata: a sidecar cannot claim its rating came from the registry.
DERIVED_FIELDS = frozenset({"rating_origin", "registry_match"})
DOC_TYPES = ("news report", "opinion", "analysis", "forum thread", "content site", "state-aligned outlet", "other")
FRAMING_FIELDS = ("partisan", "label", "rationale", "confidence", "rated_by", "rated_on", "rating_origin",
                  "registry_match")


@dataclass(frozen=True)
class Source:
    """Who published a document, when, and how partisan it is."""

    doc_id: str
    title: str = ""
    outlet: str = "unknown outlet"
    author: str | None = None
    published: str | None = None  # as the text gives it
    published_iso: str | None = None  # YYYY-MM-DD, for sorting and filters
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
    rating_origin: RatingOrigin = RatingOrigin.NONE
    registry_match: str | None = None  # what matched the outlet registry ("web domain tass.com in the URL")

    def __post_init__(self):
        object.__setattr__(self, "rating_origin", RatingOrigin(self.rating_origin))  # from JSON: a string

    @classmethod
    def from_mapping(cls, doc_id: str, data: dict | None, base: "Source | None" = None) -> "Source":
        """Build from a registry/sidecar/front-matter mapping; ``base`` supplies fields it leaves out."""
        data = dict(data or {})
        framing = data.pop("framing", None) or {}
        if not isinstance(framing, dict):
            raise MetadataError(f"{doc_id}: 'framing' must be a mapping, got {type(framing).__name__}")
        data.update(framing)
        unknown = sorted(set(data) - {f.name for f in fields(cls)} - {"doc_id"} | (set(data) & DERIVED_FIELDS))
        if unknown:
            raise MetadataError(f"{doc_id}: unknown metadata field(s): {', '.join(unknown)}")
        values = asdict(base) if base else {}
        values["doc_id"] = doc_id
        for key, value in data.items():
            if value is not None and value != "":
                values[key] = _clean_value(doc_id, key, value)
        return cls(**values)

    @property
    def rating(self) -> Rating:
        if self.partisan:
            return Rating.PARTISAN
        return Rating.UNRATED if not self.label or self.label == "unrated" else Rating.NOT_PARTISAN

    def rating_text(self) -> str:
        """The rating in words, wherever it is printed: 'partisan source, rated “state media”',
        'not partisan, rated “wire service”' or 'unrated (unverified source)'."""
        if self.rating is Rating.UNRATED:
            return "unrated (unverified source)"
        kind = "partisan source" if self.rating is Rating.PARTISAN else self.rating.value
        origin = " (outlet registry)" if self.rating_origin is RatingOrigin.REGISTRY else ""
        return f"{kind}, rated “{self.label}”{origin}"

    @property
    def date_text(self) -> str:
        return self.published_iso or self.published or "undated"

    def to_dict(self) -> dict:
        return asdict(self)

    def framing(self) -> dict:
        return {key: getattr(self, key) for key in FRAMING_FIELDS}


def _clean_value(doc_id: str, key: str, value):
    if key == "partisan":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("yes", "true", "1", "y", "no", "false", "0", "n"):
            return text in ("yes", "true", "1", "y")
        raise MetadataError(f"{doc_id}: 'partisan' must be yes/no, got {value!r}")
    if key in ("published_iso", "rated_on"):
        try:  # a partial date means its first day: '2023-12' -> '2023-12-01'
            return PartialDate.parse(value).first_day().isoformat()
        except DateError:
            raise MetadataError(f"{doc_id}: '{key}' must be a real date like 2023-12-20, got {str(value)!r}") from None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if not isinstance(value, (str, int, float)):
        raise MetadataError(f"{doc_id}: '{key}' must be text, got {type(value).__name__}")
    return str(value).strip()


@dataclass
class Document:
    """A cleaned document as the index saw it; chunk and passage offsets point into ``text``."""

    doc_id: str
    doc_hash: str
    path: str
    source: Source
    text: str
    segments: list[Segment]

    def segment_at(self, offset: int) -> Segment | None:
        return next((s for s in self.segments if s.start <= offset < s.end), None)

    def to_json(self) -> dict:
        return {"doc_id": self.doc_id, "doc_hash": self.doc_hash, "path": self.path, "source": self.source.to_dict(),
                "text": self.text, "segments": [asdict(s) for s in self.segments]}

    @classmethod
    def from_json(cls, data: dict) -> "Document":
        segments = [Segment(**{**s, "kind": SegmentKind(s["kind"])}) for s in data["segments"]]
        return cls(data["doc_id"], data["doc_hash"], data["path"], Source(**data["source"]), data["text"], segments)


@dataclass(frozen=True)
class Chunk:
    """A sentence-aligned piece of one segment: what gets embedded and searched."""

    id: str
    doc_id: str
    index: int
    segment: Segment
    start: int
    end: int
    text: str
    tokens: int


# -- searching -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Filters:
    outlets: tuple[str, ...] = ()
    doc_types: tuple[str, ...] = ()
    date_from: str | None = None  # YYYY, YYYY-MM or YYYY-MM-DD, inclusive
    date_to: str | None = None  # the same; "2023-12" runs to the end of December
    partisan: bool | None = None  # None: all sources; False: exclude partisan; True: only partisan

    def __post_init__(self):
        for name in ("date_from", "date_to"):
            value = getattr(self, name)
            if value:
                try:
                    PartialDate.parse(value)
                except DateError:
                    raise DateError(f"{name} must be YYYY, YYYY-MM or YYYY-MM-DD, got {value!r}") from None

    def day_range(self) -> tuple[int | None, int | None]:
        """(first, last) day allowed, as YYYYMMDD numbers; None where open."""
        low = PartialDate.number(PartialDate.parse(self.date_from).first_day()) if self.date_from else None
        high = PartialDate.number(PartialDate.parse(self.date_to).last_day()) if self.date_to else None
        return low, high

    @property
    def active(self) -> bool:
        return bool(self.outlets or self.doc_types or self.date_from or self.date_to or self.partisan is not None)

    def describe(self) -> str:
        """A short plain description ("" when no filter is set)."""
        parts = []
        if self.partisan is not None:
            parts.append("partisan sources only" if self.partisan else "partisan sources excluded")
        if self.outlets:
            parts.append("outlet: " + ", ".join(self.outlets))
        if self.doc_types:
            parts.append("type: " + ", ".join(self.doc_types))
        if self.date_from or self.date_to:
            parts.append(f"published {self.date_from or '…'} to {self.date_to or '…'}")
        return "Filters: " + "; ".join(parts) if parts else ""


@dataclass
class Passage:
    """A retrieved stretch of one segment of one document, with what the index knows of its source.

    ``source`` holds the fields the index stores per chunk (enough to filter and attribute);
    a ``Citation`` carries the document's full source record (rationale, rated_by ...)."""

    id: str
    doc_id: str
    text: str
    start: int  # offsets in the cleaned document text
    end: int
    source: Source
    segment_kind: SegmentKind = SegmentKind.ARTICLE
    segment_label: str = "article body"
    speaker: str | None = None
    chunk_index: int = 0  # the matched chunk's place in its document
    doc_hash: str = ""  # the document version it was cut from
    score: float = 0.0  # retrieval score (see rag.answer.retrieval); BM25 score as search_lexical returns it
    dense_similarity: float | None = None  # cosine similarity to the query (None: unknown)


# -- answers ---------------------------------------------------------------------------------------------
class CueKind(StrEnum):
    """Why a word was marked (the cue lexicon's sections)."""

    NAME_CALLING = "name_calling"
    LOADED_LANGUAGE = "loaded_language"
    STATE_TERMINOLOGY = "state_terminology"
    DEHUMANISING = "dehumanising"
    INSTRUCTION = "instruction"  # a sentence addressing the reader or an AI model (rag.answer.injection)

    @property
    def title(self) -> str:
        """For people: "name-calling", "loaded language", "state terminology", "dehumanising",
        "possible prompt injection"."""
        if self is CueKind.INSTRUCTION:
            return "possible prompt injection"
        return "name-calling" if self is CueKind.NAME_CALLING else self.value.replace("_", " ")


@dataclass(frozen=True)
class Cue:
    text: str
    start: int  # offsets in the passage text
    end: int
    kind: CueKind

    def to_json(self) -> dict:
        return {"text": self.text, "start": self.start, "end": self.end, "kind": self.kind.value}


@dataclass
class Citation:
    n: int
    passage: Passage
    source: Source  # the document's full source record
    highlights: list[tuple[int, int]] = field(default_factory=list)  # cited sentences, offsets in the passage
    cues: list[Cue] = field(default_factory=list)  # offsets in the passage text

    @property
    def doc_id(self) -> str:
        return self.passage.doc_id

    @property
    def segment(self) -> str:
        return self.passage.segment_label

    @property
    def speaker(self) -> str | None:
        return self.passage.speaker

    @property
    def is_comment(self) -> bool:
        return self.passage.segment_kind is SegmentKind.COMMENT

    def metadata_text(self) -> str:
        """Who/where the passage is from: names an attribution may use without them being in the passage."""
        s = self.source
        return f"{s.outlet} {s.title} {s.author or ''} {self.speaker or ''} {s.label} {self.segment}"

    def to_json(self) -> dict:
        s, p = self.source, self.passage
        return {
            "n": self.n, "doc_id": p.doc_id, "title": s.title, "outlet": s.outlet, "author": s.author,
            "published": s.published_iso or s.published, "url": s.url, "segment": self.segment,
            "speaker": self.speaker, "segment_kind": p.segment_kind.value, "doc_type": s.doc_type,
            "text": p.text, "start": p.start, "end": p.end, "score": round(p.score, 6),
            "highlights": [{"start": a, "end": b} for a, b in self.highlights],
            "framing": {**s.framing(), "cues": [c.to_json() for c in self.cues]},
        }


class WarningKind(StrEnum):
    PARTISAN_SOURCE = "partisan_source"  # a cited source is rated partisan
    COMMENT = "comment"  # a citation is a reader's comment, not the outlet's text
    ONE_SIDED = "one_sided"  # every citation from one outlet, or every one partisan
    LLM_FALLBACK = "llm_fallback"  # the LLM failed; the offline answer is shown
    UNSUPPORTED = "unsupported"  # sentences the support check rejected
    REMOVED_CITATION = "removed_citation"  # markers that pointed at no passage
    INDEX_INCOMPLETE = "index_incomplete"  # an interrupted ingest left documents unindexed
    INDIRECT_EVIDENCE = "indirect_evidence"  # the quoted sentences are the closest evidence, not a plain answer
    PROMPT_INJECTION = "prompt_injection"  # a passage holds text addressed to an AI model; it is not evidence


@dataclass(frozen=True)
class Warning:  # noqa: A001 (the name the public API promises; shadows the builtin only where imported)
    kind: WarningKind
    text: str  # one sentence for the reader; wording may change, ``kind`` does not
    citations: tuple[int, ...] = ()  # the citation numbers it is about

    def __str__(self) -> str:
        return self.text

    def to_json(self) -> dict:
        return {"kind": self.kind.value, "citations": list(self.citations), "text": self.text}


@dataclass
class SupportResult:
    """The support check's verdict on one answer sentence."""

    sentence: str
    cited: list[int]
    supported: bool
    reasons: list[str] = field(default_factory=list)
    overlap: float = 0.0
    similarity: float | None = None


class Outcome(StrEnum):
    ANSWERED = "answered"  # sentences that answer, each cited
    TOUCHES_ON = "touches_on"  # the passages are about the subject, but none answers the question
    NOT_FOUND = "not_found"  # what the question is about is in no retrieved passage


class AnswerMode(StrEnum):
    OFFLINE = "offline"  # sentences quoted from the passages
    LLM = "llm"  # written by the LLM, every sentence checked
    FALLBACK = "offline-fallback"  # the LLM failed; offline answer


@dataclass
class Answer:
    question: str
    standalone_query: str
    answer: str  # every sentence ends with its [n]
    refused: bool
    mode: AnswerMode
    citations: list[Citation]
    warnings: list[Warning] = field(default_factory=list)
    unsupported_sentences: list[str] = field(default_factory=list)
    timings_ms: dict = field(default_factory=dict)
    closest: list[Citation] = field(default_factory=list)  # shown apart when the documents don't answer
    removed_citations: list[str] = field(default_factory=list)
    checks: list[SupportResult] = field(default_factory=list)  # per sentence (LLM answers)
    outcome: Outcome | None = None  # None: ANSWERED unless refused (then NOT_FOUND)

    def __post_init__(self):
        if self.outcome is None:
            self.outcome = Outcome.NOT_FOUND if self.refused else Outcome.ANSWERED

    @property
    def notice(self) -> str | None:
        """Why the LLM answer was replaced by the offline one, if it was."""
        return next((w.text for w in self.warnings if w.kind is WarningKind.LLM_FALLBACK), None)

    def warnings_of(self, *kinds: WarningKind) -> list[Warning]:
        return [w for w in self.warnings if w.kind in kinds]

    def to_json(self) -> dict:
        """The stable contract of ``python -m rag ask --json`` (see README)."""
        return {
            "question": self.question, "standalone_query": self.standalone_query, "answer": self.answer,
            "refused": self.refused, "outcome": self.outcome.value, "mode": self.mode.value, "citations": [c.to_json() for c in self.citations],
            "warnings": [w.text for w in self.warnings], "warning_details": [w.to_json() for w in self.warnings],
            "unsupported_sentences": self.unsupported_sentences, "timings_ms": self.timings_ms,
            "closest": [c.to_json() for c in self.closest], "notice": self.notice,
            "removed_citations": self.removed_citations,
            "sentences": [{"text": c.sentence, "citations": c.cited, "supported": c.supported, "reasons": c.reasons}
                          for c in self.checks],
        }


class EventKind(StrEnum):
    QUERY = "query"  # the standalone query a follow-up was rewritten to
    TOKEN = "token"  # a piece of answer text
    NOTICE = "notice"  # the LLM failed; the offline answer streams next
    ANSWER = "answer"  # the finished Answer


@dataclass(frozen=True)
class Event:
    kind: EventKind
    value: object  # str, or the Answer for EventKind.ANSWER
