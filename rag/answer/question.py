"""What a question asks for, read from its own words: quoted wording, name variants, the names
and years it is about, the kind of answer it wants, and how much each of its words says.

    >>> quoted_phrases("Who said 'when the US says jump' about Japan?")
    ['when the usa says jump']
    >>> expand_query("Talks on the Kuril Islands", [["Kuril Islands", "Northern Territories"]])
    'Talks on the Kuril Islands Northern Territories'
    >>> needs = analyse("How did Maria Zakharova describe the Yasukuni Shrine in 2013?", [])
    >>> [(a.text, a.kind) for a in needs.anchors], needs.asks_words
    ([('2013', 'year'), ('Maria Zakharova', 'name'), ('Yasukuni Shrine', 'name')], True)
    >>> needs.anchors[1].found_in("zakharova said the shrine was a symbol")
    True

Retrieval and the offline answerer both read questions through this module. Nothing here
depends on the documents indexed: word weights come from a fixed list of English word
frequencies (the ``wordfreq`` package), so adding unrelated documents never changes them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import yaml

from ..model import SegmentKind
from ..text import STOPWORDS, content_words, fold, padded_words, stemmer, stems, words
from .followup import points_back
from .places import as_place
from .roles import asked_role, which_role

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


def mentions(text: str, name: str) -> bool:
    """Does the text name ``name``? Words compared folded, except a name written in capitals
    ("US", "U.S."), which must be in capitals: "tell us" does not name the United States.

    >>> mentions("What did the US say?", "US"), mentions("Can you tell us more?", "US")
    (True, False)
    >>> mentions("what did kishida say", "Fumio Kishida"), mentions("What did Kishida say?", "Kishida")
    (False, True)
    """
    letters = re.sub(r"[^A-Za-z]", "", name)
    if letters and letters.isupper() and len(letters) <= 5:
        return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) is not None
    return padded_words(name) in padded_words(text)


def expand_query(query: str, aliases: list[list[str]]) -> str:
    """Add the other names of any name variant the query mentions (for BM25)."""
    extra = []
    for group in aliases:
        if any(mentions(query, name) for name in group):
            extra.extend(name for name in group if not mentions(query, name))
    return query if not extra else f"{query} {' '.join(extra)}"


# -- what a question needs ----------------------------------------------------------------------------
# Words that start a question or a sentence with a capital and name nothing.
_NOT_NAMES = frozenset("""what when where who whom whose which why how did does do is are was were has have had can
could would should will shall may might the a an in on at of for from to by with and or but according after before
during since until about as if than that this these those there their its his her our your my any some all each
both either neither not no yes please tell give list name describe explain compare summarise summarize show find
according january february march april may june july august september october november december monday tuesday
wednesday thursday friday saturday sunday""".split())
# A name starts a word: "Apple", or a brand written "iTunes"/"iPod"/"eBay" (never "Tunes" inside "iTunes").
# "AT&T" and "Marks & Spencer" are one name each.
_WORD = r"(?<![\w'’])(?:[A-Z]|[a-z][A-Z])[\w'’.&-]*"
# A numbered name keeps its number: "Live 8", "Channel 4", "Blinx 2" (not "5-4", "9,000" or "2.5").
# "Office of the Deputy Prime Minister" is one name: one word, "of the", a name ("Andrew Bud of the
# Mobile Entertainment Forum" is two).
_NAME = re.compile(rf"(?:{_WORD}\s+of\s+the\s+)?{_WORD}(?:\s+(?:of|de|la|von|van|al|bin|the|&)?\s*{_WORD})*"
                   rf"(?:\s+\d{{1,3}}(?![\w,.:%/-]))?")
_YEAR_WORD = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
# A score or a vote: "5-4", "2-1" (not "2005-06", nor "10-day").
_SCORE = re.compile(r"(?<![\w.,-])\d{1,2}-\d{1,2}(?![\w.,-]*\w)")


@dataclass(frozen=True)
class Anchor:
    """Something a question is about that an answer's passage must mention: a name, a year, a day
    or a score."""

    text: str  # as the question writes it
    kind: str  # "name" | "year" | "date" (a day: "May 26") | "score" ("5-4")
    variants: tuple[str, ...]  # folded words or phrases that count as mentioning it
    distinctive: bool = True  # a year, or a name rare in general English (Kishida, not Japan)
    initials: tuple[str, str] | None = None  # ("ces", "Consumer Electronics Show"): what it is shortened to

    def found_in(self, folded_text: str) -> bool:
        """Is it mentioned in ``folded_text`` (``rag.text.fold``-ed)? Names match leniently: any
        variant word for word, or a word sharing its first four letters (Japan ~ Japanese)."""
        padded = padded_words(folded_text)
        for variant in self.variants:
            if f" {variant} " in padded:
                return True
        if self.kind == "name":
            found = set(padded.split())
            for variant in self.variants:
                if any(w.isdigit() for w in variant.split()):
                    if variant.replace(" ", "") in padded.replace(" ", ""):
                        return True  # "Live 8" ~ "Live8"
                    continue  # a numbered name is that name only: not any "live", nor any "8"
                # A name's rarest word, spelled a little differently, still counts: "Irkutsk" ~
                # "Irkutsuk", "Japan" ~ "Japanese", "G7" ~ "G-7".
                key = max((_unowned(w) for w in variant.split()), key=word_weight)
                if key in found:
                    return True  # "ITV's Vote For Me" ~ "ITV", "Apple's Mac" ~ "the Mac mini"
                if len(key) >= 4 and any(w[:4] == key[:4] for w in found if len(w) >= 4):
                    return True
                if len(key) >= 4 and key[:3] in padded and stemmer().stemWord(key) in stems(padded):
                    return True  # "Tories" ~ "Tory": one word, two forms
                if any(c.isdigit() for c in key) and key.replace(" ", "") in padded.replace(" ", ""):
                    return True
            if self.text.strip(" '’s").isupper() and _spelled_out(self.text.strip(" '’s").lower(), padded.split()):
                return True  # "LAPD": "Los Angeles Police Department"
        return False


def _unowned(word: str) -> str:
    """A name's word without its possessive: how rare "UN's" is, is how rare "UN" is (wordfreq
    knows no "un's", and an unknown word weighs most), so "the UN's European commission" is not
    about a rare name.

    >>> _unowned("un's"), _unowned("reddy's"), _unowned("kurils")
    ('un', 'reddy', 'kurils')
    """
    return word.removesuffix("'s")


def initials(name: str) -> str | None:
    """What a name of three or more words is shortened to after its first use ("the Consumer
    Electronics Show" ... "CES"): the initials of its capitalised words, "of", "the", "and" skipped.

    >>> initials("Consumer Electronics Show"), initials("Motion Picture Association of America")
    ('ces', 'mpaa')
    >>> initials("Tony Blair"), initials("Bank of America"), initials("World Health Organization")
    (None, None, None)

    None for initials that spell a common word ("who"): matched in lower case, they would be found
    in every text.
    """
    parts = [w for w in re.split(r"[\s-]+", name) if w.lower() not in ("of", "the", "and", "for")]
    if len(parts) < 3 or not all(w[:1].isupper() and w[:1].isalpha() for w in parts):
        return None
    short = "".join(w[0] for w in parts).lower()
    return short if word_weight(short) >= 2.5 else None


def _spelled_out(acronym: str, tokens: list[str]) -> bool:
    """Do consecutive words spell the acronym by their initials ("of", "the", "and" skipped)? Four
    letters or more: three-letter chances are too common in plain words ("when transfers occur").

    >>> _spelled_out("lapd", "the los angeles police department said".split())
    True
    >>> _spelled_out("nato", "the north atlantic treaty organisation".split()), _spelled_out("wto", "world trade org".split())
    (True, False)
    """
    if not 4 <= len(acronym) <= 6 or not acronym.isalpha():
        return False
    content = [w for w in tokens if w not in ("of", "the", "and", "for")]
    initials = "".join(w[0] for w in content)
    for start in (i for i, c in enumerate(initials) if c == acronym[0]):
        if initials[start:start + len(acronym)] == acronym:
            words_used = content[start:start + len(acronym)]
            if all(len(w) > 2 for w in words_used):  # "we took over" is no W.T.O.
                return True
    return False


@dataclass(frozen=True)
class Needs:
    """What a question asks for, read from its own words (never from the corpus)."""

    weights: dict  # content-word stem -> weight: rare words (in general English) weigh more
    anchors: tuple[Anchor, ...]  # names and years an answer's passage must mention
    # the answer's kind: "date" | "day" | "number" | "name" | "place" | "often" | "duration" | "age" | "money"
    wants: tuple[str, ...]
    asks_words: bool  # "What did X say / how did X describe / respond to ...": X's own words
    compare: bool  # compares sources or asks how they frame something
    phrases: tuple[str, ...]  # exact wording quoted in the question
    focus: tuple[str, ...] = ()  # stems of what a number or date is asked about ("how many troops": troop)
    focus_words: tuple[str, ...] = ()  # the same words as the question writes them ("troops")
    yes_no: bool = False  # "Did Putin receive Suzuki?": the answer hinges on whether that happened
    anchor_terms: frozenset = frozenset()  # stems of the anchors' words
    own_terms: frozenset = frozenset()  # stems of the question's own words (not aliases, not the history's)
    same_as: dict = field(default_factory=dict)  # stem -> the stems of the other names of what it names
    frame: frozenset = frozenset()  # "what did X say / how did X respond": the asking verb, met by any speech
    speakers: tuple = ()  # the anchors naming X there: an answer quotes X, not someone X is asked about
    speaking: tuple = ()  # of those, who speaks: one per person asked about ("Lavrov and Zakharova": both)
    pairs: frozenset = frozenset()  # the question's adjacent word pairs ("territorial disputes"), folded
    source: frozenset = frozenset()  # "according to Kuroi's report": stems naming the source to answer from
    sources: tuple[frozenset, ...] = ()  # "how do the ISN analysis and Kuroi's report differ": each text compared
    given_dates: tuple[str, ...] = ()  # dates the question states itself ("january 14", "1956"), lower case
    in_years: tuple[str, ...] = ()  # the years its event is in ("what day in 1956"): other years' dates are not it
    in_months: tuple[str, ...] = ()  # the months a figure is asked for ("the price in December"), lower case
    years_answer: bool = False  # "how long", "how long ago": years may be the number asked for
    ahead: bool = False  # "When is it due to go on sale?": a date still to come, said of what is planned
    described: bool = False  # "the web directory that two students started": a thing told by what it did
    counts_things: bool = False  # "how many people": a count of things, which "15 years" is not
    parts: tuple = ()  # "Why did X drop Y, and how did Y take it?": each part, read as a question of its own
    defines: tuple = ()  # "Who is Munenori Suzuki?": the anchor the text must say something of, in so many words
    role: str = ""  # "Who is the chief executive of M&S?": the stem of the role an answer names ("execut")
    person: bool = False  # "Who ...?", "Which official ...?": the answer names a person (not "Who is X?")
    headline: bool = False  # "How does the forum post's headline frame the trip?": the text's title line answers
    names_own: bool = False  # names its own subject and points back at nothing ("What did Zakharova say?")

    def present(self, term: str, stems_here: set) -> bool:
        """Is the question word ``term`` in a text with these stems? Another name of the same thing
        counts ("Russia" for "Moscow"), and so does a name's derived form ("Japanese" for "Japan");
        a rare word also when spelled a little differently ("Irkutsk" ~ "Irkutsuk"): rare names are
        transliterated many ways."""
        names = {term, *self.same_as.get(term, ())}
        if names & stems_here:
            return True
        if term in self.anchor_terms and any(len(n) >= 4 and s.startswith(n) for n in names for s in stems_here):
            return True
        weight = self.weights.get(term, 0.0)
        return weight >= 4.0 and len(term) >= 5 and any(len(s) >= 5 and s[:5] == term[:5] for s in stems_here)

    def covered(self, terms) -> set:
        """The stems ``terms`` cover, counting a name as covered when another name of the same thing
        is ("Moscow" when "Russia" is)."""
        return set(terms) | {t for term in terms for t in self.same_as.get(term, ())}

    @property
    def total(self) -> float:
        return sum(self.weights.values()) or 1.0


def analyse(question: str, aliases: list[list[str]], context: str = "") -> Needs:
    """``context``: words a follow-up leans on (the earlier question); they count at half weight
    and carry no anchors, so a follow-up is not refused for a name only the history used."""
    weights: dict[str, float] = {}
    asking = _asking_words(question)
    for word in content_words(question):
        if word in asking:
            continue  # "On what date", "how many": the kind of answer, not a word the answer repeats
        for stem in stemmer().stemWords([word]):
            weights[stem] = max(weights.get(stem, 0.0), word_weight(word))
    own_total = sum(weights.values())
    earlier: dict[str, float] = {}
    for word in content_words(context):
        for stem in stemmer().stemWords([word]):
            if stem not in weights:
                earlier.setdefault(stem, 0.5 * word_weight(word))
    anchors = tuple(_anchors(question, aliases))
    # The earlier questions say what a follow-up is about. When it names its own subject and points
    # back at nothing ("What did Zakharova say?" after two questions about Suzuki's trip), they
    # never weigh more than its own words; "How much are they prepared to pay for him?" is about
    # whoever the earlier question named.
    names_own = any(a.kind == "name" for a in anchors) and not points_back(question)
    scale = min(1.0, own_total / sum(earlier.values())) if earlier and own_total and names_own else 1.0
    weights.update({stem: w * scale for stem, w in earlier.items()})
    if {"date", "day"} & set(_wants(question)):  # "When did he arrive for the visit he announced on
        anchors = tuple(a for a in anchors if a.kind != "date")  # January 14?": that day is another event's
    asked = _asked(question)
    anchor_terms = frozenset(t for a in anchors for t in stemmer().stemWords(content_words(a.text)))
    counted = _focus(question)
    speakers = tuple(sorted((a for a in anchors if asked and a.text in asked[1]),
                            key=lambda a: question.find(a.text)))  # in the question's order
    if asked and not speakers:
        speakers = _described(asked[1])
    return Needs(
        weights=weights,
        anchors=anchors,
        wants=_wants(question),
        asks_words=bool(asked),
        compare=bool(COMPARE.search(question)),
        phrases=tuple(quoted_phrases(question)),
        pairs=word_pairs(question),
        source=named_source(question),
        sources=compared_sources(question),
        focus=tuple(stemmer().stemWords(counted)),
        focus_words=tuple(counted),
        yes_no=bool(_YES_NO.match(question)) and not re.search(r"\bor\b", question, re.I),  # "A or B?" is a choice
        anchor_terms=anchor_terms,
        own_terms=frozenset(stemmer().stemWords(content_words(question))),
        same_as=_same_as(question, aliases, anchors),
        frame=frozenset(stemmer().stemWords([asked[0].lower()])) if asked else frozenset(),
        speakers=speakers,
        speaking=who_speaks(question, speakers),
        given_dates=given_dates(question),
        in_years=tuple(_IN_YEAR.findall(question)),
        in_months=tuple(m.lower() for m in _IN_MONTH.findall(question)),
        years_answer=bool(re.search(r"\bhow long\b", question, re.I)),
        ahead=bool({"date", "day"} & set(_wants(question))) and bool(AHEAD.search(question)),
        counts_things=counts_things(question),
        described=bool(DESCRIBED.search(question)),
        parts=tuple(analyse(part, aliases, f"{context} {question}") for part in question_parts(question))
        if not COMPARE.search(question) else (),
        defines=who_is(question, anchors),
        role=asked_role(question),
        person=bool(_ASKS_PERSON.match(question) or which_role(question)) and not who_is(question, anchors),
        headline=bool(re.search(r"\bheadline[sd]?\b", question, re.I)),
        names_own=names_own,
    )


# "Who is Munenori Suzuki?", "Who exactly was the commenter Adelaide?": a question about who someone is.
# "What is Ofcom?", "What was Yukos?": the same question about an organisation or a thing.
_WHO_IS = re.compile(r"^\s*(?:who|what)\s+(?:exactly\s+)?(?:is|was)\s+(?P<who>[^?,;]+?)\s*\?*\s*$", re.I)


def who_is(question: str, anchors: tuple) -> tuple:
    """The person a "Who is X?" question asks about: the text must say something of X itself, as a
    byline naming X says nothing of who X is.

    >>> [a.text for a in who_is("Who is Munenori Suzuki?", (Anchor("Munenori Suzuki", "name", ()),))]
    ['Munenori Suzuki']
    >>> who_is("Who is Suzuki meeting in Moscow?", (Anchor("Suzuki", "name", ()), Anchor("Moscow", "name", ())))
    ()
    >>> who_is("Who is the manager of Chelsea?", (Anchor("Chelsea", "name", ()),))
    ()
    >>> [a.text for a in who_is("What is Ofcom?", (Anchor("Ofcom", "name", ()),))]
    ['Ofcom']
    """
    match = _WHO_IS.match(question)
    names = [a for a in anchors if a.kind == "name"]
    if not match or len(names) != 1 or not match.group("who").endswith(names[0].text):
        return ()
    if question.lstrip()[:4].lower() == "what" and match.group("who").lower().removeprefix("the ") != names[0].text.lower():
        return ()  # "What is Japan's position?" asks for the position, "What is the Gershon review?" is no one name
    if re.search(r"\b(?:of|at|for|in|to|from|with|behind)\s*$", match.group("who")[:-len(names[0].text)], re.I):
        return ()  # "Who is the manager of Chelsea?" asks for someone else
    return (names[0],)


_ASKS_PERSON = re.compile(r"\s*(?:and\s+)?(?:who|whom)\b", re.I)


# ", and how did ...", "; what did ...": where a question asks a second thing.
_NEXT_PART = re.compile(r"(?:,\s*|;\s*|\s+)and\s+(?=(?:how|what|why|when|who|whom|where|which|did|does|do|is|are|was|"
                        r"were|has|have)\b)|;\s+(?=\w)", re.I)


def question_parts(question: str) -> list[str]:
    """The parts of a question that asks several things, each a question; none for one thing.

    >>> question_parts("Why did Roddick drop Gilbert, and how did Gilbert take it?")
    ['Why did Roddick drop Gilbert?', 'how did Gilbert take it?']
    >>> question_parts("What did Japan and Russia agree?")
    []
    """
    pieces = [p.strip(" ,;?") for p in _NEXT_PART.split(question)]
    pieces = [p for p in pieces if len(words(p)) >= 3]
    return [f"{p}?" for p in pieces] if len(pieces) > 1 else []


def _ordinal(number: str) -> str:
    return "th" if number in ("11", "12", "13") else {"1": "st", "2": "nd", "3": "rd"}.get(number[-1], "th")


# What is planned, not what was done: "will", "is due to", "expected to", "set to", "plans to".
AHEAD = re.compile(r"\b(?:will|shall|(?:is|are|was|were)\s+(?:\w+\s+)?(?:due|supposed|expected|set|scheduled|"
                   r"going|planned|slated|to\b)|plans?\s+to|planning\s+to|intends?\s+to|next)\b", re.I)
# A thing told by what it is or did, not by its name: a word that is no verb of saying or
# knowing, then a relative pronoun ("the web directory that two Stanford students started", "the
# legislator who flew to Moscow"); not "Who wrote that ...", "At which summit", "said that", "that night".
DESCRIBED = re.compile(r"(?<=\s)(?!(?:say|says|said|tell|tells|told|think|thinks|thought|believe|believes|claim|"
                       r"claims|show|shows|mean|means|suggest|suggests|know|knew|warn|warns|hope|hopes|fear|fears|"
                       r"feel|felt|announce|announces|write|writes|wrote|report|reports|argue|argues|admit|admits|"
                       r"deny|denies|insist|insists|add|adds|note|notes|explain|explains|confirm|confirms|agree|"
                       r"agrees|expect|expects|ask|asks|demand|demands|act|acts|so|such|is|was|are|were|be|it|and|"
                       r"or|but|than|now|of|in|on|at|by|for|with|to|from|about|under|into|what|how|did|does|do|"
                       r"has|have|had|gets|get|learn|the|a|an|one)\b)(?![a-z]+ed\s)[a-z][\w'’-]*\s+"
                       r"(?:that(?!\s+(?:way|day|night|week|month|year|time|morning|afternoon|evening)\b)|who|whom|"
                       r"which|whose)\s+\w", re.I)
# "in 1956", "during March 2014", "for the full year 2014": the year the question's event is in.
_IN_YEAR = re.compile(r"\b(?:in|during|for) (?:the (?:full |whole |fiscal |financial |calendar )?year )?"
                      r"(?:(?:early|late|mid-?)\s*)?(?:[A-Z][a-z]+ )?((?:1[89]|20)\d\d)\b")


def given_dates(question: str) -> tuple[str, ...]:
    """The dates a question states itself: a sentence that dates something only with them does
    not say when ("When did Lavrov arrive for the visit he announced on January 14?": "Lavrov
    announced on January 14 that he would visit" restates it).

    >>> given_dates("On what day and month in 1956 was it signed, and was it on 19 October?")
    ('1956', '19 october')
    """
    return tuple(m.group(0).lower() for m in _GIVEN_DATE.finditer(question))


# "according to the sources", "the author", "the article": which kind of text, not which one.
_ANY_SOURCE = frozenset("""according the a an this that these those its their his her article articles report reports
analysis analyses piece pieces post posts story stories thread threads document documents source sources author authors
text texts page pages site sites outlet outlets paper papers writer writers column editorial commentary blog original
account accounts version coverage reporting media press material one another""".split())
_ACCORDING = re.compile(r"\baccording to\s+(?P<source>[^,;:?!.]+)", re.I)
# "What does the world today news article claim", "In Kuroi's report, ...": a text named by who
# published it, then what kind of text it is.
_TEXT_KIND = r"(?:article|piece|report|analysis|post|thread|story|column|editorial|commentary|blog|op-ed)s?"
_NAMED_TEXT = re.compile(rf"\b(?:the|a|an)\s+(?P<source>(?:[\w'’.-]+\s+){{1,4}}?){_TEXT_KIND}\b|"
                         rf"(?P<owner>(?:[A-Z][\w.-]*\s+){{0,3}}[A-Z][\w.-]*)['’]s?\s+(?:\w+\s+)?{_TEXT_KIND}\b")


def named_source(question: str) -> frozenset:
    """The words naming one source the question asks to answer from, stemmed ("according to
    Fumitaro Kuroi's report": fumitaro, kuroi); none for "according to the sources".

    >>> sorted(named_source("When, according to the forum post, did talks end?"))
    ['forum']
    >>> named_source("What has Putin said, according to the documents?")
    frozenset()
    >>> sorted(named_source("What does the world today news article claim Japan fears?"))
    ['news', 'today', 'world']
    >>> sorted(named_source("Does Fumitaro Kuroi's report say why?")), named_source("Which report is older?")
    (['fumitaro', 'kuroi'], frozenset())
    >>> named_source("How do the ISN analysis and Kuroi's report differ?")
    frozenset()
    >>> sorted(named_source("What did the commenters say?")), sorted(named_source("According to one forum commenter, why?"))
    (['comment'], ['comment', 'forum'])
    >>> sorted(named_source("Does the forum article itself say so, or was that a commenter?"))
    ['forum']
    """
    texts = list(_NAMED_TEXT.finditer(question))
    named_once = len(texts) == 1 and not COMPARE.search(question)  # a text compared with another: both answer
    match = _ACCORDING.search(question) or (texts[0] if named_once else None)
    naming = frozenset() if match is None else _naming_words(match)
    if _COMMENTERS.search(question) and not _THE_TEXT_ITSELF.search(question):
        # "What did the commenters say", "How do the commenters on the forum thread portray …": the
        # replies answer (``passages_from`` reads a passage's kind of segment), not the post.
        if match is None and len(texts) == 1:
            naming = _naming_words(texts[0])
        naming |= {"comment"}
    return naming


# Asked about a thread's commenters; unless the question sets them against the text itself ("Does
# the forum article itself say it, or was that a commenter?"), when either may answer.
_COMMENTERS = re.compile(r"\bcommenters?\b", re.I)
_THE_TEXT_ITSELF = re.compile(r"\b(?:article|opening post|original post|author|itself)\b", re.I)


def header(passage) -> str:
    """Who and where a passage is from (title, outlet, author, poster, a reply's label): names it
    may refer to without repeating them. Not an article's label: "article body" would make "body"
    a word of every article."""
    s = passage.source
    label = "" if passage.segment_kind is SegmentKind.ARTICLE else passage.segment_label
    return f"{s.title} {s.outlet} {s.author or ''} {passage.speaker or ''} {label}"


def passages_from(source: frozenset, passages: list) -> set[int]:
    """The indexes of the passages from the source named by ``source`` (``named_source``): those
    whose outlet, author, speaker or segment (its label and its kind: "comment") has every naming
    word. Not the title, which names what a text is about: "according to Moscow" is not every
    article with Moscow in its headline."""
    def who(p) -> str:
        return f"{p.source.outlet} {p.source.author or ''} {p.speaker or ''} {p.segment_label} {p.segment_kind.value}"
    return {i for i, p in enumerate(passages) if source <= set(stems(who(p)))}


# Who wrote in a thread, not someone a text reports: "what did the commenters / the replies say".
_THREAD_VOICES = frozenset(stemmer().stemWords("comment commenter poster reader reply forum".split()))


def _described(who: str) -> tuple:
    """"What was the ambassador's reply?": the one asked about, named by what they are, not by name
    (a sentence where the ambassador speaks answers, not one where he is summoned). None for "they",
    "it", or words as common as "people".

    >>> [a.text for a in _described("the ambassador")], _described("they"), _described("the people")
    (['ambassador'], (), ())
    """
    noun = ([w for w in words(who) if w not in STOPWORDS] or [""])[-1]
    if (not noun.isalpha() or word_weight(noun) < 2.5 or noun in _ANY_SOURCE
            or stemmer().stemWords([noun])[0] in _THREAD_VOICES):
        return ()  # "what did the commenters / the article say": which text, not who speaks in it
    return (Anchor(noun, "name", (noun,), distinctive=False),)


def who_speaks(question: str, speakers: tuple) -> tuple:
    """Who speaks, of the names in "what did X say": the last name of each person asked about.
    "Hyundai chairman Chung Mong-koo" is Chung (Hyundai says who he is); "Lavrov and Zakharova"
    are two people.

    >>> from types import SimpleNamespace as N
    >>> q = "What did Hyundai chairman Chung Mong-koo and Lavrov say?"
    >>> [a.text for a in who_speaks(q, (N(text="Hyundai"), N(text="Chung Mong-koo"), N(text="Lavrov")))]
    ['Chung Mong-koo', 'Lavrov']
    """
    groups: list[list] = []
    for k, anchor in enumerate(speakers):
        if k:
            between = question[question.find(speakers[k - 1].text) + len(speakers[k - 1].text):question.find(anchor.text)]
            if not re.search(r"\b(?:and|or)\b|,", between):
                groups[-1].append(anchor)
                continue
        groups.append([anchor])
    return tuple(group[-1] for group in groups)


def compared_sources(question: str) -> tuple[frozenset, ...]:
    """The texts a comparison names, each as the stems naming it, in the question's order; empty
    unless the question compares two or more named texts.

    >>> [sorted(s) for s in compared_sources("How do the ISN analysis and Kuroi's report differ?")]
    [['isn'], ['kuroi']]
    >>> compared_sources("How does the ISN analysis describe Abe?"), compared_sources("How do the outlets differ?")
    ((), ())
    """
    if not COMPARE.search(question):
        return ()
    named = [_naming_words(m) for m in _NAMED_TEXT.finditer(question)]
    named = [n for n in dict.fromkeys(named) if n]
    return tuple(named) if len(named) >= 2 else ()


def _naming_words(match: re.Match) -> frozenset:
    source = match.group("owner") if "owner" in match.groupdict() and match.group("owner") else match.group("source")
    named = [w.removesuffix("'s").removesuffix("’s") for w in words(source)]
    return frozenset(stemmer().stemWords([w for w in named if w not in _ANY_SOURCE and w not in STOPWORDS]))


def word_pairs(text: str) -> frozenset:
    """Adjacent words, except pairs of two stopwords ("of the"): shared pairs mean shared wording.

    >>> sorted(word_pairs("Who said the disputes have been resolved?"))
    ['been resolved', 'disputes have', 'the disputes']
    """
    tokens = words(text)
    return frozenset(f"{a} {b}" for a, b in zip(tokens, tokens[1:]) if not (a in STOPWORDS and b in STOPWORDS))


_ASKING = frozenset("date year month day time many much long far old age big large money cash".split())


def _asking_words(question: str) -> set:
    """The words of "what date", "which year", "how many", "how old" ...: they say what kind of
    answer is wanted (``WANTS``), and an answer need not repeat them.

    >>> sorted(_asking_words("On what date, and how many years after the war, did it open?"))
    ['date', 'many']
    >>> sorted(_asking_words("How much money did one gambler put on Scott?"))
    ['money', 'much']
    """
    found = set()
    for kind in ("date", "number", "money"):
        for match in WANTS[kind][0].finditer(question):
            found |= {w for w in words(match.group(0)) if w in _ASKING}
    return found


def _same_as(question: str, aliases: list[list[str]], anchors: tuple = ()) -> dict:
    """For each alias group the question mentions, every stem of its names maps to all of them."""
    same: dict[str, set] = {}
    for group in aliases:
        if any(mentions(question, name) for name in group) and _stands_for(question, group):
            group_stems = {t for name in group for t in stemmer().stemWords(content_words(name))}
            for t in group_stems:
                same.setdefault(t, set()).update(group_stems)
    for anchor in anchors:  # each word of "Consumer Electronics Show" is covered by "CES", not by the others
        if anchor.initials:
            for t in stemmer().stemWords(content_words(anchor.initials[1])):
                same.setdefault(t, set()).add(stemmer().stemWord(anchor.initials[0]))
    return {t: frozenset(v) for t, v in same.items()}


_HOW_MANY = re.compile(r"\bhow (?:many|much)\b((?:\s+[\w'’-]+){1,4})", re.I)
_WHAT_AMOUNT = re.compile(r"\b(?:what|which) (?:is|was|are|were) the (?:[a-z]+ ){0,2}"
                          r"(population|area|size|number|amount|length|height|toll)\b", re.I)
# "What was the value of ...": an amount of money answers it, whatever word the text uses.
_WHAT_PRICE = re.compile(r"\b(?:what|which|how much)\b.{0,60}?\b(cost|price|value|budget|salary|salaries|wages?|fees?|"
                         r"fortune|damages|compensation|bonus|payout|turnover|revenue|profit)\b", re.I)


# "How much will profits climb?": a change, in money or in per cent ("20-25%"), not only money.
_CHANGE = re.compile(r"\b(climb|climbs|rise|rises|rose|risen|fall|falls|fell|fallen|grow|grows|grew|grown|increase[sd]?|"
                     r"drop|drops|dropped|jump|jumps|jumped|decline[sd]?|shrink|shrinks|shrank|slump|slumped|surge[sd]?|"
                     r"change[sd]?|by how much)\b", re.I)


def _wants(question: str) -> tuple[str, ...]:
    """The kinds of answer the question asks for (``WANTS``).

    >>> _wants("How much is Peugeot paying for the cars?"), _wants("How much will Absa's profits climb?")
    (('number', 'money'), ('number',))
    """
    kinds = [kind for kind, (asks, _) in WANTS.items() if asks.search(question)]
    if "money" in kinds and _CHANGE.search(question):
        kinds.remove("money")
    return tuple(kinds)


_YES_NO = re.compile(r"\s*(did|does|do|is|are|was|were|has|have|had|can|could|will|would|should)\b", re.I)


# Nouns that only count ("how many units", "how many items"): what is counted is in the text's own
# words ("four ALIS installations"), so they name no focus.
_COUNTERS = frozenset("units unit items item pieces piece things kinds types sorts ones examples".split())


# "How much likelier / more / longer": comparatives, a ratio or a difference asked, nothing counted.
_COMPARATIVE = re.compile(r"more|less|fewer|further|farther|better|worse|(?:likel|eas|heav|earl|costl|risk|health|"
                          r"wealth)ier|(?:bigg|larg|high|low|long|short|great|small|fast|slow|old|young|rich|poor|"
                          r"cheap|strong|weak|wid|deep|light)er")


# Units of time: a number of them is a length of time ("15 years", "a 10-day strike").
TIME_UNITS = r"(?:second|minute|hour|day|night|week|fortnight|month|year|decade|centur(?:y|ie))s?"


def counts_things(question: str) -> bool:
    """Does "how many" ask for a count of something other than time? The counted word may be as
    common as "people", so that ``_focus`` leaves it out; a length of time still does not count it.

    >>> counts_things("How many people live in Ankara?"), counts_things("How many years could Turkey wait?")
    (True, False)
    >>> counts_things("How many of them left?"), counts_things("How much did it cost?")
    (False, False)
    >>> counts_things("What is the population of India?"), counts_things("What was the death toll?")
    (True, True)
    """
    amount = _WHAT_AMOUNT.search(question)
    if amount and amount.group(1).lower() in ("population", "number", "toll"):
        return True  # "What is the population of India?": "20% of India's population" is no count
    match = _HOW_MANY.search(question)
    if not match or match.group(0).lower().split()[1] != "many":
        return False
    counted = [w for w in match.group(1).split() if not w[:1].isupper()]  # "how many US troops": troops
    return bool(counted) and counted[0].lower() not in STOPWORDS and not re.fullmatch(TIME_UNITS, counted[0].lower())


def _focus(question: str) -> list[str]:
    """What a number is asked about: "how many US troops" wants a number of troops, not any number.
    Either of the first two words counted will do ("how many industry visitors": industry or
    visitors); a word as common as "people" or "times" is no focus, since the text may say
    "employees" or "customers".

    >>> _focus("How many US troops did the Pentagon send?"), _focus("How many people lost their data?")
    (['troops'], [])
    >>> _focus("How many units did Japan send?"), _focus("How much likelier were they to be stopped?")
    ([], [])
    >>> _focus("How many short- and mid-haul flights were cancelled?")
    ['mid-haul', 'flights']
    >>> _focus("How many Americans started reading blogs?")
    []
    """
    words_after = []
    # "how many short- and mid-haul services": the counted noun is after the shared hyphen.
    match = _HOW_MANY.search(re.sub(r"\b[\w'’]+-\s+(?:and|or|to)\s+", "", question))
    if match:
        after_name = False
        for word in match.group(1).split():
            if not words_after and _COMPARATIVE.fullmatch(word.lower()):
                break  # "how much likelier / more / longer": a ratio or a difference, nothing counted
            if word[:1].isupper():
                after_name = True
                continue  # "US", "Russian": whose troops, not what is counted
            if after_name and not words_after and word.lower().endswith("ed"):
                break  # "how many Americans started reading": the name was what is counted, then a verb
            if word.lower() in STOPWORDS or len(words_after) == 2:
                break  # "how much did ...": no noun is counted
            words_after.append(word.lower())
        if any(word_weight(w) < 2.0 or w in _COUNTERS for w in words_after):
            words_after = []
    match = _WHAT_AMOUNT.search(question)
    if match:
        words_after.append(match.group(1).lower())
    return words_after


@functools.lru_cache(maxsize=50_000)
def word_weight(word: str) -> float:
    """How much a word says about what is asked: 7.5 minus its Zipf frequency in general English
    (wordfreq's fixed list, so it never changes with the documents indexed), kept within 0.5..6.
    'the' weighs 0.5, 'sanctions' 3.6, 'Zakharova' 5.6; a word wordfreq does not know weighs 6."""
    from wordfreq import zipf_frequency

    return min(6.0, max(0.5, 7.5 - zipf_frequency(word, "en")))


def _anchors(question: str, aliases: list[list[str]]) -> list[Anchor]:
    found: list[Anchor] = []
    for year in dict.fromkeys(_YEAR_WORD.findall(question)):
        found.append(Anchor(year, "year", (year,)))
    for day in DAY_DATE.finditer(question):  # "May 26", "11 October": a day that names one event
        month = (day.group("m1") or day.group("m2")).lower()
        number = str(int(day.group("d1") or day.group("d2")))
        variants = [f"{month} {number}", f"{number} {month}", f"{month} {number}{_ordinal(number)}",
                    f"{number}{_ordinal(number)} {month}"]
        found.append(Anchor(day.group(0), "date", tuple(dict.fromkeys(variants))))
    for score in dict.fromkeys(_SCORE.findall(question)):  # "Arsenal's 5-4 win": that match, no other
        found.append(Anchor(score, "score", (" ".join(words(score)),)))
    known_names = {" ".join(words(n)) for group in aliases for n in group}
    for match in _NAME.finditer(question):
        tokens = [t for t in re.split(r"\s+", match.group().strip(" .")) if t]
        while tokens and tokens[0].lower().strip("'’") in _NOT_NAMES:
            tokens.pop(0)  # "What", "In", "December" ...
        spelled = " ".join(tokens).removesuffix("'s").removesuffix("’s")  # "Consumer Electronics Show"
        short = initials(spelled)
        while tokens and tokens[-1].lower().strip("'’") in _NOT_NAMES:
            tokens.pop()
        if not tokens or _YEAR_WORD.fullmatch(tokens[0]) or tokens[0].isdigit():
            continue  # "in 2005", "December 15": a year or a day, not a name
        name = " ".join(tokens).removesuffix("'s").removesuffix("’s")
        folded = " ".join(words(name))
        if not folded or folded in {a.variants[0] for a in found}:
            continue
        if len(name) <= 3 and name.isupper() and folded not in known_names:
            continue  # TV, UN, ISN: an acronym may be spelled out in the text
        variants = [folded]
        if " & " in name:  # "Marks & Spencer" is written "Marks and Spencer" too
            variants.append(" ".join(words(name.replace(" & ", " and "))))
        last = folded.split()[-1]
        if " " in folded and len(last) >= 4 and word_weight(last) >= 4.0:
            variants.append(last)  # "Maria Zakharova" ~ "Zakharova" (but "Kuril Islands" is not "islands")
        for group in aliases:
            names = [" ".join(words(n)) for n in group]
            if any(n == folded or n in variants for n in names) and _stands_for(question, group):
                variants += [n for n in names if n not in variants]
        if short and short not in variants:
            variants.append(short)  # "Consumer Electronics Show" ~ "CES"
        distinctive = max(word_weight(_unowned(w)) for w in folded.split()) >= 3.5
        found.append(Anchor(name, "name", tuple(variants), distinctive, (short, spelled) if short else None))
    return found


def _stands_for(question: str, group: list[str]) -> bool:
    """Does each name of the group stand for the others in this question? Not when it names two of
    them apart (``_names_apart``), nor for a capital named as a place ("the mayor of Ankara" is not Turkey)."""
    return not _names_apart(question, group) and not as_place(question, group)


def _names_apart(question: str, group: list[str]) -> bool:
    """Does the question name two of a group's names, neither a part of the other? Then it tells
    them apart ("How did Beijing respond to ... jointly with China?"), and neither stands for the other.

    >>> _names_apart("How did Beijing respond to the plan with China?", ["China", "Beijing"])
    True
    >>> _names_apart("What is Japan's position on the South Kurils?", ["South Kurils", "Kurils", "Etorofu"])
    False
    """
    named = [" ".join(words(n)) for n in group if mentions(question, n)]
    return sum(not any(n != m and f" {n} " in f" {m} " for m in named) for n in named) > 1


# What kind of answer the question wants, and how to recognise a sentence that has one.
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
# In an answer a month is written with its capital: "may have been stolen" and "march on" say no date.
_MONTH_NAMES = "(?-i:" + "|".join(m.capitalize() for m in _MONTHS.split("|")) + ")"
# "the average house price in December": the month the figure is for (not a day: "December 15").
_IN_MONTH = re.compile(rf"\b(?:in|during|for) (?:the month of )?({_MONTH_NAMES})\b(?!\s+\d{{1,2}}\b)")
# "January 14", "14th January", "January 14, 2024"; a year alone.
_GIVEN_DATE = re.compile(rf"\b(?:(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS}))\b"
                         r"(?:,?\s+(?:1[89]\d\d|20\d\d)\b)?|\b(?:1[89]\d\d|20\d\d)\b", re.I)
# A day of a month ("May 26", "11 October"): the question's date anchors, and no count of anything.
DAY_DATE = re.compile(rf"\b(?:(?P<m1>{_MONTH_NAMES})\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?(?![\d,.]\d)|(?P<d2>\d{{1,2}})"
                       rf"(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m2>{_MONTH_NAMES}))\b", re.I)
# A name: a capitalised word that does not start a sentence, a quotation or a line, and is not a
# month or a day of the week.
_NAMED = re.compile(r"(?<!^)(?<![.!?:]\s)(?<![“\"‘'\n])\b(?!(?:January|February|March|April|May|June|July|August|"
                    r"September|October|November|December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|"
                    r"Sunday)\b)[A-Z][a-z]+|[\u4e00-\u9fff]")
WANTS = {
    # "When did ...", "... and when?": not "how did she describe him when he was home secretary".
    "date": (re.compile(r"(?:^|[,;:(]\s*|\b(?:and|or|but|so|since|until)\s+)when\b|\bwhen\s+(?:did|does|do|is|are|was|"
                        r"were|will|would|has|have|had|can|could|should|exactly)\b|\bwhen\s*\?|"
                        r"\b(?:know|tell me|say|says|said|find out|ask|asked|ask them)\s+when\b|"
                        r"\b(?:what|which) (?:year|date|month|day)\b|\bhow long ago\b", re.I),
             re.compile(rf"\b(1[89]\d\d|20\d\d)\b|\b({_MONTH_NAMES})\b|\b(yesterday|today|tomorrow|tonight|ago|century|"
                        r"centuries|(?:mon|tues|wednes|thurs|fri|satur|sun)days?|(?:last|next|this|earlier|later) "
                        r"(?:week|month|year|spring|summer|autumn|fall|winter|weekend))\b", re.I)),
    # "On what date": a day, not a year ("fiscal year 2026" does not say on what date).
    "day": (re.compile(r"\b(what|which) (date|day)\b", re.I),
            re.compile(rf"\b({_MONTH_NAMES})\b|\b(yesterday|today|tomorrow|tonight|(?:mon|tues|wednes|thurs|fri|satur|sun)"
                       r"days?)\b|\b\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\b", re.I)),
    "number": (re.compile(r"\bhow (many|much|large|big|far|long|old)\b|\bwhat age\b|\bwhat (amount|number|percentage|proportion|fraction|share|value|total|"
                          r"size|area|cost|price|population|level|rate|figure|fee|sum|score|margin)\b|"
                          r"\b(population|cost|price|area|square)\b|"
                          # "What was Kathy Butler's winning time at ...", "what is X's world record?": the
                          # measure is the head noun, with nothing of its own after it ("record label" is not one)
                          r"\bwhat(?: is| was| are| were|'s|’s) (?:[\w'’-]+ ){0,6}?(?:time|record|score|scoreline|tally|"
                          r"total|margin|deficit|surplus|valuation|salary|fee|target)"
                          r"(?=\s*(?:[?,;]|$|(?:that|which|when|in|at|for|of|on|after|before|by|against|so far|now)\b))",
                          re.I),
               re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                          r"(?:thir|four|fif|six|seven|eigh|nine)teen|(?:twen|thir|for|fif|six|seven|eigh|nine)ty|"
                          r"dozen|hundred|thousand|million|billion|trillion|half|percent)\b", re.I)),
    # "Which Middlesbrough player", "which of Tsutsumi's companies": the noun may come a word or two on.
    "name": (re.compile(r"^\s*(?:(?:and|but|so|then)\s+)?who\b|"  # "And who was named ...?" too
                        r"\bwhich (?:of |[\w'’-]+ ){0,3}?(official|minister|person|politician|leader|commenter|"
                        r"poster|diplomat|ambassador|country|countries|company|companies|firm|firms|team|club|player|"
                        r"band|singer|actor|film|book|novel|group|party|bank|network|charity|spokes(?:man|woman|person)|"
                        r"executive|chief|boss|president|chairman|chairwoman|secretary|lawyer|judge|coach|manager|"
                        r"author|writer|analyst|economist|journalist|reporter|envoy|actress|director|artist|"
                        r"candidate|lawmaker|legislator|MP|newspaper|magazine|paper|broadcaster|channel|station|airline|carmaker|"
                        r"maker|manufacturer|brand|agency|organi[sz]ation|university|city|town|studio|label|album|song|"
                        r"programme|program|show|game|website|site|guide)\b|"
                        r"\bnames? of\b|\bwho (said|wrote|posted|called)\b", re.I),
             _NAMED),
    # "Where will the contest be held?": a named place ("in Kiev"). Not "where had its shares sunk
    # to?", which asks for a level.
    "place": (re.compile(r"\bwhere\b(?!.*\b(?:sunk|sank|fallen|fell|risen|rose|climbed|dropped|slipped|got|go) to\b)",
                         re.I),
              _NAMED),
    # "How often did he sing it?": a frequency ("at least once a day", "every week", "twice").
    "often": (re.compile(r"\bhow (?:often|frequently)\b|\bhow many times\b", re.I),
              re.compile(r"\b(?:once|twice|thrice|times|every|each|daily|nightly|weekly|monthly|yearly|annually|"
                         r"hourly|always|never|often|rarely|seldom|regularly|occasionally|sometimes|usually)\b", re.I)),
    # "What was her winning time?": a time taken ("20 minutes 38 seconds", "2:04:55", "in 30.26"),
    # not the race's other numbers ("the 25th race", "the 6.6km course").
    "duration": (re.compile(r"\b(?:winning|finishing|record|race|lap|qualifying|personal best) time\b", re.I),
                 re.compile(r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s*"
                            r"(?:hours?|hrs?|minutes?|mins?|seconds?|secs?)\b|"
                            r"\b\d{1,2}[:.]\d{2}(?::\d{2})?(?:\.\d+)?(?![\w%]|[.,]\d)", re.I)),
    # "How old is X?": an age ("Mr Boateng, 53,", "the 31-year-old", "at the age of 14", "when she was
    # 14"), not a share price or a percentage.
    "age": (re.compile(r"\bhow old\b|\b(?:what|which) age\b", re.I),
            re.compile(r"\b\d{1,3}-year-olds?\b|\b\d{1,3} years? old\b|\baged? (?:of )?\d{1,3}\b|, \d{1,3},|\(\d{1,3}\)|"
                       r"\b(?:when|until|before|after) (?:he|she|they|I|we) (?:was|were|turned) \d{1,3}(?![\d%]|[.,]\d)|"
                       r"\bborn (?:in|on)\b|\b(?:teens|twenties|thirties|forties|fifties|sixties|seventies|eighties|"
                       r"nineties)\b", re.I)),
    # "How much did it cost?": an amount of money, not any number ("four units").
    "money": (re.compile(r"\bhow much (?:money|cash)\b|\bhow much\b.{0,80}\b(?:(?:cost|pay|spend|charg|sell|buy|rais|invest|earn|offer|bid|owe|lend|"
                         r"borrow|donat)\w*|paid|spent|sold|bought|lent|worth|fine|fined)\b|\bwhat (?:did|does|do|will|would) .{1,60}\bcost\b|"
                         + _WHAT_PRICE.pattern, re.I),
              re.compile(r"[$€£¥₽₩]|\b(dollars?|euros?|pounds?|sterling|yen|yuan|renminbi|rubles?|roubles?|"
                         r"rupees?|francs?|USD|EUR|GBP|JPY|CNY|RUB)\b", re.I)),
}
# "What did X say / praise / deny": X's words. Not "how did X explain it", which asks for reasons,
# whoever gives them.
_ASKS_WORDS = re.compile(r"\b(what|how) (did|does|do|has|have|had)\b.{1,80}?\b(say|said|describe|call|respond|react|"
                         r"reply|answer|comment|characteri[sz]e|portray|put it|argue|claim|warn|tell|praise|"
                         r"critici[sz]e|attack|defend|justify|dismiss|welcome|blame|accuse|condemn|deny|"
                         r"rate|assess|sum up|predict|forecast|expect|admit)\b|"
                         # "Why did Jo Pavey say she is skipping the race?": the reason she gave, in her words
                         r"\b(why) (did|does|do|has|have|had)\b.{1,80}?\b(say|said|tell|claim|argue|insist)\b", re.I)
# "What advice did X give", "what warning did X issue", "what was X's view of": X's words too.
_ASKS_VIEW = re.compile(r"\bwhat (?:advice|warnings?|messages?|verdict|assessment|views?|explanation|reasons?) "
                        r"(?:did|does|do|has|have|had) (.{1,80}?) (give|offer|issue|send|deliver)\b|"
                        r"\bwhat (?:is|was|were|are) (.{1,60}?)(?:'s|’s|s') (view|verdict|assessment|opinion|reaction|"
                        r"response|reply|answer|comment|message|warning|explanation)\b", re.I)
# "Compare what Ovechko and Lavrov said", "How do Lavrov's and Zakharova's remarks differ?": their words.
_ASKS_COMPARED = re.compile(r"\b(?:compare|contrast)\s+(?:what|how)\s+(.{1,80}?)\s+(said|say|says|described|describe|"
                            r"called|responded|reacted|wrote|argued|claimed)\b|"
                            r"\bhow (?:do|did|does)\s+(.{1,80}?)(?:'s|’s|s')\s+(remarks|comments|statements|words|views|"
                            r"positions|descriptions)\b", re.I)


def _asked(question: str) -> tuple[str, str] | None:
    """For a question asking someone's words: (the asking verb, the words naming who is asked).

    >>> _asked("How did Japan's ministry respond to the sanctions?")
    ('respond', "Japan's ministry")
    >>> _asked("What advice did Sir Bobby Robson give Mourinho?"), _asked("What was Oliver Letwin's view of it?")
    (('give', 'Sir Bobby Robson'), ('view', 'Oliver Letwin'))
    >>> _asked("Why did Jo Pavey say she would miss the race?"), _asked("What did the RICS predict for sales?")
    (('say', 'Jo Pavey'), ('predict', 'the RICS'))
    >>> _asked("How do Lavrov's and Zakharova's remarks differ?"), _asked("Compare what Ovechko and Lavrov said.")
    (('remarks', "Lavrov's and Zakharova"), ('said', 'Ovechko and Lavrov'))
    """
    match = _ASKS_WORDS.search(question)
    if match:
        verb = 3 if match.group(3) else 6
        return match.group(verb), question[match.end(verb - 1):match.start(verb)].strip()
    match = _ASKS_VIEW.search(question) or _ASKS_COMPARED.search(question)
    if match:
        return (match.group(2), match.group(1)) if match.group(2) else (match.group(4), match.group(3))
    return None
_TEXTS = (r"(?:sources?|outlets?|articles?|documents?|reports?|analys[ie]s|papers?|newspapers?|sites?|websites?|"
          r"forums?|posts?|threads?|accounts?|stories|pieces?|texts?|writers?|authors?|media|coverage)")
# A question comparing sources, not the parties of a story: "how do the outlets frame", "do the
# two articles agree", "compare"; not "what did each side export" or "both goals".
COMPARE = re.compile(
    r"\b(sources|documents|outlets|compare[ds]?|comparison|contrast|differ|differs|different(?:ly)?|frames?|framing|"
    r"framed|portray(?:s|ed|al)?|versus|vs|perspectives?)\b"
    rf"|\b(?:each|both|all|two|three|several|other|every)\s+(?:of\s+)?(?:the\s+)?(?:[\w'’-]+\s+){{0,2}}?{_TEXTS}\b"
    rf"|\b{_TEXTS}\b.{{1,80}}\band\b.{{1,80}}\b{_TEXTS}\b.{{0,40}}\b(?:agree|disagree|align|same|alike|similar)\b",
    re.I,
)
