"""Hybrid retrieval: dense and BM25 candidates from the index, each scored on its own, diversified, widened.

    >>> r = Retriever(Index.open(Settings.from_env()), aliases=[])          # doctest: +SKIP
    >>> [p.doc_id for p in r.search("Lavrov on the Kurils", k=3)]           # doctest: +SKIP
    ['003_b5aeacde14fc594e', '001_68ffb54545db6918', '002_8a0a0fb16ab6ea83']

Filters (outlet, document type, date range, partisan or not) apply to both sides
before fusion. Diversification keeps near-duplicate chunks of one document from
crowding out other sources, except that a text the question names ("according to the ISN
analysis") fills the passages, since only it may answer. A question quoting exact words ranks
chunks holding them first.
"""

from __future__ import annotations

from ..index import Index
from ..model import Filters, Passage
from ..text import fold, padded_words, stems, words
from .followup import earlier_words, without_history
from .question import (analyse, compared_sources, expand_query, header, named_source, passages_from,
                       quoted_phrases)


class Retriever:
    """Reads through one ``Index``; ``search`` is cheap (tens of ms) once the index is loaded."""

    def __init__(self, index: Index, aliases: list[list[str]], k: int = 6):
        self.index = index
        self.aliases = aliases
        self.k = k
        self._last_query: tuple[str, object] | None = None
        # Each name variant as folded words, with the stems of its whole group: worked out once.
        self._alias_stems = [([padded_words(n) for n in group], {s for n in group for s in stems(n)})
                             for group in aliases]

    def search(self, query: str, k: int | None = None, filters: Filters | None = None) -> list[Passage]:
        k = k or self.k
        filters = filters or Filters()
        pool = max(30, 5 * k)
        vector = self.query_vector(query)

        # Candidates: what the dense index and BM25 each rank highest, and chunks quoting the question.
        passages: dict[str, Passage] = {}
        for passage in self.index.search_dense(vector, pool, filters):
            passages[passage.id] = passage
        own, earlier = without_history(query), earlier_words(query)
        needs = analyse(own, self.aliases, context=earlier) if earlier else analyse(query, self.aliases)
        for passage in self.index.search_lexical(expand_query(query, self.aliases), pool, filters):
            passages.setdefault(passage.id, passage)
        if earlier and needs.names_own:  # a follow-up with a subject of its own: what its own words find
            # too ("What did Zakharova say?" after questions on Suzuki's trip)
            for passage in self.index.search_lexical(expand_query(own, self.aliases), pool, filters):
                passages.setdefault(passage.id, passage)
        phrases = quoted_phrases(query)
        for passage in self.index.search_phrases(phrases, filters):
            passages.setdefault(passage.id, passage)
        # "Who did Arsenal beat 5-4?": the chunks naming Arsenal that give that score (its digits
        # are too short to be indexed words, so BM25 never finds them).
        scores = [fold(a.text) for a in needs.anchors if a.kind == "score"]
        names = " ".join(a.text for a in needs.anchors if a.kind == "name")
        for passage in self.index.search_phrases(scores, filters, among=names) if names else ():
            passages.setdefault(passage.id, passage)

        # Their order: each judged on its own (closeness in meaning, and how much of the question's
        # weighted words it holds), never on ranks among the other candidates or on the index's
        # word statistics, so documents about other things cannot reorder them.
        self._fill_similarity(vector, list(passages.values()))
        # A follow-up naming its own subject: its earlier questions count at half weight, as for the
        # answerer; any other follow-up is weighed as the whole rewritten question.
        weights = needs.weights if not earlier or needs.names_own else analyse(query, self.aliases).weights
        for passage in passages.values():
            passage.score = _score(passage, weights, phrases, self._alias_stems, scores)
        ranked = sorted(passages.values(), key=lambda p: (-p.score, p.id))
        # judged on the matched chunks, before widening
        chosen = _from_texts_asked_for(query, ranked, k) or diversify(ranked, k)
        if earlier:  # a follow-up's own names, not only the earlier questions' ones
            chosen = _with_every_name(chosen, ranked, [a for a in needs.anchors if a.distinctive])
        passed_over = _passed_over(chosen, ranked)
        for passage in chosen + passed_over:
            self._widen(passage)
        return self._joined(chosen, passed_over)

    def query_vector(self, query: str):
        """The encoder's vector for ``query``; the last one is kept, since the answerer compares
        the same question with sentences right after searching for it."""
        last = self._last_query  # one read: another thread may search meanwhile
        if last is None or last[0] != query:
            last = self._last_query = (query, self.index.encoder.encode([query])[0])
        return last[1]

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

    def _joined(self, chosen: list[Passage], passed_over: list[Passage]) -> list[Passage]:
        """``chosen``, each stretched over the ``passed_over`` chunks that overlap it or run on
        from or into it in its segment: one stretch of the text, not two passages repeating each
        other (chunks overlap at their edges). Passed-over chunks elsewhere in the text stay out:
        the passages shown still come from as many documents as ``diversify`` chose."""
        for passage in passed_over:
            near = next((p for p in chosen if p.doc_id == passage.doc_id and p.segment_label == passage.segment_label
                         and passage.start <= p.end and p.start <= passage.end), None)
            doc = self.index.document(passage.doc_id) if near is not None else None
            if doc is None or doc.doc_hash != near.doc_hash:
                continue
            near.start, near.end = min(near.start, passage.start), max(near.end, passage.end)
            near.text = doc.text[near.start:near.end]
        return chosen

    def _fill_similarity(self, vector, passages: list[Passage]) -> None:
        """BM25-only hits have no dense score; fetch their vectors so every passage has one."""
        missing = [p for p in passages if p.dense_similarity is None]
        similarities = self.index.similarities(vector, [p.id for p in missing])
        for passage in missing:
            passage.dense_similarity = similarities.get(passage.id)


