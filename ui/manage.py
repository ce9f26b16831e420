"""The corpus page's document manager: review a rating, edit the metadata, read the ingest history,
delete. Every change re-indexes that one document only (or, for a deletion, removes it everywhere)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable

import pandas as pd
import streamlit as st

import rag
from rag import DOC_TYPES, Rating, RatingOrigin
from ui import common, render

ORIGIN = {RatingOrigin.USER: "newsroom", RatingOrigin.REGISTRY: "outlet registry", RatingOrigin.NONE: "—"}
RATING_CHOICES = [Rating.NOT_PARTISAN.title, Rating.PARTISAN.title, Rating.UNRATED.title]


def section(docs, settings) -> None:
    """Pick a document (registry matches first: they wait for an editor) and manage it."""
    if not docs:
        return
    st.markdown("### Review, edit or delete a document")
    _show_result()
    order = sorted(docs, key=lambda d: (d.source.rating_origin is not RatingOrigin.REGISTRY, d.source.title.lower()))
    pending = sum(d.source.rating_origin is RatingOrigin.REGISTRY for d in docs)
    st.html(f'<div class="rag-intro">{pending} document(s) rated by the outlet registry, listed first: accept '
            "each match as the newsroom's rating or give your own. Your rating always wins over the registry. "
            "Editing a document re-indexes it alone.</div>")
    ids = [d.doc_id for d in order]
    if st.session_state.get("rate_doc") not in (None, *ids):
        st.session_state.pop("rate_doc")  # deleted meanwhile (here or in another session)
    by_id = {d.doc_id: d for d in order}  # (a search per option was quadratic: 90 s for 21,000 documents)
    doc_id = st.selectbox("Document", ids, key="rate_doc", format_func=lambda i: _choice_text(by_id[i]))
    doc = by_id[doc_id]
    with st.container(border=True, width=820):
        st.html(render.doc_header_html(doc))
        rating_editor(doc)
        details_editor(doc)
        history(doc, settings)
        delete_control(doc, settings)


def _choice_text(doc) -> str:
    s = doc.source
    return f"{s.title[:70]} — {s.outlet[:40]} · {s.rating.title} ({ORIGIN[s.rating_origin]})"


# -- the rating -----------------------------------------------------------------------------------------
def rating_editor(doc) -> None:
    """Accept a registry match as the newsroom's rating, or override any rating; the document alone is
    re-indexed. The rating goes into the document's sidecar, so it wins over the registry from then on."""
    s = doc.source
    key = f"rate-{doc.doc_id}"
    if s.rating_origin is RatingOrigin.REGISTRY:
        st.html(f'<div class="rag-intro">Rated by the outlet registry: {render.esc(s.registry_match)}. '
                "Accept it as the newsroom's rating, or give your own below.</div>")
        if st.button("Accept the registry's rating", key=f"{key}-accept", icon=":material/check:"):
            _rate(doc, s.partisan, s.label, s.rationale or "", f"editor (accepted the registry rating by {s.rated_by})")
    with st.expander("Change this document's rating", expanded=s.rating_origin is not RatingOrigin.REGISTRY):
        with st.form(f"{key}-form", border=False, enter_to_submit=False):
            choice = st.radio("Rating", RATING_CHOICES, horizontal=True,
                              index=RATING_CHOICES.index(s.rating.title), key=f"{key}-choice")
            label = st.text_input("Rating label", value=s.label if s.rating is not Rating.UNRATED else "",
                                  key=f"{key}-label")
            rationale = st.text_area("Why this rating", value=s.rationale or "", height=80, key=f"{key}-why")
            if st.form_submit_button("Save rating and re-index this document", type="primary"):
                partisan = None if choice == Rating.UNRATED.title else choice == Rating.PARTISAN.title
                _rate(doc, partisan, label, rationale, "editor (corpus page)")


def _rate(doc, partisan: bool | None, label: str, rationale: str, rated_by: str) -> None:
    reindex(doc, lambda path: rag.rate_document(path, partisan, label, rationale, rated_by,
                                                dt.date.today().isoformat()),
            f"rating saved ({rated_by})", "the rating could not be applied")


