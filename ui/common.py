"""Streamlit glue shared by the pages: settings, the cached Runtime, progress, the document view."""

from __future__ import annotations

import html
import time

import streamlit as st

import rag
from rag import Settings, SettingsError
from ui import render
from ui.runtime import IngestJob, Runtime
from ui.style import CSS


def inject_css() -> None:
    st.html(CSS)


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
        st.html(render.failures_html([rag.Failure(type(job.error).__name__, str(job.error))],
                                     "The index could not be built"))
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
        st.html(render.failures_html([rag.Failure(type(error).__name__, str(error))],
                                     "The assistant could not start"))
        st.stop()


@st.cache_resource(show_spinner=False, max_entries=4)
def _documents(data_dir: str, version: tuple, _settings: Settings) -> list:
    """Read-only list shared by all sessions; a new one whenever a stored document changes."""
    return rag.list_documents(_settings)


def documents() -> list:
    s = settings()
    return _documents(str(s.data_dir), rag.documents_version(s), s)


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
