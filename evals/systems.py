"""The systems under evaluation, behind one small interface: ``run(case) -> Run``.

* ``AssistantSystem``: the product (``rag.Assistant``) on an index built in the eval's own
  data directory.
* ``TutorialPipeline``: the "tutorial LangChain pipeline" baseline: the raw corpus text (no
  cleaning, no source registry), RecursiveCharacterTextSplitter(chunk_size=1000,
  chunk_overlap=200), the same MiniLM embeddings, an in-memory Chroma collection
  (chromadb.EphemeralClient), dense retrieval only, k=4, no warnings, no refusals. Offline its
  answer is, for each of the 4 chunks in rank order, the chunk's sentence sharing most words
  with the question, followed by [n] (see evals/README.md).
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import rag

from .dataset import Case

RETRIEVAL_DEPTH = 10  # passages ranked for the retrieval metrics


@dataclass
class Cited:
    """A citation as the metrics see it (from a rag Citation or a baseline chunk)."""

    n: int
    doc_id: str
    text: str
    segment: str | None = None  # "article body", "comment by Adelaide", ... (None: raw chunk, unknown)
    segment_kind: rag.SegmentKind | None = None
    speaker: str | None = None
    outlet: str = ""
    author: str | None = None
    title: str = ""
    partisan: bool = False
    label: str = ""

    def context(self) -> str:
        """Metadata text the support checker may take names from (as the product's validator does)."""
        return f"{self.outlet} {self.title} {self.author or ''} {self.speaker or ''} {self.label} {self.segment or ''}"

    def to_json(self) -> dict:
        return {"n": self.n, "doc_id": self.doc_id, "segment": self.segment, "speaker": self.speaker,
                "outlet": self.outlet, "partisan": self.partisan, "text": self.text}


@dataclass
class Retrieved:
    id: str
    doc_id: str
    text: str
    segment: str | None = None


@dataclass
class Run:
    question: str
    query: str  # what retrieval searched for (the standalone query for follow-ups)
    answer: str
    refused: bool
    citations: list[Cited]
    warnings: list[rag.Warning]
    retrieved: list[Retrieved]  # top RETRIEVAL_DEPTH for the retrieval metrics
    latency_ms: float
    mode: str
    unsupported: list[str] = field(default_factory=list)  # sentences the product itself marked


# -- the product ------------------------------------------------------------------------------------
class AssistantSystem:
    key = "assistant"

    def __init__(self, settings, k: int | None = None, play_history: bool = True):
        self.settings = settings
        self.k = k or settings.k
        self.play_history = play_history
        # The eval's extra retrieval call and the support checker encode the same texts again: cache them.
        self.encoder = rag.EncodeCache(rag.get_embeddings(settings))
        self.assistant = rag.Assistant(settings, encoder=self.encoder)
        self.mode = self.assistant.mode.value

    @property
    def label(self) -> str:
        return f"rag assistant ({self.mode})"

    def all_passages(self) -> list[str]:
        _version, texts = self.assistant.index.chunk_texts()
        return list(texts)

    def conversation(self, case: Case) -> list[dict]:
        """A follow-up's history as the app holds it: each earlier question with the answer it got
        (an answer the case file writes itself is kept); as written with ``play_history`` off."""
        turns = case.history_list
        return self.assistant.replay(turns, k=self.k) if self.play_history else turns

    def run(self, case: Case) -> Run:
        ans = self.assistant.ask(case.question, history=self.conversation(case) or None, k=self.k)
        ranked = self.assistant.search(ans.standalone_query, RETRIEVAL_DEPTH)
        citations = [_cited(c) for c in ans.citations]
        return Run(
            question=case.question, query=ans.standalone_query, answer=ans.answer, refused=ans.refused,
            citations=citations, warnings=list(ans.warnings),
            retrieved=[Retrieved(p.id, p.doc_id, p.text, p.segment_label) for p in ranked],
            latency_ms=float(ans.timings_ms.get("total", 0.0)), mode=ans.mode.value,
            unsupported=list(ans.unsupported_sentences),
        )


def _cited(c) -> Cited:
    s = c.source
    return Cited(n=c.n, doc_id=c.doc_id, text=c.passage.text, segment=c.segment,
                 segment_kind=c.passage.segment_kind, speaker=c.speaker, outlet=s.outlet,
                 author=s.author, title=s.title, partisan=bool(s.partisan), label=s.label)


# -- the tutorial baseline ---------------------------------------------------------------------------------
TUTORIAL_PROMPT = (
    "Use the following pieces of context to answer the question at the end. If you don't know the "
    "answer, just say that you don't know, don't try to make up an answer. Cite the pieces of context "
    "you use by their number in brackets, like [1].\n\n{context}\n\nQuestion: {question}\nHelpful Answer:"
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[.!?][\"'”’)\]])\s+|\n+")
_TOKEN = re.compile(r"\w+")
_STOP = frozenset(
    "a an the and or but of to in on at by for with from as is are was were be been it its this that these "
    "those what which who whom when where why how do does did has have had not no so than then there their "
    "they them he she his her we you i about into over after before between during according say said says".split()
)
_counter = itertools.count()


def tutorial_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def overlap(sentence: str, query_terms: set[str]) -> int:
    return len(query_terms & set(_TOKEN.findall(sentence.lower())))


def tutorial_answer(question: str, chunks: list[str]) -> tuple[list[str], list[int]]:
    """Offline tutorial answer: per chunk (rank order) its sentence with most question words
    (first such sentence on ties, at least 4 words), then " [n]"; chunks with no overlap are
    skipped. When nothing overlaps, the top chunk's first sentence. Returns (lines, chunk indexes)."""
    terms = {t for t in _TOKEN.findall(question.lower()) if t not in _STOP}
    lines, used = [], []
    for i, chunk in enumerate(chunks):
        candidates = [s for s in tutorial_sentences(chunk) if len(s.split()) >= 4]
        if not candidates:
            continue
        best = max(candidates, key=lambda s: overlap(s, terms))  # max keeps the first on ties
        if overlap(best, terms) == 0:
            continue
        used.append(i)
        lines.append(f"{best} [{len(used)}]")
    if not lines and chunks:
        first = (tutorial_sentences(chunks[0]) or [chunks[0].strip()])[0]
        lines, used = [f"{first} [1]"], [0]
    return lines, used


class TutorialPipeline:
    key = "tutorial"
    label = "tutorial LangChain pipeline"
    k = 4

    def __init__(self, settings, folders=None, llm=None):
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_core.documents import Document
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        self.llm = llm
        self.mode = "llm" if llm else "offline"
        # The documents the product indexes, but each file's text as read, before any cleaning.
        documents, _failed = rag.read_documents(settings, folders)
        self.sources = {d.doc_id: d.source for d in documents}
        docs = [Document(page_content=rag.load_file(Path(d.path)).text,
                         metadata={"source": Path(d.path).name, "doc_id": d.doc_id}) for d in documents]
        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
        self.chunks = splitter.split_documents(docs)
        self.embeddings = rag.get_embeddings(settings)  # the same MiniLM model as the product
        client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
        self.collection_name = f"evals-tutorial-{next(_counter)}-{time.monotonic_ns()}"
        self.collection = client.create_collection(self.collection_name, embedding_function=None)
        self.client = client
        self.ids = [f"{c.metadata['doc_id']}#{i:03d}" for i, c in enumerate(self.chunks)]
        texts = [c.page_content for c in self.chunks]
        self.collection.add(ids=self.ids, embeddings=self.embeddings.embed_documents(texts), documents=texts,
                            metadatas=[dict(c.metadata) for c in self.chunks])

    def close(self) -> None:
        try:
            self.client.delete_collection(self.collection_name)
        except Exception:  # an in-memory collection; nothing to leak if this fails
            pass

    def all_passages(self) -> list[str]:
        return [c.page_content for c in self.chunks]

    def search(self, query: str, k: int) -> list[Retrieved]:
        # The raw 001 file repeats a whole section, so some chunks are exact duplicates with equal
        # distances, which Chroma returns in either order: fetch a margin and break ties by id.
        got = self.collection.query(query_embeddings=[self.embeddings.embed_query(query)],
                                    n_results=min(k + 10, len(self.ids)), include=["documents", "metadatas", "distances"])
        rows = sorted(zip(got["distances"][0], got["ids"][0], got["documents"][0], got["metadatas"][0]),
                      key=lambda row: (round(row[0], 6), row[1]))
        return [Retrieved(i, m["doc_id"], t, None) for _, i, t, m in rows[:k]]

    def run(self, case: Case) -> Run:
        started = time.perf_counter()
        hits = self.search(case.question, max(self.k, RETRIEVAL_DEPTH))  # no history: the tutorial has no memory
        top = hits[: self.k]
        if self.llm is None:
            lines, used = tutorial_answer(case.question, [h.text for h in top])
            answer = "\n".join(lines)
        else:
            context = "\n\n".join(f"[{n}] {h.text}" for n, h in enumerate(top, start=1))
            answer = self.llm.complete([{"role": "user", "content": TUTORIAL_PROMPT.format(
                context=context, question=case.question)}]).strip()
            from .metrics import cited_numbers

            used = sorted({n - 1 for n in cited_numbers(answer) if 1 <= n <= len(top)})
            # the LLM's numbers refer to the context order: keep them as they are
            citations = [self._cited(n + 1, top[n]) for n in used]
            return Run(case.question, case.question, answer, False, citations, [], hits,
                       (time.perf_counter() - started) * 1000, self.mode)
        citations = [self._cited(n, top[i]) for n, i in enumerate(used, start=1)]
        return Run(case.question, case.question, answer, False, citations, [], hits,
                   (time.perf_counter() - started) * 1000, self.mode)

    def _cited(self, n: int, hit: Retrieved) -> Cited:
        s = self.sources.get(hit.doc_id)
        return Cited(n=n, doc_id=hit.doc_id, text=hit.text, outlet=s.outlet if s else "", author=s.author if s else None,
                     title=s.title if s else "", partisan=bool(s and s.partisan), label=s.label if s else "")
