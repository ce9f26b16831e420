"""BM25 over the same chunks as Chroma, persisted beside it in segments that a small ingest adds to.

    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> texts = ["Salmon quotas resume in April.", "Crab shipments were inspected."]
    >>> metas = [{"doc_id": "d1", "doc_hash": "h1", "chunk_index": 0}, {"doc_id": "d2", "doc_hash": "h2", "chunk_index": 0}]
    >>> index = LexicalIndex.build(root, ["a", "b"], texts, metas, texts)
    >>> [chunk_id for chunk_id, _ in index.search("crab inspections", 2)]
    ['b']
    >>> more = index.updated(root, ["c"], ["Crab quotas cut."], [{"doc_id": "d3", "doc_hash": "h3", "chunk_index": 0}],
    ...                      ["Crab quotas cut."], removed={"a"})
    >>> [chunk_id for chunk_id, _ in more.search("crab quotas", 3)], more.live_count
    (['c', 'b'], 2)
    >>> len(more.segments)  # merged: in an index this small, the delta was more than a fifth
    1
    >>> more.version == LexicalIndex.version_of(["b", "c"], [metas[1], {"doc_hash": "h3"}])
    True

Why not bm25s's own index (it is still the tokenizer here): bm25s stores each word's score
with the corpus-wide IDF and average length baked in, so adding one document means scoring
every chunk again (21 s at 39k chunks). Here each segment keeps raw term counts (a sparse
chunks x terms matrix) and the scores are computed at query time from the counts of all live
chunks, with bm25s's default formula (Lucene: idf = ln(1 + (N - df + 0.5) / (df + 0.5)), tf
part tf / (tf + k1 (1 - b + b dl / avgdl)), k1 1.5, b 0.75); ``tests/test_lexical.py`` checks
the scores against bm25s itself. So an ingest writes only a new segment for what it added
and a list of the positions it removed ("tombstones"), and the scores are exactly those of
one index over the live chunks. When deltas grow (more than ``MAX_SEGMENTS`` segments, or a
fifth of the chunks dead or in deltas) they are merged into one segment.

On disk (``root``): ``seg-<name>/`` folders, never changed once written (term counts as .npy,
chunk ids and metadata as JSON, texts as one UTF-8 file with offsets, read lazily through a
memory map), and ``manifest-<version>.json`` naming the segments and their tombstones. The
one-line ``CURRENT`` file names the manifest and is swapped atomically, so a reader (or a
crash) never sees half an index. A reader reloading after a small ingest reuses the segments
it already has loaded.

The version is a fingerprint of the live contents (chunk id and document hash), independent
of order, so it can be updated for an added or removed chunk without reading the others.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
import os
import shutil
import threading
import uuid
from pathlib import Path

import numpy as np

from ..text import fold, stemmer
from .records import search_text

K1, B = 1.5, 0.75  # bm25s's defaults
MAX_SEGMENTS = 32  # searching one more segment costs a dict lookup per query word
TOKENIZE_BATCH = 2000  # chunks tokenized at once when a segment is made
MAX_DELTA_SHARE = 0.2  # merge when this share of chunks is dead or outside the first segment
_MASK64 = (1 << 64) - 1


# The tokenizer's version, saved with the index: an index saved by another is rebuilt when loaded.
# 2: "US" and "U.S." are the token "usa" (``rag.text.fold``), not the stop word "us".
TOKENIZER = "2"


def tokenize(texts: list[str]) -> list[list[str]]:
    """bm25s's tokenizer (English stop words, Snowball stems) on folded text, so "Kyōto" and
    "Kyoto" are one word, and a phrase found in a folded text has all its words indexed there."""
    import bm25s

    return bm25s.tokenize([fold(t) for t in texts], stopwords="en", stemmer=stemmer(), return_ids=False,
                          show_progress=False)


def _chunk_hash(chunk_id: str, doc_hash: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{chunk_id}\x00{doc_hash}".encode()).digest()[:8], "big")


class Segment:
    """Chunks written together: ids, metadata, texts and term counts (immutable once saved)."""

    def __init__(self, name: str, ids: list[str], metas: list[dict], vocab: dict[str, int],
                 counts, lengths: np.ndarray, texts):
        self.name, self.ids, self.metas, self.vocab = name, ids, metas, vocab
        self.counts = counts  # scipy CSC matrix, chunks x terms, raw term frequencies
        self.lengths = lengths  # tokens per chunk
        self._texts = texts  # a list, or (memory-mapped bytes, offsets) read lazily

    @classmethod
    def make(cls, ids, metas, texts: list[str], search_texts) -> "Segment":
        """``search_texts``: any iterable (a generator is best), tokenized a batch at a time, so a
        100,000-chunk segment never holds every chunk's tokens, or a second copy of every text."""
        from scipy.sparse import csc_matrix

        vocab: dict[str, int] = {}
        rows, cols, data = [], [], []  # numpy arrays, one per batch
        lengths = np.zeros(len(ids), np.float32)
        row = 0
        stream = iter(search_texts if ids else [])
        while batch := list(itertools.islice(stream, TOKENIZE_BATCH)):
            r, c, d = [], [], []
            for tokens in tokenize(batch):
                lengths[row] = len(tokens)
                for term, count in _counts(tokens).items():
                    r.append(row)
                    c.append(vocab.setdefault(term, len(vocab)))
                    d.append(count)
                row += 1
            rows.append(np.asarray(r, np.int32))
            cols.append(np.asarray(c, np.int32))
            data.append(np.asarray(d, np.float32))
        join = (lambda parts, dtype: np.concatenate(parts) if parts else np.zeros(0, dtype))
        counts = csc_matrix((join(data, np.float32), (join(rows, np.int32), join(cols, np.int32))),
                            shape=(len(ids), len(vocab)))
        return cls(uuid.uuid4().hex[:12], list(ids), list(metas), vocab, counts, lengths, list(texts))

    def __len__(self) -> int:
        return len(self.ids)

    def text(self, i: int) -> str:
        if isinstance(self._texts, list):
            return self._texts[i]
        blob, offsets = self._texts
        return bytes(blob[offsets[i]:offsets[i + 1]]).decode("utf-8")

    # -- disk ----------------------------------------------------------------------------
    def save(self, root: Path) -> None:
        target = root / f"seg-{self.name}"
        if target.exists():
            return
        tmp = root / f"tmp-seg-{self.name}-{_writer()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        encoded = [self.text(i).encode("utf-8") for i in range(len(self))]
        with open(tmp / "texts.bin", "wb") as fh:
            fh.write(b"".join(encoded) or b"\0")  # an empty file cannot be memory-mapped
        np.save(tmp / "offsets.npy", np.cumsum([0] + [len(e) for e in encoded], dtype=np.int64))
        np.save(tmp / "lengths.npy", self.lengths)
        for part in ("indptr", "indices", "data"):
            np.save(tmp / f"{part}.npy", getattr(self.counts, part))
        with open(tmp / "chunks.json", "w", encoding="utf-8") as fh:
            json.dump({"ids": self.ids, "metas": self.metas, "terms": list(self.vocab)}, fh)
        os.replace(tmp, target)

    @classmethod
    def load(cls, root: Path, name: str) -> "Segment":
        from scipy.sparse import csc_matrix

        folder = root / f"seg-{name}"
        with open(folder / "chunks.json", encoding="utf-8") as fh:
            data = json.load(fh)
        ids, metas, terms = data["ids"], data["metas"], data["terms"]
        parts = [np.load(folder / f"{part}.npy") for part in ("indptr", "indices", "data")]
        counts = csc_matrix((parts[2], parts[1], parts[0]), shape=(len(ids), len(terms)))
        lengths = np.load(folder / "lengths.npy")
        offsets = np.load(folder / "offsets.npy")
        blob = np.memmap(folder / "texts.bin", dtype=np.uint8, mode="r")
        if not (len(metas) == len(ids) == len(lengths) == len(offsets) - 1) or offsets[-1] > len(blob) \
                or len(parts[0]) != len(terms) + 1:
            raise ValueError(f"segment {name} is inconsistent")
        return cls(name, ids, metas, {t: j for j, t in enumerate(terms)}, counts, lengths, (blob, offsets))


