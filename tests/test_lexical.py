"""The segmented BM25 index against bm25s (the reference), and kept in step by small ingests
without reading Chroma."""

from __future__ import annotations

import json
import random

import bm25s
import numpy as np
import pytest

import rag
from rag import ingest
from rag.index.chroma import ChromaStore
from rag.index.lexical import TOKENIZER, LexicalIndex, tokenize

from helpers import BBC_BUSINESS, SEED_FILES, copy_seeds


def _texts() -> list[str]:
    texts = []
    for path in SEED_FILES:
        body = path.read_text(encoding="utf-8")
        texts += [body[i:i + 700] for i in range(0, len(body), 700)]
    for path in sorted(BBC_BUSINESS.glob("*.txt"))[:60]:
        body = path.read_text(encoding="utf-8", errors="replace")
        texts += [body[i:i + 700] for i in range(0, min(len(body), 2100), 700)]
    return texts


def _metas(n: int, tag: str = "h") -> list[dict]:
    return [{"doc_id": f"d{i}", "doc_hash": f"{tag}{i}", "chunk_index": 0} for i in range(n)]


QUERIES = ["Japan sanctions Russia December", "Kuril Islands peace treaty", "profits rose in the third quarter",
           "Lavrov said", "oil prices", "the the the", "Zakharova Yasukuni shrine militarism", "shares shares fell"]


def test_scores_are_bm25s_scores(tmp_path):
    texts = _texts()
    assert len(texts) > 150
    ids = [f"c{i}" for i in range(len(texts))]
    ours = LexicalIndex.build(tmp_path, ids, texts, _metas(len(texts)), texts)
    reference = bm25s.BM25()
    reference.index(tokenize(texts), show_progress=False)
    for query in QUERIES:
        tokens = [t for t in tokenize([query])[0] if t in reference.vocab_dict]
        expected = reference.get_scores(tokens) if tokens else np.zeros(len(texts))
        got = np.zeros(len(texts))
        for chunk_id, score in ours.search(query, len(texts)):
            got[ours.position[chunk_id]] = score
        assert np.allclose(got, expected, rtol=1e-4, atol=1e-5), query


def test_an_updated_index_scores_exactly_like_one_built_over_its_live_chunks(tmp_path):
    texts = _texts()
    ids = [f"c{i}" for i in range(len(texts))]
    metas = _metas(len(texts))
    base = LexicalIndex.build(tmp_path / "a", ids[:150], texts[:150], metas[:150], texts[:150])
    rng = random.Random(7)
    removed = set(rng.sample(ids[:150], 12))
    replaced = ids[3:6]  # the same ids again, with new text: the old ones must not count twice
    new_texts = ["Japan imposed new sanctions on Russian banks."] * 3
    added = ids[150:] + replaced
    added_texts = texts[150:] + new_texts
    added_metas = metas[150:] + _metas(3, tag="new")
    updated = base.updated(tmp_path / "a", added, added_texts, added_metas, added_texts, removed)

    live = {i: t for i, t in zip(ids[:150], texts[:150]) if i not in removed}
    live.update(zip(added, added_texts))
    live_metas = {i: m for i, m in zip(ids, metas)}
    live_metas.update(zip(added, added_metas))
    order = sorted(live)
    full = LexicalIndex.build(tmp_path / "b", order, [live[i] for i in order], [live_metas[i] for i in order],
                              [live[i] for i in order])
    assert updated.version == full.version == LexicalIndex.version_of(order, [live_metas[i] for i in order])
    assert updated.live_count == len(live)
    for query in QUERIES + ["new sanctions on Russian banks"]:
        got = dict(updated.search(query, 1000))
        want = dict(full.search(query, 1000))
        assert got.keys() == want.keys(), query
        assert all(abs(got[k] - want[k]) < 1e-4 for k in want), query
    reloaded = LexicalIndex.load(tmp_path / "a", previous=updated)
    assert reloaded.version == updated.version
    assert all(a is b for a, b in zip(reloaded.segments, updated.segments)), "segments already loaded are reused"
    assert [reloaded.text(reloaded.position[i]) for i in order] == [live[i] for i in order]
    fresh = LexicalIndex.load(tmp_path / "a")
    assert dict(fresh.search("oil prices", 50)) == pytest.approx(dict(updated.search("oil prices", 50)))


def test_phrases_are_found_through_their_words(tmp_path):
    texts = ["Japan’s “dog-like” role, the paper said.", "A dog like that.", "To be or not to be."]
    index = LexicalIndex.build(tmp_path, ["a", "b", "c"], texts, _metas(3), texts)
    from rag.text import fold

    assert index.containing(fold("dog-like")) == [0]
    assert index.containing(fold("dog like")) == [1]
    assert index.containing(fold("Japan’s “dog-like”")) == [0]
    assert index.containing(fold("to be or not")) == [2]  # stop words only: every chunk is checked
    assert index.containing(fold("cat")) == []


