"""Chunks in, passages out: the Chroma collection, the BM25 snapshot, the stored documents,
the text both indexes see, the version that keeps them in step, and the write lock.

Ingest writes through ``Index``; retrieval reads through it. Neither knows how the other works.
"""

from .chroma import IndexedDoc
from .embeddings import EncodeCache, get_embeddings, model_loads
from .index import Index, documents_version, list_documents

__all__ = ["Index", "IndexedDoc", "EncodeCache", "get_embeddings", "model_loads", "documents_version",
           "list_documents"]
