"""rag.feedback: thumbs up/down stored as JSON lines in the data directory."""

from __future__ import annotations

import json
import threading

import pytest

from rag import Answer, AnswerMode
from rag import FeedbackError
from rag.present.feedback import latest, load, normalise_rating, record

from test_export import answer, citation


def test_record_appends_question_answer_and_citations(settings):
    a = answer()
    entry = record(settings.feedback_path, a, "up", answer_id="t1", session_id="s1")
    assert settings.feedback_path == settings.data_dir / "feedback.jsonl"
    lines = settings.feedback_path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    stored = json.loads(lines[0])
    assert stored == entry
    assert stored["rating"] == "up" and stored["answer_id"] == "t1" and stored["session_id"] == "s1"
    assert stored["question"] == a.question and stored["answer"] == a.answer
    assert stored["citations"][0]["doc_id"] == "doc1"
    assert stored["citations"][0]["outlet"] == "Unnamed content site"
    assert stored["citations"][0]["framing"]["partisan"] is True
    assert stored["citations"][0]["text"].startswith("Japan suddenly")
    assert stored["at"].endswith("+00:00")


def test_changed_mind_is_a_new_line_and_latest_keeps_the_last(settings):
    a = answer()
    record(settings.feedback_path, a, 1, answer_id="t1")  # st.feedback thumbs: 1 = up, 0 = down
    record(settings.feedback_path, a, 0, answer_id="t1")
    record(settings.feedback_path, answer("Other?"), "down", answer_id="t2")
    entries = load(settings.feedback_path)
    assert [e["rating"] for e in entries] == ["up", "down", "down"]
    assert [(e["answer_id"], e["rating"]) for e in latest(entries)] == [("t1", "down"), ("t2", "down")]


def test_bad_rating_is_refused_and_nothing_written(settings):
    with pytest.raises(FeedbackError):
        record(settings.feedback_path, answer(), "meh")
    assert not settings.feedback_path.exists()
    assert normalise_rating(" UP ") == "up" and normalise_rating(False) == "down"


def test_torn_or_foreign_lines_are_skipped(settings):
    settings.feedback_path.parent.mkdir(parents=True, exist_ok=True)
    settings.feedback_path.write_text('{"rating": "up"}\nnot json\n[1, 2]\n\n{"rating": "do', encoding="utf-8")
    assert load(settings.feedback_path) == [{"rating": "up"}]
    assert load(settings.data_dir / "missing.jsonl") == []


def test_concurrent_writers_never_interleave(settings):
    big = answer(cites=[citation(text="x" * 20000, highlights=())])

    def write(i):
        for j in range(10):
            record(settings.feedback_path, big, "up", answer_id=f"{i}-{j}")

    threads = [threading.Thread(target=write, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    entries = load(settings.feedback_path)
    assert len(entries) == 60
    assert len(settings.feedback_path.read_text(encoding="utf-8").splitlines()) == 60


def test_refusal_and_unicode(settings):
    refused = Answer("Что сказал Лавров? 公路边", "q", "The documents don't say.", True, AnswerMode.OFFLINE, [])
    record(settings.feedback_path, refused, "down")
    (entry,) = load(settings.feedback_path)
    assert entry["refused"] is True and entry["citations"] == [] and entry["question"].startswith("Что")
    assert "公路边" in settings.feedback_path.read_text(encoding="utf-8")  # stored as UTF-8, not \u escapes
