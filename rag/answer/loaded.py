"""Loaded language in unseen text, from two general-purpose sentiment lexicons (advisory marks).

    >>> text = "The corrupt regime called the protest an absurd disaster."
    >>> [(c.text, c.start, c.end, c.kind.value) for c in loaded_words(text)]
    [('corrupt', 4, 11, 'name_calling'), ('absurd', 41, 47, 'loaded_language'), ('disaster', 48, 56, 'loaded_language')]
    >>> is_loaded(text), is_loaded("The ministry said the talks would resume on Monday.")
    (True, False)

A word is *loaded* when it is not a common everyday word (``wordfreq`` Zipf frequency below
``_MAX_ZIPF``) and either VADER rates its valence strongly (``|valence| >= _VADER_MIN``, of -4..4)
or the Pattern/TextBlob adjective lexicon rates it subjective (``subjectivity >= _SUBJ_MIN``, any
sense; an ``-ly`` adverb takes its adjective's rating). A negative word (VADER valence
``<= _NC_VADER`` or TextBlob polarity ``<= _NC_POLARITY``, Zipf below ``_NC_MAX_ZIPF``) right
before a group noun (``Democrats``, ``immigrants``, ``regime`` ...) or a capitalised name inside a
sentence, or right after a possessive one ("Russia's enemies"), is marked *name calling*; one that
reads as a verb ("threatened Japan") is not. A sentence is loaded when it has at least one mark.

Both lexicons are read at run time from the installed packages ``vaderSentiment`` (MIT) and
``textblob`` (MIT; its ``en-sentiment.xml`` is Pattern's, PDDL), once per process. Nothing here
comes from BABE, the AGPL data ``benchmarks/bench_cues.py`` measures on: only the thresholds
below were chosen on its tuning half. The marks are hints for a reader, not verdicts: a strong
word in a quotation is still marked, and a slanted but mild word is not.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from ..model import Cue, CueKind

# Why both lexicons, and these numbers. Measured on BABE's tuning half (1,831 sentences; sentence
# level P / R / F1 where a sentence is loaded with >= 1 mark, then word-level F1):
#   VADER alone,    |valence| >= 2.0, Zipf < 4.5                     0.604 / 0.381 / 0.467   word 0.132
#   TextBlob alone, subjectivity >= 0.6, |polarity| >= 0.2           0.590 / 0.353 / 0.442   word 0.117
#   TextBlob alone, subjectivity >= 0.5 (best F1 at P >= 0.55)       0.550 / 0.538 / 0.544   word 0.120
#   either (union), thresholds below, -ly adverbs, no name calling   0.597 / 0.544 / 0.569   word 0.204
#   ... plus the name-calling rule (this module)                     0.602 / 0.567 / 0.584   word 0.215
#   held out, this module (bench_cues.py)                            0.605 / 0.572 / 0.588   word 0.214
# VADER knows strong nouns and verbs ("disaster", "terrorists", "cheered"), TextBlob subjective
# adjectives VADER lacks ("absurd", "corrupt", "controversial"): the union finds ~40% more loaded
# sentences than either alone at the same precision. Requiring both lexicons, or >= 2 marks per
# sentence, raised precision only to 0.63-0.64 at half the recall. Without a Zipf cut the marks fill
# with everyday words ("good", "like", "no"); 4.5 measured best of 4.0-6.0. Skipping capitalised
# words did not help. Name calling: its marks match BABE's biased words 50% of the time against 26%
# for the other marks, and it adds milder negative words in that position (recall 0.544 -> 0.567 at
# the same precision), so it is kept as its own kind. Marking words on either side of a name instead
# measured the same F1 but its name-calling marks were right only 31% of the time (mostly verbs).
_MAX_ZIPF = 4.5  # wordfreq Zipf frequency: ~30 per million words
_VADER_MIN = 2.0
_SUBJ_MIN = 0.5
_NC_VADER = -1.5
_NC_POLARITY = -0.375
_NC_MAX_ZIPF = 5.0

# Nouns for groups of people and for governments: a negative word beside one is a label. Written
# for this module (general English), not taken from any data set.
_GROUP_NOUNS = frozenset("""
    people immigrants immigrant migrants migrant refugees refugee foreigners aliens democrats democrat
    republicans republican liberals liberal conservatives conservative leftists leftist activists activist
    protesters protester protestors voters supporters officials politicians politician lawmakers government
    regime regimes media elites elite critics opponents fighters forces troops nationalists nationalist
    extremists extremist administration party leaders leader left right workers students police officers
    women men americans muslims christians jews crowd mob group groups gang gangs militants militant
    separatists rebels authorities establishment president minister
""".split())

_WORD = re.compile(r"[A-Za-z]+(?:['’-][A-Za-z]+)*")
_VERB_LIKE = re.compile(r"(?:ed|ing|[^s]s)$")  # "threatened", "attacking", "stabs" (unless TextBlob adjectives)
_SENTENCE_END = re.compile(r"[.!?:;\n]")


def _package_dir(name: str) -> Path:
    """Where an installed package lives, without importing it (textblob would import nltk)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"the loaded-language detector needs the {name} package: "
                                  "pip install -r requirements.txt", name=name)
    return Path(next(iter(spec.submodule_search_locations)))


