"""Turn a follow-up into a standalone search query, only when it depends on the history.

    >>> history = [{"role": "user", "content": "What sanctions did Japan impose on Russia in December 2023?"}]
    >>> rewrite_offline("How did Moscow respond?", history)
    'How did Moscow respond? (following up on: What sanctions did Japan impose on Russia in December 2023?)'
    >>> rewrite_offline("Who is Sergei Lavrov and what did he say about the Kuril Islands?", history)
    'Who is Sergei Lavrov and what did he say about the Kuril Islands?'

Offline the rule is deterministic: a question that leans on something earlier (a pronoun
or "that/those", an opening "and/what about", a bare verb like "respond", or too few
words of its own) gets the previous question appended. After a "who" question, "he" or
"she" is the person the answer named, when the history carries the answer (the app's and
the CLI's do): "What did he say?" after "Who is Russia's foreign minister?" becomes "What
did Lavrov say?"; "What else did she say?" after "How did Zakharova describe it?" is about
Zakharova. With an LLM configured, the LLM rewrites it (prompts/rewrite.md) and this rule
is the fallback.
"""

from __future__ import annotations

import re

from ..text import STOPWORDS, content_words, sentences, stems
from .places import place_names
from .roles import ORGANISATIONS, ROLES, asked_role, which_role

_PERSONAL = re.compile(r"\b(he|him|his|she|her|hers|they|them|their|theirs)\b", re.I)
_DEMONSTRATIVE = re.compile(
    r"\b(it|its|that|those|these|this|there|then|such|the same|the former|the latter|the other|"
    r"the article|the source|the commenter|the poster|the outlet)\b",
    re.I,
)
_PLURAL = re.compile(r"\b(they|them|their|theirs)\b", re.I)
_NAME = re.compile(r"(?<!^)(?<![.?!] )\b[A-Z][a-z]+")
_CAPITAL_INSIDE = re.compile(r"(?<!^)(?<![.?!] )\b[A-Z]")  # a name, an acronym ("BNP"), "I"
_CONNECTIVE = re.compile(r"^\s*(and|but|so|also|what about|how about|why|what else|anything else|and then)\b", re.I)
_BARE_VERB = re.compile(r"\b(respond|responded|react|reacted|reply|replied|answer|answered|say about it|mean)\s*\??$", re.I)
_QUESTION_WORDS = {"how", "what", "why", "when", "where", "who", "which", "whom", "whose"}


def points_back(question: str) -> bool:
    """Does the question point back with a pronoun or "that", "the article" ("How much are they
    prepared to pay for him?")?"""
    return bool(_PERSONAL.search(question) or _DEMONSTRATIVE.search(question))


def needs_history(question: str) -> bool:
    """Does the question lean on the conversation before it?

    >>> needs_history("Where did the money come from?"), needs_history("Who else criticised patents?")
    (True, True)
    >>> needs_history("Where did Gazprom get the money?"), needs_history("How much did Baikal pay for Yuganskneftegas?")
    (False, False)
    >>> needs_history("What did the England coach say about him?"), needs_history("What did Putin say of his plan?")
    (True, False)
    >>> needs_history("When was the follow-up statement signed, and by whom?")  # names nothing of its own
    True
    """
    own_words = [w for w in content_words(question) if w not in _QUESTION_WORDS]
    personal = _PERSONAL.search(question)
    # "he/they" with no name before it points back into the conversation
    personal_unresolved = personal and not _someone_named(question[: personal.start()])
    # "How did Putin react to them?": a plural pronoun points back even after a name
    plural = _PLURAL.search(question) and len(own_words) <= 5
    return bool(
        _CONNECTIVE.search(question)
        or _BARE_VERB.search(question.strip())
        or len(own_words) <= 1  # "Why?", "What did the Conservatives say?"
        or (len(own_words) <= 2 and not _NAME.search(question))  # "Where did the money come from?"
        or _MORE.search(question)  # "Who else criticised patents?"
        or personal_unresolved
        or plural
        or (_DEMONSTRATIVE.search(question) and len(own_words) <= 5)
        # "When was the follow-up statement signed, and by whom?": nothing in it (no name, no number)
        # says what it is about; the conversation does
        or not (_CAPITAL_INSIDE.search(question.strip()) or any(c.isdigit() for c in question))
    )


