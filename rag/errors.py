"""Every error the assistant raises on purpose, in one place.

Each one's message is a single line for the person at the keyboard: what is wrong and
how to fix it. The CLI prints ``error: <message>`` for any ``RagError`` and exits 2;
the app shows the same line. Anything else is a bug.

    >>> try:
    ...     raise IndexMissing("No index yet in ./data/chroma. Run: python -m rag ingest")
    ... except RagError as error:
    ...     print(f"error: {error}")
    error: No index yet in ./data/chroma. Run: python -m rag ingest

Each class also derives from the builtin it refines (``ValueError`` for bad input,
``RuntimeError`` for a state the input cannot fix), so ``except ValueError`` keeps working.
"""

from __future__ import annotations


class RagError(Exception):
    """Base class: a failure the user can act on, described in one line."""


# -- bad input -------------------------------------------------------------------------------------
class SettingsError(RagError, ValueError):
    """An environment variable has a value the assistant cannot use."""


class DateError(RagError, ValueError):
    """A date that is not YYYY, YYYY-MM or YYYY-MM-DD, or not a real day."""


class MetadataError(RagError, ValueError):
    """Document metadata (registry, sidecar or front matter) is malformed."""


class BadFile(RagError, ValueError):
    """A file that cannot be ingested; the message says why, for the person who supplied it."""


class ArchiveError(BadFile):
    """A ZIP refused whole (damaged, over a limit, a likely zip bomb); nothing of it was unpacked."""


class DocumentError(RagError, ValueError):
    """A document that is not indexed, or cannot be deleted from here (it lives in the corpus folder)."""


class QuestionError(RagError, ValueError):
    """The question cannot be asked as given (empty, too long)."""


class FeedbackError(RagError, ValueError):
    """The rating is not one we store."""


class ModelFolderError(RagError, ValueError):
    """A model folder that cannot be encoded the way sentence-transformers would."""


# -- state the input cannot fix ------------------------------------------------------------------
class IndexMissing(RagError, RuntimeError):
    """There is no index to search yet."""


class IndexUnavailable(RagError, RuntimeError):
    """The index cannot be reached or written: a Chroma server down, a read-only data directory."""


class IndexDamaged(RagError, RuntimeError):
    """A part of the index is unreadable; ``python -m rag doctor --repair`` rebuilds it."""


class EmbeddingMismatch(RagError, RuntimeError):
    """The index was built with another embedding model than the one configured."""


class LLMError(RagError, RuntimeError):
    """The LLM could not produce an answer; ``str(error)`` says why in a few words."""


__all__ = [
    "RagError", "SettingsError", "DateError", "MetadataError", "BadFile", "ArchiveError", "DocumentError", "QuestionError", "FeedbackError",
    "ModelFolderError", "IndexMissing", "IndexUnavailable", "IndexDamaged", "EmbeddingMismatch", "LLMError",
]