def _vader() -> dict[str, float]:
    """VADER's valence (-4..4) per word; emoticons and other non-words left out."""
    out = {}
    path = _package_dir("vaderSentiment") / "vader_lexicon.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and _WORD.fullmatch(parts[0]):
            out[parts[0].lower()] = float(parts[1])
    return out


def _textblob() -> dict[str, tuple[float, float]]:
    """TextBlob/Pattern adjectives: (mean polarity over senses, highest subjectivity of any sense)."""
    senses: dict[str, list[tuple[float, float]]] = {}
    root = ET.parse(_package_dir("textblob") / "en" / "en-sentiment.xml").getroot()
    for word in root.iter("word"):
        form = word.get("form", "").lower()
        if _WORD.fullmatch(form):
            senses.setdefault(form, []).append((float(word.get("polarity", 0)), float(word.get("subjectivity", 0))))
    return {form: (sum(p for p, _ in s) / len(s), max(q for _, q in s)) for form, s in senses.items()}


def _adverbs(adjective: str) -> set[str]:
    """radical -> radically, happy -> happily, terrible -> terribly, true -> truly."""
    forms = {adjective + "ly"}
    if adjective.endswith("y"):
        forms.add(adjective[:-1] + "ily")
    if adjective.endswith("le"):
        forms.add(adjective[:-1] + "y")
    if adjective.endswith("e"):
        forms.add(adjective[:-1] + "ly")
    return forms


@functools.lru_cache(maxsize=1)
def _lexicon() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(loaded words, negative words, those of them that read as verbs), lower case; built once (~0.3 s)."""
    from wordfreq import zipf_frequency

    vader, blob = _vader(), _textblob()
    rated = dict(blob)
    for adjective, rating in blob.items():
        for adverb in _adverbs(adjective):
            rated.setdefault(adverb, rating)
    loaded, negative, verb_like = set(), set(), set()
    for word in vader.keys() | rated.keys():
        valence = vader.get(word, 0.0)
        polarity, subjectivity = rated.get(word, (0.0, 0.0))
        zipf = zipf_frequency(word, "en")
        if zipf < _MAX_ZIPF and (abs(valence) >= _VADER_MIN or subjectivity >= _SUBJ_MIN):
            loaded.add(word)
        if zipf < _NC_MAX_ZIPF and (valence <= _NC_VADER or polarity <= _NC_POLARITY):
            negative.add(word)
            if word not in rated and _VERB_LIKE.search(word):
                verb_like.add(word)
    return frozenset(loaded), frozenset(negative), frozenset(verb_like)


def _key(word: str) -> str:
    """The lexicon form of a word as written: lower case, straight apostrophe, no possessive."""
    word = word.lower().replace("’", "'")
    return word[:-2] if word.endswith("'s") else word


def _is_label_target(text: str, words: list[re.Match], i: int) -> bool:
    """Word ``i`` is a group noun, or a capitalised word that does not start a sentence."""
    word = words[i].group()
    if _key(word) in _GROUP_NOUNS:
        return True
    if not word[0].isupper() or i == 0:
        return False
    return not _SENTENCE_END.search(text, words[i - 1].end(), words[i].start())


def _labels(text: str, words: list[re.Match], i: int, verb_like: bool) -> bool:
    """Word ``i`` labels a group or a name: "corrupt Democrats", "radical Sanders", "Russia's enemies".

    Not a word that reads as a verb before a name ("threatened Japan", "stabs China"): that is an action.
    """
    if not verb_like and i + 1 < len(words) and text[words[i].end():words[i + 1].start()].isspace() \
            and _is_label_target(text, words, i + 1):
        return True
    if i == 0 or not text[words[i - 1].end():words[i].start()].isspace():
        return False
    before = words[i - 1].group()
    return _key(before) != before.lower().replace("’", "'") and (before[0].isupper() or _key(before) in _GROUP_NOUNS)


def loaded_words(text: str) -> list[Cue]:
    """Loaded words in ``text``: one ``Cue`` per word, in text order, offsets into ``text``.

    Kinds are ``CueKind.NAME_CALLING`` (a negative word just before a group noun or a name, or
    just after a possessive one) and ``CueKind.LOADED_LANGUAGE``. A possessive ``'s`` is left
    outside the mark.
    """
    loaded, negative, verb_like = _lexicon()
    words = list(_WORD.finditer(text))
    cues = []
    for i, match in enumerate(words):
        key = _key(match.group())
        if key in negative and _labels(text, words, i, key in verb_like):
            kind = CueKind.NAME_CALLING
        elif key in loaded:
            kind = CueKind.LOADED_LANGUAGE
        else:
            continue
        end = match.start() + len(key)
        cues.append(Cue(text[match.start():end], match.start(), end, kind))
    return cues


def is_loaded(text: str) -> bool:
    """Whether a sentence (or passage) carries at least one loaded word."""
    return bool(loaded_words(text))
