"""What "Compare sources" returns: per outlet, what it says on a topic, and who says nothing.

    >>> from rag.model import Source
    >>> badge = Badge.of(Source("d1", outlet="TASS", partisan=True, label="state media"))
    >>> badge.rating, badge.to_json()["text"]
    (<Rating.PARTISAN: 'partisan'>, 'partisan source, rated “state media”')
    >>> quote = Quote(1, "Tokyo imposed absurd sanctions.", "d1", "Title", "2023-12-20", 40, 71, 0, 200,
    ...               "article body", SegmentKind.ARTICLE, None, (Cue("absurd", 14, 20, CueKind.LOADED_LANGUAGE),))
    >>> quote.text[14:20], quote.to_json()["cues"][0]["kind"]
    ('absurd', 'loaded_language')

Built by ``rag.answer.compare``; every type has ``to_json()``, the stable contract of
``python -m rag compare --json`` (README, "compare --json contract"). Offsets: a quote's
``start``/``end`` and its passage's are character offsets in the cleaned document text (what
the document view shows); a cue's are offsets in the quote's own ``text``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model import Citation, Cue, CueKind, Rating, RatingOrigin, SegmentKind, Source, Warning


@dataclass(frozen=True)
class Badge:
    """An outlet's rating, as a badge shows it."""

    rating: Rating
    label: str  # the rater's words ("state media"); "unrated" when nobody rated it
    origin: RatingOrigin  # user (a journalist's rating), registry (outlets.yaml match) or none
    registry_match: str | None = None  # what matched the registry ("web domain tass.com in the URL")
    rationale: str | None = None
    confidence: str | None = None
    text: str = ""  # the rating in words (``Source.rating_text``)

    @classmethod
    def of(cls, source: Source) -> "Badge":
        return cls(source.rating, source.label, source.rating_origin, source.registry_match, source.rationale,
                   source.confidence, source.rating_text())

    def to_json(self) -> dict:
        return {"rating": self.rating.value, "partisan": self.rating is Rating.PARTISAN, "label": self.label,
                "origin": self.origin.value, "registry_match": self.registry_match, "rationale": self.rationale,
                "confidence": self.confidence, "text": self.text}


@dataclass(frozen=True)
class Quote:
    """One sentence on the topic, verbatim: ``document.text[start:end] == text``."""

    n: int  # its number across the comparison (the Markdown footnote [^n])
    text: str
    doc_id: str
    title: str
    date: str | None  # the document's published_iso
    start: int  # offsets in the cleaned document text
    end: int
    passage_start: int  # the retrieved passage it was found in (document offsets), to open the document there
    passage_end: int
    segment: str  # "article body", "comment by Ann" ...
    segment_kind: SegmentKind
    speaker: str | None
    cues: tuple[Cue, ...] = ()  # loaded words; offsets in ``text``
    citation: Citation | None = field(default=None, compare=False)  # the passage as the answer view cites it

    def to_json(self) -> dict:
        return {"n": self.n, "text": self.text, "doc_id": self.doc_id, "title": self.title, "date": self.date,
                "start": self.start, "end": self.end,
                "passage": {"start": self.passage_start, "end": self.passage_end},
                "segment": self.segment, "segment_kind": self.segment_kind.value, "speaker": self.speaker,
                "cues": [c.to_json() for c in self.cues]}


@dataclass(frozen=True)
class OutletView:
    """What one outlet says on the topic: its badge, dates and up to three sentences."""

    outlet: str  # the outlet's name; for a document of unknown outlet, its title (or id)
    badge: Badge
    doc_ids: tuple[str, ...]  # its documents that say something on the topic, sorted
    dates: tuple[str, ...]  # their published_iso dates, sorted, distinct (empty: undated)
    mentions: int  # sentences on the topic in its retrieved passages (the quotes are the best of them)
    quotes: tuple[Quote, ...]

    def to_json(self) -> dict:
        return {"outlet": self.outlet, "badge": self.badge.to_json(), "doc_ids": list(self.doc_ids),
                "dates": list(self.dates), "mentions": self.mentions, "quotes": [q.to_json() for q in self.quotes]}


@dataclass(frozen=True)
class OutletRef:
    """An outlet named without quotes (silent, or not among the passages retrieved)."""

    outlet: str
    badge: Badge
    doc_ids: tuple[str, ...]

    def to_json(self) -> dict:
        return {"outlet": self.outlet, "badge": self.badge.to_json(), "doc_ids": list(self.doc_ids)}


@dataclass(frozen=True)
class OnlyIn:
    """A quoted claim found only in partisan and/or unrated outlets (the rule: ``rag.answer.compare``)."""

    n: int  # the quote's number
    text: str
    outlet: str  # who is quoted
    kinds: tuple[Rating, ...]  # the ratings of every outlet it appears in: partisan and/or unrated
    outlets: tuple[str, ...]  # every outlet it appears in, sorted
    key_terms: tuple[str, ...]  # the words and numbers compared (stems, sorted)

    def to_json(self) -> dict:
        return {"n": self.n, "text": self.text, "outlet": self.outlet, "kinds": [k.value for k in self.kinds],
                "outlets": list(self.outlets), "key_terms": list(self.key_terms)}


@dataclass(frozen=True)
class Comparison:
    topic: str
    k: int  # passages retrieved
    filters: str  # the filters in words ("" when none)
    outlets: tuple[OutletView, ...]  # best-covered first; ties by outlet name
    only_in: tuple[OnlyIn, ...]
    silent: tuple[OutletRef, ...]  # outlets none of whose documents has a sentence on the topic
    not_retrieved: tuple[OutletRef, ...]  # outlets that have such a sentence outside the k passages
    warnings: tuple[Warning, ...] = ()

    @property
    def quotes(self) -> list[Quote]:
        return [q for view in self.outlets for q in view.quotes]

    def to_json(self) -> dict:
        """The stable contract of ``python -m rag compare --json`` (see README)."""
        return {"topic": self.topic, "k": self.k, "filters": self.filters,
                "outlets": [v.to_json() for v in self.outlets], "only_in": [c.to_json() for c in self.only_in],
                "silent": [s.to_json() for s in self.silent],
                "not_retrieved": [s.to_json() for s in self.not_retrieved],
                "warnings": [w.to_json() for w in self.warnings]}


__all__ = ["Badge", "Quote", "OutletView", "OutletRef", "OnlyIn", "Comparison"]
