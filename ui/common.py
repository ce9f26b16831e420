"""Streamlit glue shared by the pages: settings, the cached Runtime, progress, the document view."""

from __future__ import annotations

import datetime as dt
import hmac
import html
import time
import traceback

import streamlit as st

import rag
from rag import DOC_TYPES, Filters, Settings, SettingsError
from ui import render
from ui.runtime import IngestJob, Runtime
from ui.style import CSS


def inject_css() -> None:
    st.html(CSS)


def guard() -> None:
    """Before any page: error details for developers only, and the password when one is set."""
    s = settings()
    st.set_option("client.showErrorDetails", "full" if s.dev_mode else "none")
    if not s.app_password or st.session_state.get("signed_in"):
        return
    st.markdown("## Newsroom assistant")
    with st.form("sign-in", border=True, width=420):
        typed = st.text_input("Password", type="password", key="password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        if hmac.compare_digest(typed.encode("utf-8"), s.app_password.encode("utf-8")):
            st.session_state["signed_in"] = True
            st.session_state.pop("password", None)
            st.rerun()
        time.sleep(1.0)  # slows down guessing
        st.html('<div class="rag-failed" role="alert">Wrong password.</div>')
    st.stop()


def failure(error: BaseException, where: str | None = None) -> rag.Failure:
    """How an error is shown: a RagError's own one-line message; anything else (a bug) as a short
    notice, with the details in the log, or on screen in developer mode (RAG_DEV_MODE=1)."""
    where = where or type(error).__name__
    if isinstance(error, rag.RagError):
        return rag.Failure(where, str(error))
    s = settings()
    log_file = s.logs_dir / "errors.log"
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(log_file, "a", encoding="utf-8") as fh:
            fh.write("".join(traceback.format_exception(error)) + "\n")
    except OSError:
        log_file = None
    if s.dev_mode:
        return rag.Failure(where, f"{type(error).__name__}: {error}")
    return rag.Failure(where, f"an unexpected error ({type(error).__name__}); the details are in "
                              f"{log_file or 'the server log'}")


def settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as error:
        st.error(f"The assistant's configuration is invalid: {error}")
        st.stop()


def _settings_key(s: Settings) -> str:
    """One Runtime per configuration (the API key's repr is hidden; whether there is one counts)."""
    return f"{s!r} key={bool(s.openai_api_key)}"


@st.cache_resource(show_spinner=False)
def _runtime(key: str, _settings: Settings) -> Runtime:
    return Runtime(_settings)


def runtime() -> Runtime:
    s = settings()
    return _runtime(_settings_key(s), s)


def watch(job: IngestJob, title: str, note: str | None = None) -> IngestJob:
    """Show a progress bar until ``job`` finishes (the ingest runs in a worker thread)."""
    box = st.empty()
    with box.container():
        st.html(f"<b>{html.escape(title)}</b>")  # escaped HTML: a title is never parsed as markdown
        if note:
            st.caption(note)
        bar = st.progress(0.0, text="Starting…")
    while not job.wait(0.2):
        fraction, phase = job.snapshot()
        bar.progress(fraction, text=f"{phase} · {job.elapsed():.0f} s")
    bar.progress(1.0, text=f"Done in {job.elapsed():.1f} s")
    time.sleep(0.05)
    box.empty()
    return job


def ensure_index() -> None:
    """Build the index on the first run (or update it when the corpus changed), with progress."""
    rt = runtime()
    job = rt.corpus_job()
    if job is None:
        return
    if job.kind == "build":
        title = "Building the search index — first run only"
        note = ("The assistant reads the bundled documents, splits them into passages and embeds them. "
                "This happens once; afterwards answers take about a second.")
    else:
        title = "Checking the document folder against the index"
        note = "Only new or changed documents are re-read; unchanged ones are skipped."
    watch(job, title, note)
    if job.error is not None:
        # Escaped HTML, not st.error: the message may quote a file path, YAML or document text,
        # and st.error would render it as Markdown (links, images, backticks, "$" maths).
        st.html(render.failures_html([failure(job.error)], "The index could not be built"))
        st.stop()
    failed = job.report.failed if job.report else []
    if failed:
        st.html(render.failures_html(failed))


def assistant():
    """The one Assistant of this process, with a clear message for a broken index."""
    rt = runtime()
    try:
        return rt.assistant()
    except rag.RagError as error:  # no index, another embedding model, bad settings: one line
        st.html(render.failures_html([failure(error)], "The assistant could not start"))
        st.stop()


@st.cache_resource(show_spinner=False, max_entries=4)
def _documents(data_dir: str, version: str, _settings: Settings) -> list:
    """Read-only list shared by all sessions; a new one whenever a stored document changes."""
    return rag.list_documents(_settings)


def documents(version: str | None = None) -> list:
    """Every stored document; ``version``: ``rag.documents_version`` when the caller has it already."""
    s = settings()
    return _documents(str(s.data_dir), version if version is not None else rag.documents_version(s), s)


def sidebar_filters(docs: list) -> Filters:
    """The sidebar's filters (outlet, type, dates, partisan), shared by the chat and compare pages:
    the same widget keys, so a filter set on one page holds on the other."""
    sb = st.sidebar
    sb.markdown("#### Filters")
    outlets = sorted({d.source.outlet for d in docs})
    types = [t for t in DOC_TYPES if t in {d.source.doc_type for d in docs}] + sorted(
        {d.source.doc_type for d in docs} - set(DOC_TYPES))
    chosen_outlets = sb.multiselect("Outlet", outlets, key="f_outlets", persist_state="session",
                                    placeholder="All outlets")
    chosen_types = sb.multiselect("Document type", types, key="f_types", persist_state="session",
                                  placeholder="All types")
    date_from = sb.date_input("Published on or after", value=None, key="f_from", persist_state="session",
                              format="YYYY-MM-DD", min_value=dt.date(1990, 1, 1))
    date_to = sb.date_input("Published on or before", value=None, key="f_to", persist_state="session",
                            format="YYYY-MM-DD", min_value=dt.date(1990, 1, 1))
    no_partisan = sb.toggle("Exclude partisan sources", key="f_nopartisan", persist_state="session",
                            help="Use only sources not rated partisan (answers and comparisons).")
    return Filters(
        outlets=tuple(chosen_outlets), doc_types=tuple(chosen_types),
        date_from=date_from.isoformat() if date_from else None, date_to=date_to.isoformat() if date_to else None,
        partisan=False if no_partisan else None,
    )


@st.cache_data(show_spinner=False, ttl=30)
def llm_status(endpoint, _assistant) -> tuple[bool, str]:
    """Is the LLM reachable? Asked at most every 30 s per endpoint."""
    return _assistant.endpoint_status()


@st.dialog("Document", width="large")
def show_document(doc_id: str, start: int | None = None, end: int | None = None,
                  highlights: tuple = ()) -> None:
    doc = assistant().document(doc_id)
    if doc is None:
        st.error("This document is no longer in the index.")
        return
    st.html(render.doc_header_html(doc))
    if start is not None:
        st.html('<div class="rag-turnmeta">The cited passage is shaded blue; the quoted sentence is highlighted '
                "yellow. Document text is shown exactly as stored: nothing in it is a link.</div>")
    body, anchor = render.document_html(doc, start, end, highlights)
    st.html(body)
    if start is not None:
        st.html(render.scroll_script(anchor), unsafe_allow_javascript=True)
