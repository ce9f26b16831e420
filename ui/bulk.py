"""The corpus page's bulk upload: several files, ZIP archives and saved web pages at once.

Choose files -> a table of what each is, with the rating the outlet registry suggests and what
matched -> one form sets outlet, type and rating for every file or per file -> one ingest of them
all, with progress -> a table of what became of each file. The file handling is ``ui.batch``.
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

import rag
from rag import DOC_TYPES, Rating, RatingOrigin
from ui import common, render
from ui.batch import Batch, Choice, Result, Row, stage

BULK_TYPES = [suffix.lstrip(".") for suffix in rag.SUPPORTED] + ["zip"]
AS_SUGGESTED = "As suggested"
EACH_OWN = "Each file's own"
SET_RATINGS = [Rating.NOT_PARTISAN.title, Rating.PARTISAN.title]
EDITABLE = ["Set outlet", "Set type", "Set rating", "Set label"]
RESULT_STYLE = {Result.FAILED.value: "#fdf0ef", Result.REFUSED.value: "#fdf0ef", Result.ADDED.value: "#e3f1e7",
                Result.UPDATED.value: "#e3f1e7"}


def section(settings) -> None:
    st.markdown("### Add many documents at once")
    st.html('<div class="rag-intro">Choose several files, ZIP archives (unpacked into the uploads folder, one folder '
            "per archive) or saved web pages (.html, or .mhtml from “Save page as… single file”: the outlet, title "
            "and date come from the page itself). Before anything is indexed you see each file with the rating the "
            "outlet registry suggests, and can set the outlet, type and rating for every file or per file. "
            "A file that fails leaves any earlier copy of it indexed.</div>")
    _show_results()
    round_ = st.session_state.setdefault("bulk_round", 0)
    files = st.file_uploader("Files, ZIP archives or saved web pages", type=BULK_TYPES, accept_multiple_files=True,
                             key=f"bulk_files_{round_}", max_upload_size=int(max(settings.max_file_mb,
                                                                                 settings.zip_max_mb)))
    batch: Batch | None = st.session_state.get("bulk_batch")
    if not files:
        if batch is not None:
            batch.discard()
            st.session_state.pop("bulk_batch")
        return
    key = tuple(f.file_id for f in files)
    if batch is None or batch.key != key:
        if batch is not None:
            batch.discard()
        try:
            with st.spinner(f"Reading {len(files)} files…"):
                batch = stage(settings, [(f.name, f.getvalue()) for f in files], key)
        except (rag.RagError, OSError) as error:  # a broken registry, a full disk: one line, nothing staged
            st.session_state.pop("bulk_batch", None)
            st.html(render.failures_html([common.failure(error)], "These files could not be read"))
            return
        st.session_state["bulk_batch"] = batch
        st.session_state.pop("bulk_edit", None)
        st.session_state.pop("bulk_result", None)
    _form(settings, batch)


def _form(settings, batch: Batch) -> None:
    if batch.left_out:
        st.html(f'<div class="rag-intro">Left out ({len(batch.left_out)}): they are listed with the results too.</div>')
        st.dataframe(pd.DataFrame([{"File": o.name, "Left out": o.result.value, "Why": o.reason} for o in batch.left_out]),
                     hide_index=True, key="bulk_left_out")
    if not batch.files:
        st.html('<div class="rag-failed" role="alert">Nothing in this upload can be indexed (see above).</div>')
        return
    with st.form("bulk_form", border=True, enter_to_submit=False):
        st.html('<div class="rag-intro">Set something for <b>every file</b> here, or per file in the table’s '
                "“Set …” columns (a cell you fill wins). Left empty, each file keeps its own metadata and the "
                "rating shown as suggested. Your rating always wins over the outlet registry.</div>")
        c1, c2 = st.columns(2)
        outlet = c1.text_input("Outlet for every file", key="bulk_outlet", placeholder="Empty: each file's own")
        doc_type = c2.selectbox("Type for every file", [EACH_OWN, *DOC_TYPES], key="bulk_type")
        rating = c1.radio("Rating for every file", [AS_SUGGESTED, *SET_RATINGS], horizontal=True, key="bulk_rating")
        label = c2.text_input("Rating label for every file", key="bulk_label",
                              placeholder="e.g. wire service, state broadcaster")
        edited = st.data_editor(
            _preview_frame(batch), key="bulk_edit", hide_index=True, num_rows="fixed",
            disabled=[c for c in _COLUMNS if c not in EDITABLE],
            column_order=["File", "Check", "Outlet", "Suggested rating", "What matched", "Set rating", "Set label",
                          "Set outlet", "Set type", "Title", "Document id"],
            column_config={
                "Title": st.column_config.TextColumn(width="medium"),
                "What matched": st.column_config.TextColumn(width="medium"),
                "Set type": st.column_config.SelectboxColumn(options=list(DOC_TYPES)),
                "Set rating": st.column_config.SelectboxColumn(options=SET_RATINGS),
            },
        )
        submitted = st.form_submit_button(f"Index {len(batch.files)} files", type="primary", icon=":material/upload:")
    if submitted:
        every = Choice(outlet, "" if doc_type == EACH_OWN else doc_type,
                       None if rating == AS_SUGGESTED else _rating(rating), label)
        _index(settings, batch, _choices(batch, edited, every))


_COLUMNS = ["File", "Document id", "Title", "Outlet", "Suggested rating", "What matched", "Check", *EDITABLE]


def _preview_frame(batch: Batch) -> pd.DataFrame:
    rows = []
    for item in batch.files:
        s = item.source
        rows.append({
            "File": item.name, "Document id": item.doc_id, "Title": s.title if s else "",
            "Outlet": s.outlet if s else "", "Suggested rating": _suggested(s), "What matched": _matched(s),
            "Check": f"will fail: {item.problem}" if item.problem else "ready",
            **{c: None for c in EDITABLE},
        })
    return pd.DataFrame(rows, columns=_COLUMNS).astype({c: "object" for c in EDITABLE})


def _suggested(s: rag.Source | None) -> str:
    if s is None:
        return ""
    return s.rating.title + (f" — {s.label}" if s.rating is not Rating.UNRATED else "")


def _matched(s: rag.Source | None) -> str:
    if s is None:
        return ""
    if s.rating_origin is RatingOrigin.REGISTRY:
        return s.registry_match or "outlet registry"
    if s.rating_origin is RatingOrigin.USER:
        return f"its own metadata (rated by {s.rated_by or 'the newsroom'})"
    return "no registry match: unrated"


def _rating(title: str) -> Rating:
    return next(r for r in Rating if r.title == title)


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _choices(batch: Batch, edited: pd.DataFrame, every: Choice) -> dict:
    choices = {}
    for item, (_, row) in zip(batch.files, edited.iterrows()):
        rating = _text(row["Set rating"])
        choices[item.rel] = Choice(
            _text(row["Set outlet"]) or every.outlet, _text(row["Set type"]) or every.doc_type,
            _rating(rating) if rating else every.rating, _text(row["Set label"]) or every.label)
    return choices


def _index(settings, batch: Batch, choices: dict) -> None:
    common.assistant()  # the model loaded once, before the ingest needs it (stops here if it cannot start)
    before = {d.doc_id for d in rag.list_documents(settings)}
    try:
        batch.describe(choices)
        paths = batch.move_in()
    except (rag.RagError, OSError) as error:  # a field the index cannot take, a full disk: nothing changed
        st.html(render.failures_html([common.failure(error)], "Nothing was indexed"))
        return
    report, error = rag.IngestReport(), None
    if paths:  # (no path at all would mean the whole corpus)
        job = common.watch(common.runtime().upload_job(paths), f"Indexing {len(batch.files)} files",
                           "Each file is read, cleaned, split into passages and embedded; progress is per file "
                           "while reading and per passage while embedding.")
        report = job.report
        error = common.failure(job.error).reason if job.error is not None or report is None else None
    _finish(batch, batch.finish(report, error, before))


def _finish(batch: Batch, rows: list[Row]) -> None:
    batch.discard()
    st.session_state["bulk_result"] = rows
    st.session_state.pop("bulk_batch", None)
    st.session_state.pop("bulk_edit", None)
    st.session_state["bulk_round"] = st.session_state.get("bulk_round", 0) + 1  # an empty uploader
    st.rerun()


def _show_results() -> None:
    rows: list[Row] | None = st.session_state.get("bulk_result")
    if not rows:
        return
    counts = {r: sum(row.result is r for row in rows) for r in Result}
    summary = " · ".join(f"{n} {r.value}" for r, n in counts.items() if n)
    bad = counts[Result.FAILED] + counts[Result.REFUSED]
    cls = "rag-failed" if bad else "rag-upload-ok"
    st.html(f'<div class="{cls}" role="status">Last upload: {render.esc(summary)}.'
            + (" Failed files were not indexed; an earlier copy of any of them is still indexed."
               if counts[Result.FAILED] else " The new documents can be asked about on the Chat page.") + "</div>")
    frame = pd.DataFrame([{"File": r.name, "Document id": r.doc_id, "Result": r.result.value, "Reason": r.reason}
                          for r in rows])
    st.dataframe(frame.style.map(lambda v: f"background-color: {RESULT_STYLE.get(v, 'transparent')}",
                                 subset=["Result"]),
                 hide_index=True, key="bulk_results",
                 column_config={"Reason": st.column_config.TextColumn(width="large")})
