"""Compare sources: for a topic, what each outlet says, side by side, and who says nothing.

    >>> topic = Topic.read("Japan's sanctions on Russia", aliases=[])
    >>> topic.key, topic.share("Japan imposed new sanctions on Russian banks.")
    ('sanction', 1.0)
    >>> topic.share("Japan and Russia met in Tokyo."), topic.share("Sanctions hurt.")
    (0.0, 0.0)
    >>> c = Assistant(settings).compare("Japan's sanctions on Russia")              # doctest: +SKIP
    >>> [(v.outlet, v.badge.rating.value, len(v.quotes)) for v in c.outlets][0]      # doctest: +SKIP
    ('Unnamed Chinese content site (self-media style article)', 'partisan', 3)

How it is built, every step explainable and deterministic (ties sort by document id and offset):

* retrieve ``k`` passages (30 by default, more than an answer uses) with ``Assistant.search``;
* split them into sentences (``rag.text.sentences``); a sentence is *on the topic* when it holds
  the topic's heaviest word that is not a name ("sanctions" in "Japan's sanctions on Russia";
  another name of it counts: aliases.yaml) and at least half the topic's words by weight (rare
  words weigh more; ``rag.answer.question.analyse``, from general English, never the corpus).
  Its score is that share plus a little for the topic's own word pairs. Sentences under four
  words and sentences marked as possible prompt injection (``rag.answer.injection``) never count;
* group them by outlet (``Source.outlet``; a document of unknown outlet is its own group, named
  by its title); per outlet, quote up to three: the outlet's own text before its comments, then
  the best score. Its badge is the most cautious rating among its documents (partisan, then
  unrated, then not partisan);
* ``only_in``, the rule: a quote's *key terms* are its numbers and its words rarer than everyday
  English (``word_weight`` >= 3.0) that are not the topic's own. The claim *appears* in an outlet
  when a sentence of that outlet's retrieved passages holds at least half of them. A quote from a
  partisan or unrated outlet that appears in no outlet rated not partisan is listed, with the
  ratings and outlets it appears in. A quote without key terms cannot be judged and is not listed;
* ``silent``: outlets of the indexed documents (within the filters) none of whose documents has a
  sentence on the topic; ``not_retrieved``: outlets that do have one, but not in the k passages.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..errors import QuestionError
from ..model import Cue, Document, Filters, PartialDate, Passage, Rating, SegmentKind, Source, Warning, WarningKind
from ..text import content_words, fold, sentences, stemmer, stems
from .comparison import Badge, Comparison, OnlyIn, OutletRef, OutletView, Quote
from .framing import cite
from .injection import Instruction, instructions, overlaps
from .question import COMPARE, Needs, analyse, word_pairs, word_weight

DEFAULT_K = 30
MAX_K = 100
MAX_TOPIC_CHARS = 300
MAX_QUOTES = 3
TOPIC_SHARE = 0.5  # of the topic's weighted words a sentence must hold
KEY_WEIGHT = 3.0  # word_weight of a key term: rarer than everyday English (Zipf frequency 4.5 or less)
MIN_WORDS = 4
_CAUTION = {Rating.PARTISAN: 0, Rating.UNRATED: 1, Rating.NOT_PARTISAN: 2}
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass(frozen=True)
class Topic:
    """A topic read from its own words: their weights, and the word a sentence must hold."""

    text: str
    needs: Needs
    key: str | None  # the heaviest stem that is not part of a name (None: the topic is only names)

    @classmethod
    def read(cls, text: str, aliases: list[list[str]]) -> "Topic":
        needs = analyse(text, aliases)
        rest = {t: w for t, w in needs.weights.items() if t not in needs.anchor_terms}
        return cls(text, needs, min(rest, key=lambda t: (-rest[t], t)) if rest else None)

    def share(self, sentence: str) -> float:
        """The weighted share of the topic's words the sentence holds; 0.0 when it is not on the topic."""
        here = set(stems(sentence))
        if self.key is not None and not self.needs.present(self.key, here):
            return 0.0
        share = sum(w for t, w in self.needs.weights.items() if self.needs.present(t, here)) / self.needs.total
        return round(share, 6) if share >= TOPIC_SHARE else 0.0

    def score(self, sentence: str) -> float:
        share = self.share(sentence)
        if share and self.needs.pairs:
            share += 0.1 * len(self.needs.pairs & word_pairs(sentence)) / len(self.needs.pairs)
        return round(share, 6)

    def own(self, stem: str) -> bool:
        return any(self.needs.present(t, {stem}) for t in self.needs.weights)


