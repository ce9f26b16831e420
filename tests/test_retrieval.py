"""Retrieval: date filters, the BM25 index kept in step with Chroma (under the ingest lock, with
the loaded snapshot served meanwhile), the search hot path, and the encoder's thread count.

Threaded tests order their steps with events, never with sleeps.
"""

from __future__ import annotations

import fcntl
import threading

import numpy as np
import pytest

from rag import lexical as lexical_module
from rag.answer import Citation
from rag.cli import main
from rag.ingest import _ingest_lock, ingest, search_text
from rag.lexical import LexicalIndex
from rag.retrieval import Filters, Passage, Retriever
from rag.sources import Source
from rag.store import index_version

TEXT = (
    "Japan's fisheries agency said on Tuesday that talks with Russia on salmon quotas would resume in April. "
    "Officials in Nemuro said the fleet had lost two seasons to the dispute."
)
OTHER_TEXT = "The Hakodate customs office said 23 crab shipments were inspected in March."


# -- date filters --------------------------------------------------------------------------------
def test_partial_dates_cover_the_whole_month_or_year():
    december = Filters(date_from="2023-12", date_to="2023-12")
    assert december.allows({"date_num": 20231201}) and december.allows({"date_num": 20231231})
    assert not december.allows({"date_num": 20231130}) and not december.allows({"date_num": 20240101})
    year = Filters(date_from="2023", date_to="2023")
    assert year.allows({"date_num": 20230101}) and year.allows({"date_num": 20231231})
    assert not year.allows({"date_num": 20221231}) and not year.allows({"date_num": 20240101})
    assert year.where() == {"$and": [{"date_num": {"$gte": 20230000}}, {"date_num": {"$lte": 20239999}}]}
    day = Filters(date_from="2023-12-20", date_to="2023-12-20")
    assert day.allows({"date_num": 20231220}) and not day.allows({"date_num": 20231221})


@pytest.mark.parametrize("field", ["date_from", "date_to"])
@pytest.mark.parametrize("value", ["yesterday", "2023-13", "2023-02-30", "23-12", "2023/12/20", "2023-12-20T10:00"])
def test_malformed_dates_are_refused_naming_the_field(field, value):
    with pytest.raises(ValueError, match=f"{field} must be YYYY, YYYY-MM or YYYY-MM-DD, got '{value}'"):
        Filters(**{field: value})


