"""Unit tests of the eval metrics (evals/metrics.py, evals/scoring.py, the gate, the tutorial
answerer, the judge's bookkeeping) on small hand-made inputs with hand-computed values."""

from __future__ import annotations

import json
import math

import pytest

from evals import metrics as m
from rag import SegmentKind, Warning, WarningKind
from evals.dataset import Case, Evidence, interleave
from evals.judge import Judge, parse_score, summarise
from evals.runner import EvalError, gate
from evals.scoring import aggregate, case_score, score_case
from evals.systems import Cited, Retrieved, Run, tutorial_answer, tutorial_sentences

S = frozenset


# -- normalisation ---------------------------------------------------------------------------------
def test_norm_collapses_whitespace_and_quotes():
    assert m.norm("  a\n\tb   c ") == "a b c"
    assert m.norm_quotes("ally’s “arms”") == "ally's \"arms\""


def test_needle_hits_compare_on_normalised_whitespace():
    passages = ["Trade hit $32 billion\nin 2013 – a 5.3 percent rise.", "nothing here", "$32 billion in 2013"]
    hits = m.needle_hits(passages, ["$32 billion in 2013", "5.3 percent"])
    assert hits == [S({0, 1}), S(), S({0})]


# -- retrieval ---------------------------------------------------------------------------------------
def test_recall_at_k():
    hits = [S({0}), S(), S({1}), S()]
    assert m.recall_at_k(hits, 3, 1) == pytest.approx(1 / 3)
    assert m.recall_at_k(hits, 3, 3) == pytest.approx(2 / 3)
    assert m.recall_at_k(hits, 2, 10) == 1.0
    assert m.recall_at_k(hits, 0, 10) is None  # nothing to find: not applicable


def test_reciprocal_rank():
    assert m.reciprocal_rank([S(), S(), S({0})]) == pytest.approx(1 / 3)
    assert m.reciprocal_rank([S({1}), S({0})]) == 1.0
    assert m.reciprocal_rank([S(), S()]) == 0.0
    assert m.reciprocal_rank([S(), S(), S({0})], k=2) == 0.0


def test_novelty_gains_count_each_needle_once():
    assert m.novelty_gains([S({0}), S({0}), S({0, 1}), S()]) == [1, 0, 1, 0]


def test_ndcg_hand_computed():
    # ranking: miss, needle 0, needles 0+1 -> novelty gains [0, 1, 1]
    hits = [S(), S({0}), S({0, 1})]
    dcg = 1 / math.log2(3) + 1 / math.log2(4)  # 0.6309 + 0.5
    # the index holds one chunk with both needles: ideal gains [2] -> IDCG 2
    all_hits = [S({0}), S({0, 1}), S({1}), S()]
    assert m.ndcg_at_k(hits, all_hits, 10) == pytest.approx(dcg / 2)
    assert m.ndcg_at_k(hits, all_hits, 10) == pytest.approx(0.565465, abs=1e-6)


def test_ndcg_single_needle_and_duplicates():
    all_hits = [S({0}), S({0}), S()]  # two overlapping chunks both hold the needle
    assert m.ndcg_at_k([S({0}), S({0})], all_hits, 10) == 1.0  # the duplicate earns nothing, costs nothing
    assert m.ndcg_at_k([S(), S({0})], all_hits, 10) == pytest.approx(1 / math.log2(3))
    assert m.ndcg_at_k([S(), S()], all_hits, 10) == 0.0
    assert m.ndcg_at_k([S()], [S()], 10) == 0.0  # needle in no passage at all
    assert m.ndcg_at_k([S(), S(), S({0})], all_hits, 2) == 0.0  # beyond k


def test_ideal_gains_greedy():
    assert m.ideal_gains([S({0}), S({1, 2}), S({0, 1})], 10) == [2, 1]
    assert m.ideal_gains([S({0}), S({1}), S({2})], 2) == [1, 1]


