"""Page script for st.navigation (a file, so AppTest.switch_page can reach it); the page lives in ui/compare.py."""

from ui import compare

compare.page()