@dataclass(frozen=True)
class _Found:
    """A sentence on the topic in a retrieved passage (offsets in the document)."""

    passage: Passage
    doc: Document
    start: int
    end: int
    text: str
    score: float

    @property
    def order(self) -> tuple:
        comment = self.passage.segment_kind is SegmentKind.COMMENT  # the outlet's own words first
        return (comment, -self.score, -self.passage.score, self.doc.doc_id, self.start)


def check_topic(topic: str | None) -> str:
    topic = " ".join((topic or "").split())
    if not topic:
        raise QuestionError("Name a topic to compare sources on: the topic is empty.")
    if len(topic) > MAX_TOPIC_CHARS:
        raise QuestionError(f"The topic is {len(topic)} characters; keep it under {MAX_TOPIC_CHARS} "
                            "(a few words, like \"Japan's sanctions on Russia\").")
    return topic


# Words that ask for a comparison; dropped anywhere from a question to leave its topic.
_ASKS_COMPARISON = re.compile(
    r"(?i)^(?:sources?|documents?|outlets?|media|coverage|compared?|comparing|comparison|differ(?:s|ed)?|"
    r"different(?:ly)?|frames?|framed|framing|portray(?:s|ed|al)?|depict(?:s|ed)?|describes?|described|"
    r"characteri[sz]e[sd]?|versus|vs|perspectives?)$")
# Question words dropped only at either end ("How do ... say about", "... in each source").
_ENDS = frozenset("""how what which why where who do does did is are was were has have had can could would will the
a an all my our these those this that each both other side sides about on of in between among by across to from with
and or tell me show say says said cover covers covered report reports reported treat treats treated see view views
it its they their them""".split())


def is_comparison(question: str) -> bool:
    """Does the question compare sources or ask how they frame something? (The answerer reads it the same way.)

    >>> is_comparison("How do the outlets frame Japan's sanctions on Russia?"), is_comparison("Who is Lavrov?")
    (True, False)
    """
    return bool(COMPARE.search(question or ""))


def comparison_topic(question: str) -> str:
    """The topic of a question that compares sources: the question without the words asking for a
    comparison ("outlets", "frame", "differ" ...) and the question words at either end; "" when
    nothing is left ("How do the outlets frame it?").

    >>> comparison_topic("How do different outlets portray Japan's sanctions on Russia?")
    "Japan's sanctions on Russia"
    >>> comparison_topic("How is the Kuril Islands dispute framed in each source?")
    'Kuril Islands dispute'
    >>> comparison_topic("What do the sources say about the peace treaty?"), comparison_topic("Do they differ on it?")
    ('peace treaty', '')
    """
    words = [w for w in " ".join((question or "").split()).strip(" ?!.").split(" ")
             if not _ASKS_COMPARISON.match(w.strip(",;:?!.\"'“”‘’()"))]
    bare = [w.strip(",;:?!.\"'“”‘’()").casefold() for w in words]
    a, b = 0, len(words)
    while a < b and bare[a] in _ENDS:
        a += 1
    while b > a and bare[b - 1] in _ENDS:
        b -= 1
    return " ".join(words[a:b]).strip(" ,;:")


