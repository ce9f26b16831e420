"""The index layer: the BM25 files, BM25 kept in step with Chroma (under the write lock, with the
loaded snapshot served meanwhile), the store boundary, and the encode cache.

Threaded tests order their steps with events, never with sleeps.
"""

from __future__ import annotations

import fcntl
import threading

import numpy as np
import pytest

import rag
from rag import Chunk, EncodeCache, Filters, Index, Segment, SegmentKind, Source, ingest
from rag.index import index as index_module
from rag.index.chroma import Catalog
from rag.index.lexical import LexicalIndex
from rag.index.records import chunk_metadata, passage_from, search_text
from rag.text import stemmer

TEXT = (
    "Japan's fisheries agency said on Tuesday that talks with Russia on salmon quotas would resume in April. "
    "Officials in Nemuro said the fleet had lost two seasons to the dispute."
)
OTHER_TEXT = "The Hakodate customs office said 23 crab shipments were inspected in March."


# -- the store boundary --------------------------------------------------------------------------
def test_chunk_metadata_round_trips_to_a_typed_passage():
    segment = Segment(SegmentKind.COMMENT, "Ann", "comment by Ann", 10, 40)
    chunk = Chunk("d1:x", "d1", 3, segment, 12, 30, "Nice report, thanks.", 5)
    source = Source.from_mapping("d1", {"title": "T", "outlet": "Forum", "published_iso": "2023-12",
                                        "framing": {"partisan": True, "label": "nationalist forum"}})
    meta = chunk_metadata(chunk, source, "hash-1", "/corpus/d1.txt")
    assert None not in meta.values()  # Chroma refuses None
    assert meta["date_num"] == 20231201 and meta["segment_kind"] == "comment"
    p = passage_from(chunk.id, chunk.text, meta, score=0.25)
    assert (p.doc_id, p.doc_hash, p.start, p.end, p.chunk_index) == ("d1", "hash-1", 12, 30, 3)
    assert p.segment_kind is SegmentKind.COMMENT and (p.speaker, p.segment_label) == ("Ann", "comment by Ann")
    assert (p.source.outlet, p.source.partisan, p.source.label, p.score) == ("Forum", True, "nationalist forum", 0.25)
    assert Index.search_text(chunk, source) == search_text(chunk.text, meta) == (
        "T (Forum), comment by Ann\nNice report, thanks.")


# -- the BM25 files ------------------------------------------------------------------------------
def _tiny_index(root) -> LexicalIndex:
    texts = [TEXT, OTHER_TEXT]
    metas = [{"doc_id": f"d{i}", "doc_hash": f"h{i}", "chunk_index": 0} for i in range(2)]
    return LexicalIndex.build(root, ["a", "b"], texts, metas, texts)


def test_stemmer_is_built_once_per_thread():
    mine = stemmer()
    assert stemmer() is mine
    other = []
    thread = threading.Thread(target=lambda: other.append(stemmer()))
    thread.start()
    thread.join()
    assert other[0] is not mine  # PyStemmer instances must not be used by two threads at once


@pytest.mark.parametrize("damage", ["counts missing", "garbage", "manifest missing", "manifest garbled"])
def test_lexical_load_returns_none_for_a_vanished_or_broken_folder(tmp_path, damage):
    index = _tiny_index(tmp_path)
    assert LexicalIndex.load(tmp_path).ids == ["a", "b"]
    segment = tmp_path / f"seg-{index.segments[0].name}"
    manifest = tmp_path / (tmp_path / "CURRENT").read_text()
    if damage == "counts missing":
        (segment / "indptr.npy").unlink()
    elif damage == "garbage":
        (segment / "chunks.json").write_text("not json")
    elif damage == "manifest missing":
        manifest.unlink()
    else:
        manifest.write_text(manifest.read_text().replace('"checksum": ', '"checksum": 1'))
    assert LexicalIndex.load(tmp_path) is None


def test_bm25_writers_in_two_threads_use_different_temporary_names(tmp_path, monkeypatch):
    from rag.index import lexical

    index = _tiny_index(tmp_path)
    names, writer = [], lexical._writer
    monkeypatch.setattr(lexical, "_writer", lambda: names.append(writer()) or names[-1])
    index._save(tmp_path)  # this thread stays alive, so the other one cannot reuse its id
    thread = threading.Thread(target=index._save, args=(tmp_path,))
    thread.start()
    thread.join()
    assert len(set(names)) == 2
    assert LexicalIndex.load(tmp_path).ids == ["a", "b"]


# -- BM25 kept in step with Chroma ---------------------------------------------------------------
@pytest.fixture
def always_recheck(monkeypatch):
    """Readers compare versions on every call (not at most every 2 s), so each step is seen at once."""
    monkeypatch.setattr(index_module, "VERSION_CHECK_SECONDS", -1.0)


