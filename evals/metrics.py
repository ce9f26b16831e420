"""Metric functions: pure, deterministic, small enough to check by hand (tests/test_evals_metrics.py).

Conventions
-----------
* Text comparisons use ``norm``: Unicode NFC and every run of whitespace as one space.
  Quote fidelity and key facts also treat typographic quotes as plain ones (’ = ', “ ” = ").
* A metric that does not apply to a case is ``None`` for that case and is left out of the
  averages (e.g. retrieval recall for an unanswerable question, quote fidelity for an
  answer without quotes).
* Retrieval: a passage is relevant when it contains an evidence needle; its grade is the
  number of needles it contains that no higher-ranked passage already contained (so a
  duplicate or overlapping chunk earns nothing twice).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Sequence

# The assistant's own marker syntax and parser ('[1][2]' and '[1, 2]' both cite 1 and 2), so the
# metrics read citations exactly as the answer's support check does.
from rag import CITATION_MARKER as MARKER
from rag import SegmentKind, Warning, WarningKind, cited_numbers

_WS = re.compile(r"\s+")
_TYPO = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "„": '"', "″": '"', "\u00a0": " "})


def norm(text: str | None) -> str:
    """NFC, whitespace runs collapsed to one space, stripped."""
    return _WS.sub(" ", unicodedata.normalize("NFC", text or "")).strip()


def norm_quotes(text: str | None) -> str:
    """``norm`` plus typographic quotes/apostrophes as plain ones."""
    return norm((text or "").translate(_TYPO))


def mean(values: Iterable[float | None]) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def rounded(value, digits: int = 4):
    """Round floats (recursively in dicts/lists) so reports and comparisons are stable."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v, digits) for v in value]
    return value


# -- retrieval --------------------------------------------------------------------------------
def needle_hits(passages: Sequence[str], needles: Sequence[str]) -> list[frozenset[int]]:
    """For each passage, the indexes of the needles it contains (whitespace-normalised)."""
    wanted = [norm(n) for n in needles]
    out = []
    for text in passages:
        t = norm(text)
        out.append(frozenset(i for i, n in enumerate(wanted) if n and n in t))
    return out


def needle_quoted(answer: str, needles: Sequence[str]) -> bool:
    """Does the answer quote evidence itself: some sentence of a needle (25 characters or more; a
    short needle whole) in its text, citation markers and quotation marks aside? Stricter than a
    cited passage holding the needle, which a long passage does whatever sentence is quoted.

    >>> needle_quoted('According to X, “Sales rose 5% in May. Costs fell.” [1]', ["Sales rose 5% in May to a record."])
    False
    >>> needle_quoted('Sales rose 5% in May to a record. [1] Costs fell. [1]', ["Sales rose 5% in May to a record. Costs fell."])
    True
    """
    def bare(text: str) -> str:
        return norm_quotes(re.sub(r"\s*\[\d+\]", " ", text)).replace('"', "").replace("'", "")

    said = bare(answer)
    for needle in needles:
        pieces = [p for p in re.split(r"(?<=[.!?])\s+", bare(needle)) if len(p) >= 25] or [bare(needle)]
        if any(p and p in said for p in pieces):
            return True
    return False


def recall_at_k(hits: Sequence[frozenset[int]], n_needles: int, k: int) -> float | None:
    """Share of the needles found in at least one of the top-k passages."""
    if n_needles == 0:
        return None
    found = set().union(*hits[:k]) if hits[:k] else set()
    return len(found) / n_needles


def reciprocal_rank(hits: Sequence[frozenset[int]], k: int | None = None) -> float:
    """1 / rank of the first passage that contains any needle (0 when none in the top k)."""
    for rank, h in enumerate(hits[:k] if k else hits, start=1):
        if h:
            return 1.0 / rank
    return 0.0


def novelty_gains(hits: Sequence[frozenset[int]]) -> list[int]:
    """Gain per rank: how many needles this passage adds that higher-ranked ones lacked."""
    seen: set[int] = set()
    gains = []
    for h in hits:
        gains.append(len(h - seen))
        seen |= h
    return gains


def dcg(gains: Sequence[float]) -> float:
    return sum(g / math.log2(rank + 1) for rank, g in enumerate(gains, start=1))


def ideal_gains(all_hits: Iterable[frozenset[int]], k: int) -> list[int]:
    """Best achievable gains from the passages a system has indexed: repeatedly take the
    passage adding the most new needles (greedy; exact for the few needles a case has)."""
    pool = [h for h in all_hits if h]
    covered: set[int] = set()
    gains = []
    while len(gains) < k and pool:
        best = max(pool, key=lambda h: len(h - covered))
        gain = len(best - covered)
        if gain == 0:
            break
        gains.append(gain)
        covered |= best
        pool.remove(best)
    return gains


