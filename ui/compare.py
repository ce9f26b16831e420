"""The "Compare sources" page: a topic in, one card per outlet out (what it says, dated, with its
rating and loaded words), then the claims only partisan or unrated sources make and the outlets
that say nothing. ``show_comparison`` also draws the comparison under a chat answer."""

from __future__ import annotations

import re
from dataclasses import dataclass

import streamlit as st

import rag
from rag import Comparison, Filters
from ui import common, render
from ui import compare_html as html

EXAMPLES = ["Japan's sanctions on Russia", "Kuril Islands", "peace treaty"]
DEFAULT_K = 30


@dataclass(frozen=True)
class Shown:
    """The page's last run: the comparison, or the one-line reason there is none."""

    comparison: Comparison | None = None
    error: str | None = None  # already HTML (escaped)


def run(assistant, topic: str, k: int, filters: Filters) -> Shown:
    try:
        return Shown(assistant.compare(topic, k, filters))
    except rag.QuestionError as error:  # empty topic, no word to look for: one line, cause and fix
        return Shown(error=html.error_html(str(error)))
    except Exception as error:  # no index, a broken one, a bug: one line, details in the log
        return Shown(error=render.failures_html([common.failure(error)], "The comparison could not be made"))


def _open(q) -> None:
    common.show_document(q.doc_id, q.passage_start, q.passage_end, ((q.start, q.end),))


def show_comparison(c: Comparison, key: str, per_row: int = 3) -> None:
    """The cards (``per_row`` side by side; Streamlit stacks columns on a narrow screen), the lists
    under them and the Markdown download. ``key`` keeps widget keys apart (page, chat turns)."""
    st.html(html.summary_html(c))
    banner = render.banner_html(c.warnings)
    if banner:
        st.html(banner)
    if not c.outlets:
        st.html('<div class="rag-empty">No outlet says anything on this topic in the passages searched.</div>')
    for row in range(0, len(c.outlets), per_row):
        columns = st.columns(per_row, gap="small")
        for i, view in enumerate(c.outlets[row:row + per_row], start=row):
            with columns[i - row], st.container(border=True, key=f"cmp-card-{key}-{i}"):
                st.html(html.head_html(view))
                for q in view.quotes:
                    st.html(html.quote_html(q))
                    if st.button(f"Open [{q.n}]", key=f"cmp-open-{key}-{q.n}", icon=":material/article:",
                                 type="tertiary", help="Read the whole document with this sentence highlighted"):
                        _open(q)
    st.html(html.only_in_html(c))
    st.html(html.refs_html("Say nothing on this topic", c.silent, "rag-silent",
                           "Every outlet in the corpus (within the filters) says something on it."))
    if c.not_retrieved:
        st.html(html.refs_html(f"On the topic, but not in the {c.k} passages searched (search more passages)",
                               c.not_retrieved, "rag-not-retrieved"))
    slug = re.sub(r"[^a-z0-9]+", "-", c.topic.lower()).strip("-")[:40] or "topic"
    st.download_button("Download Markdown", data=rag.comparison_markdown(c), file_name=f"compare-{slug}.md",
                       mime="text/markdown", key=f"cmp-md-{key}", icon=":material/download:", on_click="ignore",
                       help="Every outlet's quotes with footnotes: outlet, title, date, document id and rating.")


def _pending(topic: str) -> None:
    st.session_state["cmp_topic"] = topic
    st.session_state["cmp_pending"] = True


def page() -> None:
    st.set_page_config(layout="wide")
    assistant = common.assistant()
    docs = common.documents()
    k = st.sidebar.slider("Passages to search", 5, 100, value=DEFAULT_K, key="cmp_k", persist_state="session",
                          help="How many passages to read for sentences on the topic; more finds more outlets.")
    filters = common.sidebar_filters(docs)
    st.markdown("## Compare sources")
    st.html('<div class="rag-intro">Type a topic: each outlet\'s own sentences on it, side by side, dated and '
            "cited, with its rating. Open a citation to read the document at that sentence.</div>")
    with st.form("cmp-form", border=False, enter_to_submit=True):
        topic = st.text_input("Topic", key="cmp_topic", max_chars=300, placeholder="e.g. Japan's sanctions on Russia")
        submitted = st.form_submit_button("Compare", type="primary", icon=":material/compare_arrows:")
    if submitted or st.session_state.pop("cmp_pending", False):
        st.session_state["cmp_shown"] = run(assistant, topic, k, filters)
    shown: Shown | None = st.session_state.get("cmp_shown")
    if shown is None:
        st.caption("Try one of these:")
        row = st.container(horizontal=True)
        for i, example in enumerate(EXAMPLES):
            row.button(example, key=f"cmp-example-{i}", icon=":material/search:", on_click=_pending, args=(example,))
    elif shown.error:
        st.html(shown.error)
    else:
        show_comparison(shown.comparison, "page")
