"""What a question asks for, read from its own words: quoted wording and name variants.

    >>> quoted_phrases("Who said 'when the US says jump' about Japan?")
    ['when the us says jump']
    >>> expand_query("Talks on the Kuril Islands", [["Kuril Islands", "Northern Territories"]])
    'Talks on the Kuril Islands Northern Territories'

Retrieval and the offline answerer both read questions through this module.
"""

from __future__ import annotations

import functools
import re

import yaml

from ..text import fold, words

# A quote opens after a space or bracket and closes before space/punctuation, so "Don't" is not a quote.
_QUOTED = re.compile(r"(?:^|(?<=[\s(\[]))[‘'“\"](.{12,}?)(?<=\S)[’'”\"](?=[\s?.!,;:)]|$)")


def quoted_phrases(question: str) -> list[str]:
    """Exact wording a question quotes (three words or more), folded for matching."""
    return [fold(q).strip(" .,") for q in _QUOTED.findall(question) if len(q.split()) >= 3]


@functools.lru_cache(maxsize=4)
def load_aliases(path: str) -> list[list[str]]:
    """Groups of names for one thing (``corpus/aliases.yaml``); an absent file means none."""
    try:
        groups = yaml.safe_load(open(path, encoding="utf-8")) or []
    except OSError:
        return []
    return [[str(name) for name in group] for group in groups if isinstance(group, list)]


def expand_query(query: str, aliases: list[list[str]]) -> str:
    """Add the other names of any name variant the query mentions (for BM25)."""
    folded = f" {' '.join(words(query))} "
    extra = []
    for group in aliases:
        if any(f" {' '.join(words(name))} " in folded for name in group):
            extra.extend(name for name in group if f" {' '.join(words(name))} " not in folded)
    return query if not extra else f"{query} {' '.join(extra)}"
