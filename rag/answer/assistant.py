"""The one API the CLI, the app and the evals share.

    >>> assistant = Assistant(Settings.from_env())                                   # doctest: +SKIP
    >>> a = assistant.ask("What sanctions did Japan impose on Russia in December 2023?")  # doctest: +SKIP
    >>> a.citations[0].doc_id, a.warnings[0].kind                                     # doctest: +SKIP
    ('003_b5aeacde14fc594e', <WarningKind.PARTISAN_SOURCE: 'partisan_source'>)
    >>> b = assistant.ask("How did Moscow respond?", history=[{"role": "user", "content": a.question}])  # doctest: +SKIP

``stream`` yields ``Event``s as the answer is built (the rewritten query, text pieces, the
final ``Answer``); ``ask`` runs it to the end. The index and the model are loaded once per
Assistant, so a warm question costs tens of milliseconds offline.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Iterator

from ..errors import LLMError, QuestionError
from ..index import Index
from ..model import (Answer, AnswerMode, Citation, Document, Event, EventKind, Filters, Outcome, Passage, Warning,
                     WarningKind)
from ..settings import Settings
from ..text import content_words, fold, sentences
from .compare import compare as compare_sources
from .comparison import Comparison
from .extractive import INDIRECT, NOT_FOUND, NOTHING_MORE, TOUCHES_ON, compose, surroundings
from .followup import (earlier_words, previous_questions, rewrite_offline, said_before, with_person,
                       without_history)
from .framing import cite, framing_warnings, injection_warnings
from .injection import as_data as quote_instructions
from .injection import instructions, without
from .llm import LLM
from .prompts import Prompts
from .places import capital_groups, place_names
from .question import analyse, load_aliases
from .retrieval import Retriever
from .support import MARKER, META, check_answer, cited_numbers, split_answer

MAX_QUESTION_CHARS = 2000


@dataclass(frozen=True)
class Endpoint:
    """Where LLM answers come from (no key: it is never shown or logged)."""

    model: str
    base_url: str


class Assistant:
    def __init__(self, settings: Settings | None = None, llm: LLM | None = None, encoder=None):
        """``encoder`` replaces the configured embedding model's encoder (it must give the same
        vectors: the index was built with them), e.g. an ``EncodeCache`` around it for the evals."""
        self.settings = settings or Settings.from_env()
        self.index = Index.open(self.settings, encoder)
        aliases = load_aliases(str(self.settings.aliases_path))
        self._retriever = Retriever(self.index, aliases, self.settings.k)
        # "Moscow" for Russia, on any corpus: read as the same name in the passages, not searched for
        self._aliases = aliases + capital_groups() if self.settings.place_aliases else aliases
        self._llm = llm if llm is not None else (LLM(self.settings) if self.settings.llm_configured else None)
        self._prompts = Prompts(self.settings.prompts_dir)

    # -- what it is ------------------------------------------------------------------------------------
    @property
    def mode(self) -> AnswerMode:
        return AnswerMode.LLM if self._llm else AnswerMode.OFFLINE

    @property
    def aliases(self) -> list[list[str]]:
        return self._aliases

    @property
    def encoder(self):
        """The encoder the index searches with (``encode(texts) -> vectors``)."""
        return self.index.encoder

    @property
    def endpoint(self) -> Endpoint | None:
        return Endpoint(self._llm.model, self._llm.base_url) if self._llm else None

    def endpoint_status(self) -> tuple[bool, str]:
        """Is the LLM reachable now? (False with a reason when there is none.)"""
        return self._llm.status() if self._llm else (False, "no language model configured")

    # -- asking --------------------------------------------------------------------------------------
    def ask(self, question: str, history: list[dict] | None = None, filters: Filters | None = None,
            k: int | None = None, offline: bool = False) -> Answer:
        answer = None
        for event in self.stream(question, history, filters, k, offline):
            if event.kind is EventKind.ANSWER:
                answer = event.value
        return answer

    def replay(self, turns: list[dict], filters: Filters | None = None, k: int | None = None) -> list[dict]:
        """A conversation as the app holds it, for a follow-up's ``history``: each question with the
        answer it got. A question the turns already answer keeps that answer; one they do not is
        asked now, after the turns before it ("he" may be whom an earlier answer named).

        ``turns``: {"role": "user" | "assistant", "content": ...}, oldest first."""
        played: list[dict] = []
        for i, turn in enumerate(turns):
            played.append(turn)
            answered = i + 1 < len(turns) and turns[i + 1].get("role") == "assistant"
            if turn.get("role") == "user" and not answered:
                earlier = self.ask(turn["content"], history=played[:-1] or None, filters=filters, k=k)
                played.append({"role": "assistant", "content": earlier.answer})
        return played

    def stream(self, question: str, history: list[dict] | None = None, filters: Filters | None = None,
               k: int | None = None, offline: bool = False) -> Iterator[Event]:
        """``offline=True`` answers extractively even when an LLM is configured."""
        question = check_question(question)
        begun = time.perf_counter()
        llm = None if offline else self._llm
        standalone = self.rewrite(question, history, use_llm=llm is not None)
        rewritten = time.perf_counter()
        if standalone != question:
            yield Event(EventKind.QUERY, standalone)
        started = time.perf_counter()  # after the rewrite: a follow-up's LLM call is not retrieval time
        passages = self.search(standalone, k, filters)
        retrieved = time.perf_counter()

        answer = None
        if llm is not None:
            try:
                answer = yield from self._llm_answer(question, standalone, passages)
            except LLMError as error:
                notice = f"The language model failed ({error}); this is the offline answer, quoted from the documents."
                yield Event(EventKind.NOTICE, notice)
                answer = yield from self._offline_answer(question, standalone, passages, said_before(question, history))
                answer.mode = AnswerMode.FALLBACK
                answer.warnings.insert(0, Warning(WarningKind.LLM_FALLBACK, notice))
        if answer is None:
            answer = yield from self._offline_answer(question, standalone, passages, said_before(question, history))
        done = time.perf_counter()
        answer.timings_ms = {
            "retrieve": round((retrieved - started) * 1000, 1),
            "generate": round((done - retrieved) * 1000, 1),
            "total": round((done - begun) * 1000, 1),
        }
        if llm is not None and previous_questions(history):  # rewrite() asked the LLM
            answer.timings_ms["rewrite"] = round((rewritten - begun) * 1000, 1)
        missing = self.index.incomplete()
        if missing is not None:
            answer.warnings.insert(0, Warning(WarningKind.INDEX_INCOMPLETE, incomplete_text(missing)))
        yield Event(EventKind.ANSWER, answer)

    def search(self, query: str, k: int | None = None, filters: Filters | None = None) -> list[Passage]:
        """The passages an answer to ``query`` would draw on, best first (no answer is built)."""
        return self._retriever.search(query, k or self.settings.k, filters)

    def compare(self, topic: str, k: int | None = None, filters: Filters | None = None) -> Comparison:
        """Per outlet, what it says on ``topic``, side by side (``rag.answer.compare``; k: 30 passages)."""
        missing = self.index.incomplete()
        notes = [Warning(WarningKind.INDEX_INCOMPLETE, incomplete_text(missing))] if missing is not None else []
        return compare_sources(self, topic, k, filters, notes)

    def rewrite(self, question: str, history: list[dict] | None, use_llm: bool = True) -> str:
        """A follow-up as a standalone query (the question itself when it stands alone)."""
        if not previous_questions(history):
            return question
        if self._llm is not None and use_llm:
            try:
                # "he" already read as whom an earlier answer named, when the history carries it
                prompt = self._prompts.render(
                    "rewrite", question=with_person(question, history),
                    history="\n".join(f"- {q}" for q in previous_questions(history)[-4:]),
                )
                rewritten = self._llm.complete([{"role": "user", "content": prompt}], max_tokens=100).strip()
                rewritten = rewritten.splitlines()[0].strip().strip('"“”') if rewritten else ""
                if 3 <= len(rewritten) <= MAX_QUESTION_CHARS:
                    return rewritten
            except LLMError:
                pass  # the deterministic rewrite below still works
        return rewrite_offline(question, history)

    # -- documents -------------------------------------------------------------------------------
    def document(self, doc_id: str) -> Document | None:
        return self.index.document(doc_id)

    def documents(self) -> list[Document]:
        return self.index.documents()

    def reload(self) -> None:
        """After an ingest in this process: pick up new documents and the new BM25 index."""
        self.index.reload()

    def warm_up(self) -> None:
        """Load the model, the BM25 snapshot and GeoNames' place names now, so the first question
        is as fast as any."""
        self.search("warm up the encoder and the BM25 index", k=1)
        place_names()  # with country_names(), which it builds on

    # -- offline ---------------------------------------------------------------------------------
    def _offline_answer(self, question, standalone, passages, said=()) -> Iterator[Event]:
        """``said``: what the last answer quoted, when the question asks for more ("What else did he say?")."""
        context = earlier_words(standalone)  # the earlier question's own words
        # A name's other names (aliases.yaml) are alternatives for it (``Needs.present``), not more words to cover.
        encode = self.encoder.encode

        def closeness(texts: list[str]):  # cosine of each text with the question (unit vectors)
            return encode(texts) @ self._retriever.query_vector(standalone)  # searched with: not encoded again

        # the follow-up as the offline rewrite read it ("What did Lavrov say?" for "What did he say?")
        asked = without_history(standalone) if context else question
        needs = analyse(asked, self.aliases, context=context)
        around = surroundings(passages, self.document)  # the names a passage leaves to "he" are written there
        draft = compose(needs, passages, encode=encode, closeness=closeness, said_before=said, around=around)
        if draft.refused:
            text = TOUCHES_ON if draft.outcome is Outcome.TOUCHES_ON else NOT_FOUND
            if said and not compose(needs, passages, encode=encode, closeness=closeness, around=around).refused:
                text = NOTHING_MORE  # "What else did he say?": what there is, the last answer quoted
            yield Event(EventKind.TOKEN, text)
            closest = [passages[i] for i in draft.closest] if draft.closest else passages
            return self._refusal(question, standalone, closest, AnswerMode.OFFLINE, draft.outcome, text)
        citations = []
        for n, (index, spans) in enumerate(draft.used, start=1):
            citation = self._cite(n, passages[index])
            citation.highlights = spans
            citations.append(citation)
        for line in draft.lines:
            yield Event(EventKind.TOKEN, line + "\n")
        self._set_aside(passages, {index for index, _ in draft.used}, citations)
        warnings = framing_warnings(citations)
        if not draft.direct:
            warnings.append(Warning(WarningKind.INDIRECT_EVIDENCE, INDIRECT, tuple(c.n for c in citations)))
        return Answer(question, standalone, "\n".join(draft.lines), False, AnswerMode.OFFLINE, citations, warnings)

    def _refusal(self, question, standalone, passages, mode: AnswerMode, outcome: Outcome = Outcome.NOT_FOUND,
                 text: str = NOT_FOUND) -> Answer:
        closest = [self._cite(n, p) for n, p in enumerate(passages[:3], start=1)]
        return Answer(question, standalone, text, True, mode, [], injection_warnings(closest), closest=closest,
                      outcome=outcome)

    def _cite(self, n: int, passage: Passage) -> Citation:
        return cite(n, passage, self.index.document(passage.doc_id), self.settings.cues_file)

    def _set_aside(self, passages: list[Passage], used: set[int], citations: list[Citation]) -> None:
        """Retrieved passages holding text addressed to a model, not cited: listed after the cited
        ones (no sentence of theirs is quoted), so the reader sees what was set aside and why."""
        for i, passage in enumerate(passages):
            if i not in used and instructions(passage.text):
                citations.append(self._cite(len(citations) + 1, passage))

    # -- LLM -------------------------------------------------------------------------------------
    def _llm_answer(self, question, standalone, passages: list[Passage]) -> Iterator[Event]:
        blocks = []
        for n, p in enumerate(passages, start=1):
            header = {"outlet": p.source.outlet, "segment": p.segment_label,
                      "published": p.source.date_text, "rating": p.source.rating_text()}
            # Everything here but n comes from documents: a header value stays on its line, and no value
            # can close a passage's <<< >>> block or open a fake one.
            header = {key: _as_data(" ".join(str(value).split())) for key, value in header.items()}
            blocks.append(self._prompts.render("passage", n=n, text=_as_data(quote_instructions(p.text)), **header))
        messages = [
            {"role": "system", "content": self._prompts.render("answer_system")},
            {"role": "user", "content": self._prompts.render("answer_user", question=standalone,
                                                             passages="\n\n".join(blocks))},
        ]
        raw = ""
        for piece in self._llm.stream(messages):
            raw += piece
            yield Event(EventKind.TOKEN, piece)
        if not raw.strip():
            raise LLMError("the LLM returned an empty answer")
        return self._validate(question, standalone, raw, passages)

    def _validate(self, question, standalone, raw: str, passages: list[Passage]) -> Answer:
        """Drop citation numbers that resolve to nothing, renumber, and check every sentence's support."""
        signed = {re.sub(r"\s+", "", m.group()) for m in _SIGNED_MARKER.finditer(raw)}  # "[-1]": no passage has that number
        raw = _SIGNED_MARKER.sub("", raw)
        removed = sorted({f"[{n}]" for n in cited_numbers(raw) if not 1 <= n <= len(passages)} | signed)
        order: list[int] = []  # passage indexes in order of first citation
        for n in cited_numbers(raw):
            if 1 <= n <= len(passages) and n - 1 not in order:
                order.append(n - 1)

        def renumber(match: re.Match) -> str:
            valid = [order.index(n - 1) + 1 for n in cited_numbers(match.group()) if 1 <= n <= len(passages)]
            return "".join(f"[{n}]" for n in dict.fromkeys(valid))

        text = MARKER.sub(renumber, raw).strip()
        if not order and META.search(fold(text)):
            answer = self._refusal(question, standalone, passages, AnswerMode.LLM)
            answer.removed_citations = removed
            return answer

        citations = [self._cite(i + 1, passages[index]) for i, index in enumerate(order)]
        # A sentence addressed to a model is no evidence: the check sees the passages without them.
        marks = {c.n: instructions(c.passage.text) for c in citations}
        by_n = {c.n: without(c.passage.text, marks[c.n]) for c in citations}
        context = {c.n: c.metadata_text() for c in citations}
        lines, unsupported = [], []
        checks = check_answer(split_answer(text), by_n, context, self.aliases, self.encoder)
        if any(marks.values()):
            full = check_answer([r.sentence for r in checks], {c.n: c.passage.text for c in citations}, context,
                                self.aliases, self.encoder)
            for result, with_marks in zip(checks, full):
                if not result.supported and with_marks.supported:
                    result.reasons.insert(0, "its only support is a sentence marked as possible prompt injection")
        self._set_aside(passages, set(order), citations)
        for result in checks:
            sentence = result.sentence
            if result.supported:
                lines.append(sentence)
            else:
                unsupported.append(sentence)
                lines.append(f"{sentence} [unsupported: {result.reasons[0]}]")
        for citation in citations:
            citation.highlights = _best_sentences(citation.passage.text, [s for s in lines if f"[{citation.n}]" in s])
        answer = Answer(question, standalone, " ".join(lines), False, AnswerMode.LLM, citations,
                        framing_warnings(citations), unsupported_sentences=unsupported, removed_citations=removed,
                        checks=checks)
        if removed:
            answer.warnings.append(Warning(WarningKind.REMOVED_CITATION,
                                           f"Removed citation(s) {', '.join(removed)}: no such passage."))
        if unsupported:
            answer.warnings.append(Warning(
                WarningKind.UNSUPPORTED,
                f"{len(unsupported)} sentence(s) are not supported by the passages they cite and are marked."))
        return answer


