"""Answers out to people: the command line (``cli``), Markdown export (``export``; ``compare_export``
for "Compare sources") and feedback on answers (``feedback``). The Streamlit app in ``ui/`` is the other presenter."""

from .compare_export import comparison_markdown
from .export import conversation_markdown, md_escape
from .feedback import latest as latest_feedback
from .feedback import load as load_feedback
from .feedback import record as record_feedback
from .progress import Progress

__all__ = ["Progress", "conversation_markdown", "comparison_markdown", "md_escape", "record_feedback", "load_feedback", "latest_feedback"]
