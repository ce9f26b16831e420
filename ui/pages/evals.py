"""Page script for st.navigation (a file, so AppTest.switch_page can reach it); the page lives in ui/evals.py."""

from ui import evals

evals.page()
