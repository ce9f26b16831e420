"""The Chroma collection of chunks: embedded by default, a server when CHROMA_HOST is set.

    >>> store = ChromaStore(Settings.from_env(), "all-MiniLM-L6-v2")     # doctest: +SKIP
    >>> store.query(vector, 3, where=None)[0][0]                         # doctest: +SKIP
    '003_b5aeacde14fc594e:9c1f...'

Rows are (id, text, flat metadata, vector); ``rag.index.records`` turns them into typed
passages. The collection records which embedding model built it. Opening it with another
model raises ``EmbeddingMismatch`` (re-index with ``python -m rag ingest --rebuild``) so
vectors from two models are never mixed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import EmbeddingMismatch, IndexMissing
from ..settings import Settings


@dataclass
class IndexedDoc:
    doc_id: str
    doc_hash: str
    path: str
    ids: set[str]


def connect(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


def _collection_names(client) -> set[str]:
    # some chromadb versions list names, others Collection objects
    return {c if isinstance(c, str) else c.name for c in client.list_collections()}


class ChromaStore:
    """Thin wrapper over one Chroma collection; ids and metadata are ours, vectors come in precomputed."""

    def __init__(self, settings: Settings, model_name: str, create: bool = True):
        self.settings = settings
        self.client = connect(settings)
        self.model_name = model_name
        name = settings.collection
        if name not in _collection_names(self.client) and not create:
            raise IndexMissing(
                f"No index yet in {settings.chroma_host or settings.chroma_dir}. Run: python -m rag ingest"
            )
        self.collection = self.client.get_or_create_collection(
            name,
            metadata={"embedding_model": model_name, "index_version": ""},
            configuration={"hnsw": {"space": "cosine"}},
            embedding_function=None,
        )
        built_with = (self.collection.metadata or {}).get("embedding_model")
        if built_with and built_with != model_name:
            raise EmbeddingMismatch(
                f"The index was built with embeddings '{built_with}' but this run uses '{model_name}'. "
                "Mixing them would give meaningless results. Re-index with: python -m rag ingest --rebuild "
                f"(or set RAG_EMBEDDINGS={built_with})."
            )

    @staticmethod
    def surely_missing(settings: Settings) -> bool:
        """True when an embedded index plainly does not exist yet (checked without importing chromadb).

        False means "maybe": a server, or an embedded folder whose collection may still be missing.
        """
        return not settings.chroma_host and not (settings.chroma_dir / "chroma.sqlite3").exists()

    @staticmethod
    def drop(settings: Settings) -> None:
        client = connect(settings)
        if settings.collection in _collection_names(client):
            client.delete_collection(settings.collection)

    # -- reading -----------------------------------------------------------------
    def count(self) -> int:
        return self.collection.count()

    def indexed_docs(self) -> dict[str, IndexedDoc]:
        """What is in the index now, per document (used to decide what to skip, replace or delete)."""
        docs: dict[str, IndexedDoc] = {}
        for ids, metas in self._pages(include=["metadatas"]):
            for chunk_id, meta in zip(ids, metas):
                doc = docs.setdefault(meta["doc_id"], IndexedDoc(meta["doc_id"], meta["doc_hash"], meta["path"], set()))
                doc.ids.add(chunk_id)
                if meta["doc_hash"] != doc.doc_hash:
                    doc.doc_hash = "mixed"  # half-replaced by an interrupted run: redo it
        return docs

    def all_chunks(self):
        """(ids, texts, metadatas) for the whole collection, in id order."""
        rows = []
        for ids, metas, texts in self._pages(include=["metadatas", "documents"]):
            rows.extend(zip(ids, texts, metas))
        rows.sort(key=lambda row: row[0])
        return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]

    def _pages(self, include, page: int = 5000):
        offset = 0
        while True:
            got = self.collection.get(include=include, limit=page, offset=offset)
            if not got["ids"]:
                return
            yield (got["ids"], *(got[key] for key in include))
            offset += len(got["ids"])

    def version(self) -> str:
        """The index version as stored now (re-read: another process may have re-indexed)."""
        fresh = self.client.get_collection(self.settings.collection, embedding_function=None)
        return (fresh.metadata or {}).get("index_version", "")

    def query(self, embedding, n: int, where: dict | None = None):
        result = self.collection.query(
            query_embeddings=[embedding], n_results=n, where=where or None,
            include=["metadatas", "documents", "distances"],
        )
        return list(zip(result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0]))

    def embeddings(self, ids: list[str]) -> dict[str, np.ndarray]:
        """The stored vectors of ``ids`` (ids not in the index are left out)."""
        from chromadb.errors import ChromaError

        try:
            got = self.collection.get(ids=ids, include=["embeddings"])
        except ChromaError:
            # An embedded client does not see vectors another process added since it opened the
            # collection (its metadata it does): those passages simply have no similarity yet.
            return {}
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"])}

    # -- writing -----------------------------------------------------------------
    def upsert(self, ids, embeddings, texts, metadatas) -> None:
        step = self.client.get_max_batch_size() if hasattr(self.client, "get_max_batch_size") else 5000
        for start in range(0, len(ids), step):
            end = start + step
            self.collection.upsert(
                ids=ids[start:end], embeddings=embeddings[start:end],
                documents=texts[start:end], metadatas=metadatas[start:end],
            )

    def delete(self, ids) -> None:
        ids = list(ids)
        for start in range(0, len(ids), 5000):
            self.collection.delete(ids=ids[start:start + 5000])

    def record_version(self, version: str) -> None:
        """Record ``index_version`` of the contents; readers compare their BM25 index with it."""
        if version != self.version():
            self.collection.modify(metadata={"embedding_model": self.model_name, "index_version": version})