def _score(passage: Passage, weights: dict[str, float], phrases: list[str], alias_stems: list,
           scores: list[str] = ()) -> float:
    """0.5 x cosine similarity + 0.5 x the weighted share of the question's words the chunk (with
    who and where it is from, as the answerer reads it: ``header``) holds, a name counting when any
    of its variants is there, and a score it gives ("5-4") as much as its heaviest word; +1 for a
    chunk holding words the question quotes, +0.5 for one giving every score it asks about (a run
    of digits as exact as a quotation, though shorter: forty reports of "Arsenal beat X" must not
    keep out the one saying Arsenal "ran out 5-4 winners")."""
    text = f"{header(passage)} {passage.text}"  # "according to the ISN analysis": its author says ISN
    here = set(stems(text))
    folded = padded_words(text)
    for variants, group_stems in alias_stems:
        if any(v in folded for v in variants):
            here |= group_stems
    heaviest = max(weights.values(), default=1.0)
    total = (sum(weights.values()) + heaviest * len(scores)) or 1.0
    given = sum(f" {' '.join(words(s))} " in folded for s in scores)
    lexical = (sum(w for t, w in weights.items() if t in here) + heaviest * given) / total
    score = 0.5 * (passage.dense_similarity or 0.0) + 0.5 * lexical
    if phrases and any(p in fold(passage.text) for p in phrases):
        score += 1.0
    if scores and given == len(scores):
        score += 0.5
    return round(score, 9)  # equal scores tie-break on the id, whatever the float noise


def _passed_over(chosen: list[Passage], ranked: list[Passage]) -> list[Passage]:
    """The chunks among the ``len(chosen)`` best that ``diversify`` left out to make room for other
    documents (so each is from a chosen document). "How much does Absa think its profits will
    climb?" matched the Absa article's two chunks best; the one with "earnings grow by 20-25%"
    lost its place to other banks' results, and the chosen one began just after that sentence."""
    ids = {p.id for p in chosen}
    docs = {p.doc_id for p in chosen}
    return [p for p in ranked[:len(chosen)] if p.id not in ids and p.doc_id in docs]


def _with_every_name(chosen: list[Passage], ranked: list[Passage], anchors: list) -> list[Passage]:
    """``chosen`` with, for each of a follow-up's own distinctive names and years that no chosen
    passage mentions, the best candidate that does, in place of the last chosen one that mentions
    none of them. "What did Zakharova say about it?" after two questions on Suzuki's trip: one
    article holds both, and its chunks on Suzuki, each counting for less than the one before,
    kept out every chunk naming Zakharova, and the answer was that no passage mentions what the
    question is about. (Not for a question on its own: its names are all its own words already,
    and a chunk naming only "2010" is no reason to say a 2010 World Cup question is touched on.)"""
    def mentions(passage: Passage, anchor) -> bool:
        return anchor.found_in(fold(f"{passage.text} {header(passage)}"))

    chosen = list(chosen)
    for anchor in anchors:
        if not chosen or any(mentions(p, anchor) for p in chosen):
            continue
        best = next((p for p in ranked if p not in chosen and mentions(p, anchor)), None)
        spare = [i for i, p in enumerate(chosen) if not any(mentions(p, a) for a in anchors)]
        if best is not None and spare:
            chosen[spare[-1]] = best
    return chosen