def _index(tmp_path, settings) -> Index:
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    (inbox / "salmon.txt").write_text(TEXT, encoding="utf-8")
    ingest(settings, [inbox])
    index = Index.open(settings)
    index.chunk_texts()  # load the BM25 snapshot
    return index


def _version(index: Index) -> str:
    return index.chunk_texts()[0]


@pytest.fixture
def builds(monkeypatch, settings):
    """Every BM25 build, recorded with whether the write lock was held while it ran."""
    calls = []
    build = LexicalIndex.build.__func__

    def spy(cls, *args, **kwargs):
        calls.append(Index.writer_active(settings))
        return build(cls, *args, **kwargs)

    monkeypatch.setattr(LexicalIndex, "build", classmethod(spy))
    return calls


def _add_chunk_elsewhere(settings, index: Index, record: bool = True) -> str:
    """What another machine re-indexing a shared Chroma server does: new chunks, then the version."""
    catalog = Catalog(settings)
    store = catalog.open_active(index.encoder.name)
    meta = {"doc_id": "crabs", "doc_hash": "h-crabs", "path": "/elsewhere/crabs.txt", "chunk_index": 0,
            "start": 0, "end": len(OTHER_TEXT), "segment_kind": "article", "segment_label": "article body",
            "title": "Crab checks", "outlet": "Kyodo"}
    store.upsert(["crabs:0"], index.encoder.encode([search_text(OTHER_TEXT, meta)]), [OTHER_TEXT], [meta])
    ids, _texts, metas = store.all_chunks()
    version = LexicalIndex.version_of(ids, metas)
    if record:
        catalog.point(store.name, version)
    return version


def test_reader_catches_up_with_another_machine_only_under_the_write_lock(tmp_path, settings, builds,
                                                                         always_recheck):
    index = _index(tmp_path, settings)
    builds.clear()
    version = _add_chunk_elsewhere(settings, index)
    assert _version(index) == version
    assert builds == [True], "the reader rebuilt BM25 without holding the write lock"
    assert [p.id for p in index.search_lexical("crab shipments inspected", 1, Filters())] == ["crabs:0"]
    assert [p.id for p in rag.Assistant(settings).search("crab shipments inspected", k=1)] == ["crabs:0"]


def test_loaded_reader_keeps_its_snapshot_while_an_ingest_holds_the_lock(tmp_path, settings, builds,
                                                                         always_recheck):
    index = _index(tmp_path, settings)
    before = _version(index)
    builds.clear()
    version = _add_chunk_elsewhere(settings, index)
    got = []
    with Index.write_lock(settings):
        reader = threading.Thread(target=lambda: got.append(_version(index)))
        reader.start()
        reader.join(timeout=60)
        assert not reader.is_alive(), "the reader waited for the ingest instead of serving its snapshot"
    assert got == [before] and builds == []
    assert _version(index) == version and builds == [True]  # the ingest is over: now it catches up


def test_reader_with_nothing_loaded_waits_for_the_running_ingest(tmp_path, settings, builds, monkeypatch):
    _index(tmp_path, settings)
    index = Index.open(settings)  # nothing loaded yet
    waiting = threading.Event()
    flock = fcntl.flock

    def spy(fh, operation):
        if threading.current_thread().name == "reader" and operation == fcntl.LOCK_EX:
            waiting.set()  # about to block on the lock the ingest below holds
        return flock(fh, operation)

    monkeypatch.setattr(fcntl, "flock", spy)
    got = []
    with Index.write_lock(settings):
        # An ingest mid-way: chunks added and BM25 saved, the version not yet recorded in Chroma.
        version = _add_chunk_elsewhere(settings, index, record=False)
        catalog = Catalog(settings)
        store = catalog.open_active(index.encoder.name)
        ids, texts, metas = store.all_chunks()
        assert LexicalIndex.build(settings.bm25_dir, ids, texts, metas, texts).version == version
        builds.clear()
        reader = threading.Thread(target=lambda: got.append(_version(index)), name="reader")
        reader.start()
        assert waiting.wait(timeout=60), "the reader did not wait for the write lock"
        catalog.point(store.name, version)
    reader.join(timeout=60)
    assert got == [version]
    assert builds == [], "the reader rebuilt BM25 although the ingest it waited for had built it"


