"""Hybrid retrieval: Chroma (dense) + BM25 (lexical), fused by reciprocal rank, diversified.

    >>> r = Retriever(Settings.from_env())                                   # doctest: +SKIP
    >>> [p.doc_id for p in r.search("Lavrov on the Kurils", k=3)]           # doctest: +SKIP
    ['003_b5aeacde14fc594e', '001_68ffb54545db6918', '002_8a0a0fb16ab6ea83']

Filters (outlet, document type, date range, partisan or not) apply to both sides
before fusion. Diversification keeps near-duplicate chunks of one document from
crowding out other sources.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import yaml

from . import documents
from .embeddings import get_embeddings
from .ingest import catch_up_lexical
from .lexical import LexicalIndex
from .settings import Settings
from .store import Store
from .text import words

RRF_K = 60


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
                    _date_num(value, high=name == "date_to")
                except ValueError:
                    raise ValueError(f"{name} must be YYYY, YYYY-MM or YYYY-MM-DD, got {value!r}") from None

    def where(self) -> dict | None:
        clauses = []
        if self.outlets:
            clauses.append({"outlet": {"$in": list(self.outlets)}})
        if self.doc_types:
            clauses.append({"doc_type": {"$in": list(self.doc_types)}})
        if self.date_from:
            clauses.append({"date_num": {"$gte": _date_num(self.date_from)}})
        if self.date_to:
            clauses.append({"date_num": {"$lte": _date_num(self.date_to, high=True)}})
        if self.partisan is not None:
            clauses.append({"partisan": {"$eq": self.partisan}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def allows(self, meta: dict) -> bool:
        if self.outlets and meta.get("outlet") not in self.outlets:
            return False
        if self.doc_types and meta.get("doc_type") not in self.doc_types:
            return False
        date = meta.get("date_num")
        if self.date_from and (date is None or date < _date_num(self.date_from)):
            return False
        if self.date_to and (date is None or date > _date_num(self.date_to, high=True)):
            return False
        if self.partisan is not None and bool(meta.get("partisan")) != self.partisan:
            return False
        return True

    @property
    def active(self) -> bool:
        return self.where() is not None


_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


@functools.lru_cache(maxsize=64)
def _date_num(date: str, high: bool = False) -> int:
    """A filter bound comparable with chunks' ``date_num`` (YYYYMMDD). A missing month or day
    pads low for a start and high for an end: "2023-12" is 20231200 or 20231299."""
    match = _DATE.fullmatch(str(date).strip())
    if not match:
        raise ValueError(f"not a YYYY, YYYY-MM or YYYY-MM-DD date: {date!r}")
    year, month, day = (None if g is None else int(g) for g in match.groups())
    dt.date(year, 1 if month is None else month, 1 if day is None else day)  # ValueError for 2023-13, 2023-02-30
    pad = 99 if high else 0
    return year * 10000 + (pad if month is None else month) * 100 + (pad if day is None else day)


@dataclass
class Passage:
    id: str
    text: str
    meta: dict
    score: float  # fused (RRF) score
    dense_similarity: float | None = None  # cosine similarity to the query (None: unknown)
    extra: dict = field(default_factory=dict)

    @property
    def doc_id(self) -> str:
        return self.meta["doc_id"]

    @property
    def start(self) -> int:
        return self.meta["start"]

    @property
    def end(self) -> int:
        return self.meta["end"]


@functools.lru_cache(maxsize=4)
def load_aliases(path: str) -> list[list[str]]:
    try:
        groups = yaml.safe_load(open(path, encoding="utf-8")) or []
    except OSError:
        return []
    return [[str(name) for name in group] for group in groups if isinstance(group, list)]


def expand_query(query: str, aliases: list[list[str]]) -> str:
    """Add the other names of any name variant the query mentions (for BM25)."""
    folded = f" {' '.join(words(query))} "
    extra = []
    for group in aliases:
        if any(f" {' '.join(words(name))} " in folded for name in group):
            extra.extend(name for name in group if f" {' '.join(words(name))} " not in folded)
    return query if not extra else f"{query} {' '.join(extra)}"


class Retriever:
    """Loads the store, BM25 and the embedder once; ``search`` is then cheap (tens of ms)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.embedder = get_embeddings(settings)
        self.store = Store(settings, self.embedder.name, create=False)
        self.aliases = load_aliases(str(settings.corpus_dir / "aliases.yaml"))
        self._lexical: LexicalIndex | None = None
        self._lexical_checked = 0.0
        self._lock = threading.Lock()
        self._docs: dict[str, documents.StoredDocument] = {}

    def document(self, doc_id: str) -> documents.StoredDocument | None:
        """The cleaned document (cached; forgotten when a re-index is picked up, or on ``reload``)."""
        if doc_id not in self._docs:
            doc = documents.load(self.settings, doc_id)
            if doc is None:
                return None
            self._docs[doc_id] = doc
        return self._docs[doc_id]

    def lexical(self) -> LexicalIndex:
        """The BM25 index for the current Chroma contents (reloaded when another process re-indexed)."""
        with self._lock:
            now = time.monotonic()
            if self._lexical is None or now - self._lexical_checked > 2.0:
                version = self.store.version()
                if self._lexical is None or self._lexical.version != version:
                    fresh = LexicalIndex.load(self.settings.bm25_dir)
                    if fresh is None or fresh.version != version:
                        # Only wait for a running ingest when there is no snapshot to serve meanwhile.
                        fresh = catch_up_lexical(self.settings, self.store, wait=self._lexical is None)
                    if fresh is not None:
                        self._lexical = fresh
                        self._docs.clear()  # the documents were re-indexed too
                self._lexical_checked = now
            return self._lexical

    def reload(self) -> None:
        with self._lock:
            self._lexical = None
            self._docs.clear()

    def search(self, query: str, k: int | None = None, filters: Filters | None = None) -> list[Passage]:
        k = k or self.settings.k
        filters = filters or Filters()
        pool = max(30, 5 * k)
        vector = self.embedder.encode([query])[0]
        dense = self.store.query(vector, pool, filters.where())
        lexical = self.lexical()
        mask = None
        if filters.active:
            mask = np.array([filters.allows(m) for m in lexical.metas], dtype=bool)
        sparse = lexical.search(expand_query(query, self.aliases), pool, mask)

        passages: dict[str, Passage] = {}
        for rank, (chunk_id, text, meta, distance) in enumerate(dense):
            passages[chunk_id] = Passage(chunk_id, text, meta, 1 / (RRF_K + rank + 1), 1 - distance)
        for rank, (chunk_id, _score) in enumerate(sparse):
            if chunk_id not in passages:
                i = lexical.position[chunk_id]
                passages[chunk_id] = Passage(chunk_id, lexical.texts[i], lexical.metas[i], 0.0)
            passages[chunk_id].score += 1 / (RRF_K + rank + 1)
        self._exact_phrases(query, lexical, mask, passages)
        ranked = sorted(passages.values(), key=lambda p: (-p.score, p.id))
        chosen = diversify(ranked, k)  # judged on the matched chunks, before widening
        self._fill_similarity(vector, chosen)
        for passage in chosen:
            self._widen(passage, lexical)
        return chosen

    def _widen(self, passage: Passage, lexical: LexicalIndex) -> None:
        """Sentence-window retrieval: a chunk is matched, but the passage shown and answered from
        runs on through the next chunk of the same segment (a reply, a quote, the next step of the
        story often follows the sentence that matched). Never across segments: a comment is never
        glued to the article."""
        following = lexical.neighbour(passage.doc_id, passage.meta["chunk_index"] + 1)
        doc = self.document(passage.doc_id) if following else None
        if not following or doc is None or following["segment_label"] != passage.meta.get("segment_label"):
            return
        if doc.doc_hash != passage.meta.get("doc_hash"):
            return  # the document was re-indexed under us; keep the chunk as it is
        end = following["end"]
        passage.meta = {**passage.meta, "chunk_end": passage.meta["end"], "end": end}
        passage.text = doc.text[passage.meta["start"]:end]

    def _exact_phrases(self, query, lexical: LexicalIndex, mask, passages: dict[str, Passage]) -> None:
        """A question quoting exact words ("Who said 'US say Jump'?") ranks chunks containing them first."""
        from .extractive import quoted_phrases

        phrases = quoted_phrases(query)
        if not phrases:
            return
        for i, folded in enumerate(lexical.folded_texts):
            if (mask is None or mask[i]) and any(p in folded for p in phrases):
                chunk_id = lexical.ids[i]
                if chunk_id not in passages:
                    passages[chunk_id] = Passage(chunk_id, lexical.texts[i], lexical.metas[i], 0.0)
                passages[chunk_id].score += 2 / (RRF_K + 1)  # as if ranked first by both retrievers

    def _fill_similarity(self, vector, passages: list[Passage]) -> None:
        """BM25-only hits have no dense score; fetch their vectors so every passage has one."""
        missing = [p for p in passages if p.dense_similarity is None]
        if not missing:
            return
        vectors = self.store.embeddings([p.id for p in missing])
        for passage in missing:
            if passage.id in vectors:
                passage.dense_similarity = float(np.dot(vectors[passage.id], vector))


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

