"""Turn a follow-up into a standalone search query, only when it depends on the history.

    >>> history = [{"role": "user", "content": "What sanctions did Japan impose on Russia in December 2023?"}]
    >>> rewrite_offline("How did Moscow respond?", history)
    'How did Moscow respond? (following up on: What sanctions did Japan impose on Russia in December 2023?)'
    >>> rewrite_offline("Who is Sergei Lavrov and what did he say about the Kuril Islands?", history)
    'Who is Sergei Lavrov and what did he say about the Kuril Islands?'

Offline the rule is deterministic: a question that leans on something earlier (a pronoun
or "that/those", an opening "and/what about", a bare verb like "respond", or too few
words of its own) gets the previous question appended. With an LLM configured, the LLM
rewrites it (prompts/rewrite.md) and this rule is the fallback.
"""

from __future__ import annotations

import re

from ..text import content_words

_PERSONAL = re.compile(r"\b(he|him|his|she|her|hers|they|them|their|theirs)\b", re.I)
_DEMONSTRATIVE = re.compile(
    r"\b(it|its|that|those|these|this|there|then|such|the same|the former|the latter|the other|"
    r"the article|the source|the commenter|the poster|the outlet)\b",
    re.I,
)
_PLURAL = re.compile(r"\b(they|them|their|theirs)\b", re.I)
_NAME = re.compile(r"(?<!^)(?<![.?!] )\b[A-Z][a-z]+")
_CONNECTIVE = re.compile(r"^\s*(and|but|so|also|what about|how about|why|what else|anything else|and then)\b", re.I)
_BARE_VERB = re.compile(r"\b(respond|responded|react|reacted|reply|replied|answer|answered|say about it|mean)\s*\??$", re.I)
_QUESTION_WORDS = {"how", "what", "why", "when", "where", "who", "which", "whom", "whose"}


def points_back(question: str) -> bool:
    """Does the question point back with a pronoun or "that", "the article" ("How much are they
    prepared to pay for him?")?"""
    return bool(_PERSONAL.search(question) or _DEMONSTRATIVE.search(question))


def needs_history(question: str) -> bool:
    own_words = [w for w in content_words(question) if w not in _QUESTION_WORDS]
    personal = _PERSONAL.search(question)
    # "he/they" with no name before it points back into the conversation
    personal_unresolved = personal and not _NAME.search(question[: personal.start()])
    # "How did Putin react to them?": a plural pronoun points back even after a name
    plural = _PLURAL.search(question) and len(own_words) <= 5
    return bool(
        _CONNECTIVE.search(question)
        or _BARE_VERB.search(question.strip())
        or len(own_words) <= 1  # "Why?", "What did the Conservatives say?"
        or personal_unresolved
        or plural
        or (_DEMONSTRATIVE.search(question) and len(own_words) <= 5)
    )


def previous_questions(history: list[dict] | None) -> list[str]:
    return [m["content"] for m in history or [] if m.get("role") == "user" and m.get("content", "").strip()]


def without_history(standalone: str) -> str:
    """The question itself, without the earlier question ``rewrite_offline`` appended to it.

    >>> without_history("How did Moscow respond? (following up on: What sanctions did Japan impose?)")
    'How did Moscow respond?'
    """
    return _FOLLOWING_UP.sub("", standalone)


_FOLLOWING_UP = re.compile(r"\s*\(following up on: .*\)$", re.S)


def earlier_words(standalone: str) -> str:
    """The earlier questions ``rewrite_offline`` appended to a follow-up, as plain words; "" for a
    question that stands alone. They say what the follow-up is about, at less weight than its own.

    >>> earlier_words("What did Zakharova say? (following up on: Why did he go? (following up on: Who is Suzuki?))")
    'Why did he go? Who is Suzuki?'
    """
    rest = standalone[len(without_history(standalone)):]
    return " ".join(rest.replace("(following up on:", " ").replace(")", " ").split())


def rewrite_offline(question: str, history: list[dict] | None) -> str:
    earlier = previous_questions(history)
    if not earlier or not needs_history(question):
        return question
    # The previous question may itself have been a follow-up: resolve it first.
    anchor = rewrite_offline(earlier[-1], [{"role": "user", "content": q} for q in earlier[:-1]])
    anchor = without_history(anchor) if len(anchor) > 300 else anchor
    return f"{question.strip()} (following up on: {anchor})"
