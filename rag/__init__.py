"""Newsroom retrieval assistant: answers built only from your documents, every claim cited.

    >>> import rag
    >>> settings = rag.Settings.from_env()                         # doctest: +SKIP
    >>> report = rag.ingest(settings)                              # doctest: +SKIP
    >>> answer = rag.Assistant(settings).ask("What did Lavrov say about the Kuril Islands?")  # doctest: +SKIP
    >>> [w.kind for w in answer.warnings]                          # doctest: +SKIP
    [<WarningKind.PARTISAN_SOURCE: 'partisan_source'>]

This module is the public API: the CLI, the Streamlit app, the evals, the benchmarks and a
newsroom's own scripts use only the names below (``tests/test_architecture.py`` checks it).
The flow runs one way, and so do the imports:

    ingest/ (files -> documents -> chunks) -> index/ (Chroma + BM25 + stored documents)
        -> answer/ (retrieval -> extractive or LLM answer -> citations, warnings) -> present/ (CLI, export)

``rag.model`` holds the types that flow through it; ``rag.testing`` is the public test double
for the LLM (a scripted OpenAI-compatible server).
"""

from .answer import MARKER as CITATION_MARKER
from .answer import (LLM, MAX_QUESTION_CHARS, Assistant, Endpoint, check_question, check_support, cited_numbers,
                     Instruction, find_cues, find_instructions, is_loaded, loaded_words, split_answer)
from .answer import Badge, Comparison, OnlyIn, OutletRef, OutletView, Quote, check_topic, comparison_topic, is_comparison
from .errors import (ArchiveError, BadFile, DocumentError, DateError, EmbeddingMismatch, FeedbackError, IndexDamaged, IndexMissing,
                     IndexUnavailable, LLMError, MetadataError, ModelFolderError, QuestionError, RagError,
                     SettingsError)
from .index import EncodeCache, Index, documents_version, get_embeddings, list_documents, model_loads
from .intake import (SUPPORTED, EntryStatus, Failure, IngestReport, Phase, LoadedFile, Outlet, OutletMatch, Outlets, chunks_of, doc_id_for,
                     ingest, load_file, load_outlets, rate_document, read_documents, safe_file_name, sidecar_path,
                     unpack_zip, Unpacked, UnpackedEntry, update_sidecar, delete_document, Deleted, document_history,
                     HistoryEntry, HistoryEvent)
from .model import (DOC_TYPES, Answer, AnswerMode, Chunk, Citation, Cue, CueKind, Document, Event, EventKind, Filters,
                    Outcome, PartialDate, Passage, Rating, RatingOrigin, Segment, SegmentKind, Source, SupportResult, Warning,
                    WarningKind)
from .present import (Progress, comparison_markdown, conversation_markdown, latest_feedback, load_feedback, md_escape,
                      record_feedback)
from .settings import Settings

__all__ = [
    # asking
    "Assistant", "Endpoint", "Filters", "MAX_QUESTION_CHARS", "check_question",
    # what an answer is made of
    "Answer", "AnswerMode", "Outcome", "Citation", "Passage", "Source", "Rating", "RatingOrigin", "Warning", "WarningKind", "Cue", "CueKind",
    "Event", "EventKind", "SupportResult", "CITATION_MARKER", "cited_numbers", "find_cues",
    "loaded_words", "is_loaded", "find_instructions", "Instruction",
    # checking answers, and the LLM client
    "check_support", "split_answer", "LLM",
    # comparing sources on a topic (Assistant.compare)
    "Comparison", "OutletView", "OutletRef", "Quote", "Badge", "OnlyIn", "check_topic", "is_comparison", "comparison_topic",
    # documents and ingest
    "ingest", "IngestReport", "Phase", "Failure", "read_documents", "chunks_of", "load_file", "LoadedFile", "Document", "Segment", "SegmentKind", "Chunk",
    "PartialDate", "DOC_TYPES", "SUPPORTED", "doc_id_for", "safe_file_name", "sidecar_path",
    "list_documents", "documents_version",
    "unpack_zip", "Unpacked", "UnpackedEntry", "EntryStatus",
    # managing documents: edit, delete, and what happened to each
    "update_sidecar", "delete_document", "Deleted", "document_history", "HistoryEntry", "HistoryEvent",
    # the outlet registry, and a journalist's own rating
    "Outlets", "Outlet", "OutletMatch", "load_outlets", "rate_document",
    # the index and its encoder
    "Index", "get_embeddings", "EncodeCache", "model_loads",
    # presenting
    "conversation_markdown", "comparison_markdown", "md_escape", "record_feedback", "load_feedback", "latest_feedback",
    "Progress",
    # configuration and errors
    "Settings", "RagError", "SettingsError", "DateError", "MetadataError", "BadFile", "ArchiveError", "DocumentError", "QuestionError",
    "FeedbackError", "ModelFolderError", "IndexMissing", "IndexUnavailable", "IndexDamaged", "EmbeddingMismatch",
    "LLMError",
]