def _someone_named(text: str) -> bool:
    """Does the text name someone "he" or "his" could be? Any name but a place's (GeoNames), an
    organisation's, or one saying whose role follows ("the England coach"): "What did the England
    coach say about him?" points back; "What did Putin say of his plan?" does not.

    >>> _someone_named("What did the England coach say about"), _someone_named("What did Putin say of")
    (False, True)
    >>> _someone_named("How did Moscow respond to"), _someone_named("Did the Chelsea boss praise")
    (False, False)
    """
    return any(m.group(0).lower() not in place_names() and m.group(0).lower() not in ORGANISATIONS
               and not _ROLE_AFTER.match(text, m.end()) for m in _NAME.finditer(text))


_ROLE_AFTER = re.compile(r"\s+(?:[a-z]+\s+){0,2}?(?:" + "|".join(sorted(ROLES)) + r")\b")


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
    anchor = rewrite_offline(earlier[-1], _before_last_question(history))
    anchor = without_history(anchor) if len(anchor) > 300 else anchor
    return f"{with_person(question, history).strip()} (following up on: {anchor})"


def with_person(question: str, history: list[dict] | None) -> str:
    """The question with its "he" or "she" replaced by the person an earlier "who" question was
    answered with (``person_answered``); the question as it is when there is none."""
    pronoun = _unresolved(question)
    who = _person(question, history) if pronoun else None
    if not who:
        return question
    return question[:pronoun.start()] + _as_pronoun(pronoun, who) + question[pronoun.end():]


def _unresolved(question: str) -> re.Match | None:
    """The first "he", "she", "his" ... with no name before it ("What did Putin say of his plan?": none)."""
    pronoun = _SINGULAR.search(question)
    return pronoun if pronoun and not _someone_named(question[:pronoun.start()]) else None


def _person(question: str, history: list[dict] | None) -> str | None:
    """Who "he" or "she" in a follow-up is: the person the answer to an earlier "who" question
    named, carried through the follow-ups that spoke of them as "he" since; for "what else", the
    person the earlier question asked what they said.

    Tried and dropped: "he" as the one person the earlier question named ("Why will Jason Robinson
    miss the Six Nations?" - "When will he have surgery?"). Named in the question, the person is
    then asked what they said, and the answerer wants their name in or just before the sentence
    quoted; news says "he said" three sentences on. Dev follow-ups lost more than they gained
    ("What did he say about Gerrard?" quoted Mourinho on Benitez's team)."""
    earlier = previous_questions(history)
    if not earlier:
        return None
    named = person_answered(earlier[-1], _last_answer(history))
    if named is None and _MORE.search(question):  # "What did Lavrov say …?" - "What else did he say?"
        named = speaker_asked(earlier[-1])
    if named is None and _unresolved(earlier[-1]):
        named = _person(earlier[-1], _before_last_question(history))
    return named


# "What did Lavrov say …", "How did Maria Zakharova describe …": the person asked what they said.
_ASKED_SPEAKER = re.compile(r"\b(?:did|does|do|has|have|had|will|would)\s+((?:[A-Z][\w'’-]*\s+){0,3}[A-Z][\w'’-]*)\s+"
                            r"(?:say|tell|describe|call|respond|react|claim|warn|argue|write|pledge|promise|announce|"
                            r"reply|answer|comment|explain|deny|admit)\b")


