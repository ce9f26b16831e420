"""Question in, answer out: retrieve through the index (``retrieval``), then quote the best
sentences (``extractive``) or have an LLM write and check every sentence (``llm``, ``support``),
with citations and framing warnings (``framing``). ``Assistant`` ties it together; ``compare``
sets what each outlet says on a topic side by side (its types: ``comparison``)."""

from .assistant import MAX_QUESTION_CHARS, Assistant, Endpoint, check_question
from .compare import check_topic, comparison_topic, is_comparison
from .comparison import Badge, Comparison, OnlyIn, OutletRef, OutletView, Quote
from .framing import find_cues
from .injection import Instruction
from .injection import instructions as find_instructions
from .loaded import is_loaded, loaded_words
from .llm import LLM
from .support import MARKER, cited_numbers, split_answer
from .support import check as check_support

__all__ = ["Assistant", "Endpoint", "MAX_QUESTION_CHARS", "check_question", "find_cues", "loaded_words", "is_loaded",
           "find_instructions", "Instruction", "LLM", "MARKER",
           "cited_numbers", "split_answer", "check_support",
           "Comparison", "OutletView", "OutletRef", "Quote", "Badge", "OnlyIn", "check_topic",
           "is_comparison", "comparison_topic"]
