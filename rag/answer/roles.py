"""Roles: the words that say what someone is ("chief executive", "foreign minister", "player").

A journalist asks for a person by role ("Who is the chief executive of M&S?", "Which Middlesbrough
player scored both goals?"), and news writes a role before a name, in capitals or not ("Foreign
Minister Lavrov", "Marsh senior vice president Joshua Bewlay"). The question reader needs the role
asked for; the answerer, whether a sentence names a person at all ("Who is Paul Boateng taking over
from?" is not answered by a sentence naming the Treasury and South Africa: ``person_named``); the
follow-up reader, to tell a role from a name in an earlier answer.

    >>> asked_role("Who is the chief executive of Marks & Spencer?"), asked_role("Who is Russia's foreign minister?")
    ('execut', 'minist')
    >>> asked_role("Who is the iTunes customer taking Apple to court?"), asked_role("Who is Munenori Suzuki?")
    ('custom', '')
    >>> which_role("Which Middlesbrough player got both goals?"), which_role("Which newspaper broke the story?")
    ('player', '')

The words of roles and of organisations are general news vocabulary, written for this module (no
rated source); a role missing from them is read as no role, which asks nothing more of an answer.
Places come from GeoNames (``places.place_names``).
"""

from __future__ import annotations

import re

from ..text import HONORIFICS, stemmer
from .places import place_names

# Words of titles and roles before a name ("Foreign Minister Lavrov", "Dr Greenspan").
ROLES = frozenset(HONORIFICS) | frozenset("""minister president chairman chairwoman
secretary chancellor ambassador governor senator spokesman spokeswoman spokesperson director chief premier
king queen prince princess general captain coach manager editor novelist author writer singer actor actress
player striker goalkeeper lawmaker legislator analyst economist executive officer attorney mayor judge lawyer
prosecutor commissioner founder boss head leader official envoy diplomat forward midfielder defender mp""".split())
# Words that make a run of capitals an organisation, not a person.
ORGANISATIONS = frozenset("""ministry ministries party government office council committee commission association
union federation republic kingdom states bank company group agency department house court parliament assembly
reserve club university times news post daily corporation inc ltd plc forum network district region province city
county territory territories island islands sea ocean river east eastern west western north northern south southern
central federal national international airport station street square hotel stadium museum festival awards cup
league championship olympics games nations war treaty declaration agreement act bill summit conference statement
shrine temple church mosque cathedral palace park hall centre center hospital school college institute foundation
society trust fund prize trophy""".split())

# "Who is the chief executive of Marks & Spencer?", "Who was Russia's foreign minister then?": a
# person asked for by a role. The role runs to its first word that says of what or which one.
_WHO_THE = re.compile(r"^\s*(?i:who)\s+(?:is|was|are|were|will be|has been|had been)\s+(?:the|its|their|his|her|"
                      r"[A-Z][\w'’&.-]*(?:'s|’s))\s+(?P<role>(?:[\w'’&.-]+\s+){0,3}?[\w'’&.-]+?)"
                      r"(?=\s+(?:of|who|whom|that|which|at|in|for|to|on|with|behind|from|during|when|now|then|"
                      r"before|after|over)\b|\s+\w+ing\b|\s*[?,;]|\s*$)")
# "Which Middlesbrough player ...": the first lower-case word after "which" says what is asked for.
_WHICH = re.compile(r"^\s*(?:and\s+)?(?i:which)\s+(?:[A-Z][\w'’&.-]*\s+){0,3}(?P<role>[a-z][\w-]*)\b")


def asked_role(question: str) -> str:
    """The stem of the role a "Who is the <role> ...?" question names: its last word in lower case
    (adjectives and names before it say which one). An answer names the role, in so many words:
    "Marks & Spencer has cut prices ..." names someone, but not its chief executive."""
    match = _WHO_THE.match(question)
    role = [w for w in match.group("role").split() if w.islower()] if match else []
    return stemmer().stemWord(role[-1].strip("'’.")) if role else ""


