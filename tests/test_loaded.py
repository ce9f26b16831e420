"""rag.answer.loaded: loaded-language marks from the VADER and TextBlob lexicons.

The module's doctest is run by tests/test_doctests.py (it walks every rag module); here we only
check that the example is still there to be run.
"""

from __future__ import annotations

import doctest

import pytest

from rag.answer import loaded
from rag.answer.loaded import is_loaded, loaded_words
from rag.model import Cue, CueKind

LOADED = [
    "The senator's hysterical rant was a shameful insult to every voter.",
    "Critics called the outrageous scheme a cruel, idiotic attack on the poor.",
    "It was a horrific crime, and the response was pathetic.",
    "The corrupt regime called the protest an absurd disaster.",
    "Vile, hateful racists marched through the town.",
]
PLAIN = [
    "The ministry said the talks would resume on Monday.",
    "The committee will publish its report in March.",
    "Officials counted 1,200 ballots in the second district.",
    "The company reported revenue of 4 billion dollars for the quarter.",
    "The minister met her counterpart in Berlin on Tuesday to discuss trade.",
]
TRICKY = [
    "Trump’s absurd claim — “cruel”, he said, “cruelly” — left the Senate’s critics furious.",
    "Russia's enemies and Europe’s corrupt elites; résumé naïve déjà vu: absurd!",
    "  \n\tabsurd\n",
    "",
    "no letters here: 1234 5678 !!!",
    "ABSURD AND SHAMEFUL HEADLINE",
]


def _check_well_formed(text: str, cues: list[Cue]) -> None:
    for c in cues:
        assert isinstance(c, Cue)
        assert text[c.start:c.end] == c.text, (c, text)
        assert c.text and not c.text.isspace()
        assert c.kind in (CueKind.LOADED_LANGUAGE, CueKind.NAME_CALLING)
    for a, b in zip(cues, cues[1:]):
        assert a.end <= b.start, (a, b)  # in text order, no overlaps


@pytest.mark.parametrize("text", LOADED + PLAIN + TRICKY)
def test_offsets_point_at_the_marked_text(text):
    _check_well_formed(text, loaded_words(text))


def test_offsets_exact_in_a_long_passage():
    text = " ".join(LOADED + PLAIN + TRICKY) * 3
    cues = loaded_words(text)
    assert len(cues) >= 3 * len(LOADED)
    _check_well_formed(text, cues)


def test_possessive_stays_outside_the_mark():
    text = "Critics’ furious letters"  # no mark on the apostrophe
    assert [c.text for c in loaded_words(text)] == ["furious"]
    cues = loaded_words("It was Corrupt's last stand.")
    assert [(c.text, c.start, c.end) for c in cues] == [("Corrupt", 7, 14)]


@pytest.mark.parametrize("text", LOADED)
def test_clearly_loaded_sentences_are_marked(text):
    assert is_loaded(text)
    assert loaded_words(text)


@pytest.mark.parametrize("text", PLAIN)
def test_plain_factual_sentences_are_not(text):
    assert not is_loaded(text)
    assert loaded_words(text) == []


def test_expected_words_and_kinds():
    cues = loaded_words("Critics called the outrageous scheme a cruel, idiotic attack on the poor.")
    assert {c.text for c in cues} >= {"outrageous", "cruel", "idiotic"}
    assert "Critics" not in {c.text for c in cues} and "scheme" not in {c.text for c in cues}
    assert all(c.kind is CueKind.LOADED_LANGUAGE for c in cues)


def test_name_calling_is_a_negative_label_on_a_group_or_name():
    kinds = {c.text: c.kind for c in loaded_words("Corrupt Democrats met corrupt Smith, and Russia's enemies cheered.")}
    assert kinds["Corrupt"] is CueKind.NAME_CALLING  # before a group noun
    assert kinds["corrupt"] is CueKind.NAME_CALLING  # before a name
    assert kinds["enemies"] is CueKind.NAME_CALLING  # after a possessive name
    # The same word not beside a group or name is plain loaded language ...
    assert [c.kind for c in loaded_words("The deal was corrupt.")] == [CueKind.LOADED_LANGUAGE]
    # ... and a verb before a name is an action, not a label.
    assert all(c.kind is not CueKind.NAME_CALLING for c in loaded_words("The storm threatened Florida."))
    # A capital that only starts a sentence is not a name.
    assert all(c.kind is not CueKind.NAME_CALLING for c in loaded_words("It was corrupt. Nothing changed."))


def test_adverbs_take_their_adjectives_rating():
    assert [c.text for c in loaded_words("He was absurdly late.")] == ["absurdly"]


def test_deterministic_and_independent_of_the_cache():
    text = " ".join(LOADED + TRICKY)
    first = loaded_words(text)
    assert loaded_words(text) == first
    loaded._lexicon.cache_clear()
    assert loaded_words(text) == first
    assert [is_loaded(t) for t in LOADED + PLAIN] == [True] * len(LOADED) + [False] * len(PLAIN)


def test_lexicons_come_from_the_installed_packages():
    """Read from site-packages at run time, not from a copy in the repository."""
    for name in ("vaderSentiment", "textblob"):
        assert "site-packages" in str(loaded._package_dir(name)) or "dist-packages" in str(loaded._package_dir(name))
    with pytest.raises(ModuleNotFoundError, match="requirements.txt"):
        loaded._package_dir("no_such_lexicon_package_xyz")


def test_module_has_a_doctest_example():
    examples = [e for t in doctest.DocTestFinder().find(loaded, loaded.__name__) for e in t.examples]
    assert any("loaded_words(" in e.source for e in examples)
