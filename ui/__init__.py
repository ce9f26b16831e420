"""The Streamlit UI (app.py is the entry point). rag/ never imports anything from here."""
