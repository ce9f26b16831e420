"""A score or a vote in a question ("5-4") is what it is about: the match, not any match of the team."""

from __future__ import annotations

import pytest

from rag import Assistant, Outcome
from rag.answer.question import analyse

from helpers import ingest_texts, settings_for


def test_a_score_is_an_anchor_but_a_season_or_a_length_is_not():
    anchors = analyse("What did Mourinho say about Arsenal's 5-4 win over Tottenham?", []).anchors
    assert [(a.text, a.kind) for a in anchors if a.kind == "score"] == [("5-4", "score")]
    assert not [a for a in analyse("Who won the 2004-05 title after a 10-day strike?", []).anchors if a.kind == "score"]


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """Match reports naming Arsenal: forty about beating someone, one about the 5-4 game, which
    says "5-4 winners" and not "beat", so on the question's words alone it ranks below all forty."""
    towns = ["Portsmouth", "Newcastle", "Fulham", "Everton", "Bolton", "Norwich", "Charlton", "Southampton",
             "Middlesbrough", "Blackburn", "Birmingham", "Liverpool", "Wolves", "Leeds", "Derby", "Ipswich", "Reading",
             "Sunderland", "Wigan", "Watford"]
    texts = {f"report{n}.txt": f"Arsenal beat {opponent}\n\nArsenal beat {opponent} on Saturday to keep up the pressure "
             f"at the top of the table. Arsenal manager Arsene Wenger said his side beat {opponent} with patience in "
             f"game {n}.\n" for n, opponent in enumerate(towns * 2)}  # more reports than retrieval's pool (30)
    texts["spurs.txt"] = ("Chelsea boss eyes the title\n\nChelsea would have taken encouragement from Arsenal's rocky "
                          "defensive display at Spurs, even though they ran out 5-4 winners. The Chelsea manager said "
                          "the title race was far from over.\n")
    return ingest_texts(tmp_path_factory.mktemp("scores"), texts)


def test_the_match_with_the_score_asked_about_answers(archive):
    corpus, data = archive
    answer = Assistant(settings_for(data, RAG_CORPUS_DIR=corpus)).ask("Who did Arsenal beat 5-4?", k=3)
    assert answer.outcome is Outcome.ANSWERED, answer.answer
    assert "Spurs" in answer.answer.splitlines()[0] and answer.citations[0].source.doc_id == "spurs", answer.answer


def test_a_score_no_document_gives_is_not_answered_from_another_match(archive):
    corpus, data = archive
    answer = Assistant(settings_for(data, RAG_CORPUS_DIR=corpus)).ask("Who did Arsenal beat 6-0?", k=3)
    assert answer.outcome is not Outcome.ANSWERED, answer.answer