def ndcg_at_k(hits: Sequence[frozenset[int]], all_hits: Iterable[frozenset[int]], k: int) -> float:
    """DCG of the ranking (novelty gains) / DCG of the best ranking the index allows.
    0 when no indexed passage contains any needle."""
    ideal = dcg(ideal_gains(list(all_hits) + list(hits), k))
    if ideal == 0:
        return 0.0
    return min(1.0, dcg(novelty_gains(hits[:k])) / ideal)


# -- citations and quotes -------------------------------------------------------------------------
def citation_valid(answer: str, citation_numbers: Iterable[int]) -> bool:
    """The answer cites at least once and every [n] in it resolves to a citation."""
    numbers = set(citation_numbers)
    used = cited_numbers(answer)
    return bool(used) and all(n in numbers for n in used)


_CURLY = re.compile(r"“([^”\n]*)”")
_STRAIGHT = re.compile(r'"([^"\n]*)"')
_ELLIPSIS = re.compile(r"\s*(?:…|\.\.\.)\s*")
_EDGE_PUNCT = " \t.,;:!?"


@dataclass(frozen=True)
class Quote:
    text: str
    start: int  # offsets of the quoted text in the answer (inside the quote marks)
    end: int


def extract_quotes(answer: str) -> list[Quote]:
    """Text between “curly quotes”, then between "straight quotes" outside curly ones.
    Quotes without a word character ("“”", "\"-\"") are ignored. Nested quotes: the outer
    “ pairs with the first ”, which is a contiguous piece of the quoted text either way."""
    quotes = [Quote(m.group(1), m.start(1), m.end(1)) for m in _CURLY.finditer(answer)]
    masked = _CURLY.sub(lambda m: " " * len(m.group()), answer)
    quotes += [Quote(m.group(1), m.start(1), m.end(1)) for m in _STRAIGHT.finditer(masked)]
    quotes = [q for q in quotes if re.search(r"\w", q.text)]
    return sorted(quotes, key=lambda q: q.start)


def quote_citations(answer: str, quote: Quote) -> list[int]:
    """The citation numbers a quote is checked against: the first marker group after the quote
    on the same line; else the last one before it on that line; else [] (= every citation)."""
    line_start = answer.rfind("\n", 0, quote.start) + 1
    line_end = answer.find("\n", quote.end)
    line_end = len(answer) if line_end < 0 else line_end
    after = MARKER.search(answer, quote.end, line_end)
    if after:
        return cited_numbers(after.group())
    before = list(MARKER.finditer(answer, line_start, quote.start))
    return cited_numbers(before[-1].group()) if before else []


def quote_in(quote: str, passage: str) -> bool:
    """Verbatim (modulo whitespace and quote glyphs); edge punctuation is ignored and a quote
    with an ellipsis passes when each fragment appears, in order, in the passage."""
    text = norm_quotes(passage)
    fragments = [f.strip(_EDGE_PUNCT) for f in _ELLIPSIS.split(norm_quotes(quote))]
    fragments = [f for f in fragments if f]
    if not fragments:
        return True
    pos = 0
    for fragment in fragments:
        found = text.find(fragment, pos)
        if found < 0:
            return False
        pos = found + len(fragment)
    return True


def quote_fidelity(answer: str, passages: dict[int, str]) -> tuple[int, int, list[str]]:
    """(verbatim quotes, all quotes, the quotes that are not verbatim in their cited passage)."""
    good, bad = 0, []
    quotes = extract_quotes(answer)
    for quote in quotes:
        numbers = [n for n in quote_citations(answer, quote) if n in passages] or list(passages)
        if any(quote_in(quote.text, passages[n]) for n in numbers):
            good += 1
        else:
            bad.append(quote.text)
    return good, len(quotes), bad


# -- answer content --------------------------------------------------------------------------------
def key_fact_found(answer: str, fact: str) -> bool:
    """Any '|'-separated alternative occurs in the answer (case-insensitive, normalised)."""
    text = norm_quotes(answer).casefold()
    return any(norm_quotes(a).casefold() in text for a in fact.split("|") if a.strip())


def key_fact_coverage(answer: str, key_facts: Sequence[str]) -> tuple[float | None, list[str]]:
    """(share of key facts found, the missing ones); None when the case has no key facts."""
    if not key_facts:
        return None, []
    missing = [f for f in key_facts if not key_fact_found(answer, f)]
    return (len(key_facts) - len(missing)) / len(key_facts), missing


def refusal_metrics(pairs: Sequence[tuple[bool, bool]]) -> dict:
    """``pairs``: (expected refusal, refused). Accuracy over all cases; false-refusal rate over
    answerable cases; missed-refusal rate over unanswerable cases."""
    answerable = [refused for expected, refused in pairs if not expected]
    unanswerable = [refused for expected, refused in pairs if expected]
    return {
        "refusal_accuracy": ratio(sum(e == r for e, r in pairs), len(pairs)),
        "false_refusal_rate": ratio(sum(answerable), len(answerable)),
        "missed_refusal_rate": ratio(sum(not r for r in unanswerable), len(unanswerable)),
    }