# -- citations and quotes ------------------------------------------------------------------------------
def test_citation_valid():
    assert m.citation_valid("A [1]. B [2].", {1, 2})
    assert m.citation_valid("A [1][2].", [1, 2])
    assert m.citation_valid("A [1, 2].", [1, 2])
    assert not m.citation_valid("A [1]. B [3].", {1, 2})  # [3] resolves to nothing
    assert not m.citation_valid("No markers at all.", {1})
    assert m.cited_numbers("x [1, 2] y [3][4]") == [1, 2, 3, 4]


def test_quote_fidelity_verbatim_and_not():
    passages = {1: 'Interestingly, Putin said: "Japan is still using Russian electricity."',
                2: "Lavrov bluntly said: All territorial disputes between Russia and Japan have been resolved."}
    good = "According to the site, “Japan is still using Russian electricity.” [1]"
    assert m.quote_fidelity(good, passages) == (1, 1, [])
    bad = "According to the site, “Japan still uses Russian electricity.” [1]"
    assert m.quote_fidelity(bad, passages) == (0, 1, ["Japan still uses Russian electricity."])


def test_quote_is_checked_against_its_own_citation():
    passages = {1: "Alpha beta gamma delta.", 2: "Epsilon zeta eta theta."}
    assert m.quote_fidelity("X said “Alpha beta gamma” [2].", passages)[0] == 0  # right words, wrong source
    assert m.quote_fidelity("X said “Alpha beta gamma” [1].", passages)[0] == 1
    assert m.quote_fidelity("[1] says “Alpha beta gamma”.", passages)[0] == 1  # marker before the quote
    assert m.quote_fidelity("Somebody said “Epsilon zeta”.", passages)[0] == 1  # no marker: any citation


def test_quote_fidelity_nested_ellipsis_and_straight_quotes():
    passage = "He said, “There will be no treaty without the territorial issue.” Then he left the room."
    offline = "According to X, “He said, “There will be no treaty without the territorial issue.” [1]"
    assert m.quote_fidelity(offline, {1: passage}) == (1, 1, [])
    assert m.quote_fidelity("“There will be no treaty … territorial issue” [1]", {1: passage})[0] == 1
    assert m.quote_fidelity("“There will be … no territorial treaty” [1]", {1: passage})[0] == 0  # order matters
    assert m.quote_fidelity('He said "no treaty without the territorial issue". [1]', {1: passage})[0] == 1
    assert m.extract_quotes("no quotes here [1]") == []
    assert m.extract_quotes("“ ” and \"-\"") == []  # nothing quoted


# -- key facts, refusals, warnings -------------------------------------------------------------------------
def test_key_fact_alternatives_case_insensitive():
    answer = "Former prime minister ABE attended; Washington did not twist its ally's arms."
    assert m.key_fact_found(answer, "Shinzo Abe|Abe")
    assert m.key_fact_found(answer, "twist its ally’s arms")  # typographic apostrophe = plain one
    assert not m.key_fact_found(answer, "Italy")
    coverage, missing = m.key_fact_coverage(answer, ["Shinzo Abe|Abe", "Italy"])
    assert coverage == 0.5 and missing == ["Italy"]
    assert m.key_fact_coverage(answer, []) == (None, [])


def test_refusal_metrics():
    pairs = [(True, True), (True, False), (False, False), (False, True), (False, False)]  # (expected, refused)
    out = m.refusal_metrics(pairs)
    assert out["refusal_accuracy"] == pytest.approx(3 / 5)
    assert out["false_refusal_rate"] == pytest.approx(1 / 3)
    assert out["missed_refusal_rate"] == pytest.approx(1 / 2)
    assert m.refusal_metrics([(False, False)])["missed_refusal_rate"] is None


def test_precision_recall_and_warning_detection():
    assert m.precision_recall([(True, True), (True, False), (False, True), (False, False)]) == (0.5, 0.5)
    assert m.precision_recall([(True, False), (False, False)]) == (None, 0.0)  # never warns: precision n/a
    assert m.has_partisan_warning([Warning(WarningKind.ONE_SIDED, "One-sided evidence: ..."),
                                   Warning(WarningKind.PARTISAN_SOURCE, "Reworded freely [1].", (1,))])
    assert not m.has_partisan_warning([Warning(WarningKind.COMMENT, "Partisan source: a comment by Ann", (1,)),
                                       Warning(WarningKind.ONE_SIDED, "One-sided evidence: ...")])