def which_role(question: str) -> str:
    """The stem of a role word right after "which" and any names ("Which Middlesbrough player"):
    a hint of whom the answer names, not a word it must use ("forward Boudewijn Zenden")."""
    which = _WHICH.match(question)
    return stemmer().stemWord(which.group("role")) if which and which.group("role") in ROLES else ""


# "Mr Boateng", "Dr Greenspan": a title and a name.
_TITLED = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Dr|Sir|Lord|Lady|Dame|Prof|Professor)\.?\s+[A-Z][\w'’-]+")
# Two or more capitalised words in a row, not opening a sentence or a quotation ("Ann Grant").
_RUN = re.compile(r"(?<!^)(?<![.!?:]\s)(?<![“\"‘'\n])\b[A-Z][a-z][\w'’-]*(?:\s+[A-Z][a-z][\w'’-]*)+")
# A name that speaks: "Lavrov bluntly said", "said Mourinho".
_SAYS = r"(?:said|says|told|added|warned|stated|declared|wrote|argued|insisted|claimed|explained|noted|replied)"
_SPEAKS = re.compile(rf"(?<!^)(?<![.!?:]\s)(?<![“\"‘'\n])\b(?P<name>[A-Z][a-z][\w'’-]*),?\s+(?:[a-z]+ly\s+)?{_SAYS}\b|"
                     rf"\b{_SAYS}\s+(?P<after>[A-Z][a-z][\w'’-]+)")
# A role in lower case, then a name ("coach Benhabiles", "striker Rooney").
_ROLE_NAME = re.compile(r"\b(?P<role>[a-z]+)\s+(?P<name>[A-Z][a-z][\w'’-]+)")


def person_named(text: str) -> bool:
    """Does the text name a person? A title and a name, a role and a name, or two or more
    capitalised words that are not a place (GeoNames) nor hold a word of a role or an organisation.

    >>> person_named("He will succeed the previous High Commissioner, Ann Grant, after the election.")
    True
    >>> person_named("He is to step down as a Labour MP to become the UK's high commissioner to South Africa.")
    False
    >>> person_named("It yielded the US Open title, he said through the SFX Sports Group."), person_named("by coach Benhabiles")
    (False, True)
    >>> person_named("When talking about it, Lavrov bluntly said: all disputes are resolved."), person_named("Then Japan said")
    (True, False)
    >>> person_named("the announcement by Foreign Minister Lavrov"), person_named("the Foreign Ministry of Russia")
    (True, False)
    """
    if _TITLED.search(text):
        return True
    for m in _SPEAKS.finditer(text):
        name = (m.group("name") or m.group("after")).lower()
        if name not in ORGANISATIONS and name not in place_names():
            return True
    if any(m.group("role") in ROLES and m.group("name").lower() not in ORGANISATIONS
           for m in _ROLE_NAME.finditer(text)):
        return True
    return bool(_people_in(text))


def _people_in(text: str) -> list[str]:
    """The runs of capitalised words in the text that name people: two names or more, or a name
    after a title ("Foreign Minister Lavrov": Lavrov), that are no place and hold no word of a
    role or an organisation. As written, without "'s".

    >>> _people_in("Why will Jason Robinson miss the rest of the Six Nations?"), _people_in("Did Japan sign it?")
    (['Jason Robinson'], [])
    """
    people = []
    for run in _RUN.finditer(text):
        raw = [w.removesuffix("'s").removesuffix("’s") for w in run.group(0).split()]
        titled = [i for i, w in enumerate(raw) if w.lower() in ROLES]
        name = raw[titled[-1] + 1:] if titled else raw  # "Foreign Minister Lavrov": Lavrov
        common = any(w.lower() in ROLES or w.lower() in ORGANISATIONS for w in name)
        if name and (titled or len(name) >= 2) and not common and " ".join(name).lower() not in place_names():
            people.append(" ".join(name))
    return people