def precision_recall(pairs: Sequence[tuple[bool, bool]]) -> tuple[float | None, float | None]:
    """``pairs``: (expected, predicted). None where the denominator is 0."""
    tp = sum(e and p for e, p in pairs)
    predicted = sum(p for _, p in pairs)
    expected = sum(e for e, _ in pairs)
    return ratio(tp, predicted), ratio(tp, expected)


def has_partisan_warning(warnings: Iterable[Warning]) -> bool:
    return any(w.kind is WarningKind.PARTISAN_SOURCE for w in warnings)


# -- attribution ---------------------------------------------------------------------------------
ATTRIBUTION_CUE = re.compile(
    r"\b(according to|wrote|writes|write|says|said|say|claims?|claimed|reports?|reported|argues?|argued|"
    r"states?|stated|asserts?|asserted|alleges?|alleged|describes?|described|calls?|called|quotes?|quoted|"
    r"contends?|contended|insists?|insisted|suggests?|suggested|maintains?|maintained|characteri[sz]es?|"
    r"frames?|framed|portrays?|portrayed|accuses?|accused)\b",
    re.I,
)
GENERIC_SOURCE = re.compile(  # "the article", "an unnamed poster", "the Chinese content site", "its author"
    r"\b(?:the|this|that|a|an|its|one|another)\s+(?:[\w'’-]+\s+){0,3}?"
    r"(?:article|site|outlet|post|poster|commenter|comment|forum|thread|report|author|blog|piece|analysis|"
    r"opinion|op-ed|column|columnist|writer|publication|website|republisher|reply)\b",
    re.I,
)


def source_names(*values: str | None) -> list[str]:
    """Names that identify a source in a sentence: each value as given, without its
    parenthetical remarks, and the surname of a Latin-script personal name."""
    names: list[str] = []
    for value in values:
        if not value:
            continue
        base = norm(re.sub(r"\([^)]*\)", " ", value))
        for name in (norm(value), base):
            if len(name) >= 3 and name not in names:
                names.append(name)
        parts = base.split()
        if 2 <= len(parts) <= 3 and all(re.fullmatch(r"[A-Z][a-z'’-]+", p) for p in parts) and len(parts[-1]) >= 4:
            if parts[-1] not in names:
                names.append(parts[-1])  # "Fumitaro Kuroi" -> "Kuroi"
    return names


def without_quotes(sentence: str) -> str:
    masked = _CURLY.sub(" ", sentence)
    return _STRAIGHT.sub(" ", masked)


def sentence_attributed(sentence: str, names: Sequence[str]) -> bool:
    """Outside its quotations, the sentence has an attribution cue ('according to', 'wrote',
    'says', 'claims', ...) and names the source (one of ``names``, or a word such as
    'article', 'outlet', 'post', 'commenter')."""
    text = MARKER.sub(" ", without_quotes(sentence))
    if not ATTRIBUTION_CUE.search(text):
        return False
    folded = text.casefold()
    return any(n.casefold() in folded for n in names) or bool(GENERIC_SOURCE.search(text))


# -- who said what ----------------------------------------------------------------------------------
def speaker_matches(kind: str, speaker: str, segment: str | None, segment_kind: SegmentKind | None,
                    passage_speaker: str | None, passage_text: str) -> bool:
    """Does a cited passage carry the expected voice?
    article: the outlet's own text or a forum's opening post; anonymous: a reply whose poster is
    not shown; poster: the poster's name is in the segment label; quoted: the quoted person's name
    is in the passage text. A raw chunk (no segment kind) carries no voice."""
    label = (segment or "").casefold()
    if kind == "article":
        return segment_kind in (SegmentKind.ARTICLE, SegmentKind.OPENING_POST)
    if kind == "anonymous":
        return segment_kind is SegmentKind.COMMENT and not passage_speaker
    if kind == "poster":
        return speaker.casefold() in label or (passage_speaker or "").casefold() == speaker.casefold()
    return speaker.casefold() in norm(passage_text).casefold()


_ANONYMOUS_NAMED = re.compile(r"unnamed poster|poster not shown|anonymous|post #\d+|a reply|a reader", re.I)


def speaker_named(kind: str, speaker: str, answer: str, voice_names: Sequence[str]) -> bool:
    """Does the answer text tell the reader who said it? article: names the outlet/author
    (``voice_names``); anonymous: says it is an unnamed poster/reply; poster/quoted: the name."""
    if kind == "anonymous":
        return bool(_ANONYMOUS_NAMED.search(answer))
    if kind == "article":
        folded = answer.casefold()
        return any(n.casefold() in folded for n in voice_names)
    return speaker.casefold() in answer.casefold()


# -- latency ------------------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100): the smallest value with at least q% of values <= it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]
