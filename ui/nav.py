"""The app's pages (st.navigation); one place so pages can link to each other."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

PAGES_DIR = Path(__file__).resolve().parent / "pages"


def pages() -> dict[str, "st.Page"]:
    return {
        "chat": st.Page(PAGES_DIR / "chat.py", title="Chat", icon=":material/forum:", url_path="chat",
                        default=True),
        "compare": st.Page(PAGES_DIR / "compare.py", title="Compare sources", icon=":material/compare_arrows:",
                           url_path="compare"),
        "corpus": st.Page(PAGES_DIR / "corpus.py", title="Corpus", icon=":material/library_books:",
                          url_path="corpus"),
        "evals": st.Page(PAGES_DIR / "evals.py", title="Evals", icon=":material/monitoring:", url_path="evals"),
    }