def test_picking_up_a_new_index_version_forgets_cached_documents(tmp_path, settings, always_recheck):
    index = _index(tmp_path, settings)
    before = index.document("salmon")
    (tmp_path / "inbox" / "salmon.txt").write_text(TEXT + "\n" + OTHER_TEXT, encoding="utf-8")
    ingest(settings, [tmp_path / "inbox"])  # as another process would: this index is not told
    index.chunk_texts()
    after = index.document("salmon")
    assert after.doc_hash != before.doc_hash and OTHER_TEXT in after.text


def test_only_the_documents_read_last_are_kept_in_memory(tmp_path, settings):
    """Every answer reads its passages' documents; an archive's thousands do not all stay in memory."""
    index = _index(tmp_path, settings)
    (tmp_path / "inbox" / "crab.txt").write_text(OTHER_TEXT, encoding="utf-8")
    ingest(settings, [tmp_path / "inbox"])
    index.chunk_texts()
    index.documents_kept = 1
    salmon = index.document("salmon")
    assert index.document("salmon") is salmon  # kept: read once
    crab = index.document("crab")
    assert OTHER_TEXT in crab.text and index.document("crab") is crab
    again = index.document("salmon")  # the crab text pushed it out: read again, the same text
    assert again is not salmon and again.text == salmon.text


def test_after_an_upload_exact_search_reads_only_the_new_chunks_vectors(tmp_path, settings, always_recheck,
                                                                          monkeypatch):
    from rag.index.chroma import ChromaStore

    reads = {"all": 0, "by_id": []}
    read_all, read_ids = ChromaStore.all_embeddings, ChromaStore.embeddings
    monkeypatch.setattr(ChromaStore, "all_embeddings", lambda self: (reads.__setitem__("all", reads["all"] + 1),
                                                                     read_all(self))[1])
    monkeypatch.setattr(ChromaStore, "embeddings", lambda self, ids: (reads["by_id"].extend(ids), read_ids(self, ids))[1])
    index = _index(tmp_path, settings)
    vector = index.encoder.encode(["crab shipments inspected by customs"])[0]
    before = index.search_dense(vector, 5, Filters())
    assert reads == {"all": 1, "by_id": []}

    (tmp_path / "inbox" / "crabs.txt").write_text(OTHER_TEXT, encoding="utf-8")
    ingest(settings, [tmp_path / "inbox"])  # as an upload does; this reader is not told
    after = index.search_dense(vector, 5, Filters())
    new = {p.id for p in after} - {p.id for p in before}
    assert reads["all"] == 1 and set(reads["by_id"]) == new and len(new) == 1
    assert after[0].id in new and after[0].doc_id != "salmon"  # the new document answers, found exactly
    stored = read_ids(index._store, [p.id for p in after])
    for p in after:
        assert p.dense_similarity == pytest.approx(float(np.dot(stored[p.id], vector)), abs=1e-6)


# -- the encode cache ----------------------------------------------------------------------------
def test_encode_cache_encodes_each_text_once():
    class Inner:
        name = "fake"
        calls = []

        def encode(self, texts):
            self.calls.append(list(texts))
            return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

    inner = Inner()
    cache = EncodeCache(inner)
    assert cache.name == "fake"
    assert cache.encode(["ab", "c", "ab"]).tolist() == [[2, 1], [1, 1], [2, 1]]
    assert cache.encode(["c", "dddd"]).tolist() == [[1, 1], [4, 1]]
    assert inner.calls == [["ab", "c"], ["dddd"]]


def test_listing_documents_rereads_only_changed_files(tmp_path):
    """After one upload into a big archive the list is not read again from every file."""
    import os

    from rag.index import documents as stored
    from rag.model import Document
    from rag.settings import Settings

    settings = Settings(data_dir=tmp_path)
    for n in range(3):
        stored.save(settings, Document(f"d{n}", "h", f"/c/d{n}.txt", Source(f"d{n}", title=f"Title {n}"), "Text.", []))
    assert [d.source.title for d in rag.list_documents(settings)] == ["Title 0", "Title 1", "Title 2"]

    # d1's file changes behind the list's back, same inode, size and time: it is not read again
    path = settings.documents_dir / "d1.json"
    st = path.stat()
    path.write_text(path.read_text(encoding="utf-8").replace("Title 1", "Title X"), encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert [d.source.title for d in rag.list_documents(settings)][1] == "Title 1"

    # saved anew (a new file), added and deleted documents are seen
    stored.save(settings, Document("d1", "h2", "/c/d1.txt", Source("d1", title="Title 1b"), "Text.", []))
    stored.save(settings, Document("d3", "h", "/c/d3.txt", Source("d3", title="Title 3"), "Text.", []))
    stored.delete(settings, "d0")
    assert [d.source.title for d in rag.list_documents(settings)] == ["Title 1b", "Title 2", "Title 3"]
    assert stored.ids(settings) == ["d1", "d2", "d3"]
