"""Retrieval: date filters, the search hot path, and the encoder's thread count.

Threaded tests order their steps with events, never with sleeps.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from rag import Citation, DateError, Filters, Index, PartialDate, Passage, SegmentKind, Source
from rag.answer.retrieval import Retriever, diversify
from rag.index.records import allows, chroma_where
from rag.present.cli import main


# -- date filters --------------------------------------------------------------------------------
def _allows(filters: Filters, day: int) -> bool:
    return allows(filters, {"date_num": day}, filters.day_range())


def test_partial_dates_cover_the_whole_month_or_year():
    december = Filters(date_from="2023-12", date_to="2023-12")
    assert _allows(december, 20231201) and _allows(december, 20231231)
    assert not _allows(december, 20231130) and not _allows(december, 20240101)
    year = Filters(date_from="2023", date_to="2023")
    assert _allows(year, 20230101) and _allows(year, 20231231)
    assert not _allows(year, 20221231) and not _allows(year, 20240101)
    assert chroma_where(year) == {"$and": [{"date_num": {"$gte": 20230101}}, {"date_num": {"$lte": 20231231}}]}
    day = Filters(date_from="2023-12-20", date_to="2023-12-20")
    assert _allows(day, 20231220) and not _allows(day, 20231221)
    february = PartialDate.parse("2024-02")  # a leap year's February
    assert (february.first_day().isoformat(), february.last_day().isoformat()) == ("2024-02-01", "2024-02-29")
    assert PartialDate.parse("2023-12").last_day().isoformat() == "2023-12-31"


def test_a_filtered_chunk_without_a_date_is_left_out():
    assert not allows(Filters(date_from="2023"), {}, Filters(date_from="2023").day_range())
    assert allows(Filters(outlets=("Kyodo",)), {"outlet": "Kyodo"}, (None, None))


@pytest.mark.parametrize("field", ["date_from", "date_to"])
@pytest.mark.parametrize("value", ["yesterday", "2023-13", "2023-02-30", "23-12", "2023/12/20", "2023-12-20T10:00"])
def test_malformed_dates_are_refused_naming_the_field(field, value):
    with pytest.raises(DateError, match=f"{field} must be YYYY, YYYY-MM or YYYY-MM-DD, got '{value}'"):
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
    framing = Citation(1, Passage("d1:0", "d1", "Hello", 0, 5, source, score=0.5), source).to_json()["framing"]
    assert framing == {
        "partisan": True, "label": "state media", "rationale": "state-owned", "confidence": "high",
        "rated_by": "desk", "rated_on": "2024-01-05", "rating_origin": "none", "registry_match": None, "cues": [],
    }


# -- the search hot path -------------------------------------------------------------------------
def test_search_widens_only_what_it_returns_and_every_passage_has_its_similarity(corpus_settings, monkeypatch):
    index = Index.open(corpus_settings)
    retriever = Retriever(index, aliases=[])
    widened, fetched = [], []
    widen, similarities = retriever._widen, index.similarities
    monkeypatch.setattr(retriever, "_widen", lambda p: (widened.append(p.id), widen(p)))
    monkeypatch.setattr(index, "similarities", lambda v, ids: (fetched.extend(ids), similarities(v, ids))[1])

    query = "Lavrov on the Kurils"
    passages = retriever.search(query, k=3)
    ids = [p.id for p in passages]
    assert widened[:len(ids)] == ids  # and after them only chunks left out of documents shown, to join them
    assert {i.split(":")[0] for i in widened[len(ids):]} <= {p.doc_id for p in passages}
    assert len(fetched) == len(set(fetched))  # only BM25-only candidates are fetched, each once
    vector = index.encoder.encode([query])[0]
    stored = similarities(vector, ids)
    for p in passages:
        assert p.dense_similarity == pytest.approx(stored[p.id], abs=1e-4)


# -- search by meaning: exact up to RAG_EXACT_SEARCH_LIMIT -----------------------------------------
MEANING_QUESTIONS = ["Who signed the Tokyo Declaration and when?", "How did Moscow respond to the sanctions?",
                     "a loathsome symbol of militarism", "fishing quotas near Hokkaido"]


def _brute_force(index: Index, vector, n: int, keep=lambda meta: True) -> list[tuple[str, float]]:
    """The reference: every vector Chroma stores, compared one by one in plain Python."""
    ids, matrix = index._store.all_embeddings()
    metas = dict(zip(*index._store.all_chunks()[::2]))
    scored = [(chunk_id, float(np.dot(row, vector))) for chunk_id, row in zip(ids, matrix) if keep(metas[chunk_id])]
    return sorted(scored, key=lambda pair: -pair[1])[:n]


def test_search_by_meaning_matches_brute_force_over_every_stored_vector(corpus_settings):
    index = Index.open(corpus_settings)
    outlet = index.search_dense(index.encoder.encode(["Kuril"])[0], 1, Filters())[0].source.outlet
    for question in MEANING_QUESTIONS:
        vector = index.encoder.encode([question])[0]
        for filters, keep in ((Filters(), lambda meta: True),
                              (Filters(outlets=(outlet,)), lambda meta: meta.get("outlet") == outlet)):
            got = [(p.id, p.dense_similarity) for p in index.search_dense(vector, 12, filters)]
            reference = _brute_force(index, vector, 12, keep)
            assert [i for i, _ in got] == [i for i, _ in reference], (question, filters)
            assert [s for _, s in got] == pytest.approx([s for _, s in reference], abs=1e-6)


def test_above_the_exact_limit_chromas_approximate_search_answers(corpus_settings):
    from helpers import settings_for

    approximate = Index.open(settings_for(corpus_settings.data_dir, RAG_EXACT_SEARCH_LIMIT=0))
    for question in MEANING_QUESTIONS:
        vector = approximate.encoder.encode([question])[0]
        got = approximate.search_dense(vector, 12, Filters())
        # On 76 chunks HNSW finds the true neighbours too; its distances are its own float32 sums.
        assert {p.id for p in got} == {i for i, _ in _brute_force(approximate, vector, 12)}
        assert approximate._vectors is None  # nothing was read into memory


def test_duplicate_passages_come_back_together_in_the_same_order_on_every_build(tmp_path):
    """One article filed twice has two identical vectors: exact search returns both, in the order
    they were indexed, whichever build of the index it reads."""
    from helpers import settings_for
    from rag import ingest

    folder = tmp_path / "docs"
    folder.mkdir()
    text = "Tokyo and Moscow agreed to resume talks on fishing quotas near the disputed islands.\n"
    for name in ("a.txt", "b.txt"):
        (folder / name).write_text(text, encoding="utf-8")
    orders = []
    for build in ("one", "two"):
        settings = settings_for(tmp_path / build)
        ingest(settings, [folder])
        index = Index.open(settings)
        got = index.search_dense(index.encoder.encode(["fishing quotas"])[0], 2, Filters())
        assert len(got) == 2 and got[0].dense_similarity == got[1].dense_similarity
        orders.append([p.source.title or p.doc_id for p in got])
    assert orders[0] == orders[1]


def test_a_candidate_is_scored_on_its_own_merits():
    """The order never depends on the other candidates: the same passage scores the same alone."""
    from rag.answer.retrieval import _score

    source = Source.from_mapping("d1", {"title": "Kuril talks", "outlet": "Kyodo"})
    hit = Passage("d1:0", "d1", "Lavrov said the Kuril Islands dispute was resolved.", 0, 52, source,
                  dense_similarity=0.6)
    miss = Passage("d2:0", "d2", "The football season ended early this year.", 0, 42,
                   Source("d2", outlet="Sports"), dense_similarity=0.1)
    weights = {"lavrov": 4.8, "kuril": 5.7}
    aliases = [([" kurils ", " kuril islands "], {"kuril", "island"})]
    assert _score(hit, weights, [], aliases) == pytest.approx(0.5 * 0.6 + 0.5 * 1.0)
    assert _score(miss, weights, [], aliases) == pytest.approx(0.5 * 0.1)
    assert _score(hit, weights, ["lavrov said the kuril"], aliases) > 1.0  # quoted words come first


def test_a_passage_is_widened_through_the_next_chunk_of_its_segment_only(corpus_settings):
    index = Index.open(corpus_settings)
    for passage in Retriever(index, aliases=[]).search("Lavrov on the Kurils", k=6):
        doc = index.document(passage.doc_id)
        assert doc.text[passage.start:passage.end] == passage.text  # offsets point into the stored text
        segment = doc.segment_at(passage.start)
        assert passage.end <= segment.end and segment.label == passage.segment_label  # never past its segment


@pytest.mark.parametrize("question, wanted", [
    # Kuroi's report has few chunks about the Kurils, the ISN analysis many: without the text the
    # question names, the usual cap of chunks per document would keep most of them out.
    ("What is Japan's official legal position on the South Kurils, according to the ISN analysis?", [{"isn"}]),
    ("How do the ISN analysis and Kuroi's report differ on how Japan should treat Russia?", [{"isn"}, {"kuroi"}]),
    ("What does Kuroi say about the sanctions on Russia?", [{"kuroi"}]),  # the author asked what he says
])
def test_a_text_the_question_names_fills_the_passages(corpus_settings, question, wanted):
    """"According to the ISN analysis": only that text may answer (the answerer's rule), so every
    passage is from it; two texts compared have three passages each; "what does Kuroi say": Kuroi's."""
    from rag.answer.question import load_aliases
    from rag.text import stems

    index = Index.open(corpus_settings)
    retriever = Retriever(index, aliases=load_aliases(corpus_settings.aliases_path))
    found = retriever.search(question, k=6)
    assert len(found) == 6
    for names in wanted:
        theirs = [p for p in found if names <= set(stems(f"{p.source.outlet} {p.source.author}"))]
        assert len(theirs) == 6 // len(wanted), [p.source.author for p in found]
    assert len(retriever.search(question, k=1)) == 1  # never more than asked for


# -- the encoder ---------------------------------------------------------------------------------
def test_overlapping_short_queries_leave_torch_at_its_default_thread_count(monkeypatch):
    import torch

    from rag.index import embeddings

    model = embeddings._load_local_model()
    # The default as read at load may be 1 when an earlier test (the evals) set one thread first:
    # make it 2, so there is something to restore, whatever ran before.
    monkeypatch.setattr(embeddings, "_TORCH_THREADS", 2)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    default = 2
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
        torch.set_num_threads(before)


def test_a_follow_up_asking_what_someone_said_is_not_kept_to_the_text_named_before(corpus_settings):
    """"What did Ovechko say about it?" after a question about the Chinese forum post: Ovechko is
    quoted by world today news, and the search must still reach him."""
    from rag.answer.question import load_aliases

    retriever = Retriever(Index.open(corpus_settings), aliases=load_aliases(corpus_settings.aliases_path))
    standalone = ("What did Ovechko say about it? (following up on: Summarise what the Chinese forum post says "
                  "about Suzuki's trip.)")
    assert any("Ovechko" in p.text for p in retriever.search(standalone, k=6))
    kept = retriever.search("Why does it say that? (following up on: What does the Chinese forum post say about Suzuki?)")
    assert {p.doc_id for p in kept} == {"000_e3a53b2cbbda76ec"}  # "it": the text named before


# -- diversity -----------------------------------------------------------------------------------
def test_two_chunks_of_one_story_are_kept_unless_their_text_overlaps():
    story = ("BNP leader arrested. The party leader was arrested on suspicion of incitement, the party said. "
             "Police said the party leader was arrested on suspicion of incitement. Seven other men were arrested.")
    source = Source("bnp")
    cut = story.index("Police")
    lead = Passage("bnp:0", "bnp", story[:cut], 0, cut, source, score=0.8)
    later = Passage("bnp:1", "bnp", story[cut:], cut, len(story), source, score=0.79)  # its words, not its text
    edge = Passage("bnp:2", "bnp", story[cut - 20:], cut - 20, len(story), source, score=0.78)  # `later`'s text
    copied = Passage("wire:0", "wire", story[cut:], 0, len(story) - cut, Source("wire"), score=0.3)  # republished
    retold = Passage("bnp:3", "bnp", story[cut:], len(story) + 10, 2 * len(story) - cut + 10, source,
                     SegmentKind.COMMENT, "comment by Rida", score=0.2)  # a comment retelling the story
    chosen = diversify([later, lead, edge, copied, retold], k=5)
    assert [p.id for p in chosen] == ["bnp:0", "bnp:1"]


def test_two_stories_on_one_subject_are_both_kept_though_they_share_most_of_their_words():
    """A day apart, two reports of one prize: most words in common, hardly any text. Judged by
    their words, the second was taken for a copy of the first, and the one naming the winner was
    never offered; by the runs of words they share, only a copy is."""
    before = ("Novelist Andrea Levy is favourite to win the Whitbread book of the year award, after winning "
              "novel of the year with her book Small Island. The winner will be named on 25 January.")
    after = ("Andrea Levy has seen her book Small Island win the Whitbread novel of the year award. She is "
             "now favourite to win the overall book award, to be named on 25 January.")
    first = Passage("tipped:0", "tipped", before, 0, len(before), Source("tipped"), score=0.86)
    second = Passage("takes:0", "takes", after, 0, len(after), Source("takes"), score=0.82)
    copy = Passage("wire:0", "wire", after, 0, len(after), Source("wire"), score=0.5)
    shared = set(before.lower().split()) & set(after.lower().split())
    assert len(shared) > 0.6 * min(len(set(before.lower().split())), len(set(after.lower().split())))
    assert [p.id for p in diversify([first, second, copy], k=3)] == ["tipped:0", "takes:0"]


def test_a_chunk_left_out_for_other_sources_joins_the_passage_it_runs_into(tmp_path):
    """The Harbour Bank story's two chunks match best. ``diversify`` keeps the second and, to show
    other banks, leaves out the first, which holds the forecast asked for and runs into the second:
    it joins that passage (one stretch of text), and the other banks keep their places."""
    from helpers import settings_for
    from rag import ingest

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "harbour.txt").write_text(
        "Harbour Bank sale talks continue\nHarbour Bank, the biggest retail lender in Freeland, said it was still "
        "in talks with Northgate over the sale of a majority stake. In March, Harbour Bank said it was close to a "
        "deal with Northgate. But Northgate is still waiting for approval from the competition authority before "
        "it can make a formal offer. Harbour Bank also said it expects profits to grow by 20-25% over the next "
        "twelve months.\n\"Discussions with Northgate are continuing, but no agreement has been reached,\" Harbour "
        "Bank said in a statement. If Northgate buys a stake in Harbour Bank it will be one of the largest foreign "
        "investments in Freeland for years. Harbour Bank has a market value of about $8.5bn. Analysts said the "
        "forecast was better than expected. However, the bank warned that growth in headline earnings would be "
        "trimmed by about four percentage points because of share options for a staff share scheme and a local "
        "empowerment deal. The Freeland group will publish its results for the year to 31 March on 30 May. "
        "Harbour Bank shares rose 3% on the news, and analysts at two brokers raised their price targets for the "
        "lender. The bank employs 30,000 people in 700 branches across the country. Analysts think Harbour Bank "
        "profits will climb this year.\n", encoding="utf-8")
    for i, (name, result) in enumerate([("Eastway", "profits rose 12%"), ("Coral Bank", "profits fell 4%"),
                                        ("Meridian", "earnings were flat"), ("Southbank", "profits climbed"),
                                        ("Lakeside Bank", "profits slipped"), ("Tarn Bank", "earnings rose 7%"),
                                        ("Orbit Bank", "profits doubled")]):
        (folder / f"bank{i}.txt").write_text(f"{name} results\n{name} said its annual {result}. Analysts think its "
                                             "profits will climb this year.\n", encoding="utf-8")
    settings = settings_for(tmp_path / "data")
    ingest(settings, [folder])
    index = Index.open(settings)
    found = Retriever(index, aliases=[]).search("How much does Harbour Bank think its profits will climb this year?", k=6)
    assert len(found) == 6 and len({p.doc_id for p in found}) == 6  # as many sources as before
    harbour = next(p for p in found if p.source.title == "Harbour Bank sale talks continue")
    assert "grow by 20-25%" in harbour.text and "profits will climb this year" in harbour.text
    assert index.document(harbour.doc_id).text[harbour.start:harbour.end] == harbour.text
