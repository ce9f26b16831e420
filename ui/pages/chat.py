"""Page script for st.navigation (a file, so AppTest.switch_page can reach it); the page lives in ui/chat.py."""

from ui import chat

chat.page()
