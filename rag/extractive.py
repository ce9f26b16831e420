"""The offline answerer: the most relevant sentences of the retrieved passages, quoted verbatim.

    >>> draft = compose(question, passages, stats)            # doctest: +SKIP
    >>> draft.lines[0]                                        # doctest: +SKIP
    'According to world today news (republisher) (Pro-Kremlin outlet), “In May, Japan announced ...” [1]'

No model writes anything here: each sentence is copied from a passage and followed by
its [n]; claims from partisan sources are attributed, never stated as fact; comments
are attributed to their posters. When no passage answers the question the draft is a
refusal and the nearest passages are offered separately.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from dataclasses import dataclass, field

from .retrieval import Passage
from .text import content_words, sentences


@functools.lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def stems(text: str) -> list[str]:
    return _stemmer().stemWords(content_words(text))


class TermStats:
    """Inverse document frequencies over the indexed chunks (how informative a word is here)."""

    def __init__(self, texts: list[str]):
        self.n = max(1, len(texts))
        self.df = Counter()
        for text in texts:
            self.df.update(set(stems(text)))

    def idf(self, term: str) -> float:
        return math.log(1 + (self.n - self.df.get(term, 0) + 0.5) / (self.df.get(term, 0) + 0.5))

    def known(self, term: str) -> bool:
        return term in self.df


@dataclass
class Candidate:
    passage_index: int
    start: int  # offsets in the passage text
    end: int
    text: str
    score: float
    coverage: float


@dataclass
class Draft:
    lines: list[str]  # one sentence each, ending with its [n]
    used: list[tuple[int, list[tuple[int, int]]]]  # (passage index, highlighted spans) in citation order
    refused: bool
    best_coverage: float = 0.0
    top_similarity: float = 0.0
    notes: list[str] = field(default_factory=list)


COMPARE = re.compile(r"\b(sources?|compare|comparison|differ|different|frame|framing|portray|each|versus|vs)\b", re.I)
QUANTITY = re.compile(r"\b(how (many|much|long)|when|what year|what date|number|amount|total)\b", re.I)
_NUMBER = re.compile(r"\d")


def candidates(query: str, passages: list[Passage], stats: TermStats, context: str = "") -> list[Candidate]:
    """Score every sentence of the passages. ``context`` (the conversation a follow-up leans on,
    name variants) counts at half weight and never dilutes the question's own words."""
    weights = {t: stats.idf(t) for t in set(stems(query))}
    total = sum(weights.values()) or 1.0
    for term in set(stems(context)) - set(weights):
        weights[term] = 0.5 * stats.idf(term)
    wants_number = bool(QUANTITY.search(query))
    found = []
    for i, passage in enumerate(passages):
        # Who published or posted it counts as matching ("what does world today news say ...").
        meta = passage.meta
        source_terms = set(stems(f"{meta.get('outlet', '')} {meta.get('speaker') or ''} {meta.get('segment_label', '')}"))
        for start, end, sentence in sentences(passage.text):
            if len(sentence.split()) < 4:
                continue  # headings, fragments
            terms = set(stems(sentence)) | source_terms
            coverage = sum(w for t, w in weights.items() if t in terms) / total
            similarity = passage.dense_similarity or 0.0
            score = 0.6 * coverage + 0.4 * similarity - 0.01 * i
            if wants_number and _NUMBER.search(sentence):
                score += 0.05
            found.append(Candidate(i, start, end, sentence, score, coverage))
    return sorted(found, key=lambda c: -c.score)


def compose(
    query: str,
    passages: list[Passage],
    stats: TermStats,
    max_sentences: int = 3,
    min_coverage: float = 0.34,
    min_similarity: float = 0.30,
    context: str = "",
) -> Draft:
    if not passages:
        return Draft([], [], True)
    ranked = candidates(query, passages, stats, context)
    top_similarity = max(p.dense_similarity or 0.0 for p in passages)
    best = ranked[0] if ranked else None
    if best is None or best.coverage < min_coverage or top_similarity < min_similarity:
        return Draft([], [], True, best.coverage if best else 0.0, top_similarity)

    compare = bool(COMPARE.search(query))
    chosen: list[Candidate] = []
    docs_used: set[str] = set()
    for cand in ranked:
        if len(chosen) >= (4 if compare else max_sentences):
            break
        doc_id = passages[cand.passage_index].doc_id
        if chosen and cand.score < 0.7 * best.score:
            break
        if compare and doc_id in docs_used:
            continue  # one sentence per source when the question compares sources
        if any(cand.text in c.text or c.text in cand.text for c in chosen):
            continue  # the same sentence via an overlapping chunk
        chosen.append(cand)
        docs_used.add(doc_id)

    # Citation numbers in order of first use; several sentences from one passage share its number.
    order: list[int] = []
    spans: dict[int, list[tuple[int, int]]] = {}
    lines = []
    for cand in chosen:
        if cand.passage_index not in spans:
            order.append(cand.passage_index)
            spans[cand.passage_index] = []
        spans[cand.passage_index].append((cand.start, cand.end))
        n = order.index(cand.passage_index) + 1
        lines.append(attribute(cand.text, passages[cand.passage_index], n))
    return Draft(lines, [(i, spans[i]) for i in order], False, best.coverage, top_similarity)


def attribute(sentence: str, passage: Passage, n: int) -> str:
    """Quote a sentence with the attribution its source calls for."""
    meta = passage.meta
    outlet = meta.get("outlet", "an unnamed outlet")
    speaker = meta.get("speaker")
    kind = meta.get("segment_kind")
    partisan = bool(meta.get("partisan"))
    rated = f" (rated: {meta.get('label')})" if partisan else ""
    quote = f"“{sentence}” [{n}]"
    if kind == "comment":
        who = f"the commenter {speaker}" if speaker else f"an unnamed poster ({meta.get('segment_label')})"
        return f"On {outlet}{rated}, {who} wrote: {quote}"
    if kind == "opening post" and speaker:
        return f"On {outlet}{rated}, the opening post by {speaker} says: {quote}"
    if partisan:
        return f"According to {outlet}{rated}, {quote}"
    return f"{sentence} [{n}]"


REFUSAL = "The documents don't say. None of the retrieved passages answers this question; the closest ones are listed separately."