def test_cli_reports_a_bad_date_as_a_one_line_error(data_dir, capsys):
    assert main(["ask", "Who said what?", "--date-to", "yesterday"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: date_to must be YYYY, YYYY-MM or YYYY-MM-DD") and "Traceback" not in err


# -- citation JSON -------------------------------------------------------------------------------
def test_citation_framing_json_keeps_its_keys():
    source = Source.from_mapping("d1", {"outlet": "TASS", "framing": {
        "partisan": True, "label": "state media", "rationale": "state-owned", "confidence": "high",
        "rated_by": "desk", "rated_on": "2024-01-05",
    }})
    meta = {"doc_id": "d1", "start": 0, "end": 5}
    framing = Citation(1, Passage("d1:0", "Hello", meta, 0.5), source).to_json()["framing"]
    assert framing == {
        "partisan": True, "label": "state media", "rationale": "state-owned", "confidence": "high",
        "rated_by": "desk", "rated_on": "2024-01-05", "cues": [],
    }


# -- the BM25 files ------------------------------------------------------------------------------
def _tiny_index(root, version="v1") -> LexicalIndex:
    texts = [TEXT, OTHER_TEXT]
    metas = [{"doc_id": f"d{i}", "chunk_index": 0} for i in range(2)]
    return LexicalIndex.build(root, ["a", "b"], texts, metas, texts, version)


def test_bm25_stemmer_is_built_once_per_thread():
    mine = lexical_module._stemmer()
    assert lexical_module._stemmer() is mine
    other = []
    thread = threading.Thread(target=lambda: other.append(lexical_module._stemmer()))
    thread.start()
    thread.join()
    assert other[0] is not mine  # PyStemmer instances must not be used by two threads at once


@pytest.mark.parametrize("damage", ["missing", "garbage"])
def test_lexical_load_returns_none_for_a_vanished_or_broken_folder(tmp_path, damage):
    _tiny_index(tmp_path)
    assert LexicalIndex.load(tmp_path).ids == ["a", "b"]
    params = tmp_path / "v-v1" / "params.index.json"
    if damage == "missing":
        params.unlink()
    else:
        params.write_text("not json")
    assert LexicalIndex.load(tmp_path) is None


def test_bm25_writers_in_two_threads_use_different_temporary_folders(tmp_path):
    index = _tiny_index(tmp_path)
    save, folders = index.retriever.save, []

    def spy(path, **kwargs):
        folders.append(path)
        return save(path, **kwargs)

    index.retriever.save = spy
    index._save(tmp_path)  # this thread stays alive, so the other one cannot reuse its id
    thread = threading.Thread(target=index._save, args=(tmp_path,))
    thread.start()
    thread.join()
    assert len(folders) == 2 and folders[0] != folders[1]
    assert LexicalIndex.load(tmp_path).ids == ["a", "b"]


# -- BM25 kept in step with Chroma ---------------------------------------------------------------
def _index(tmp_path, settings) -> Retriever:
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    (inbox / "salmon.txt").write_text(TEXT, encoding="utf-8")
    ingest(settings, [inbox])
    retriever = Retriever(settings)
    retriever.lexical()
    return retriever


def _recheck(retriever: Retriever) -> None:
    retriever._lexical_checked = float("-inf")  # as if the 2 s between version checks had passed


def _lock_is_held(settings) -> bool:
    with open(settings.data_dir / ".ingest.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
        return False


@pytest.fixture
def builds(monkeypatch, settings):
    """Every BM25 build, recorded with whether the ingest lock was held while it ran."""
    calls = []
    build = LexicalIndex.build.__func__

    def spy(cls, *args, **kwargs):
        calls.append(_lock_is_held(settings))
        return build(cls, *args, **kwargs)

    monkeypatch.setattr(LexicalIndex, "build", classmethod(spy))
    return calls


def _add_chunk_elsewhere(retriever: Retriever, record: bool = True) -> str:
    """What another machine re-indexing a shared Chroma server does: new chunks, then the version."""
    store = retriever.store
    meta = {"doc_id": "crabs", "doc_hash": "h-crabs", "path": "/elsewhere/crabs.txt", "chunk_index": 0,
            "start": 0, "end": len(OTHER_TEXT), "segment_kind": "article", "segment_label": "article body",
            "title": "Crab checks", "outlet": "Kyodo"}
    store.upsert(["crabs:0"], retriever.embedder.encode([search_text(OTHER_TEXT, meta)]), [OTHER_TEXT], [meta])
    ids, _texts, metas = store.all_chunks()
    version = index_version(ids, metas)
    if record:
        store.record_version(version)
    return version


def test_reader_catches_up_with_another_machine_only_under_the_ingest_lock(tmp_path, settings, builds):
    retriever = _index(tmp_path, settings)
    builds.clear()
    version = _add_chunk_elsewhere(retriever)
    _recheck(retriever)
    lexical = retriever.lexical()
    assert lexical.version == version and "crabs:0" in lexical.ids
    assert builds == [True], "the reader rebuilt BM25 without holding the ingest lock"
    assert [p.id for p in retriever.search("crab shipments inspected", k=1)] == ["crabs:0"]


def test_loaded_reader_keeps_its_snapshot_while_an_ingest_holds_the_lock(tmp_path, settings, builds):
    retriever = _index(tmp_path, settings)
    snapshot = retriever.lexical()
    builds.clear()
    version = _add_chunk_elsewhere(retriever)
    got = []
    with _ingest_lock(settings):
        _recheck(retriever)
        reader = threading.Thread(target=lambda: got.append(retriever.lexical()))
        reader.start()
        reader.join(timeout=60)
        assert not reader.is_alive(), "the reader waited for the ingest instead of serving its snapshot"
    assert got == [snapshot] and builds == []

    _recheck(retriever)  # the ingest is over: now it catches up
    assert retriever.lexical().version == version and builds == [True]


def test_reader_with_nothing_loaded_waits_for_the_running_ingest(tmp_path, settings, builds, monkeypatch):
    _index(tmp_path, settings)
    retriever = Retriever(settings)  # nothing loaded yet
    waiting = threading.Event()
    flock = fcntl.flock

    def spy(fh, operation):
        if threading.current_thread().name == "reader" and operation == fcntl.LOCK_EX:
            waiting.set()  # about to block on the lock the ingest below holds
        return flock(fh, operation)

    monkeypatch.setattr(fcntl, "flock", spy)
    got = []
    with _ingest_lock(settings):
        # An ingest mid-way: chunks added and BM25 saved, the version not yet recorded in Chroma.
        version = _add_chunk_elsewhere(retriever, record=False)
        ids, texts, metas = retriever.store.all_chunks()
        LexicalIndex.build(settings.bm25_dir, ids, texts, metas, texts, version)
        builds.clear()
        reader = threading.Thread(target=lambda: got.append(retriever.lexical()), name="reader")
        reader.start()
        assert waiting.wait(timeout=60), "the reader did not wait for the ingest lock"
        retriever.store.record_version(version)
    reader.join(timeout=60)
    assert got and got[0].version == version
    assert builds == [], "the reader rebuilt BM25 although the ingest it waited for had built it"


def test_picking_up_a_new_index_version_forgets_cached_documents(tmp_path, settings):
    retriever = _index(tmp_path, settings)
    before = retriever.document("salmon")
    (tmp_path / "inbox" / "salmon.txt").write_text(TEXT + "\n" + OTHER_TEXT, encoding="utf-8")
    ingest(settings, [tmp_path / "inbox"])  # as another process would: this retriever is not told
    _recheck(retriever)
    retriever.lexical()
    after = retriever.document("salmon")
    assert after.doc_hash != before.doc_hash and OTHER_TEXT in after.text


# -- the search hot path -------------------------------------------------------------------------
def test_search_widens_and_scores_only_the_passages_it_returns(corpus_settings, monkeypatch):
    retriever = Retriever(corpus_settings)
    widened, fetched = [], []
    widen, embeddings = retriever._widen, retriever.store.embeddings
    monkeypatch.setattr(retriever, "_widen", lambda p, lexical: (widened.append(p.id), widen(p, lexical)))
    monkeypatch.setattr(retriever.store, "embeddings", lambda ids: (fetched.extend(ids), embeddings(ids))[1])

    query = "Lavrov on the Kurils"
    passages = retriever.search(query, k=3)
    ids = [p.id for p in passages]
    assert widened == ids and set(fetched) <= set(ids)
    vector = retriever.embedder.encode([query])[0]
    stored = embeddings(ids)
    for p in passages:
        assert p.dense_similarity == pytest.approx(float(np.dot(stored[p.id], vector)), abs=1e-4)


# -- the encoder ---------------------------------------------------------------------------------
def test_overlapping_short_queries_leave_torch_at_its_default_thread_count(monkeypatch):
    import torch

    from rag import embeddings

    model = embeddings._load_local_model()
    default = embeddings._TORCH_THREADS
    if default < 2:
        pytest.skip("torch runs one thread here: nothing to restore")
    a_inside, b_inside, a_may_finish, b_may_finish = (threading.Event() for _ in range(4))

    def encode(texts, batch_size, progress):
        name = threading.current_thread().name
        (a_inside if name == "a" else b_inside).set()
        assert (a_may_finish if name == "a" else b_may_finish).wait(timeout=60)
        return np.zeros((len(texts), 384), dtype=np.float32)

    monkeypatch.setattr(model, "encode", encode)
    encoder = embeddings.LocalEmbeddings()
    a = threading.Thread(target=encoder.encode, args=(["query a"],), name="a")
    b = threading.Thread(target=encoder.encode, args=(["query b"],), name="b")
    try:
        a.start()
        assert a_inside.wait(timeout=60)
        b.start()  # starts while a runs on one thread
        assert b_inside.wait(timeout=60)
        a_may_finish.set()
        a.join()
        b_may_finish.set()  # b ends last
        b.join()
        seen = []
        probe = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
        probe.start()
        probe.join()
        assert seen == [default]
    finally:
        a_may_finish.set()
        b_may_finish.set()
        torch.set_num_threads(default)
