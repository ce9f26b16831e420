"""The one API the CLI and the UI share.

    >>> assistant = Assistant(Settings.from_env())                                   # doctest: +SKIP
    >>> a = assistant.ask("What sanctions did Japan impose on Russia in December 2023?")  # doctest: +SKIP
    >>> a.citations[0].doc_id, a.warnings[0][:16]                                     # doctest: +SKIP
    ('003_b5aeacde14fc594e', 'Partisan source ')
    >>> b = assistant.ask("How did Moscow respond?", history=[{"role": "user", "content": a.question}])  # doctest: +SKIP

``stream`` yields events as the answer is built (the rewritten query, text pieces, the
final ``Answer``); ``ask`` runs it to the end. Retrieval state and the model are loaded
once per Assistant, so a warm question costs tens of milliseconds offline.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Iterator

from . import documents
from .answer import Answer, Citation, framing_warnings, make_citation
from .extractive import REFUSAL, TermStats, compose
from .followup import previous_questions, rewrite_offline
from .llm import LLM, LLMError
from .prompts import render
from .retrieval import Filters, Passage, Retriever, expand_query
from .settings import Settings
from .support import MARKER, META, check_answer, cited_numbers, split_answer
from .text import content_words, fold, sentences

MAX_QUESTION_CHARS = 2000


class QuestionError(ValueError):
    """The question cannot be asked as given (empty, too long)."""


@dataclass
class Event:
    kind: str  # "query" (standalone query), "token" (answer text piece), "notice", "answer"
    value: object


class Assistant:
    def __init__(self, settings: Settings | None = None, llm: LLM | None = None):
        self.settings = settings or Settings.from_env()
        self.retriever = Retriever(self.settings)
        self.llm = llm if llm is not None else (LLM(self.settings) if self.settings.llm_configured else None)
        self._stats: tuple[str, TermStats] | None = None

    @property
    def aliases(self) -> list[list[str]]:
        return self.retriever.aliases

    @property
    def mode(self) -> str:
        return "llm" if self.llm else "offline"

    # -- public API ----------------------------------------------------------------
    def ask(self, question: str, history: list[dict] | None = None, filters: Filters | None = None,
            k: int | None = None, offline: bool = False) -> Answer:
        answer = None
        for event in self.stream(question, history, filters, k, offline):
            if event.kind == "answer":
                answer = event.value
        return answer

    def stream(self, question: str, history: list[dict] | None = None, filters: Filters | None = None,
               k: int | None = None, offline: bool = False) -> Iterator[Event]:
        """``offline=True`` answers extractively even when an LLM is configured."""
        question = (question or "").strip()
        if not question:
            raise QuestionError("Ask a question: the question is empty.")
        if len(question) > MAX_QUESTION_CHARS:
            raise QuestionError(f"The question is {len(question)} characters; keep it under {MAX_QUESTION_CHARS}.")
        begun = time.perf_counter()
        llm = None if offline else self.llm
        standalone = self.rewrite(question, history, use_llm=llm is not None)
        rewritten = time.perf_counter()
        if standalone != question:
            yield Event("query", standalone)
        started = time.perf_counter()  # after the rewrite: a follow-up's LLM call is not retrieval time
        passages = self.retriever.search(standalone, k or self.settings.k, filters)
        retrieved = time.perf_counter()

        answer = None
        if llm is not None:
            try:
                answer = yield from self._llm_answer(question, standalone, passages)
            except LLMError as error:
                notice = f"The language model failed ({error}); this is the offline answer, quoted from the documents."
                yield Event("notice", notice)
                answer = yield from self._offline_answer(question, standalone, history, passages)
                answer.mode, answer.notice = "offline-fallback", notice
                answer.warnings.insert(0, notice)
        if answer is None:
            answer = yield from self._offline_answer(question, standalone, history, passages)
        done = time.perf_counter()
        answer.timings_ms = {
            "retrieve": round((retrieved - started) * 1000, 1),
            "generate": round((done - retrieved) * 1000, 1),
            "total": round((done - begun) * 1000, 1),
        }
        if llm is not None and previous_questions(history):  # rewrite() asked the LLM
            answer.timings_ms["rewrite"] = round((rewritten - begun) * 1000, 1)
        yield Event("answer", answer)

    def rewrite(self, question: str, history: list[dict] | None, use_llm: bool = True) -> str:
        if not previous_questions(history):
            return question
        if self.llm is not None and use_llm:
            try:
                prompt = render(
                    "rewrite", question=question,
                    history="\n".join(f"- {q}" for q in previous_questions(history)[-4:]),
                )
                rewritten = self.llm.complete([{"role": "user", "content": prompt}], max_tokens=100).strip()
                rewritten = rewritten.splitlines()[0].strip().strip('"“”') if rewritten else ""
                if 3 <= len(rewritten) <= MAX_QUESTION_CHARS:
                    return rewritten
            except LLMError:
                pass  # the deterministic rewrite below still works
        return rewrite_offline(question, history)

    def document(self, doc_id: str) -> documents.StoredDocument | None:
        return self.retriever.document(doc_id)

    def reload(self) -> None:
        """After an ingest in this process: pick up new documents and the new BM25 index."""
        self._stats = None
        self.retriever.reload()

    # -- offline ---------------------------------------------------------------------
    def term_stats(self) -> TermStats:
        lexical = self.retriever.lexical()
        if self._stats is None or self._stats[0] != lexical.version:
            self._stats = (lexical.version, TermStats(lexical.texts))
        return self._stats[1]

    def _offline_answer(self, question, standalone, history, passages) -> Iterator[Event]:
        context = standalone[len(question):] if standalone.startswith(question) else ""
        draft = compose(question, passages, self.term_stats(), context=context + " " + _alias_terms(question, self.aliases))
        if draft.refused:
            yield Event("token", REFUSAL)
            return self._refusal(question, standalone, passages, "offline")
        citations = []
        for n, (index, spans) in enumerate(draft.used, start=1):
            citation = self._citation(n, passages[index])
            citation.highlights = spans
            citations.append(citation)
        for line in draft.lines:
            yield Event("token", line + "\n")
        return Answer(question, standalone, "\n".join(draft.lines), False, "offline", citations,
                      framing_warnings(citations))

    def _refusal(self, question, standalone, passages, mode) -> Answer:
        closest = [self._citation(n, p) for n, p in enumerate(passages[:3], start=1)]
        return Answer(question, standalone, REFUSAL, True, mode, [], [], closest=closest)

    def _citation(self, n: int, passage: Passage) -> Citation:
        return make_citation(n, passage, self.document(passage.doc_id))

    # -- LLM -------------------------------------------------------------------------
    def _llm_answer(self, question, standalone, passages) -> Iterator[Event]:
        blocks = []
        for n, p in enumerate(passages, start=1):
            rating = f"PARTISAN: {p.meta.get('label')}" if p.meta.get("partisan") else f"rated: {p.meta.get('label')}"
            header = {"outlet": p.meta.get("outlet", "?"), "segment": p.meta.get("segment_label", ""),
                      "published": p.meta.get("published_iso") or p.meta.get("published") or "undated",
                      "rating": rating}
            # Everything here but n comes from documents: a header value stays on its line, and no value
            # can close a passage's <<< >>> block or open a fake one.
            header = {key: _as_data(" ".join(str(value).split())) for key, value in header.items()}
            blocks.append(render("passage", n=n, text=_as_data(p.text), **header))
        messages = [
            {"role": "system", "content": render("answer_system")},
            {"role": "user", "content": render("answer_user", question=standalone, passages="\n\n".join(blocks))},
        ]
        raw = ""
        for piece in self.llm.stream(messages):
            raw += piece
            yield Event("token", piece)
        return self._validate(question, standalone, raw, passages)

    def _validate(self, question, standalone, raw: str, passages: list[Passage]) -> Answer:
        """Drop citation numbers that resolve to nothing, renumber, and check every sentence's support."""
        removed = sorted({f"[{n}]" for n in cited_numbers(raw) if not 1 <= n <= len(passages)})
        order: list[int] = []  # passage indexes in order of first citation
        for n in cited_numbers(raw):
            if 1 <= n <= len(passages) and n - 1 not in order:
                order.append(n - 1)

        def renumber(match: re.Match) -> str:
            valid = [order.index(n - 1) + 1 for n in cited_numbers(match.group()) if 1 <= n <= len(passages)]
            return "".join(f"[{n}]" for n in dict.fromkeys(valid))

        text = MARKER.sub(renumber, raw).strip()
        if not order and META.search(fold(text)):
            answer = self._refusal(question, standalone, passages, "llm")
            answer.removed_citations = removed
            return answer

        citations = [self._citation(i + 1, passages[index]) for i, index in enumerate(order)]
        by_n = {c.n: c.passage.text for c in citations}
        context = {c.n: c.metadata_text() for c in citations}
        embedder = self.retriever.embedder
        lines, unsupported = [], []
        checks = check_answer(split_answer(text), by_n, context, self.aliases, embedder)
        for result in checks:
            sentence = result.sentence
            if result.supported:
                lines.append(sentence)
            else:
                unsupported.append(sentence)
                lines.append(f"{sentence} [unsupported: {result.reasons[0]}]")
        for citation in citations:
            citation.highlights = _best_sentences(citation.passage.text, [s for s in lines if f"[{citation.n}]" in s])
        answer = Answer(question, standalone, " ".join(lines), False, "llm", citations, framing_warnings(citations),
                        unsupported_sentences=unsupported, removed_citations=removed, checks=checks)
        if removed:
            answer.warnings.append(f"Removed citation(s) {', '.join(removed)}: no such passage.")
        if unsupported:
            answer.warnings.append(
                f"{len(unsupported)} sentence(s) are not supported by the passages they cite and are marked."
            )
        return answer


def _as_data(value: str) -> str:
    """Break up runs of the prompt's passage delimiters (<<< and >>>) inside a document-derived value."""
    return _DELIMITER.sub(lambda m: " ".join(m.group()), value)


_DELIMITER = re.compile(r"<{3,}|>{3,}")


def _alias_terms(question: str, aliases: list[list[str]]) -> str:
    return expand_query(question, aliases)[len(question):]


def _best_sentences(passage: str, answer_sentences: list[str]) -> list[tuple[int, int]]:
    """The passage sentence(s) sharing most words with the answer sentences that cite it."""
    wanted = set(content_words(" ".join(answer_sentences)))
    scored = [(len(wanted & set(content_words(s))), a, b) for a, b, s in sentences(passage)]
    scored = [row for row in scored if row[0] > 0]
    if not scored:
        return []
    top = max(scored)[0]
    return [(a, b) for score, a, b in scored if score == top][:2]