# -- attribution and who said what -----------------------------------------------------------------------------
def test_source_names():
    names = m.source_names("Unnamed Japanese outlet (byline Fumitaro Kuroi)", "Fumitaro Kuroi", None)
    assert names == ["Unnamed Japanese outlet (byline Fumitaro Kuroi)", "Unnamed Japanese outlet", "Fumitaro Kuroi", "Kuroi"]
    assert "公路边" in m.source_names("公路边 (Chinese-language Discuz! forum)")


def test_sentence_attribution():
    names = m.source_names("world today news (republisher)")
    assert m.sentence_attributed("According to world today news (republisher), “Tokyo sided with Kiev.” [1]", names)
    assert m.sentence_attributed("World today news says Tokyo sided with Kiev [1].", names)
    assert m.sentence_attributed("The Chinese content site claims the sanctions backfired [2].", [])
    assert not m.sentence_attributed("Tokyo sided with the Kiev regime [1].", names)  # stated as fact
    assert not m.sentence_attributed("“World today news says Tokyo sided with Kiev” [1].", names)  # cue only inside the quote
    assert not m.sentence_attributed("Lavrov said the disputes are resolved [1].", names)  # a person, not the source
    forum = m.source_names("公路边 (Chinese-language Discuz! forum)", "司徒凯琮 (forum poster; opening post)", "匠心独具")
    assert m.sentence_attributed("On 公路边 (rated: nationalist forum), the commenter 匠心独具 wrote: “Give Hokkaido.” [1]", forum)


def test_speaker_matches():
    article, post, comment = SegmentKind.ARTICLE, SegmentKind.OPENING_POST, SegmentKind.COMMENT
    assert m.speaker_matches("article", "article", "article body", article, None, "x")
    assert m.speaker_matches("article", "article", "opening post by Bo", post, "Bo", "x")
    assert not m.speaker_matches("article", "article", "comment by Ann", comment, "Ann", "x")
    assert not m.speaker_matches("article", "article", "article body", None, None, "x")  # raw chunk: no voice
    assert m.speaker_matches("anonymous", "anonymous reply", "post #4 (poster not shown)", comment, None, "x")
    assert not m.speaker_matches("anonymous", "anonymous reply", "comment by Ann", comment, "Ann", "x")
    assert not m.speaker_matches("anonymous", "anonymous reply", "opening post by Aepsilons", post, "Aepsilons", "x")
    assert m.speaker_matches("poster", "Adelaide", "comment by Adelaide", comment, "Adelaide", "Don't worry.")
    assert not m.speaker_matches("poster", "Adelaide", None, None, None, "Adelaide 发表于 Don't worry.")  # raw chunk: no voice
    assert m.speaker_matches("quoted", "Zakharova", "opening post by X", post, "X", "Maria Zakharova said it")
    assert not m.speaker_matches("quoted", "Zakharova", "opening post by X", post, "X", "Then she said it")


def test_speaker_named():
    assert m.speaker_named("poster", "Adelaide", "the commenter Adelaide wrote: “…” [1]", [])
    assert m.speaker_named("anonymous", "anonymous reply", "an unnamed poster (post #4 (poster not shown)) wrote", [])
    assert not m.speaker_named("quoted", "Zakharova", "the opening post says: “Then she attacked …” [1]", [])
    assert m.speaker_named("article", "article", "According to world today news, “…” [1]", ["world today news"])


def test_percentile_nearest_rank():
    assert m.percentile([40, 10, 30, 20], 50) == 20
    assert m.percentile([40, 10, 30, 20], 95) == 40
    assert m.percentile([5.0], 50) == 5.0
    assert m.percentile([], 50) is None


def test_rounded_is_recursive():
    assert m.rounded({"a": 1 / 3, "b": [2 / 3, None, True]}) == {"a": 0.3333, "b": [0.6667, None, True]}


# -- scoring one case end to end ----------------------------------------------------------------------------------
NEEDLE = "Lavrov bluntly said: All territorial disputes between Russia and Japan have been resolved."
PASSAGE = f"When talking about the Japanese issue, {NEEDLE} Russia has no intention of talks."