def _from_texts_asked_for(query: str, ranked: list[Passage], k: int) -> list[Passage]:
    """"According to the ISN analysis …": only that text's passages may answer (the answerer's
    rule), so they come first, as many as it has, not the few chunks per document ``diversify``
    lets through; "How do the ISN analysis and Kuroi's report differ …": an equal share for each
    text compared; "What did Kuroi say …": the passages Kuroi wrote or posted. Empty when the
    question names no text, or no candidate is from one (it may be written another way), and the
    usual choice stands."""
    voices = _voices_asked(without_history(query))
    if voices:  # "What did Ovechko say about it?": his words, not the text the earlier question named
        query = without_history(query)
    named = named_source(query)
    asked = [named] if named else list(compared_sources(query))
    groups = ([[ranked[i] for i in sorted(passages_from(source, ranked))] for source in asked] if asked else
              [[p for p in ranked if person <= set(stems(f"{p.source.author or ''} {p.speaker or ''}"))]
               for person in voices])
    groups = [group for group in groups if group]
    if not groups:
        return []
    chosen: list[Passage] = []
    for group in groups:
        chosen += diversify(group, min(max(1, k // len(groups)), k - len(chosen)), same_doc_decay=1.0, taken=chosen)
    ids = {p.id for p in chosen}
    return chosen + diversify([p for p in ranked if p.id not in ids], k - len(chosen), taken=chosen)


def _voices_asked(query: str) -> list[frozenset]:
    """"What did the commenter Jazmine say", "What does Kuroi say about …": the people asked what
    they said, each as the stems naming them, for when they are a passage's poster or author (not
    its outlet: "How did Moscow respond?" is not asking the Moscow Times)."""
    return [frozenset(stems(x.text)) for x in analyse(query, []).speaking]


def diversify(ranked: list[Passage], k: int, same_doc_decay: float = 0.75, overlap_limit: float = 0.6,
              taken: list[Passage] = ()):
    """Greedy selection: each further chunk from an already-chosen document counts for less,
    and a chunk that mostly repeats a chosen one (overlapping windows, quoted text) is skipped.
    ``taken``: passages chosen before, which the new ones must not repeat (not returned)."""
    chosen: list[Passage] = []
    per_doc: dict[str, int] = {}
    for passage in taken:
        per_doc[passage.doc_id] = per_doc.get(passage.doc_id, 0) + 1
    candidates = list(ranked)
    chosen_words: list[list[str]] = [words(p.text) for p in taken]
    while candidates and len(chosen) < k:
        best = max(candidates, key=lambda p: p.score * same_doc_decay ** per_doc.get(p.doc_id, 0))
        candidates.remove(best)
        found = words(best.text)
        if any(_repeats(best, found, other, other_words, overlap_limit)
               for other, other_words in zip([*taken, *chosen], chosen_words)):
            continue
        chosen.append(best)
        chosen_words.append(found)
        per_doc[best.doc_id] = per_doc.get(best.doc_id, 0) + 1
    return chosen


def _repeats(passage: Passage, found: list[str], other: Passage, other_found: list[str], limit: float) -> bool:
    """Does ``passage`` (its words: ``found``) mostly repeat ``other``?

    * Two chunks of one segment of a document (its article, or one comment): by how much of the
      shorter one's text they share. Chunks overlap at their edges by design, and a story's own
      words recur all through it, so their words always look alike.
    * A comment and the article it is under: by their words. A commenter retelling the story in
      its words says nothing the article does not.
    * Two documents: by the runs of five words they share. A wire story republished shares them;
      two stories on one subject share words but not text ("Levy tipped for Whitbread prize" and
      "Levy takes Whitbread novel prize": 62% of their opening chunks' words, 10% of their runs)."""
    if passage.doc_id == other.doc_id and passage.segment_label == other.segment_label:
        shared = min(passage.end, other.end) - max(passage.start, other.start)
        return shared > limit * max(1, min(passage.end - passage.start, other.end - other.start))
    mine, theirs = (set(found), set(other_found)) if passage.doc_id == other.doc_id else (_runs(found), _runs(other_found))
    return len(mine & theirs) > limit * max(1, min(len(mine), len(theirs)))


def _runs(found: list[str], n: int = 5) -> set:
    """The runs of ``n`` words in a text's words."""
    return {tuple(found[i:i + n]) for i in range(max(1, len(found) - n + 1))}