class LexicalIndex:
    """Segments plus tombstones; positions run over all segments in order (dead ones included)."""

    def __init__(self, segments: list[Segment], dead: dict[str, list[int]], version: str, checksum: int):
        self.segments = segments
        self.dead = dead  # segment name -> local positions removed
        self.version, self.checksum = version, checksum
        self.starts = np.cumsum([0] + [len(s) for s in segments])
        self.ids = [chunk_id for s in segments for chunk_id in s.ids]
        self.metas = [meta for s in segments for meta in s.metas]
        self.live = np.ones(len(self.ids), dtype=bool)
        for s, start in zip(segments, self.starts):
            for i in dead.get(s.name, []):
                self.live[start + i] = False
        self.live_count = int(self.live.sum())
        self.position = {self.ids[i]: int(i) for i in np.flatnonzero(self.live)}
        self._by_index = {(self.metas[i]["doc_id"], self.metas[i]["chunk_index"]): i for i in self.position.values()}
        lengths = np.concatenate([s.lengths for s in segments]) if segments else np.zeros(0, np.float32)
        self.lengths = lengths
        self.avg_length = float(lengths[self.live].mean()) if self.live_count else 1.0

    # -- reading ---------------------------------------------------------------------------
    def text(self, i: int) -> str:
        k = int(np.searchsorted(self.starts, i, side="right")) - 1
        return self.segments[k].text(i - int(self.starts[k]))

    @property
    def texts(self) -> list[str]:
        """Every live chunk's text (reads them all: for statistics over the whole index)."""
        return [self.text(i) for i in np.flatnonzero(self.live)]

    def live_positions(self) -> np.ndarray:
        return np.flatnonzero(self.live)

    def at(self, doc_id: str, chunk_index: int) -> int | None:
        """Where a document's chunk (by its place in the document) is in this index, if indexed."""
        return self._by_index.get((doc_id, chunk_index))

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(positions, counts) of the live chunks holding ``term``."""
        where, counts = [], []
        for s, start in zip(self.segments, self.starts):
            j = s.vocab.get(term)
            if j is None:
                continue
            lo, hi = s.counts.indptr[j], s.counts.indptr[j + 1]
            where.append(s.counts.indices[lo:hi] + start)
            counts.append(s.counts.data[lo:hi])
        if not where:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        where, counts = np.concatenate(where), np.concatenate(counts)
        keep = self.live[where]
        return where[keep], counts[keep]

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk id, score); ``allowed`` is a boolean mask over positions (filters)."""
        if not self.live_count:
            return []
        scores = np.zeros(len(self.ids), dtype=np.float32)
        hit = False
        n = self.live_count
        for term in tokenize([query])[0]:  # a repeated word counts again, as in bm25s
            where, tf = self.postings(term)
            if not len(where):
                continue
            hit = True
            idf = math.log(1 + (n - len(where) + 0.5) / (len(where) + 0.5))
            norm = K1 * ((1 - B) + B * self.lengths[where] / self.avg_length)
            scores[where] += idf * tf / (norm + tf)
        if not hit:
            return []
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((top, -scores[top]))]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def containing(self, phrase: str, among: str = "") -> list[int]:
        """Positions of live chunks whose folded text holds ``phrase`` (already folded) word for
        word: the chunks holding all its indexed words, checked; every chunk for a phrase of
        stop words only. ``among``: other words the chunks must hold too, for a phrase with no
        indexed word of its own ("5-4": among the chunks naming Arsenal, not every chunk)."""
        terms = set(tokenize([phrase])[0]) | set(tokenize([among])[0] if among else ())
        if among and not terms:
            return []  # nothing indexed to narrow by: no scan of every chunk for a phrase like "5-4"
        candidates = None
        for term in terms:
            where = set(self.postings(term)[0].tolist())
            candidates = where if candidates is None else candidates & where
            if not candidates:
                return []
        pool = sorted(candidates) if candidates is not None else self.live_positions().tolist()
        return [i for i in pool if phrase in _folded(self.text(i))]

    # -- building, updating and loading --------------------------------------------------------
    @staticmethod
    def version_of(ids, metas) -> str:
        return _version(len(ids), _sum(ids, metas))

    @classmethod
    def empty(cls) -> "LexicalIndex":
        """No chunks (not saved): the base a writer filling an empty collection adds to."""
        return cls([], {}, _version(0, 0), 0)

    @classmethod
    def build(cls, root: Path, ids, texts, metas, search_texts) -> "LexicalIndex":
        """One segment holding everything given (a full rebuild), saved as the current index."""
        segment = Segment.make(ids, metas, texts, search_texts)
        checksum = _sum(ids, metas)
        index = cls([segment] if len(segment) else [], {}, _version(len(ids), checksum), checksum)
        index._save(root)
        return index

    def updated(self, root: Path, ids, texts, metas, search_texts, removed: set[str]) -> "LexicalIndex":
        """This index with ``removed`` chunk ids gone and the given chunks added (replacing any
        live chunk with the same id), saved as the current index. Reads nothing else."""
        dead = {name: list(positions) for name, positions in self.dead.items()}
        checksum = self.checksum
        for chunk_id in set(removed) | set(ids):
            i = self.position.get(chunk_id)
            if i is None:
                continue
            k = int(np.searchsorted(self.starts, i, side="right")) - 1
            dead.setdefault(self.segments[k].name, []).append(i - int(self.starts[k]))
            checksum = (checksum - _chunk_hash(chunk_id, self.metas[i]["doc_hash"])) & _MASK64
        checksum = (checksum + _sum(ids, metas)) & _MASK64
        segments = list(self.segments)
        if ids:
            segments.append(Segment.make(ids, metas, texts, search_texts))
        live = self.live_count - sum(1 for c in set(removed) | set(ids) if c in self.position) + len(ids)
        index = LexicalIndex(segments, dead, _version(live, checksum), checksum)
        if index._needs_merge():
            index = index.merged()
        index._save(root)
        return index

    def _needs_merge(self) -> bool:
        """Too many segments, or too much outside the first one or dead (searching pays for both)."""
        total = len(self.ids)
        waste = total - (len(self.segments[0]) if self.segments else 0) + (total - self.live_count)
        return len(self.segments) > MAX_SEGMENTS or waste > MAX_DELTA_SHARE * total

    def merged(self) -> "LexicalIndex":
        """The live chunks in one segment (term counts re-made from the texts)."""
        keep = self.live_positions()
        ids = [self.ids[i] for i in keep]
        metas = [self.metas[i] for i in keep]
        texts = [self.text(i) for i in keep]
        segment = Segment.make(ids, metas, texts, (search_text(t, m) for t, m in zip(texts, metas)))
        return LexicalIndex([segment] if ids else [], {}, self.version, self.checksum)

    def _save(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        for segment in self.segments:
            segment.save(root)
        manifest = root / f"manifest-{self.version}.json"
        tmp = manifest.with_name(f"{manifest.name}.tmp-{_writer()}")
        tmp.write_text(json.dumps({
            "version": self.version, "checksum": self.checksum, "tokenizer": TOKENIZER,
            "segments": [{"name": s.name, "dead": sorted(self.dead.get(s.name, []))} for s in self.segments],
        }), encoding="utf-8")
        os.replace(tmp, manifest)
        _atomic_write(root / "CURRENT", manifest.name)
        used = {manifest.name} | {f"seg-{s.name}" for s in self.segments}
        for old in root.iterdir():  # earlier manifests, merged segments, leftovers of killed runs
            if old.name not in used and old.name != "CURRENT":
                if old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    old.unlink(missing_ok=True)

    @classmethod
    def load(cls, root: Path, previous: "LexicalIndex | None" = None) -> "LexicalIndex | None":
        """The saved index, or None when there is none or it is unusable (a reader then rebuilds
        it): missing or garbled files, or parts that disagree. Segments ``previous`` already
        holds are reused, not read again."""
        try:
            manifest = json.loads((root / (root / "CURRENT").read_text().strip()).read_text(encoding="utf-8"))
            if manifest.get("tokenizer") != TOKENIZER:
                return None  # tokens of an older tokenizer: rebuilt from the stored chunks, as when damaged
            have = {s.name: s for s in previous.segments} if previous is not None else {}
            segments = [have.get(entry["name"]) or Segment.load(root, entry["name"]) for entry in manifest["segments"]]
            dead = {entry["name"]: list(entry["dead"]) for entry in manifest["segments"] if entry["dead"]}
            index = cls(segments, dead, manifest["version"], int(manifest["checksum"]))
            if len(index.position) != index.live_count or not isinstance(index.version, str) or \
                    _version(index.live_count, index.checksum) != index.version:
                return None
            return index
        except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
            # a newer build may have replaced the files since CURRENT was read: the caller retries
            return None


def _counts(tokens: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for token in tokens:
        counts[token] = counts.get(token, 0) + 1
    return counts


def _sum(ids, metas) -> int:
    total = 0
    for chunk_id, meta in zip(ids, metas):
        total = (total + _chunk_hash(chunk_id, meta["doc_hash"])) & _MASK64
    return total


def _version(count: int, checksum: int) -> str:
    return f"{count:x}-{checksum:016x}"


@functools.lru_cache(maxsize=4096)
def _folded(text: str) -> str:
    return fold(text)


def _writer() -> str:
    """Names a writer's temporary files: two threads of one process never share them."""
    return f"{os.getpid()}-{threading.get_ident()}"


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".tmp-{_writer()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