# -- the metadata ---------------------------------------------------------------------------------------
def details_editor(doc) -> None:
    s, key = doc.source, f"edit-{doc.doc_id}"
    with st.expander("Edit title, outlet, author, date, URL and type"):
        with st.form(f"{key}-form", border=False, enter_to_submit=False):
            c1, c2 = st.columns(2)
            title = c1.text_input("Title", value=s.title, key=f"{key}-title")
            outlet = c2.text_input("Outlet", value="" if s.outlet == "unknown outlet" else s.outlet, key=f"{key}-outlet")
            author = c1.text_input("Author", value=s.author or "", key=f"{key}-author")
            published = c2.date_input("Published", value=_day(s.published_iso), format="YYYY-MM-DD",
                                      min_value=dt.date(1990, 1, 1), key=f"{key}-published")
            url = c1.text_input("URL", value=s.url or "", key=f"{key}-url", help="Stored as text, never opened")
            doc_type = c2.selectbox("Type", DOC_TYPES, key=f"{key}-type",
                                    index=DOC_TYPES.index(s.doc_type) if s.doc_type in DOC_TYPES else len(DOC_TYPES) - 1)
            st.caption("A field you empty falls back to the corpus registry's value or the page's own, if any.")
            submitted = st.form_submit_button("Save details and re-index this document", type="primary")
    if submitted:
        wanted = {"title": title.strip(), "outlet": outlet.strip(), "author": author.strip(), "url": url.strip(),
                  "doc_type": doc_type, "published_iso": published.isoformat() if published else ""}
        current = {"title": s.title, "outlet": "" if s.outlet == "unknown outlet" else s.outlet, "author": s.author or "",
                   "url": s.url or "", "doc_type": s.doc_type, "published_iso": s.published_iso or ""}
        changes = {k: v for k, v in wanted.items() if v != current[k]}
        if "published_iso" in changes:
            changes["published"] = changes["published_iso"]
        if not changes:
            st.session_state["manage_result"] = ("ok", f"{doc.doc_id}: nothing changed.")
            st.rerun()
        reindex(doc, lambda path: rag.update_sidecar(path, changes), f"details saved ({', '.join(sorted(changes))})",
                "the details could not be applied")


def _day(iso: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(iso) if iso else None
    except ValueError:
        return None


def reindex(doc, write: Callable[[Path], object], done: str, failed: str) -> None:
    """Write the document's sidecar, re-index that one file; if anything fails, put the sidecar back
    (the index still holds the document as it was)."""
    path = Path(doc.path)
    side = rag.sidecar_path(path)
    before = side.read_bytes() if side.exists() else None
    try:
        write(path)
        job = common.watch(common.runtime().upload_job([path]), f"Re-indexing {doc.doc_id}")
        reason = (common.failure(job.error).reason if job.error is not None else
                  job.report.failed[0].reason if job.report.failed else None)
    except (rag.RagError, OSError) as error:
        reason = common.failure(error).reason
    if reason is None:
        st.session_state["manage_result"] = ("ok", f"{doc.doc_id}: {done}.")
    else:
        if before is None:
            side.unlink(missing_ok=True)
        else:
            side.write_bytes(before)
        st.session_state["manage_result"] = ("error", f"{doc.doc_id}: {failed} ({reason}); nothing changed.")
    st.rerun()


def _show_result() -> None:
    result = st.session_state.pop("manage_result", None)
    if result:
        kind, message = result
        cls = "rag-upload-ok" if kind == "ok" else "rag-failed"
        st.html(f'<div class="{cls}" role="status">{render.esc(message)}</div>')


# -- history and deletion ---------------------------------------------------------------------------------
def history(doc, settings) -> None:
    with st.expander("Ingest history"):
        entries = rag.document_history(settings, doc.doc_id)
        st.html(f'<div class="rag-intro">Read from <code>{render.esc(doc.path)}</code> · index hash '
                f"<code>{render.esc(doc.doc_hash)}</code></div>")
        if not entries:
            st.html('<div class="rag-empty">Nothing recorded: it was indexed before the history log was kept. '
                    "Its next change is recorded.</div>")
            return
        st.dataframe(pd.DataFrame([{
            "When": e.at, "What": e.event.value, "File": e.path, "Content SHA-256": e.content_sha256 or "—",
            "Index hash": e.doc_hash, "Passages": e.chunks, "Note": e.note} for e in entries]),
            hide_index=True, key=f"history-{doc.doc_id}")


def delete_control(doc, settings) -> None:
    path, key = Path(doc.path), f"delete-{doc.doc_id}"
    if _inside(path, settings.corpus_dir):
        st.html(f'<div class="rag-intro">This document is a file of the corpus folder ({render.esc(doc.path)}). '
                "To delete it, remove the file from there: the next sync removes it from the index.</div>")
        return
    if st.session_state.get("confirm_delete") != doc.doc_id:
        if st.button("Delete this document…", key=key, icon=":material/delete:"):
            st.session_state["confirm_delete"] = doc.doc_id
            st.rerun()
        return
    upload = _inside(path, settings.uploads_dir)
    where = ("the uploads folder (its file and its metadata)" if upload else
             f"nowhere else: its file {doc.path} is left where it is")
    with st.container(border=True):
        st.html(f'<div class="rag-failed" role="alert">Delete “{render.esc(doc.source.title)}” ({render.esc(doc.doc_id)})? '
                f"It leaves the search index, the stored documents and {render.esc(where)}. "
                "This cannot be undone.</div>")
        c1, c2 = st.columns(2)
        if c1.button("Delete for good", key=f"{key}-yes", type="primary", icon=":material/delete_forever:"):
            st.session_state.pop("confirm_delete", None)
            try:
                deleted = common.runtime().delete(doc.doc_id)
                st.session_state["manage_result"] = ("ok", f"{doc.doc_id} deleted: {deleted.chunks} passages "
                                                     f"removed, {len(deleted.files)} files deleted.")
            except rag.RagError as error:
                st.session_state["manage_result"] = ("error", common.failure(error).reason)
            st.rerun()
        if c2.button("Cancel", key=f"{key}-no"):
            st.session_state.pop("confirm_delete", None)
            st.rerun()


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except OSError:
        return False
