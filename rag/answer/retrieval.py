"""Hybrid retrieval: dense + BM25 from the index, fused by reciprocal rank, diversified, widened.

    >>> r = Retriever(Index.open(Settings.from_env()), aliases=[])          # doctest: +SKIP
    >>> [p.doc_id for p in r.search("Lavrov on the Kurils", k=3)]           # doctest: +SKIP
    ['003_b5aeacde14fc594e', '001_68ffb54545db6918', '002_8a0a0fb16ab6ea83']

Filters (outlet, document type, date range, partisan or not) apply to both sides
before fusion. Diversification keeps near-duplicate chunks of one document from
crowding out other sources. A question quoting exact words ranks chunks holding them first.
"""

from __future__ import annotations

from ..index import Index
from ..model import Filters, Passage
from ..text import words
from .question import expand_query, quoted_phrases

RRF_K = 60


class Retriever:
    """Reads through one ``Index``; ``search`` is cheap (tens of ms) once the index is loaded."""

    def __init__(self, index: Index, aliases: list[list[str]], k: int = 6):
        self.index = index
        self.aliases = aliases
        self.k = k

    def search(self, query: str, k: int | None = None, filters: Filters | None = None) -> list[Passage]:
        k = k or self.k
        filters = filters or Filters()
        pool = max(30, 5 * k)
        vector = self.index.encoder.encode([query])[0]

        passages: dict[str, Passage] = {}
        for rank, passage in enumerate(self.index.search_dense(vector, pool, filters)):
            passage.score = 1 / (RRF_K + rank + 1)
            passages[passage.id] = passage
        for rank, passage in enumerate(self.index.search_lexical(expand_query(query, self.aliases), pool, filters)):
            passages.setdefault(passage.id, _unscored(passage)).score += 1 / (RRF_K + rank + 1)
        for passage in self.index.search_phrases(quoted_phrases(query), filters):
            passages.setdefault(passage.id, _unscored(passage)).score += 2 / (RRF_K + 1)  # as if first in both

        ranked = sorted(passages.values(), key=lambda p: (-p.score, p.id))
        chosen = diversify(ranked, k)  # judged on the matched chunks, before widening
        self._fill_similarity(vector, chosen)
        for passage in chosen:
            self._widen(passage)
        return chosen

    def _widen(self, passage: Passage) -> None:
        """Sentence-window retrieval: a chunk is matched, but the passage shown and answered from
        runs on through the next chunk of the same segment (a reply, a quote, the next step of the
        story often follows the sentence that matched). Never across segments: a comment is never
        glued to the article."""
        following = self.index.neighbour(passage)
        if following is None or following.segment_label != passage.segment_label:
            return
        doc = self.index.document(passage.doc_id)
        if doc is None or doc.doc_hash != passage.doc_hash:
            return  # the document was re-indexed under us; keep the chunk as it is
        passage.end = following.end
        passage.text = doc.text[passage.start:passage.end]

    def _fill_similarity(self, vector, passages: list[Passage]) -> None:
        """BM25-only hits have no dense score; fetch their vectors so every passage has one."""
        missing = [p for p in passages if p.dense_similarity is None]
        similarities = self.index.similarities(vector, [p.id for p in missing])
        for passage in missing:
            passage.dense_similarity = similarities.get(passage.id)


def _unscored(passage: Passage) -> Passage:
    passage.score = 0.0  # BM25's own score is not comparable with fused ranks
    return passage


def diversify(ranked: list[Passage], k: int, same_doc_decay: float = 0.75, overlap_limit: float = 0.6):
    """Greedy selection: each further chunk from an already-chosen document counts for less,
    and a chunk that mostly repeats a chosen one (overlapping windows, quoted text) is skipped."""
    chosen: list[Passage] = []
    per_doc: dict[str, int] = {}
    candidates = list(ranked)
    chosen_words: list[set[str]] = []
    while candidates and len(chosen) < k:
        best = max(candidates, key=lambda p: p.score * same_doc_decay ** per_doc.get(p.doc_id, 0))
        candidates.remove(best)
        tokens = set(words(best.text))
        if any(len(tokens & other) > overlap_limit * max(1, min(len(tokens), len(other))) for other in chosen_words):
            continue
        chosen.append(best)
        chosen_words.append(tokens)
        per_doc[best.doc_id] = per_doc.get(best.doc_id, 0) + 1
    return chosen
