"""Deterministic check that a sentence is backed by the passages it cites.

    >>> check("Japan sanctioned 35 servicemen [1].", {1: "Japan has decided to sanction 35 Russian-related servicemen"}).supported
    True
    >>> r = check("Japan sanctioned 90 generals [1].", {1: "Japan has decided to sanction 35 Russian-related servicemen"})
    >>> r.supported, r.reasons[0]
    (False, "number '90' is not in the cited passage")

Checks, in order: the sentence cites something; every number, quoted phrase and name
in it appears in the cited passages (names may use any variant from corpus/aliases.yaml);
its content words mostly appear there; and, when an embedder is given, it is
semantically close to some run of sentences (a chunk's length) of what it cites. No
model judges anything here, so the same input always gets the same verdict.
"""

from __future__ import annotations

import re

import numpy as np

from ..index import EncodeCache
from ..model import SupportResult
from ..text import content_words, fold, sentences

MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_QUOTED = re.compile(r"[“\"]([^”\"]{8,}?)[”\"]")
_NAME = re.compile(r"\b[A-Z][a-zA-Z'’-]+(?:\s+[A-Z][a-zA-Z'’-]+)*")
_IGNORED_NAMES = {"According", "The", "A", "An", "In", "On", "It", "This", "That", "These", "Those", "However",
                  "But", "And", "Both", "Neither", "While", "Meanwhile", "Some", "Several", "Other", "Its"}
# A sentence about the documents, not a claim from them ("The documents don't say."). The one definition
# of it: check() lets such sentences through and the assistant reads an uncited one as a refusal.
# Match it against fold()ed text, so the curly apostrophe models often write ("don’t") counts too.
META = re.compile(r"(the )?documents? (don't|do not|does not|doesn't) (say|answer|mention)|none of the (retrieved )?passages", re.I)
# How an offline answer names a source by its title ("According to the document titled …, “…” [1]"):
# written by extractive.attribute, read here, where a title may end as a question does.
TITLED = "the document titled"
MIN_OVERLAP = 0.5  # share of a sentence's content words that must appear in what it cites
MIN_SIMILARITY = 0.45  # cosine similarity to the closest run of sentences it cites, when an embedder is given
WINDOW_WORDS = 130  # about a default chunk's length (180 tokens): what the encoder reads of a text


def split_answer(answer: str) -> list[str]:
    """Answer sentences; a citation marker written after the full stop ("X. [1]") stays with its sentence,
    and so does the title of the document a quotation is from, when it ends as a question does.

    >>> split_answer("According to the document titled Could Yukos survive? (unrated source), “It can.” [1]")
    ['According to the document titled Could Yukos survive? (unrated source), “It can.” [1]']
    """
    answer = re.sub(
        r"([.!?])((?:[ \t]*\[\d+(?:\s*,\s*\d+)*\])+)", lambda m: " " + m.group(2).strip() + m.group(1), answer
    )
    result: list[str] = []
    last_end = 0
    for start, end, s in sentences(answer):
        inside_quote = result and result[-1].count("“") > result[-1].count("”")
        leading = re.match(r"(?:\s*\[\d+(?:\s*,\s*\d+)*\])+[.!?]?", s)
        # 'According to the document titled Could Yukos survive? (unrated source), “…” [1]': the title
        # ends in "?" or "...", and the line goes on to the quotation it says the source of
        titled = (result and "\n" not in answer[last_end:start] and not MARKER.search(result[-1])
                  and re.search(rf"\b{TITLED}\b[^“]*(?:[?!]|\.\.\.|…)$", result[-1]))
        last_end = end
        if result and (inside_quote or titled):
            result[-1] += " " + s  # a quote of several sentences, with the title of its source, is one claim
        elif result and leading:  # '“… quoted.” [3] Next claim …': the marker belongs to the quote
            result[-1] += " " + leading.group().strip()
            if s[leading.end():].strip():
                result.append(s[leading.end():].strip())
        else:
            result.append(s)
    return result


def cited_numbers(sentence: str) -> list[int]:
    return [int(n) for group in MARKER.findall(sentence) for n in re.split(r"\s*,\s*", group)]


