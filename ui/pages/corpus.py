"""Page script for st.navigation (a file, so AppTest.switch_page can reach it); the page lives in ui/corpus.py."""

from ui import corpus

corpus.page()