def _case(**kw):
    base = dict(id="who_said_what-900", category="who_said_what", question="Who said the disputes were resolved?",
                evidence=(Evidence("003_b5aeacde14fc594e", NEEDLE),), key_facts=("have been resolved",),
                expect_warning=True, speaker="Lavrov")
    base.update(kw)
    return Case(**base)


def _cited(n=1, text=PASSAGE, partisan=True):
    return Cited(n=n, doc_id="003_b5aeacde14fc594e", text=text, segment="article body", segment_kind=SegmentKind.ARTICLE,
                 outlet="Unnamed Chinese content site (self-media style article)", partisan=partisan,
                 label="Pro-Russia / pro-China commentary site")


PARTISAN = Warning(WarningKind.PARTISAN_SOURCE, "Partisan source [1]: ... is rated ...", (1,))


def _run(answer, citations, refused=False, warnings=(), retrieved=None):
    retrieved = retrieved if retrieved is not None else [Retrieved("x", "003_b5aeacde14fc594e", PASSAGE)]
    return Run("q", "q", answer, refused, list(citations), list(warnings), retrieved, 12.0, "offline")


def _corpus():
    from evals.dataset import load_corpus
    from helpers import CORPUS_DIR

    return load_corpus(CORPUS_DIR)


def test_score_case_good_answer():
    answer = f"According to Unnamed Chinese content site (Pro-Russia), “{NEEDLE}” [1]"
    run = _run(answer, [_cited()], warnings=[PARTISAN])
    r = score_case(_case(), run, [PASSAGE, "other"], _corpus(), aliases=[])
    s = r["scores"]
    assert (s["recall@6"], s["mrr@10"], s["ndcg@10"]) == (1.0, 1.0, 1.0)
    assert s["citation_valid"] and s["quotes"] == [1, 1] and s["support"] == [1, 1]
    assert s["key_fact_coverage"] == 1.0 and s["refusal_correct"] and s["warning"]
    assert s["attribution_ok"] and s["who_ok"] and s["who_named"] and s["speaker_kind"] == "quoted"
    assert r["problems"] == [] and r["case_score"] == 1.0


def test_score_case_bad_answer():
    answer = "All territorial disputes between Russia and Japan have been settled [2]."  # no quote, fact, bad [2]
    run = _run(answer, [_cited(text="Russia has no intention of talks.")], retrieved=[Retrieved("y", "001", "unrelated")])
    r = score_case(_case(), run, [PASSAGE], _corpus(), aliases=[])
    s = r["scores"]
    assert s["recall@6"] == 0.0 and s["ndcg@10"] == 0.0
    assert not s["citation_valid"] and s["support"] == [0, 1]
    assert s["key_fact_coverage"] == 0.0 and not s["warning"]
    assert "attribution_ok" not in s  # the sentence cites [2], which is no partisan citation
    assert not s["who_ok"] and not s["who_named"]
    assert "partisan-source warning missing" in r["problems"]
    assert r["case_score"] < 0.3


def test_score_refusal_and_aggregate():
    unanswerable = Case(id="unanswerable-900", category="unanswerable", question="Population of Shikotan?",
                        expect_refusal=True)
    refused = score_case(unanswerable, _run("The documents don't say.", [], refused=True, retrieved=[]), [], _corpus(), [])
    assert refused["scores"]["refusal_correct"] and "citation_valid" not in refused["scores"]
    good = score_case(_case(), _run(f"According to the site, “{NEEDLE}” [1]", [_cited()],
                                    warnings=[PARTISAN]), [PASSAGE], _corpus(), [])
    false_refusal = score_case(_case(), _run("The documents don't say.", [], refused=True), [PASSAGE], _corpus(), [])
    metrics, counts = aggregate([unanswerable, _case(), _case()], [refused, good, false_refusal])
    assert metrics["refusal_accuracy"] == pytest.approx(0.6667)
    assert metrics["false_refusal_rate"] == 0.5 and metrics["missed_refusal_rate"] == 0.0
    assert metrics["key_fact_coverage"] == 0.5  # (1 + 0) / 2 answerable cases
    assert metrics["warning_precision"] == 1.0 and metrics["warning_recall"] == 0.5
    assert metrics["who_said_what_accuracy"] == 0.5
    assert metrics["citation_validity"] == 1.0 and metrics["quote_fidelity"] == 1.0
    assert counts == {"cases": 3, "answered": 1, "refused": 2, "with_evidence": 2, "quotes": 1, "sentences": 1,
                      "partisan_citing_answers": 1, "who_said_what_cases": 2, "warnings_shown": 1}
    assert case_score(refused["scores"], unanswerable) == 1.0
    assert metrics["out_of_corpus_refused"] is None and metrics["near_miss_refused"] is None  # none labelled


