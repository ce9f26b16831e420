"""The corpus page: every indexed document with its rating, the upload forms (one document with its
details; many files, ZIPs and saved pages at once: ``ui.bulk``) and the document manager (``ui.manage``)."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st
import yaml

import rag
from rag import DOC_TYPES, SUPPORTED, Rating, RatingOrigin
from ui import bulk, common, manage, render
from ui.manage import ORIGIN, RATING_CHOICES
from ui.style import RATING_COLOURS

UPLOAD_TYPES = [suffix.lstrip(".") for suffix in SUPPORTED]  # one list: whatever the loaders read
COLOURED_ROWS = 1000  # the most table rows whose rating cell is coloured (see ``table``)


def _rows(docs, uploads_dir: Path) -> pd.DataFrame:
    rows = []
    for d in docs:
        s = d.source
        rows.append({
            "Title": s.title, "Outlet": s.outlet, "Author": s.author or "", "Published": s.published_iso or "",
            "Type": s.doc_type, "Rating": s.rating.title, "Label": s.label if s.rating is not Rating.UNRATED else "",
            "Confidence": s.confidence or "", "Rated by": s.rated_by or "", "Rating from": ORIGIN[s.rating_origin],
            "Added": "upload" if Path(d.path).is_relative_to(uploads_dir) else "corpus",
            "Document id": d.doc_id,
        })
    frame = pd.DataFrame(rows, columns=["Title", "Outlet", "Author", "Published", "Type", "Rating", "Label",
                                        "Confidence", "Rated by", "Rating from", "Added", "Document id"])
    return frame


def _rating_style(value: str) -> str:
    kind = {Rating.PARTISAN.title: "partisan", Rating.NOT_PARTISAN.title: "rated"}.get(value, "unrated")
    bg, ink, _ = RATING_COLOURS[kind]
    return f"background-color: {bg}; color: {ink}; font-weight: 600"


@st.cache_resource(show_spinner=False, max_entries=2)
def _frame(data_dir: str, version: str, _docs, _uploads_dir: Path) -> pd.DataFrame:
    """The table of every document, made once per version of the stored documents (0.3 s at 21,000
    documents) and shared read-only: filters make new frames from it."""
    return _rows(_docs, _uploads_dir)


def table(docs, settings, version: str) -> None:
    """``version``: the ``rag.documents_version`` that ``docs`` were listed at."""
    frame = _frame(str(settings.data_dir), version, docs, settings.uploads_dir.resolve())
    partisan = int((frame["Rating"] == Rating.PARTISAN.title).sum()) if len(frame) else 0
    st.html(f'<div class="rag-intro">{len(frame)} documents indexed · {partisan} rated partisan. '
            "Click a column header to sort; select a row to read its rating and open the document.</div>")
    c1, c2, c3 = st.columns([2, 1, 1])
    query = c1.text_input("Search", placeholder="Title, outlet or author", key="corpus_q")
    ratings = c2.multiselect("Rating", RATING_CHOICES, key="corpus_rating", placeholder="Any rating")
    types = c3.multiselect("Type", sorted(set(frame["Type"])) if len(frame) else [], key="corpus_type",
                           placeholder="Any type")
    shown = frame
    if query:
        needle = query.casefold()
        mask = shown[["Title", "Outlet", "Author", "Document id"]].apply(
            lambda col: col.str.casefold().str.contains(needle, regex=False)).any(axis=1)
        shown = shown[mask]
    if ratings:
        shown = shown[shown["Rating"].isin(ratings)]
    if types:
        shown = shown[shown["Type"].isin(types)]
    shown = shown.reset_index(drop=True)
    # Colouring goes through pandas' Styler, which costs ~0.4 ms a row (1.1 s for 3,000, seconds
    # for a newsroom archive): a longer list shows the rating as text only until a filter narrows it.
    event = st.dataframe(
        shown.style.map(_rating_style, subset=["Rating"]) if len(shown) <= COLOURED_ROWS else shown,
        hide_index=True, key="corpus_table", on_select="rerun", selection_mode="single-row",
        column_config={
            "Title": st.column_config.TextColumn(width="large"),
            "Outlet": st.column_config.TextColumn(width="medium"),
            "Published": st.column_config.TextColumn(help="Best date for sorting (YYYY-MM-DD)"),
            "Rating": st.column_config.TextColumn(help="Partisan: treat its claims as the outlet's framing"),
            "Label": st.column_config.TextColumn(width="medium"),
        },
        column_order=["Rating", "Title", "Outlet", "Published", "Type", "Label", "Rating from", "Author",
                      "Confidence", "Rated by", "Added", "Document id"],
    )
    rows = event.selection.rows if event and hasattr(event, "selection") else []
    if not len(shown):
        st.html('<div class="rag-empty">No document matches these filters.</div>')
    if rows:
        doc_id = shown.iloc[rows[0]]["Document id"]
        doc = next((d for d in docs if d.doc_id == doc_id), None)
        if doc is not None:
            with st.container(border=True):
                st.html(render.doc_header_html(doc))
                if st.button("Open document", key=f"corpus-open-{doc_id}", icon=":material/article:"):
                    common.show_document(doc_id)


# -- upload ---------------------------------------------------------------------------------------------
def sidecar(title, outlet, author, published: dt.date | None, url, doc_type, rating, label, rationale) -> dict:
    rated = rating != Rating.UNRATED.title
    partisan = rating == Rating.PARTISAN.title
    framing = {
        "partisan": partisan,
        "label": (label.strip() or ("partisan (no label given)" if partisan else "not partisan")) if rated else "unrated",
        "rationale": rationale.strip() or None,
        "rated_by": "newsroom upload form" if rated else None,
        "rated_on": dt.date.today().isoformat() if rated else None,
    }
    meta = {
        "title": title.strip() or None, "outlet": outlet.strip() or None, "author": author.strip() or None,
        "published_iso": published.isoformat() if published else None,
        "published": published.isoformat() if published else None,
        "url": url.strip() or None, "doc_type": doc_type,
        "framing": {k: v for k, v in framing.items() if v is not None},
    }
    return {k: v for k, v in meta.items() if v is not None}


@dataclass
class SavedUpload:
    path: Path
    previous: dict[Path, bytes | None]  # what each written file held before (None: it did not exist)

    @property
    def replaced(self) -> bool:
        return self.previous[self.path] is not None

    def undo(self) -> None:
        """Put back what was there before: the earlier upload of this name (still the one indexed), or nothing."""
        for path, data in self.previous.items():
            if data is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(data)


def save_upload(settings, name: str, data: bytes, meta: dict) -> SavedUpload:
    """Write the file and its sidecar under the uploads folder, keeping the bytes they replace."""
    folder = settings.uploads_dir
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / rag.safe_file_name(name)
    meta_path = rag.sidecar_path(path)
    saved = SavedUpload(path, {p: p.read_bytes() if p.exists() else None for p in (path, meta_path)})
    path.write_bytes(data)
    meta_path.write_text(yaml.safe_dump(meta, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return saved


@st.fragment  # submitting reruns the form alone: the ingest starts at once, not after the table is redrawn
def upload_form(settings) -> None:
    st.markdown("### Add a document")
    st.html('<div class="rag-intro">Upload a .txt, .md, .html or .pdf file and describe its source. It is indexed '
            "right away and can be asked about on the Chat page. The rating you give is shown with every citation "
            "of it; rate a source partisan and every answer that cites it carries a framing warning.</div>")
    result_slot = st.empty()
    _show_result(result_slot)
    with st.form("upload", clear_on_submit=True, border=True, width=820, enter_to_submit=False):
        upload = st.file_uploader("File", type=UPLOAD_TYPES, key="upload_file",
                                  max_upload_size=int(settings.max_file_mb))
        c1, c2 = st.columns(2)
        title = c1.text_input("Title", placeholder="Headline as published")
        outlet = c2.text_input("Outlet", placeholder="e.g. Kyodo News")
        author = c1.text_input("Author", placeholder="Byline (leave empty if none)")
        published = c2.date_input("Published", value=None, format="YYYY-MM-DD", min_value=dt.date(1990, 1, 1))
        url = c1.text_input("URL", placeholder="https://… (stored as text, never opened)")
        doc_type = c2.selectbox("Type", DOC_TYPES, index=0)
        rating = st.radio("Rating", RATING_CHOICES, horizontal=True, index=2, key="upload_rating",
                          help="Partisan sources get a framing warning beside every citation.")
        label = st.text_input("Rating label", placeholder="e.g. Pro-Kremlin outlet, wire service, advocacy group")
        rationale = st.text_area("Why this rating", height=80, key="upload_why",
                                 placeholder="Quote the text or describe the outlet (optional)")
        submitted = st.form_submit_button("Upload and index", type="primary", icon=":material/upload:")
    if submitted:
        st.session_state.pop("upload_result", None)
        if upload is None:
            st.session_state["upload_result"] = ("error", "Choose a file to upload first.", None)
        else:
            _ingest_upload(settings, upload, sidecar(title, outlet, author, published, url, doc_type, rating,
                                                     label, rationale))
        # Said at once, where it belongs; then the whole page is redrawn with the new document in the
        # table. With thousands of documents that takes longer than the upload itself, so the result
        # is given a moment to reach the browser first (measured: 0.5-2 s later without it).
        _show_result(result_slot)
        time.sleep(0.3)
        st.rerun(scope="app")


def _ingest_upload(settings, upload, meta: dict) -> None:
    name = rag.safe_file_name(upload.name)
    if Path(name).suffix.lower() not in SUPPORTED:
        st.session_state["upload_result"] = ("error", f"{name}: unsupported file type.", None)
        return
    saved = save_upload(settings, name, upload.getvalue(), meta)
    path = saved.path
    rt = common.runtime()
    common.assistant()  # make sure the model is loaded once, before the ingest needs it
    job = common.watch(rt.upload_job([path]), f"Indexing {name}")
    report = job.report
    if job.error is not None or report is None or report.failed:
        failed = report.failed if report is not None and report.failed else [
            common.failure(job.error, str(path))]
        # A failed ingest leaves the index as it was, so the files go back to match it: nothing
        # half-added, and a broken re-upload does not destroy the good file it would have replaced.
        saved.undo()
        st.session_state["upload_result"] = ("failed", f"{name} could not be indexed", failed)
        return
    doc_id = rag.doc_id_for(path)
    title = meta.get("title") or name
    what = "updated" if saved.replaced or report.updated else "added"
    if not report.doc_ids:
        what = "already indexed (unchanged)"
    doc = common.assistant().document(doc_id)
    rated = ""
    if doc is not None and doc.source.rating_origin is RatingOrigin.REGISTRY:
        rated = f" Rated by the outlet registry ({doc.source.registry_match}); accept or change it in the table above."
    elif doc is not None and doc.source.rating is Rating.UNRATED:
        rated = " It is unrated: its claims are attributed to it as unverified until someone rates it."
    st.session_state["upload_result"] = (
        "ok", f"“{title}” ({doc_id}) {what} — the index now holds {report.documents} documents. "
              f"It is searchable now: ask about it on the Chat page.{rated}", None)


def _show_result(slot=None) -> None:
    """The last upload's outcome, in ``slot`` (an ``st.empty``) when given."""
    result = st.session_state.get("upload_result")
    if not result:
        return
    if slot is not None:
        with slot.container():
            _show_result()
        return
    kind, message, failed = result
    if kind == "ok":
        st.html(f'<div class="rag-upload-ok" role="status">✓ {render.esc(message)}</div>')
        from ui.nav import pages

        st.page_link(pages()["chat"], label="Ask about it on the Chat page", icon=":material/forum:")
    elif kind == "failed":
        st.html(render.failures_html(failed, message))
    else:
        st.html(render.failures_html([rag.Failure("upload", message)], "Nothing was uploaded"))


def page() -> None:
    st.set_page_config(layout="wide")  # the table needs the room
    settings = common.settings()
    st.markdown("## Corpus")
    version = rag.documents_version(settings)
    docs = common.documents(version)
    table(docs, settings, version)
    st.divider()
    upload_form(settings)
    st.divider()
    bulk.section(settings)
    st.divider()
    manage.section(docs, settings)