def incomplete_text(missing: int) -> str:
    what = f"{missing} document(s) not yet indexed" if missing else "its last step did not run"
    return (f"The index is incomplete: an ingest was interrupted ({what}). Answers may miss those documents; "
            "run python -m rag ingest to finish it.")


def check_question(question: str | None) -> str:
    """The question, stripped; QuestionError when it is empty or too long."""
    question = (question or "").strip()
    if not question:
        raise QuestionError("Ask a question: the question is empty.")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionError(f"The question is {len(question)} characters; keep it under {MAX_QUESTION_CHARS}.")
    return question


def _as_data(value: str) -> str:
    """Break up runs of the prompt's passage delimiters (<<< and >>>) inside a document-derived value."""
    return _DELIMITER.sub(lambda m: " ".join(m.group()), value)


_DELIMITER = re.compile(r"<{3,}|>{3,}")
_SIGNED_MARKER = re.compile(r"\s?\[\s*[-+]\s*\d+(?:\s*,\s*[-+]?\s*\d+)*\s*\]")


def _best_sentences(passage: str, answer_sentences: list[str]) -> list[tuple[int, int]]:
    """The passage sentence(s) sharing most words with the answer sentences that cite it."""
    wanted = set(content_words(" ".join(answer_sentences)))
    scored = [(len(wanted & set(content_words(s))), a, b) for a, b, s in sentences(passage)]
    scored = [row for row in scored if row[0] > 0]
    if not scored:
        return []
    top = max(scored)[0]
    return [(a, b) for score, a, b in scored if score == top][:2]