def speaker_asked(question: str) -> str | None:
    """The person a question asks for the words of ("What else did he say?" after it is about them).

    >>> speaker_asked("How did Maria Zakharova describe the Yasukuni Shrine?")
    'Maria Zakharova'
    >>> speaker_asked("How did Foreign Minister Lavrov respond?"), speaker_asked("What did the Foreign Ministry say?")
    ('Lavrov', None)
    """
    asked = _ASKED_SPEAKER.search(question)
    if not asked:
        return None
    raw = asked.group(1).split()
    if any(_bare(w) in ORGANISATIONS for w in raw):
        return None
    titled = [i for i, w in enumerate(raw) if _bare(w) in ROLES]  # "Foreign Minister Lavrov": Lavrov
    return " ".join(raw[titled[-1] + 1 if titled else 0:]).removesuffix("’s").removesuffix("'s") or None


def _before_last_question(history: list[dict] | None) -> list[dict]:
    """The history as it was when the last question was asked."""
    turns = list(history or [])
    asked = [i for i, m in enumerate(turns) if m.get("role") == "user" and (m.get("content") or "").strip()]
    return turns[:asked[-1]] if asked else []


_SINGULAR = re.compile(r"\b(he|him|his|she|her|hers)\b(\s+\w+)?", re.I)
_ASKS_WHO = re.compile(r"^\s*(?:and\s+)?(?:who\b|which (?:[\w'’-]+ ){0,3}?(?:official|minister|person|politician|"
                       r"leader|man|woman|spokes(?:man|woman|person)|executive|chief|boss|president|chairman|"
                       r"player|manager|coach|lawyer|judge|analyst|envoy|ambassador|diplomat)\b)", re.I)
# A run of capitalised words in a quotation ("Foreign Minister Lavrov", "Dr Greenspan").
_CAPITALISED = re.compile(r"\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")
_NOT_PEOPLE = frozenset("""since although though because unless until whether yet still meanwhile however
instead later earlier first second third finally last next today yesterday tomorrow
january february march april may june july august september october november december monday tuesday wednesday
thursday friday saturday sunday""".split())  # with rag.text's STOPWORDS: words that open a sentence, not a name


# "What else did he say?", "Anything more?", "Any other reasons?": the last answer's quotes are not it.
_MORE = re.compile(r"\b(?:else|besides|anything more|what more|any more|any other|other (?:reasons?|things?|ways?)|"
                   r"apart from (?:that|this|those))\b", re.I)


def said_before(question: str, history: list[dict] | None) -> tuple[str, ...]:
    """What the last answer quoted, when the question asks for something more than it; () otherwise.

    >>> said_before("What else did he say?", [{"role": "assistant", "content": "According to X, “It was resolved.” [1]"}])
    ('It was resolved.',)
    >>> said_before("Anything more?", [{"role": "assistant", "content": "X says: “She called it “loathsome”. Then she left.” [1]"}])
    ('She called it “loathsome”. Then she left.',)
    """
    if not _MORE.search(question):
        return ()
    return tuple(q.strip() for q in _quotes(_last_answer(history)) if q.strip())


def _quotes(answer: str) -> list[str]:
    """What each line of an answer quotes: from its first opening mark to its last closing one
    (a quoted sentence may itself quote: ‘declaring it “a loathsome symbol”’)."""
    return re.findall(r"“(.*)”", answer)


def _last_answer(history: list[dict] | None) -> str:
    """The assistant's last reply, if the history carries it (the app and the CLI do)."""
    replies = [m.get("content") or "" for m in history or [] if m.get("role") == "assistant"]
    return replies[-1] if replies else ""


