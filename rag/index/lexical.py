"""BM25 over the same chunks as Chroma (bm25s), persisted beside it.

    >>> import tempfile, pathlib
    >>> texts = ["Salmon quotas resume in April.", "Crab shipments were inspected."]
    >>> metas = [{"doc_id": "d1", "chunk_index": 0}, {"doc_id": "d2", "chunk_index": 0}]
    >>> index = LexicalIndex.build(pathlib.Path(tempfile.mkdtemp()), ["a", "b"], texts, metas, texts, "v1")
    >>> [chunk_id for chunk_id, _ in index.search("crab inspections", 2)]
    ['b']

Each build goes to a new folder named after the index version and a one-line
``CURRENT`` file is swapped in atomically, so a reader (or a crash) never sees a
half-written index. The snapshot also keeps each chunk's text and metadata, which
retrieval uses for filtering BM25 hits without a round trip to Chroma.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import threading
from pathlib import Path

import numpy as np

from ..text import fold, stemmer


def tokenize(texts: list[str]):
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", stemmer=stemmer(), return_ids=False, show_progress=False)


class LexicalIndex:
    def __init__(self, bm25, ids: list[str], texts: list[str], metas: list[dict], version: str):
        self.bm25 = bm25
        self.ids = ids
        self.texts = texts
        self.metas = metas
        self.version = version
        self.position = {chunk_id: i for i, chunk_id in enumerate(ids)}
        self._by_index = {(m["doc_id"], m["chunk_index"]): i for i, m in enumerate(metas)}

    @functools.cached_property
    def folded_texts(self) -> list[str]:
        """Texts folded for exact-phrase lookups (computed once per index, not per query)."""
        return [fold(text) for text in self.texts]

    def at(self, doc_id: str, chunk_index: int) -> int | None:
        """Where a document's chunk (by its place in the document) is in this index, if indexed."""
        return self._by_index.get((doc_id, chunk_index))

    # -- building and loading ------------------------------------------------------
    @classmethod
    def build(cls, root: Path, ids, texts, metas, search_texts, version: str) -> "LexicalIndex":
        import bm25s

        bm25 = bm25s.BM25()
        if ids:
            bm25.index(tokenize(search_texts), show_progress=False)
        index = cls(bm25, list(ids), list(texts), list(metas), version)
        index._save(root)
        return index

    def _save(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        target = root / f"v-{self.version}"
        tmp = root / f"tmp-{self.version}-{_writer()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        if self.ids:
            self.bm25.save(str(tmp), show_progress=False)
        with open(tmp / "chunks.json", "w", encoding="utf-8") as fh:
            json.dump({"version": self.version, "ids": self.ids, "texts": self.texts, "metas": self.metas}, fh)
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
        _atomic_write(root / "CURRENT", target.name)
        for old in root.iterdir():  # earlier versions and leftovers of killed runs
            if old.is_dir() and old.name != target.name:
                shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, root: Path) -> "LexicalIndex | None":
        """The saved snapshot, or None when there is none or it is unusable (a reader then rebuilds it):
        missing or garbled files, or lists that disagree with each other or with the BM25 matrix."""
        import bm25s

        try:
            folder = root / (root / "CURRENT").read_text().strip()
            with open(folder / "chunks.json", encoding="utf-8") as fh:
                data = json.load(fh)
            # a newer build may have replaced the folder since CURRENT was read
            bm25 = bm25s.BM25.load(str(folder), show_progress=False) if data["ids"] else bm25s.BM25()
            ids, texts, metas, version = data["ids"], data["texts"], data["metas"], data["version"]
            n = len(ids)
            if not (len(texts) == len(metas) == n and isinstance(version, str)) or \
                    (n and int(bm25.scores["num_docs"]) != n) or len(set(ids)) != n:
                return None
            return cls(bm25, ids, texts, metas, version)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    # -- searching -----------------------------------------------------------------
    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk id, score); ``allowed`` is a boolean mask over chunks (filters)."""
        if not self.ids:
            return []
        vocab = self.bm25.vocab_dict
        tokens = [t for t in tokenize([query])[0] if t in vocab]
        if not tokens:
            return []
        scores = self.bm25.get_scores(tokens)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]


def _writer() -> str:
    """Names a writer's temporary files: two threads of one process never share them."""
    return f"{os.getpid()}-{threading.get_ident()}"


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".tmp-{_writer()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