def test_refusals_are_counted_apart_for_absent_subjects_and_near_misses():
    def unanswerable(n, absent):
        return Case(id=f"unanswerable-{n}", category="unanswerable", question="?", expect_refusal=True, absent=absent)
    refusal = _run("The documents don't say.", [], refused=True, retrieved=[])
    answer = _run(f"According to the site, “{NEEDLE}” [1]", [_cited()], warnings=[PARTISAN])
    cases = [unanswerable(901, "subject"), unanswerable(902, "subject"), unanswerable(903, "fact"),
             unanswerable(904, "fact"), unanswerable(905, "fact")]
    runs = [refusal, refusal, refusal, answer, answer]
    records = [score_case(c, r, [PASSAGE], _corpus(), []) for c, r in zip(cases, runs)]
    metrics, _ = aggregate(cases, records)
    assert metrics["out_of_corpus_refused"] == 1.0
    assert metrics["near_miss_refused"] == pytest.approx(0.3333)
    assert metrics["missed_refusal_rate"] == 0.4  # both kinds together


# -- the regression gate -----------------------------------------------------------------------------------------
def _results(**metrics):
    return {"run": {"mode": "offline", "k": 6, "limit": None, "categories": [], "cases_sha": "abc"},
            "metrics": {"assistant": metrics}}


def test_gate_passes_within_tolerance_and_fails_beyond():
    baseline = {"mode": "offline", "k": 6, "cases_sha": "abc", "tolerance": 0.02,
                "metrics": {"key_fact_coverage": 0.50, "false_refusal_rate": 0.20, "recall@6": 0.9}}
    ok = gate(_results(**{"key_fact_coverage": 0.485, "false_refusal_rate": 0.215, "recall@6": 0.95}), baseline)
    assert ok["passed"] and ok["failures"] == []
    bad = gate(_results(**{"key_fact_coverage": 0.47, "false_refusal_rate": 0.25, "recall@6": 0.9}), baseline)
    assert not bad["passed"]
    assert [f["metric"] for f in bad["failures"]] == ["key_fact_coverage", "false_refusal_rate"]
    assert bad["failures"][0]["worse_by"] == 0.03
    assert gate(_results(**{"key_fact_coverage": 0.47}), baseline, tolerance=0.05)["passed"]


def test_gate_refuses_incomparable_runs():
    baseline = {"mode": "offline", "k": 6, "metrics": {}}
    with pytest.raises(EvalError):
        gate({"run": {"mode": "offline", "k": 8, "limit": None, "categories": [], "cases_sha": "x"},
              "metrics": {"assistant": {}}}, baseline)
    with pytest.raises(EvalError):
        gate({"run": {"mode": "offline", "k": 6, "limit": 30, "categories": [], "cases_sha": "x"},
              "metrics": {"assistant": {}}}, baseline)