def person_answered(asked: str, answer: str) -> str | None:
    """The person a "who" question was answered with: the first name its answer quotes that the
    question did not give, and that reads as a person's (after a title or a role, two names of
    someone, or a name that speaks or is described: "Lavrov said", "Trutnev, who ...").

    >>> person_answered("Who is Russia's foreign minister?",
    ...                 "According to X, “the announcement by Foreign Minister Lavrov on January 14 ...” [1]")
    'Lavrov'
    >>> person_answered("Who speaks for the ministry?", "“The Russian Foreign Ministry said Maria Zakharova …”")
    'Maria Zakharova'
    >>> person_answered("Who wrote to Putin?", "“He will meet President Vladimir Putin. Kim Jong Un wrote”")
    'Kim Jong Un'
    >>> person_answered("Who did Rank appoint?", "“Since Mike Smith's appointment in 1999, the group ...”")
    'Mike Smith'
    >>> person_answered("What did Japan announce?", "According to X, “Lavrov said ...” [1]") is None
    True

    The sentence that names the role asked about comes first, and a name before a role in lower
    case says whose the role is ("Marsh senior vice president Joshua Bewlay": Bewlay, not Marsh):

    >>> person_answered("Who is the most senior executive to plead guilty?", "“The inquiry by New York attorney "
    ...                 "general Eliot Spitzer has nine guilty pleas. The highest ranking executive pleading guilty "
    ...                 "was former Marsh senior vice president Joshua Bewlay.” [1]")
    'Joshua Bewlay'
    """
    if not _ASKS_WHO.match(asked):
        return None
    given = {_bare(w) for w in re.findall(r"[\w'’-]+", asked)}
    role = asked_role(asked) or which_role(asked)
    said = [sentence for quote in _quotes(answer) for _, _, sentence in sentences(quote)]
    for sentence in sorted(said, key=lambda sentence: role not in stems(sentence)) if role else said:
        for run in _CAPITALISED.finditer(sentence):
            raw = run.group(0).split()
            if any(_bare(w) in ORGANISATIONS for w in raw):
                continue  # "the Russian Foreign Ministry", "the Federal Reserve"
            if _whose_role(sentence[run.end():]):
                continue  # "New York attorney general Eliot Spitzer": whose attorney general, not who
            titled = [i for i, w in enumerate(raw) if _bare(w) in ROLES]
            name = [w for w in raw[titled[-1] + 1 if titled else 0:]
                    if _bare(w) not in _NOT_PEOPLE and _bare(w) not in STOPWORDS]
            if any(_bare(w) in given for w in name):
                continue  # "President Vladimir Putin": someone the question named, not its answer
            speaks = re.match(r"\s*(?:said|says|told|,\s+who)\b", sentence[run.end():])
            if name and (titled or len(name) >= 2 or speaks):
                return " ".join(name).removesuffix("’s").removesuffix("'s")
    return None


# After a name: lower-case words up to the next name ("New York| attorney general |Eliot Spitzer").
_BEFORE_NAME = re.compile(r"\s+((?:[a-z][\w-]*\s+){1,4})(?=[A-Z])")


def _whose_role(after: str) -> bool:
    """Does a name's ``after`` text go on with a role and the name of who holds it? Then the name
    says whose role it is ("Marsh| senior vice president Joshua Bewlay"), not who answers; "Lavrov|
    and the foreign minister Kono" goes on with words between the two people.

    >>> _whose_role(" senior vice president Joshua Bewlay"), _whose_role(" and the foreign minister Taro Kono")
    (True, False)
    """
    between = _BEFORE_NAME.match(after)
    found = between.group(1).split() if between else []
    return any(w in ROLES for w in found) and not any(w in STOPWORDS for w in found)


def _bare(word: str) -> str:
    return word.lower().removesuffix("'s").removesuffix("’s").strip("'’")


def _as_pronoun(match: re.Match, who: str) -> str:
    """The name in the pronoun's place: "he" -> "Lavrov", "his remarks" -> "Lavrov's remarks"."""
    pronoun, after = match.group(1).lower(), match.group(2) or ""
    owner = pronoun in ("his", "hers") or (pronoun == "her" and after.strip().lower() not in STOPWORDS
                                            and after.strip() != "")
    return f"{who}'s{after}" if owner else f"{who}{after}"
