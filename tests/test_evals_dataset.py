"""The eval dataset (evals/cases.jsonl) is sound: valid fields, unique ids, enough cases in every
category, every evidence needle verbatim in the corpus file AND in the cleaned text the index holds,
and every speaker expectation consistent with how rag.cleaning segments the documents."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from evals.dataset import (
    ABSENT, ANONYMOUS_REPLY, ARTICLE_VOICE, CASES_PATH, CATEGORIES, FIELDS, OPTIONAL_FIELDS, load_cases, load_corpus, read_raw, validate,
)
from rag.settings import PROJECT_DIR, Settings

CORPUS = PROJECT_DIR / "corpus"
ROWS = read_raw(CASES_PATH)
CASES = load_cases(CASES_PATH)


def test_dataset_has_no_problems():
    problems = validate(ROWS, CORPUS)
    assert problems == [], "\n".join(problems)


def test_size_ids_and_category_coverage():
    assert len(ROWS) >= 150
    ids = [r["id"] for r in ROWS]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    counts = Counter(r["category"] for r in ROWS)
    assert set(counts) == set(CATEGORIES)
    assert all(n >= 10 for n in counts.values()), counts


def test_fields_and_types():
    for r in ROWS:
        assert set(r) - set(OPTIONAL_FIELDS) == set(FIELDS), r["id"]
        assert r.get("absent") in (ABSENT if r["expect_refusal"] else (None,)), r["id"]  # every unanswerable says which
        assert isinstance(r["question"], str) and r["question"].strip()
        assert isinstance(r["history"], list) and isinstance(r["evidence"], list) and isinstance(r["key_facts"], list)
        assert isinstance(r["expect_warning"], bool) and isinstance(r["expect_refusal"], bool)
        assert r["speaker"] is None or isinstance(r["speaker"], str)


@pytest.mark.parametrize("case", [c for c in CASES if c.evidence], ids=lambda c: c.id)
def test_needles_verbatim_in_corpus_and_cleaned_text(case):
    from evals.metrics import norm

    corpus = load_corpus(CORPUS)
    for ev in case.evidence:
        doc = corpus[ev.doc_id]
        assert ev.needle in (CORPUS / f"{ev.doc_id}.txt").read_text(encoding="utf-8"), ev.needle
        assert norm(ev.needle) in norm(doc.clean_text), f"dropped by cleaning: {ev.needle}"


def test_every_needle_fits_in_one_indexed_chunk():
    """Otherwise recall could never reach 1: a needle must not straddle two chunks of the product's chunker."""
    import rag
    from evals.metrics import norm

    settings = Settings(corpus_dir=CORPUS)
    documents, failed = rag.read_documents(settings)
    assert failed == []
    chunks = {doc.doc_id: [norm(c.text) for c in rag.chunks_of(doc, settings)] for doc in documents}
    straddling = [(c.id, ev.needle[:60]) for c in CASES for ev in c.evidence
                  if not any(norm(ev.needle) in text for text in chunks[ev.doc_id])]
    assert straddling == [], "shorten these needles to one sentence: " + repr(straddling)


def test_speakers_match_the_index_segments():
    """who_said_what speakers: a poster whose segment holds the needle, 'anonymous reply' for a
    'post #N (poster not shown)', 'article' for the outlet's own voice, or a person named there."""
    corpus = load_corpus(CORPUS)
    for case in CASES:
        if not case.speaker:
            continue
        for ev in case.evidence:
            doc = corpus[ev.doc_id]
            start = doc.clean_text.find(ev.needle)
            segment = next(s for s in doc.segments if s.start <= start < s.end)
            if case.speaker == ARTICLE_VOICE:
                assert segment.kind in ("article", "opening post"), (case.id, segment.label)
            elif case.speaker == ANONYMOUS_REPLY:
                assert "poster not shown" in segment.label, (case.id, segment.label)
            elif case.speaker in doc.posters:
                assert segment.speaker == case.speaker, (case.id, segment.label)
            else:
                assert case.speaker in doc.clean_text[segment.start:segment.end], (case.id, segment.label)


def test_policy_recommendations_are_post_2_not_the_opening_post():
    """001 splits posts at lines holding only '.': the first is line 58, so the Policy
    Recommendations (lines 59-86) are post #2 (poster not shown), not Aepsilons' opening post."""
    corpus = load_corpus(CORPUS)
    doc = corpus["001_68ffb54545db6918"]
    lines = (CORPUS / "001_68ffb54545db6918.txt").read_text(encoding="utf-8").split("\n")
    assert lines[57].strip() == "." and all(line.strip() != "." for line in lines[:57])
    needle = "Japan’s policy toward Russia has been too preoccupied by the Northern Territories dispute."
    segment = next(s for s in doc.segments if s.start <= doc.clean_text.find(needle) < s.end)
    assert segment.label == "post #2 (poster not shown)"
    case = next(c for c in CASES if c.id == "who_said_what-013")
    assert case.speaker == ANONYMOUS_REPLY


# -- the validator catches what it should ---------------------------------------------------------------
def _row(**changes):
    row = json.loads(json.dumps(next(r for r in ROWS if r["id"] == "who_said_what-001")))
    row.update(changes)
    return row


@pytest.mark.parametrize("changes, expected", [
    ({"evidence": [{"doc_id": "000_e3a53b2cbbda76ec", "needle": "Putin is extremely shrewd."}]}, "not verbatim"),
    ({"evidence": [{"doc_id": "000_e3a53b2cbbda76ec", "needle": "Japanese High-Level Delegation Visits Russia (1).jpg"}],
      "speaker": None, "category": "single_fact", "id": "single_fact-999", "key_facts": ["Delegation"]},
     "not in the cleaned text"),
    ({"speaker": "Rida"}, "is a poster in"),
    ({"speaker": "anonymous reply"}, "speaker 'anonymous reply' but the needle is in 'comment by Adelaide'"),
    ({"expect_warning": False}, "partisan ratings"),
    ({"key_facts": ["Vladivostok"]}, "not in any evidence document"),
    ({"evidence": [{"doc_id": "nope", "needle": "Don't worry, Putin is very shrewd."}]}, "no corpus file"),
    ({"category": "unanswerable", "id": "unanswerable-999", "expect_refusal": True}, "no evidence and no key facts"),
    ({"category": "unanswerable", "id": "unanswerable-999"}, "exactly for the unanswerable category"),
    ({"absent": "fact"}, "absent is for unanswerable cases only"),
    ({"category": "unanswerable", "id": "unanswerable-999", "expect_refusal": True, "evidence": [], "key_facts": [],
      "expect_warning": False, "speaker": None, "absent": "maybe"}, "one of subject, fact"),
])
def test_validate_reports_broken_cases(changes, expected):
    problems = validate([_row(**changes)], CORPUS, min_cases=1, min_per_category=0)
    assert any(expected in p for p in problems), problems


def test_validate_reports_missing_fields_and_duplicates():
    row = _row()
    del row["notes"]
    assert any("missing field" in p for p in validate([row], CORPUS, min_cases=1, min_per_category=0))
    problems = validate([_row(), _row()], CORPUS, min_cases=1, min_per_category=0)
    assert any("duplicate id" in p for p in problems)
    assert any("at least 150" in p for p in validate([_row()], CORPUS))
