"""The chat page: questions in, answers with numbered sources, warnings and the document view."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass, field

import streamlit as st

import rag
from rag import AnswerMode, EventKind, Filters
from ui import common, compare, render

EXAMPLES = [
    "What sanctions did Japan impose on Russia in December 2023?",
    "What did Lavrov say about the Kuril Islands?",
    "Why did Japan's delegation visit Russia in December 2025?",
]
MODE_LLM, MODE_OFFLINE = "Language model", "Offline (quotes only)"
USER_AVATAR, ASSISTANT_AVATAR = ":material/person:", ":material/menu_book:"


@dataclass
class Turn:
    question: str
    answer: object  # rag.answer.Answer
    filters: str = ""
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    at: str = field(default_factory=lambda: dt.datetime.now().strftime("%H:%M"))
    shown_ms: float | None = None  # server time of the run that answered, up to the final draw
    comparison: rag.Comparison | None = None  # per outlet, when the question compares sources


def _turns() -> list[Turn]:
    return st.session_state.setdefault("turns", [])


def _history(turns: list[Turn]) -> list[dict]:
    history = []
    for t in turns:
        history.append({"role": "user", "content": t.question})
        history.append({"role": "assistant", "content": t.answer.answer})
    return history


# -- sidebar ---------------------------------------------------------------------------------------
def _clear() -> None:
    for t in st.session_state.get("turns", []):
        st.session_state.pop(f"fb-{t.id}", None)
    st.session_state["turns"] = []
    st.session_state.pop("pending", None)


def sidebar(assistant, docs: list) -> tuple[Filters, int, bool]:
    """The answer mode (True: offline), passages to retrieve and filters the sidebar sets."""
    s = common.settings()
    sb = st.sidebar
    sb.markdown("#### Answer mode")
    offline = True
    if assistant.endpoint is not None:
        choice = sb.radio("Answer mode", [MODE_LLM, MODE_OFFLINE], key="mode", label_visibility="collapsed",
                          persist_state="session",
                          help="Offline answers quote sentences from the documents; the language model writes "
                               "an answer whose every sentence is checked against the passages it cites.")
        ok, text = common.llm_status(assistant.endpoint, assistant)
        sb.html(f'<div class="rag-turnmeta">{"🟢 reachable" if ok else "🔴 unreachable — answers fall back to offline"}'
                f"<br>{render.esc(text)}</div>")
        offline = choice != MODE_LLM
    else:
        sb.html('<div class="rag-turnmeta"><b>Offline</b> — answers quote sentences from the documents, '
                "each with its source. No language model is configured (set RAG_LLM_MODEL and "
                "OPENAI_BASE_URL to use one).</div>")
    k = sb.slider("Passages to retrieve", 2, 12, value=s.k, key="k", persist_state="session",
                  help="How many passages the answer may draw on.")

    filters = common.sidebar_filters(docs)

    return filters, k, offline


def sidebar_conversation() -> None:
    """Drawn after the question is answered, so the export already includes it."""
    s = common.settings()
    sb = st.sidebar
    sb.markdown("#### Conversation")
    turns = _turns()
    answers = [t.answer for t in turns]  # a copy: the callable runs later, outside this script run
    sb.download_button(
        # A callable: the Markdown is built when the button is clicked, not on every rerun.
        "Download as Markdown", data=lambda: rag.conversation_markdown(answers),
        file_name=f"conversation-{dt.date.today().isoformat()}.md", mime="text/markdown",
        disabled=not turns, icon=":material/download:", key="export", on_click="ignore",
        help="The questions and answers, with footnotes: outlet, date, URL, quoted passage and rating.",
    )
    sb.button("Clear conversation", on_click=_clear, disabled=not turns, icon=":material/delete_sweep:",
              key="clear")
    with sb.expander("Diagnostics"):
        rt = common.runtime()
        c = rt.counters
        st.html(
            '<div class="rag-turnmeta" data-testid="rag-diagnostics">'
            f"Embedding model loads: {rt.model_loads()}<br>Assistant loads: {c['assistant_loads']}<br>"
            f"Index builds: {c['ingest_build']} · corpus checks: {c['ingest_sync']} · uploads: {c['ingest_upload']}"
            f"<br>Reruns in this session: {st.session_state.get('reruns', 0)}<br>Data: {render.esc(s.data_dir)}</div>"
        )


# -- one answer -------------------------------------------------------------------------------------
def _on_feedback(turn_id: str) -> None:
    value = st.session_state.get(f"fb-{turn_id}")
    turn = next((t for t in _turns() if t.id == turn_id), None)
    if turn is None or value is None:
        return
    rag.record_feedback(common.settings().feedback_path, turn.answer, value, answer_id=turn.id,
                    session_id=st.session_state.setdefault("session_id", uuid.uuid4().hex[:12]))
    st.toast("Thanks — your feedback was saved.", icon=":material/check:")


def render_answer(turn: Turn) -> None:
    a = turn.answer
    if a.standalone_query and a.standalone_query != a.question:
        st.html(render.searched_for_html(a.standalone_query))
    if a.notice:
        st.html(render.notice_html(a.notice))
    banner = render.banner_html(a.warnings)
    if banner:
        st.html(banner)
    st.html(render.answer_html(a.answer, a.unsupported_sentences, a.refused))
    notes = render.notes_html(a.warnings)
    if notes:
        st.html(notes)
    cites, closest = (a.closest, True) if a.refused else (a.citations, False)
    if cites:
        title = "Closest passages — they do not answer the question" if closest else "Sources"
        st.html(f'<div class="rag-sources-title">{title}</div>')
        for i, c in enumerate(cites):
            with st.container(border=True, key=f"cite-{turn.id}-{i}"):
                st.html(render.citation_html(c, closest=closest))
                if st.button("Open document", key=f"open-{turn.id}-{i}", icon=":material/article:",
                             type="tertiary", help="Read the whole document with this passage highlighted"):
                    start = c.passage.start
                    common.show_document(c.doc_id, start, c.passage.end,
                                         tuple((start + x, start + y) for x, y in c.highlights))
    if turn.comparison is not None:
        # A constant label: an expander's label is Markdown, and the topic is the asker's text.
        with st.expander("Compare sources: what each outlet says", icon=":material/compare_arrows:"):
            compare.show_comparison(turn.comparison, f"t-{turn.id}", per_row=2)
    meta = [{AnswerMode.LLM: "Language model", AnswerMode.OFFLINE: "Offline quotes",
             AnswerMode.FALLBACK: "Offline fallback"}[a.mode]]
    if turn.filters:
        meta.append(turn.filters)
    st.html(f'<div class="rag-turnmeta">{" · ".join(render.esc(m) for m in meta)}</div>')
    row = st.container(horizontal=True, vertical_alignment="center", gap="medium")
    with row:
        st.feedback("thumbs", key=f"fb-{turn.id}", on_change=_on_feedback, args=(turn.id,))
        t = a.timings_ms or {}
        label = f"Timings · {t['total']:,.0f} ms" if t.get("total") is not None else "Timings"
        with st.expander(label, icon=":material/timer:", width=240):
            rows = [("Retrieve", t.get("retrieve")), ("Generate", t.get("generate")), ("Total", t.get("total"))]
            if turn.shown_ms is not None:
                rows.append(("Server run", turn.shown_ms))
            st.html('<table class="rag-timings">' + "".join(
                f"<tr><td>{k}</td><td>{'' if v is None else f'{v:,.0f} ms'}</td></tr>" for k, v in rows
            ) + "</table>")


def render_turn(turn: Turn) -> None:
    with st.chat_message("user", avatar=USER_AVATAR):
        st.html(render.user_html(turn.question))
    with st.chat_message("assistant", avatar=ASSISTANT_AVATAR):
        render_answer(turn)


# -- asking -----------------------------------------------------------------------------------------
def _comparison(assistant, question: str, filters: Filters) -> rag.Comparison | None:
    """Per outlet, what each says on the topic of a question that compares sources or asks about
    framing (None for other questions, or when nothing is left to compare on: "How do they frame it?")."""
    topic = rag.comparison_topic(question) if rag.is_comparison(question) else ""
    if not topic:
        return None
    try:
        return assistant.compare(topic, filters=filters)
    except rag.RagError:  # a topic with no word to look for: the answer alone, as ever
        return None


def ask(question: str, assistant, filters: Filters, k: int, offline: bool = False) -> None:
    turns = _turns()
    started = time.perf_counter()
    with st.chat_message("user", avatar=USER_AVATAR):
        st.html(render.user_html(question))
    with st.chat_message("assistant", avatar=ASSISTANT_AVATAR):
        live = st.empty()
        with live.container():
            query_slot, notice_slot, body = st.empty(), st.empty(), st.empty()
            body.html(render.answer_html("", streaming=True))
        text, answer = "", None
        try:
            for event in assistant.stream(question, _history(turns), filters, k, offline=offline):
                if event.kind is EventKind.QUERY:
                    query_slot.html(render.searched_for_html(event.value))
                elif event.kind is EventKind.TOKEN:
                    text += event.value
                    body.html(render.answer_html(text, streaming=True))
                elif event.kind is EventKind.NOTICE:
                    # The LLM failed mid-answer and the offline answer streams next: drop the
                    # partial sentence so it is not glued to the first offline quote.
                    notice_slot.html(render.notice_html(event.value))
                    text = ""
                    body.html(render.answer_html(text, streaming=True))
                elif event.kind is EventKind.ANSWER:
                    answer = event.value
        except rag.QuestionError as error:
            live.empty()
            st.html(render.notice_html(str(error)))
            return
        except Exception as error:  # keep the conversation usable; say what broke
            live.empty()
            st.html(render.failures_html([common.failure(error)], "The question could not be answered"))
            return
        turn = Turn(question, answer, filters.describe(), comparison=_comparison(assistant, question, filters))
        # Server time for this run up to the final draw: earlier turns, sidebar, retrieval, answer.
        turn.shown_ms = round((time.perf_counter() - st.session_state.get("_run_started", started)) * 1000, 1)
        turns.append(turn)
        live.empty()
        render_answer(turn)


def page() -> None:
    st.set_page_config(layout="centered")
    st.session_state["_run_started"] = time.perf_counter()
    st.session_state["reruns"] = st.session_state.get("reruns", 0) + 1
    settings = common.settings()
    assistant = common.assistant()
    docs = common.documents()  # once per run: the sidebar filters and the welcome text both need it
    filters, k, offline = sidebar(assistant, docs)

    turns = _turns()
    # Read the chat box first (it is pinned to the bottom anyway), so the welcome text is not drawn
    # above a question that is about to be answered in this same run.
    typed = st.chat_input("Ask a question about the documents…", max_chars=rag.MAX_QUESTION_CHARS, key="question")
    pending = typed or st.session_state.pop("pending", None)
    if not turns and not pending:
        st.markdown("## Ask the documents")
        st.html(
            '<div class="rag-intro">Answers quote the indexed documents, and every claim carries a numbered '
            "source you can open. Sources rated partisan are flagged beside the citation and above the answer. "
            f"{len(docs)} documents are indexed — see the Corpus page to browse or add more.</div>"
        )
        st.caption("Try one of these:")
        for i, q in enumerate(EXAMPLES):
            st.button(q, key=f"example-{i}", type="secondary", icon=":material/search:",
                      on_click=st.session_state.update, kwargs={"pending": q})
    for turn in turns:
        render_turn(turn)

    question = pending
    if question and question.strip():
        ask(question.strip(), assistant, filters, k or settings.k, offline)
    sidebar_conversation()
