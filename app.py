"""Newsroom retrieval assistant — the Streamlit app.

    streamlit run app.py

Chat with the indexed documents (answers quote and cite them, partisan sources are
flagged), browse and add documents on the Corpus page, read the latest eval report.
On the first run with no index the app builds one from the bundled corpus, with progress.
"""

import streamlit as st

st.set_page_config(
    page_title="Newsroom assistant",
    page_icon="📰",
    layout=None,  # each page sets its own (chat: centered; corpus, compare: wide)
    initial_sidebar_state="auto",
    menu_items={"About": "Newsroom retrieval assistant: answers quoted from your documents, with sources."},
)

from ui import common  # noqa: E402  (after set_page_config)
from ui.nav import pages  # noqa: E402

common.inject_css()
common.guard()  # the password, when one is set, before any page or upload
navigation = st.navigation(list(pages().values()), position="top")
common.ensure_index()
navigation.run()