def test_use_env_corpus_dir_is_the_one_both_systems_and_the_validation_read(tmp_path, monkeypatch):
    """With --use-env and RAG_CORPUS_DIR, the dataset check, the tutorial baseline and corpus_sha read
    the same folder the assistant's index is built from (the run itself is stubbed: no model, no index)."""
    import shutil

    from evals import runner
    from rag.settings import PROJECT_DIR

    corpus = tmp_path / "corpus"
    shutil.copytree(PROJECT_DIR / "corpus", corpus)
    monkeypatch.setenv("RAG_CORPUS_DIR", str(corpus))
    seen = {}

    def fake_run_cases(opts, settings, cases, corpus_dir, log, started):
        seen.update(settings=settings.corpus_dir, run=corpus_dir)
        return {}

    monkeypatch.setattr(runner, "_run_cases", fake_run_cases)
    runner.run(runner.Options(use_env=True, data_dir=tmp_path / "data", log=None))
    assert seen == {"settings": corpus.resolve(), "run": corpus.resolve()}
    # The validation reads it too: a case whose document is missing there is a dataset problem.
    # (A second folder: evals.dataset caches a corpus by its path.)
    partial = shutil.copytree(corpus, tmp_path / "partial")
    (partial / "003_b5aeacde14fc594e.txt").unlink()
    monkeypatch.setenv("RAG_CORPUS_DIR", str(partial))
    with pytest.raises(EvalError, match="the dataset has problems"):
        runner.run(runner.Options(use_env=True, data_dir=tmp_path / "data", log=None))


# -- the tutorial baseline's answerer -------------------------------------------------------------------------------
def test_tutorial_answer_picks_most_overlapping_sentence_per_chunk():
    chunks = ["Intro words here today. Japan imposed sanctions on Russia in December. Other stuff follows here.",
              "Nothing relevant in this chunk at all.",
              "Russia responded to the sanctions angrily. Short one."]
    lines, used = tutorial_answer("What sanctions did Japan impose on Russia?", chunks)
    assert lines == ["Japan imposed sanctions on Russia in December. [1]", "Russia responded to the sanctions angrily. [2]"]
    assert used == [0, 2]
    lines, used = tutorial_answer("Zebras?", chunks)
    assert lines == ["Intro words here today. [1]"] and used == [0]  # no overlap anywhere: first sentence
    assert tutorial_sentences('He said: "No." Then left.\nNew') == ['He said: "No."', "Then left.", "New"]


# -- the dataset helpers --------------------------------------------------------------------------------------------
def test_interleave_round_robin():
    cases = [Case(id=f"{c}-{i}", category=c, question="q") for c in ("single_fact", "framing") for i in range(3)]
    assert [c.id for c in interleave(cases)][:4] == ["single_fact-0", "framing-0", "single_fact-1", "framing-1"]


# -- the judge's bookkeeping (no real LLM) ----------------------------------------------------------------------------
class _FakeLLM:
    def __init__(self, replies):
        self.replies = list(replies)
        self.calls = 0

    def complete(self, messages, max_tokens=600):
        self.calls += 1
        return self.replies[(self.calls - 1) % len(self.replies)]


def test_judge_repeats_caches_and_summarises(tmp_path):
    llm = _FakeLLM(["Fine. SCORE: 5", "Mostly. SCORE: 4", "Fine.\nSCORE: 5"])
    prompts = {"faithfulness": "Q {question} A {answer} P {passages} SCORE", "relevance": "Q {question} A {answer}"}
    judge = Judge(llm, "fake", tmp_path, prompts=prompts)
    first = judge.judge("faithfulness", "q", "a", "p")
    assert first == [1.0, 0.75, 1.0] and llm.calls == 3
    assert judge.judge("faithfulness", "q", "a", "p") == first and llm.calls == 3  # cached on disk
    assert len(list(tmp_path.glob("*.json"))) == 3
    assert json.loads(next(tmp_path.glob("*.json")).read_text())["model"] == "fake"
    summary = summarise([first, [0.5, 0.5, None]])
    assert summary == {"mean": round((2.75 / 3 + 0.5) / 2, 4), "spread": 0.125, "n": 2}
    assert parse_score("reasoning SCORE: 2 ... SCORE: 3") == 3 and parse_score("no score") is None


def test_needle_quoted_needs_the_evidence_sentence_in_the_answer_itself():
    needle = "Trade hit $32 billion in 2013. That was a 5.3 percent rise."
    assert m.needle_quoted("According to X, “Trade hit $32 billion in 2013.” [1]", [needle])
    assert m.needle_quoted("Trade hit $32 billion in 2013. [1] That was a 5.3 percent rise. [1]", [needle])
    assert not m.needle_quoted("Trade grew strongly that year, the report says. [1]", [needle])  # cited, not quoted
    assert not m.needle_quoted("Trade hit $32 billion in 2013.", ["Exports hit a record."])