def test_a_phrase_of_unindexed_words_is_found_among_the_chunks_holding_other_words(tmp_path):
    texts = ["Arsenal ran out 5-4 winners at Spurs.", "Chelsea won 5-4 on penalties.", "Arsenal beat Fulham 2-0."]
    index = LexicalIndex.build(tmp_path, ["a", "b", "c"], texts, _metas(3), texts)
    assert index.containing("5-4", among="Arsenal") == [0]  # "5" and "4" are too short to be indexed
    assert index.containing("5-4", among="the") == []  # nothing to narrow by: no scan of every chunk


def _all_chunk_reads(monkeypatch) -> list[int]:
    calls = []
    original = ChromaStore.all_chunks

    def spy(self):
        calls.append(1)
        return original(self)

    monkeypatch.setattr(ChromaStore, "all_chunks", spy)
    return calls


def test_a_small_ingest_adds_a_segment_without_reading_chroma(tmp_path, settings, monkeypatch):
    inbox = copy_seeds(tmp_path / "inbox")
    ingest(settings, [inbox])
    reads = _all_chunk_reads(monkeypatch)
    (inbox / "crabs.txt").write_text("Customs in Hakodate inspected 23 crab shipments in March.", encoding="utf-8")
    report = ingest(settings, [inbox])
    assert report.added == 1 and reads == [], "a one-file ingest read every chunk from Chroma"
    lexical = LexicalIndex.load(settings.bm25_dir)
    assert len(lexical.segments) == 2
    (inbox / "crabs.txt").unlink()
    report = ingest(settings, [inbox])
    assert report.removed == 1 and reads == []
    after_delta = LexicalIndex.load(settings.bm25_dir)
    # the same as a rebuild (which fills an empty collection: its BM25 comes from what it added,
    # with no read of Chroma either)
    rebuilt = ingest(settings, [inbox], rebuild=True)
    assert reads == [] and rebuilt.chunks == after_delta.live_count
    full = LexicalIndex.load(settings.bm25_dir)
    assert full.version == after_delta.version
    for query in QUERIES:
        assert dict(full.search(query, 20)) == pytest.approx(dict(after_delta.search(query, 20))), query


def test_a_first_build_takes_bm25_from_what_it_added_without_reading_chroma(tmp_path, settings, monkeypatch):
    reads = _all_chunk_reads(monkeypatch)
    report = ingest(settings, [copy_seeds(tmp_path / "inbox")])
    assert reads == [] and report.chunks > 0, "a first build read every chunk back from Chroma"
    built = LexicalIndex.load(settings.bm25_dir)
    assert built.live_count == report.chunks and len(built.segments) == 1
    # the same index as one made from Chroma's own copy of the chunks
    from rag.index.index import search_text
    ids, texts, metas = rag.Index.open(settings)._store.all_chunks()
    from_chroma = LexicalIndex.build(tmp_path / "check", ids, texts, metas,
                                     [search_text(t, m) for t, m in zip(texts, metas)])
    assert from_chroma.version == built.version
    for query in QUERIES:
        assert dict(from_chroma.search(query, 20)) == pytest.approx(dict(built.search(query, 20))), query


def test_after_a_killed_ingest_bm25_is_rebuilt_from_chroma(tmp_path, settings, monkeypatch):
    """Chunks a killed run stored in Chroma are not in BM25; the next commit must read them."""
    inbox = copy_seeds(tmp_path / "inbox", ids=[p.stem for p in SEED_FILES[:2]])
    ingest(settings, [inbox])
    state = settings.data_dir / "ingest.state"
    state.write_text('{"state": "running", "pending": 1, "pid": 1}', encoding="utf-8")  # as a killed run leaves it
    reads = _all_chunk_reads(monkeypatch)
    ingest(settings, [inbox])
    assert reads == [1]



def test_the_country_us_is_a_token_and_an_index_of_older_tokens_is_rebuilt(tmp_path, settings):
    """"US" and "U.S." are the country ("usa"), not the pronoun "us"; a BM25 index saved with an
    older tokenizer is not used as it is: the next search rebuilds it from the stored chunks, and
    finds what the new tokens find."""
    assert tokenize(["US troops and U.S. aid reached us"])[0].count("usa") == 2
    inbox = copy_seeds(tmp_path / "inbox")
    ingest(settings, [inbox])
    manifest_path = settings.bm25_dir / (settings.bm25_dir / "CURRENT").read_text().strip()
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert manifest["tokenizer"] == TOKENIZER
    manifest_path.write_text(json.dumps({k: v for k, v in manifest.items() if k != "tokenizer"}), encoding="utf-8")
    assert LexicalIndex.load(settings.bm25_dir) is None  # an older tokenizer's index: not used as it is
    hits = rag.Assistant(settings).index.search_lexical("U.S. sanctions", 5, rag.Filters())
    assert hits and any("U.S." in p.text or "US " in p.text for p in hits)
    assert json.loads((settings.bm25_dir / (settings.bm25_dir / "CURRENT").read_text().strip()).read_text())[
        "tokenizer"] == TOKENIZER  # rebuilt and saved