def compare(assistant, topic: str, k: int | None = None, filters: Filters | None = None,
            warnings: list[Warning] | None = None) -> Comparison:
    """The comparison for ``topic`` over ``assistant``'s index (``Assistant.compare`` calls this)."""
    topic = check_topic(topic)
    k = DEFAULT_K if k is None else k
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise QuestionError(f"k must be a whole number from 1 to {MAX_K}, got {k!r}; leave it out for {DEFAULT_K}.")
    reading = Topic.read(topic, assistant.aliases)
    if not reading.needs.weights:
        raise QuestionError(f"The topic {topic!r} has no word to look for; name what it is about.")
    passages = [p for p in assistant.search(topic, k, filters) if _current(p, assistant.document(p.doc_id))]
    docs = {p.doc_id: assistant.document(p.doc_id) for p in passages}
    badges = _badges(docs.values())
    groups: dict[str, list[_Found]] = {}
    for f in sorted(_on_topic(reading, passages, docs), key=lambda f: f.order):
        groups.setdefault(_outlet(f.doc.source), []).append(f)
    views = _views(groups, badges, assistant.settings.cues_file)
    only_in = _only_in(reading, views, passages, docs, badges)
    silent, not_retrieved = _absent(reading, assistant.documents(), filters, {v.outlet for v in views})
    notes = list(warnings or [])
    if views and all(v.badge.rating is not Rating.NOT_PARTISAN for v in views):
        notes.append(Warning(WarningKind.ONE_SIDED, "No outlet rated not partisan says anything on this topic in "
                             "the passages retrieved: every view here is a partisan or unrated source's.",
                             tuple(q.n for v in views for q in v.quotes)))
    return Comparison(topic, k, filters.describe() if filters else "", tuple(views), tuple(only_in),
                      tuple(silent), tuple(not_retrieved), tuple(notes))


def _current(passage: Passage, doc: Document | None) -> bool:
    """The passage is the document's text at its offsets (not a version re-indexed since)."""
    return doc is not None and doc.text[passage.start:passage.end] == passage.text


def _outlet(source: Source) -> str:
    """The group a document belongs to: its outlet, or itself (by title) when the outlet is unknown."""
    if source.outlet and source.outlet != "unknown outlet":
        return source.outlet
    return source.title or source.doc_id


def _cautious(sources) -> Source:
    """The most cautious rating among an outlet's documents: partisan, then unrated, then not partisan."""
    return min(sources, key=lambda s: (_CAUTION[s.rating], s.doc_id))


def _badges(documents) -> dict[str, Badge]:
    groups: dict[str, list[Source]] = {}
    for doc in documents:
        groups.setdefault(_outlet(doc.source), []).append(doc.source)
    return {outlet: Badge.of(_cautious(sources)) for outlet, sources in groups.items()}


def _marks(passage: Passage, doc: Document) -> list[Instruction]:
    """Sentences addressed to a model, in document offsets: read in the document and in the passage alone."""
    return instructions(doc.text) + [Instruction(m.start + passage.start, m.end + passage.start, m.why)
                                     for m in instructions(passage.text)]


def _usable(start: int, end: int, sentence: str, marks) -> bool:
    return len(sentence.split()) >= MIN_WORDS and not overlaps(marks, start, end)


def _on_topic(topic: Topic, passages: list[Passage], docs: dict[str, Document]) -> list[_Found]:
    found: dict[tuple[str, int], _Found] = {}
    for p in passages:
        doc = docs[p.doc_id]
        marks = _marks(p, doc)
        for a, b, sentence in sentences(p.text, offset=p.start):
            if (p.doc_id, a) in found or not _usable(a, b, sentence, marks):
                continue
            score = topic.score(sentence)
            if score:
                found[(p.doc_id, a)] = _Found(p, doc, a, b, sentence, score)
    return list(found.values())


def _views(groups: dict[str, list[_Found]], badges: dict[str, Badge], lexicon) -> list[OutletView]:
    """One view per outlet, the best-covered first; quotes numbered across them, each with its
    citation (the passage, the sentence highlighted) and the loaded words in it."""
    ranked = sorted(groups.items(), key=lambda g: (-max(f.score for f in g[1]), -len(g[1]), g[0].casefold(), g[0]))
    views, n = [], 0
    for outlet, items in ranked:  # items: already in quoting order
        chosen, seen = [], set()
        for f in items:
            if fold(f.text) not in seen and len(chosen) < MAX_QUOTES:
                chosen.append(f)
            seen.add(fold(f.text))
        quotes = []
        for f in chosen:
            n += 1
            quotes.append(_quote(n, f, lexicon))
        dates = tuple(sorted({f.doc.source.published_iso for f in items if f.doc.source.published_iso}))
        views.append(OutletView(outlet, badges[outlet], tuple(sorted({f.doc.doc_id for f in items})), dates,
                                len(seen), tuple(quotes)))
    return views


