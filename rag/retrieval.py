"""Hybrid retrieval: Chroma (dense) + BM25 (lexical), fused by reciprocal rank, diversified.

    >>> r = Retriever(Settings.from_env())                                   # doctest: +SKIP
    >>> [p.doc_id for p in r.search("Lavrov on the Kurils", k=3)]           # doctest: +SKIP
    ['003_b5aeacde14fc594e', '001_68ffb54545db6918', '002_8a0a0fb16ab6ea83']

Filters (outlet, document type, date range, partisan or not) apply to both sides
before fusion. Diversification keeps near-duplicate chunks of one document from
crowding out other sources.
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import yaml
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from . import documents
from .embeddings import get_embeddings
from .ingest import refresh_lexical
from .lexical import LexicalIndex
from .settings import Settings
from .store import Store
from .text import words

RRF_K = 60


@dataclass(frozen=True)
class Filters:
    outlets: tuple[str, ...] = ()
    doc_types: tuple[str, ...] = ()
    date_from: str | None = None  # YYYY-MM-DD, inclusive
    date_to: str | None = None
    partisan: bool | None = None  # None: all sources; False: exclude partisan; True: only partisan

    def where(self) -> dict | None:
        clauses = []
        if self.outlets:
            clauses.append({"outlet": {"$in": list(self.outlets)}})
        if self.doc_types:
            clauses.append({"doc_type": {"$in": list(self.doc_types)}})
        if self.date_from:
            clauses.append({"date_num": {"$gte": _date_num(self.date_from)}})
        if self.date_to:
            clauses.append({"date_num": {"$lte": _date_num(self.date_to)}})
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
        if self.date_to and (date is None or date > _date_num(self.date_to)):
            return False
        if self.partisan is not None and bool(meta.get("partisan")) != self.partisan:
            return False
        return True

    @property
    def active(self) -> bool:
        return self.where() is not None


def _date_num(date: str) -> int:
    return int(str(date)[:10].replace("-", "").ljust(8, "0"))


@dataclass
class Passage:
    id: str
    text: str
    meta: dict
    score: float  # fused (RRF) score
    dense_similarity: float | None = None  # cosine similarity to the query, when Chroma returned it
    dense_rank: int | None = None
    lexical_rank: int | None = None
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
        """The cleaned document (cached; ``reload`` forgets it after a re-index)."""
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
                if self._lexical is None or self._lexical.version != self.store.version():
                    self._lexical = LexicalIndex.load(self.settings.bm25_dir)
                    if self._lexical is None or self._lexical.version != self.store.version():
                        self._lexical = refresh_lexical(self.settings, self.store)
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
            passages[chunk_id] = Passage(chunk_id, text, meta, 1 / (RRF_K + rank + 1), 1 - distance, rank)
        for rank, (chunk_id, _score) in enumerate(sparse):
            if chunk_id not in passages:
                i = lexical.position[chunk_id]
                passages[chunk_id] = Passage(chunk_id, lexical.texts[i], lexical.metas[i], 0.0)
            passages[chunk_id].score += 1 / (RRF_K + rank + 1)
            passages[chunk_id].lexical_rank = rank
        self._exact_phrases(query, lexical, mask, passages)
        self._fill_similarity(vector, passages)
        ranked = sorted(passages.values(), key=lambda p: (-p.score, p.id))
        for passage in ranked:
            self._widen(passage, lexical)
        return diversify(ranked, k)

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
        passage.extra["chunk_text"] = passage.text
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

    def _fill_similarity(self, vector, passages: dict[str, Passage]) -> None:
        """BM25-only hits have no dense score; fetch their vectors so every passage has one."""
        missing = [pid for pid, p in passages.items() if p.dense_similarity is None]
        if not missing:
            return
        got = self.store.collection.get(ids=missing, include=["embeddings"])
        for pid, emb in zip(got["ids"], got["embeddings"]):
            passages[pid].dense_similarity = float(np.dot(np.asarray(emb, dtype=np.float32), vector))

    def as_langchain(self, k: int | None = None, filters: Filters | None = None) -> "HybridLangChainRetriever":
        return HybridLangChainRetriever(retriever=self, k=k or self.settings.k, filters=filters or Filters())


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
        tokens = set(words(best.extra.get("chunk_text", best.text)))  # the matched chunk, not its window
        if any(len(tokens & other) > overlap_limit * max(1, min(len(tokens), len(other))) for other in chosen_words):
            continue
        chosen.append(best)
        chosen_words.append(tokens)
        per_doc[best.doc_id] = per_doc.get(best.doc_id, 0) + 1
    return chosen


class HybridLangChainRetriever(BaseRetriever):
    """The hybrid retriever as a LangChain ``BaseRetriever`` (for chains and the eval baselines)."""

    retriever: object
    k: int = 6
    filters: Filters = Filters()

    model_config = {"arbitrary_types_allowed": True}

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [
            Document(page_content=p.text, metadata={**p.meta, "id": p.id, "score": p.score})
            for p in self.retriever.search(query, self.k, self.filters)
        ]