def check(sentence: str, passages: dict[int, str], context: dict[int, str] | None = None,
          aliases: list[list[str]] | None = None, embedder=None) -> SupportResult:
    """``passages``: citation number -> passage text; ``context``: number -> metadata text
    (outlet, title, speaker) that names may come from but facts may not."""
    cited = cited_numbers(sentence)
    claim = MARKER.sub("", sentence).strip()
    result = SupportResult(sentence, cited, True)
    if META.match(fold(claim)) or len(content_words(claim)) < 2:
        return result  # "The documents don't say." and connective fragments assert nothing
    texts = [passages[n] for n in cited if n in passages]
    if not texts:
        result.supported = False
        result.reasons.append("cites no passage" if not cited else "cites a passage that does not exist")
        return result
    body = fold(" ".join(texts))
    names_ok = fold(" ".join(texts + [context.get(n, "") for n in cited] if context else texts))

    for number in _NUMBER.findall(claim):
        if _squash(number) not in _squash(names_ok):  # the passage, or its metadata ("post #13")
            result.reasons.append(f"number '{number}' is not in the cited passage")
    for quoted in _QUOTED.findall(claim):
        if _spaces(fold(quoted)) not in _spaces(body):
            result.reasons.append(f"quoted words “{quoted}” are not in the cited passage")
    for name in _NAME.findall(claim):
        first = name.split()[0]
        if first in _IGNORED_NAMES and " " not in name:
            continue
        if not _name_in(name, names_ok, aliases or []):
            result.reasons.append(f"name '{name}' is not in the cited passage")

    words = content_words(claim)
    present = set(content_words(" ".join(texts + ([context.get(n, "") for n in cited] if context else []))))
    result.overlap = sum(w in present for w in words) / max(1, len(words))
    if embedder is not None:
        pieces = [piece for text in texts for piece in _windows(text)]
        vectors = embedder.encode([claim] + pieces)
        result.similarity = float(np.max(vectors[1:] @ vectors[0]))
    semantic_ok = result.similarity is not None and result.similarity >= MIN_SIMILARITY + 0.15
    if result.overlap < MIN_OVERLAP and not (semantic_ok and result.overlap >= MIN_OVERLAP - 0.2):
        result.reasons.append(f"only {result.overlap:.0%} of its words appear in the cited passage")
    if result.similarity is not None and result.similarity < MIN_SIMILARITY:
        result.reasons.append(f"meaning is far from the cited passage (similarity {result.similarity:.2f})")
    result.supported = not result.reasons
    return result


def check_answer(sentences: list[str], passages: dict[int, str], context: dict[int, str] | None = None,
                 aliases: list[list[str]] | None = None, embedder=None) -> list[SupportResult]:
    """``check`` for every sentence of one answer. Sentences cite the same few passages, so each text is
    encoded once per answer, not once per sentence (with OpenAI embeddings every encode is an API call)."""
    once = EncodeCache(embedder) if embedder is not None else None
    return [check(sentence, passages, context, aliases, once) for sentence in sentences]


def _windows(text: str, most: int = WINDOW_WORDS) -> list[str]:
    """The passage as runs of whole sentences, one starting at each sentence, of up to ``most``
    words (a longer sentence alone). The encoder reads only a chunk's length of text, so a
    passage of three chunks encoded whole is its first chunk: a claim from its end looked far
    from it in meaning.

        >>> _windows("One two three. Four five. Six.", most=5)
        ['One two three. Four five.', 'Four five. Six.', 'Six.']
    """
    spans = sentences(text)
    found = []
    for i, (start, end, _) in enumerate(spans):
        stop = end
        for _, later_end, _ in spans[i + 1:]:
            if len(text[start:later_end].split()) > most:
                break
            stop = later_end
        found.append(text[start:stop])
    return found or [text]


def _squash(text: str) -> str:
    return re.sub(r"[,\s]", "", text)


def _spaces(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _name_in(name: str, text: str, aliases: list[list[str]]) -> bool:
    folded = fold(name)
    if folded in text:
        return True
    # A multi-word name passes if its distinctive last word is there ("Foreign Minister Lavrov" ~ "Lavrov").
    parts = folded.split()
    if len(parts) > 1 and all(p in text for p in parts if len(p) > 3):
        return True
    for group in aliases:
        if any(fold(variant) == folded or fold(variant) in folded for variant in group):
            if any(fold(variant) in text for variant in group):
                return True
    return False
