"""Question in, answer out: retrieve through the index (``retrieval``), then quote the best
sentences (``extractive``) or have an LLM write and check every sentence (``llm``, ``support``),
with citations and framing warnings (``framing``). ``Assistant`` ties it together."""

from .assistant import MAX_QUESTION_CHARS, Assistant, Endpoint, check_question
from .framing import find_cues
from .llm import LLM
from .support import MARKER, cited_numbers, split_answer
from .support import check as check_support

__all__ = ["Assistant", "Endpoint", "MAX_QUESTION_CHARS", "check_question", "find_cues", "LLM", "MARKER",
           "cited_numbers", "split_answer", "check_support"]