def _quote(n: int, f: _Found, lexicon) -> Quote:
    p, s = f.passage, f.doc.source
    citation = cite(n, p, f.doc, lexicon)
    a, b = f.start - p.start, f.end - p.start  # the sentence in the passage
    citation.highlights = [(a, b)]
    cues = tuple(Cue(c.text, c.start - a, c.end - a, c.kind) for c in citation.cues if a <= c.start and c.end <= b)
    return Quote(n, f.text, f.doc.doc_id, s.title, s.published_iso, f.start, f.end, p.start, p.end,
                 p.segment_label, p.segment_kind, p.speaker, cues, citation)


def key_terms(topic: Topic, text: str) -> frozenset:
    """A sentence's numbers, and its stems of words rarer than everyday English that are not the topic's."""
    numbers = {n.replace(",", "") for n in _NUMBER.findall(text)}
    rare = [w for w in content_words(text) if not any(c.isdigit() for c in w) and word_weight(w) >= KEY_WEIGHT]
    return frozenset(numbers | {s for s in stemmer().stemWords(rare) if not topic.own(s)})


def _terms(text: str) -> frozenset:
    return frozenset(stems(text)) | {n.replace(",", "") for n in _NUMBER.findall(text)}


def _only_in(topic: Topic, views: list[OutletView], passages, docs, badges: dict[str, Badge]) -> list[OnlyIn]:
    said: dict[str, list[frozenset]] = {}  # outlet -> the terms of each sentence of its retrieved passages
    for p in passages:
        marks = _marks(p, docs[p.doc_id])
        said.setdefault(_outlet(docs[p.doc_id].source), []).extend(
            _terms(s) for a, b, s in sentences(p.text, offset=p.start) if not overlaps(marks, a, b))
    claims = []
    for view in views:
        if view.badge.rating is Rating.NOT_PARTISAN:
            continue
        for q in view.quotes:
            key = key_terms(topic, q.text)
            if not key:
                continue
            need = math.ceil(len(key) / 2)
            where = sorted(o for o, terms in said.items() if any(len(key & t) >= need for t in terms))
            kinds = {badges[o].rating for o in where}
            if Rating.NOT_PARTISAN not in kinds:
                claims.append(OnlyIn(q.n, q.text, view.outlet, tuple(sorted(kinds, key=_CAUTION.get)),
                                     tuple(where), tuple(sorted(key))))
    return claims


def _absent(topic: Topic, documents: list[Document], filters: Filters | None,
            shown: set[str]) -> tuple[list[OutletRef], list[OutletRef]]:
    groups: dict[str, list[Document]] = {}
    for doc in documents:
        if _allowed(filters, doc.source) and _outlet(doc.source) not in shown:
            groups.setdefault(_outlet(doc.source), []).append(doc)
    silent, elsewhere = [], []
    for outlet in sorted(groups, key=lambda o: (o.casefold(), o)):
        docs = sorted(groups[outlet], key=lambda d: d.doc_id)
        ref = OutletRef(outlet, Badge.of(_cautious([d.source for d in docs])), tuple(d.doc_id for d in docs))
        (elsewhere if any(_says(topic, d) for d in docs) else silent).append(ref)
    return silent, elsewhere


def _says(topic: Topic, doc: Document) -> bool:
    """Has the document a sentence on the topic (the rule the quotes follow)?"""
    if not topic.share(doc.text):  # the whole text holds too little of the topic: no sentence can
        return False
    marks = instructions(doc.text)
    return any(_usable(a, b, s, marks) and topic.share(s) for a, b, s in sentences(doc.text))


def _allowed(filters: Filters | None, source: Source) -> bool:
    """The retrieval filters, on a document's source (as the index applies them to its chunks)."""
    if filters is None or not filters.active:
        return True
    if filters.outlets and source.outlet not in filters.outlets:
        return False
    if filters.doc_types and source.doc_type not in filters.doc_types:
        return False
    low, high = filters.day_range()
    if low is not None or high is not None:
        if not source.published_iso:
            return False
        day = PartialDate.number(PartialDate.parse(source.published_iso).first_day())
        if (low is not None and day < low) or (high is not None and day > high):
            return False
    return filters.partisan is None or source.partisan == filters.partisan
