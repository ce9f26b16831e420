"""Roles: the words that say what someone is ("chief executive", "foreign minister", "player").

A journalist asks for a person by role ("Who is the chief executive of M&S?", "Which Middlesbrough
player scored both goals?"), and news writes a role before a name, in capitals or not ("Foreign
Minister Lavrov", "Marsh senior vice president Joshua Bewlay"). The question reader needs the role
asked for; the follow-up reader needs to tell a role from a name in an earlier answer.

    >>> asked_role("Who is the chief executive of Marks & Spencer?"), asked_role("Who is Russia's foreign minister?")
    ('execut', 'minist')
    >>> asked_role("Who is the iTunes customer taking Apple to court?"), asked_role("Who is Munenori Suzuki?")
    ('custom', '')
    >>> which_role("Which Middlesbrough player got both goals?"), which_role("Which newspaper broke the story?")
    ('player', '')

The words are general news vocabulary of titles and jobs, written for this module (no rated
source); a role missing from them is read as no role, which asks nothing more of an answer.
"""

from __future__ import annotations

import re

from ..text import HONORIFICS, stemmer

# Words of titles and roles before a name ("Foreign Minister Lavrov", "Dr Greenspan").
ROLES = frozenset(HONORIFICS) | frozenset("""minister president chairman chairwoman
secretary chancellor ambassador governor senator spokesman spokeswoman spokesperson director chief premier
king queen prince princess general captain coach manager editor novelist author writer singer actor actress
player striker goalkeeper lawmaker legislator analyst economist executive officer attorney mayor judge lawyer
prosecutor commissioner founder boss head leader official envoy diplomat forward midfielder defender""".split())

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
