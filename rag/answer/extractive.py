"""The offline answerer: the sentences of the retrieved passages that answer, quoted verbatim.

    >>> draft = compose(question.analyse(text, aliases), passages)     # doctest: +SKIP
    >>> draft.outcome, draft.lines[0]                                  # doctest: +SKIP
    (<Outcome.ANSWERED: 'answered'>, 'According to world today news ... “In May, Japan ...” [1]')

No model writes anything here: each sentence is copied from a passage and followed by its
[n]; claims from partisan and unrated sources are attributed, never stated as fact; comments
are attributed to their posters. A sentence that addresses the reader or an AI model
(``rag.answer.injection``) is never quoted.

How a sentence is judged uses only the question and the passage itself, never statistics of
the whole index, so documents about other things cannot change an answer:

* its *evidence window* is the sentence, the sentence that says who "she" or "the ministry"
  is when it refers back, and the passage's title, outlet, author and speaker: news names a
  person once and then says "she"; the next sentence counts when the two are quoted as a pair;
* it covers the question's words weighted by how rare they are in English (``analyse``); another
  name of a question name ("Russia" for "Moscow", aliases.yaml) is that name, not one more word;
* its passage must mention what the question is about (names, years: ``Anchor``), and a sentence
  about the question's year beats one that only shares its passage with that year; a name counts
  when the text just around the passage in its document writes it (``surroundings``: news names a
  subject once, then says "the firm"), though a sentence of a passage that names it itself ranks higher;
* a "when" question wants a date ("on what date" a day, not a year; "when is it due to" one said
  of what is planned, "is due to be shipped in early 2005"), "how old" an age, "what was
  her winning time" a time taken ("20 minutes 38 seconds", not "the 25th race"), "who" a
  name, "what was the value" an amount of money, "how many" a number (a year alone counts
  nothing), "how many troops" a number and troops, or, by the encoder, a number of troops in
  other words ("8,500 military personnel": then the answer says it is not in so many words);
* "who is X" wants a sentence that says something of X: X named in it or in the one it refers back
  to, not only in the passage's byline or title; "did X meet Y" a sentence naming X and Y so;
* "what did X say" / "how did X respond" / "why did X say" / "what did X predict" / "what was the
  ambassador's reply" wants X's words: X named in the sentence, in the one it refers back to (and
  the one that one refers back to), in the one whose quotation it goes on with ('he said: "..."
  "I am prepared ..."'), or as the passage's speaker, author or outlet (not the Zakharova that
  "How did Japan's Foreign Ministry respond to Zakharova's remarks?" is about); "what did X say /
  tell / claim / predict" only by words said (a verb of saying, or a quotation opening the
  sentence; not a phrase in quotation marks inside it), not by a line about X that quotes nobody,
  and not by '"…," said Robinson' after a sentence naming X (it names its own speaker); "The
  Leicester tight-head ... he told BBC Sport" and "The 31-year-old ... she said" refer back to the
  person named before;
* the question's own wording in order ("all territorial disputes ... resolved") counts a little;
* a document's title line is not quoted (its words count through the header), unless the question
  asks for the headline ("How does the forum post's headline frame the trip?"): then it answers;
* a lead that only reports what X said ("Lee refused to blame Dent") is followed by X's quoted
  words from the same document, and X named in full ("John Miller") is quoted further there when
  the answer has room, and a quotation of X's that goes on past who said it ('..., said Mr Shaw.
  "Our view is ..."') is quoted one sentence further; "how did Moscow respond" hears each of
  Moscow's voices (Putin, Lavrov, Trutnev), one more sentence than usual if need be;
* when no sentence covers most of the question's words, one whose meaning is close to the
  question's (the index's encoder, question against sentence, or, when no whole sentence is close,
  against its clauses) answers, marked not direct: a journalist's words are often not the text's
  ("prospects of taking power" / "could win"); so does, marked the same way, the best sentence
  when it names everything the question names and has the kind of answer asked for ("vehicles ...
  Tokyo ... Kyiv in May" / "In May, Japan ... 100 military trucks ... to Ukraine"); and so does,
  for a question that tells its subject by what it did ("the web directory that two Stanford
  students started"), a sentence with the answer together with the one of its passage that says
  who that is ("The web portal ... set up by Stanford University students"), both quoted. Such an
  answer, the best evidence there is, is not padded with another text's sentence that does not
  answer by itself;
* a direct answer whose figure another text gives too ("1.55bn euros", from a second report on GM's
  payment to Fiat), or that another text answers about as well (``AS_WELL``: "$9.3bn" beside "$6bn
  in credits ... to finance the purchase"), cites that text as well, once;
* a question asking several things ("Why did Roddick drop Gilbert, and how did Gilbert take it?")
  may be led by a sentence with the kind of answer one part asks for, and gets each part answered
  too, by a sentence about the whole question that has the kind of answer the part asks for and
  most of the part's own words (``question_parts``);
* "according to Kuroi" / "according to the forum post" / "Kuroi's report" / "the ISN piece": only
  that source's passages answer, when any passage's outlet, author or speaker names it (not when
  the question compares it with another); "what did the commenters say": only the replies;
* "How do the ISN analysis and Kuroi's report differ …" quotes each text named (``_each_source``)
  and no other; "What did Lavrov and Zakharova say …" quotes each person (``_each_speaker``).

Three outcomes: an answer (``ANSWERED``, with ``direct`` False when the evidence is close but
not a plain statement), ``TOUCHES_ON`` when the passages are about the subject (they share enough
of its words or meaning, or one names everything it names, or some of its names are there and
the rest are not) but no sentence answers, and ``NOT_FOUND`` when nothing the question is about is
in any passage.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from ..model import Outcome, Passage, Rating, SegmentKind
from ..text import HONORIFICS, STOPWORDS, content_words, fold, sentences, stemmer, stems, words
from .injection import instructions, overlaps
from .places import country_names
from .question import AHEAD, DAY_DATE, TIME_UNITS, WANTS, Needs, header, passages_from, word_pairs, word_weight
from .roles import person_named
from .support import TITLED


@dataclass
class Candidate:
    passage_index: int
    start: int  # offsets in the passage text: one sentence, or a sentence with its neighbour
    end: int
    text: str
    score: float
    coverage: float  # weighted share of the question's words in the evidence window
    typed: bool  # has the kind of answer asked for (a date, a number, a name, the quoted words)
    anchored: float  # share of the question's names and years its passage mentions
    distinct_anchored: float  # the same, for its distinctive names and years only
    informative: bool  # says something the question does not already say
    terms: frozenset  # question stems the window covers
    predicate: float  # weighted share of the question's other words (not its names) in the window
    similarity: float  # of the question and the candidate's passage (MiniLM cosine)
    counted_by_meaning: bool = False  # its number counts what was asked only in other words ("personnel")
    heard: tuple = ()  # of the people the question asks what they said, those speaking here


@dataclass
class Draft:
    lines: list[str]  # one sentence each, ending with its [n]
    used: list[tuple[int, list[tuple[int, int]]]]  # (passage index, highlighted spans) in citation order
    outcome: Outcome
    direct: bool = True  # False: the best evidence, but not a plain statement of the answer
    closest: list[int] | None = None  # passage indexes to offer when there is no answer

    @property
    def refused(self) -> bool:
        return self.outcome is not Outcome.ANSWERED


_PRONOUN_START = re.compile(r"^[“\"‘']?(?:\w+,?\s+){0,2}?(he|she|they|his|her|their|we|i|it|this|that)\b", re.I)
_SPEECH_VERB = re.compile(r"\b(said|says|say|saying|told|declared|stated|warned|wrote|noted|added|explained|called|emphasized|"
                          r"emphasised|announced|claimed|stressed|responded|replied|described|argued|insisted|urged|"
                          r"accused|denounced|condemned|vowed|promised|praised|hailed|criticised|criticized|dismissed|"
                          r"welcomed|blamed|denied|rejected)\b", re.I)
_SPEECH = re.compile(_SPEECH_VERB.pattern + r"|:\s*[“\"]|[“\"]", re.I)  # a verb of saying, or a quotation

# An answer needs its window to cover most of what the question weighs (a majority of it), or,
# for a question that shares few words with the text, to be close in meaning. These are plain
# design values, not fitted to the eval set; the decisions above them come from the question.
ANSWER_COVERAGE = 0.5
CLOSE_MEANING = 0.55  # cosine similarity of question and passage (MiniLM)
RELATED_COVERAGE = 0.25  # below this, and not close in meaning, the passage is not about the question
# Two sentences scored within 5% of each other answer about as well: the scorer's own nudges (a fact
# more, a sentence rather than a pair) are that big, so it cannot tell which of them is the answer.
AS_WELL = 0.95


def candidates(needs: Needs, passages: list[Passage], meant: frozenset = frozenset(),
               around: list[str] | None = None) -> list[Candidate]:
    """Every sentence of the passages (and, where its neighbour completes it, the pair) with its evidence.
    ``meant``: words after a number that name, in other words, what the question counts (``counted_phrases``);
    ``around``: for each passage, the text about it in its document (``surroundings``)."""
    found = []
    for i, passage in enumerate(passages):
        head, title = header(passage), passage.source.title.strip()
        header_stems = set(stems(head))
        # whether the passage is about what the question names: it and the text about it (``around``);
        # how well its sentences answer: the passage alone (a name said only nearby is not said here)
        anchored, distinct, own_anchored = _anchoring(needs, passage, around[i] if around else "")
        spans = [(a, b, s) for a, b, s in sentences(passage.text)]
        sent_stems = [set(stems(s)) for _, _, s in spans]
        # A follow-up's earlier question says which passages are on topic, not which sentence
        # answers: its words count once per passage, the same for each of its sentences.
        topic = {t for t in needs.weights if t not in needs.own_terms} & (set().union(*sent_stems) | header_stems)
        marked = instructions(passage.text)
        backs = [_antecedent(spans, j) for j in range(len(spans))]  # "She said ...": who she is
        heard = _heard(spans, backs)
        for j, (start, end, sentence) in enumerate(spans):
            is_title = sentence == title
            if len(sentence.split()) < 4 or overlaps(marked, start, end) or (is_title and not needs.headline):
                continue  # headings, fragments (the title counts through the header, not as a
                # sentence to quote, unless the question asks for the headline); text addressed to
                # a model is never evidence
            back = backs[j]
            if back is None and j and _goes_on_quoting(sentence, spans[j - 1][2]):
                # '"It's all about transparency," he said. "Consumers have to be told ..."': the
                # quotation goes on, and whoever the sentence before quotes is speaking here too
                back = backs[j - 1] if backs[j - 1] is not None else j - 1
            context = (sent_stems[back] if back is not None else set()) | header_stems
            window = sent_stems[j] | context | topic
            # '"I have had a word with Mathew," said Robinson': who speaks is named here, so the
            # sentence before (naming Mathew Tait) does not say who "I" is.
            named_here = _voices(sentence)
            byline = " ".join([passage.speaker or "", passage.source.author or "", passage.source.outlet])
            voice = f"{heard[j] if not named_here else ''} {byline}"
            told = f"{sentence} {spans[back][2] if back is not None else ''}"  # what the text itself says of whom
            if is_title:  # the headline is about the whole text, and is what the question calls "headline"
                window = window | set().union(*sent_stems) | set(stems("headline"))
            found.append(_candidate(needs, passage, i, start, end, sentence, window, anchored, distinct, voice, meant,
                                    told, own_anchored))
            if is_title:  # "How does the headline frame it?": the headline itself, on its own
                found[-1].score, found[-1].typed = round(found[-1].score + 0.5, 9), True
                continue
            # The fact or the quote is often in the next sentence ("Japan announced sanctions on
            # Friday. They target 35 officers ..."): offer the pair, quoted as one.
            if (j + 1 < len(spans) and len(spans[j + 1][2].split()) >= 4 and _plain(sentence, spans[j + 1][2])
                    and not overlaps(marked, *spans[j + 1][:2])):
                nxt = spans[j + 1]
                pair = passage.text[start:nxt[1]]
                window2 = window | sent_stems[j + 1]
                # '... on his junior debut. "Winning ... meant so much to me," said Yelling.': the second
                # names who speaks, so whoever the first refers back to is not speaking in the pair
                own_voice = not named_here and not _speaks(sentence) and _voices(nxt[2])
                # who it is about: its first sentence says (``told``; the second alone is offered too)
                cand = _candidate(needs, passage, i, start, nxt[1], pair, window2, anchored, distinct,
                                  byline if own_voice else voice, meant, told, own_anchored)
                if _facts(nxt[2], needs) == 0:
                    cand.score = round(cand.score - 0.03, 9)  # a single sentence that answers is better than two
                found.append(cand)
    return sorted(found, key=lambda c: (-c.score, c.passage_index, c.start))


def surroundings(passages: list[Passage], document) -> list[str]:
    """For each passage, the text about it in its document: as much again on either side of it (its
    neighbouring chunks), inside its segment (an article's body; one comment of a thread, not the
    next poster's). News names a subject once and then says "he" or "the firm": "US gaming
    consortium BLB will pay $339m for the US unit" answers what the American consortium pays "the
    company that once owned England's national football stadium", which the lines after it name
    ("Wembley sold the English national football stadium in 1999"). Only names count from there
    (``_anchoring``). ``document``: doc_id -> ``Document`` or None (then "": the passage alone)."""
    found = []
    for passage in passages:
        doc = document(passage.doc_id)
        segment = doc.segment_at(passage.start) if doc is not None else None
        if segment is None:
            found.append("")
            continue
        reach = passage.end - passage.start
        before = doc.text[max(segment.start, passage.start - reach):passage.start]
        after = doc.text[passage.end:min(segment.end, passage.end + reach)]
        found.append(f"{before}\n{after}")
    return found


def _anchoring(needs: Needs, passage: Passage, around: str = "") -> tuple[float, float, float]:
    """The shares of the question's names and years, and of its distinctive ones, that the passage
    (with its title, byline and date) mentions; 1.0 when there are none. ``around``: the text about
    the passage in its document, where a name the passage leaves to "he" or "the company" is
    written; it counts for names only (a day or a year there may be another event's). Third: the
    first share without ``around``, what the passage itself names."""
    passage_fold = fold(f"{passage.text} {header(passage)} {passage.source.published_iso or ''}")
    around_fold = fold(around) if around else ""
    own = [a.found_in(passage_fold) for a in needs.anchors]
    found = [here or (a.kind == "name" and bool(around_fold) and a.found_in(around_fold))
             for a, here in zip(needs.anchors, own)]
    share = lambda hits: sum(hits) / len(hits) if hits else 1.0  # noqa: E731
    return share(found), share([f for a, f in zip(needs.anchors, found) if a.distinctive]), share(own)


def _kept(passages: list[Passage], keep: set[int]) -> list[Passage | None]:
    """The passages with those not kept as None (their numbering unchanged)."""
    return [p if i in keep else None for i, p in enumerate(passages)]


def _on_topic_for(part: Needs, passages: list[Passage]) -> set[int]:
    """The passages that mention everything one part of a question names, when it names something
    of its own ("..., and what average asking price did Rightmove report?"): that part may be
    answered from them though they say nothing of the other parts' names."""
    if not any(a.kind == "name" for a in part.anchors):
        return set()
    shares = [_anchoring(part, p)[:2] for p in passages]
    bar = max([d for _, d in shares if d >= 0.5], default=1.0)
    return {i for i, (anchored, distinct) in enumerate(shares) if anchored >= 1.0 and distinct >= bar}


# "She", "They", "The ministry", "The ceremony", "The 31-year-old was third": a sentence naming
# what an earlier one named. "One of the jilted bidders" is someone new, not the one named before,
# and "The 26-year-old Bryan twins" are named here.
_REFERS_BACK = re.compile(r"^[“\"‘']?(?:\w+,?\s+){0,2}?(he|she|they|his|her|their|we|our|i|my|it|its|"
                          r"(?<!\bof )the (?-i:[a-z][\w-]*)|the \d+-year-old(?!\s+(?-i:[A-Z])))\b", re.I)
# "The Leicester tight-head", "The Chelsea boss": a description too, after a capitalised word saying
# whose; not "The Kremlin said", "The White House", where the capitalised words are the name.
_DESCRIBED = re.compile(r"^[“\"‘']?(?:\w+,?\s+){0,2}?(?<!\bof )the (?-i:[A-Z][\w'’-]*)\s+(?-i:([a-z][\w-]*))\b", re.I)


def _refers_back(sentence: str) -> bool:
    """Does the sentence open by referring to someone named before ("She said", "The ministry",
    "The Leicester tight-head is in the form of his life")?"""
    if _REFERS_BACK.match(sentence):
        return True
    described = _DESCRIBED.match(sentence)
    noun = described.group(1) if described else ""
    return bool(noun) and noun not in STOPWORDS and not noun.endswith("ed") and not re.fullmatch(_SAYING, noun)


# Verbs that report someone speaking, for reading who speaks ("Lavrov bluntly said", '"…," he added').
_SAYING = (r"(?:said|says|told|declared|stated|warned|wrote|noted|added|explained|stressed|responded|replied|"
           r"insisted|argued|claimed|continued|admitted)")
_SAID_BY_PRONOUN = re.compile(r'[”"]\s*,?\s*(?:he|she|they)\s+(?:\w+ly\s+)?' + _SAYING + r'\b', re.I)
# A verb of saying, not a quotation mark (``_SPEECH`` takes either): "Lavrov bluntly said", not "the “position”".
_SAYS = re.compile(rf"\b(?:{_SAYING}|spoke|speaking)\b", re.I)
# "Speaking in London on Saturday, he said: ...": who speaks is named before, whatever else is named here.
_PRONOUN_SAYS = re.compile(r"(?:,|;|\band)\s+(?:he|she|they)\s+(?:\w+ly\s+)?" + _SAYING + r"\b", re.I)


def _heard(spans: list, backs: list, hops: int = 3) -> list[str]:
    """For each sentence, the text of the sentences that say who may be speaking in it: the one it
    refers back to ("He said ..."), and, when it goes on with a quotation the sentence before
    opened ('he said: "I have ...  "But this woman ...  "I am prepared ...'), that one; each with
    what says who speaks in it in turn, a few steps back at most ("Mr Galloway was expelled ...
    He denied ... Speaking in London, he said: "..."")). ``backs``: for each sentence, the one it
    refers back to (``_antecedent``) or None."""
    heard: list[str] = []
    depth: list[int] = []  # how many steps back the text of heard[j] reaches
    for j in range(len(spans)):
        steps = [k for k in (backs[j], j - 1 if j and _goes_on_quoting(spans[j][2], spans[j - 1][2])
                             else None) if k is not None]
        heard.append(" ".join(f"{spans[k][2]} {heard[k] if depth[k] < hops else ''}" for k in dict.fromkeys(steps)))
        depth.append(1 + max((depth[k] for k in steps), default=-1))
    return heard


def _goes_on_quoting(sentence: str, before: str) -> bool:
    """Does ``sentence`` carry on the quotation ``before`` holds? It opens with a quotation mark,
    says nothing of who speaks, and the sentence before it quotes too: news quotes one speaker
    over several sentences and names them once."""
    return (bool(sentence.strip()) and sentence.lstrip()[0] in "“\"" and re.search(r"[“”\"]", before) is not None
            and not _SAID_BY_PRONOUN.search(sentence) and not _ATTRIBUTION.search(sentence)
            and not _voices(sentence))


def _antecedent(spans: list, j: int, reach: int = 3) -> int | None:
    """For a sentence that refers back ("She said ...", "The ministry added ..."), the nearest of
    the few sentences before it that names someone: news names a person once, then says "she"."""
    said_after = _SAID_BY_PRONOUN.search(spans[j][2]) or _PRONOUN_SAYS.search(spans[j][2])  # '"Fraud
    # mutates," he said.' and "Speaking in London, he said: ...": "he" refers back too
    if not said_after and (not _refers_back(spans[j][2]) or _names_someone(spans[j][2])):
        return None
    for k in range(j - 1, max(-1, j - 1 - reach), -1):
        attributed = _ATTRIBUTION.search(spans[k][2])
        if attributed and re.search(r"\b[A-Z][a-z]+", attributed.group(1)):
            return k  # '"We are pulling out all the stops," said John Miller': Miller
        if _refers_back(spans[k][2]) and not _names_someone(spans[k][2]):
            continue  # "First, she warned ...": still the same "she"
        if re.search(r"(?<!^)\b[A-Z][a-z]+", spans[k][2].lstrip("“\"‘' ")):  # '"But this woman': no name
            return k
    return None


def _candidate(needs: Needs, passage: Passage, i: int, start: int, end: int, text: str, window: set,
               anchored: float, distinct: float, voice: str = "", meant: frozenset = frozenset(),
               told: str = "", own_anchored: float | None = None) -> Candidate:
    """``voice``: who may be speaking in ``text`` besides the names in it (the sentence it refers
    back to, the passage's speaker and author); ``told``: the text and the sentence it refers back
    to, without the passage's title and byline; ``own_anchored``: the share of the question's names
    and years the passage itself mentions, when ``anchored`` counts those named around it too."""
    own = set(stems(text))
    # "How did X respond?": the asking verb is met by any words X is reported to have said or done.
    spoken = needs.frame if needs.frame and (_SPEECH.search(text) or passage.speaker) else frozenset()
    covered = frozenset(t for t in needs.weights if t in spoken or needs.present(t, window))
    # math.fsum: the same total whatever order a set yields its words in (plain sum's rounding
    # depends on it, and with it which of two equal sentences leads).
    coverage = math.fsum(needs.weights[t] for t in covered) / needs.total
    sentence_coverage = math.fsum(w for t, w in needs.weights.items() if t in spoken or needs.present(t, own)) / needs.total
    quoted = any(p in fold(text) for p in needs.phrases)
    typed, by_meaning, heard = _typed(needs, passage, text, quoted, voice, meant, told)
    for part in needs.parts if not typed else ():  # "How many respondents said so, and what did Baroness
        # Scotland say?": no one sentence has both; one with a part's kind of answer may lead
        typed, by_meaning, heard = _typed(part, passage, text, quoted, voice, meant, told)
        if typed:
            break
    # "... in 2013": a sentence about that year, not another sentence of a passage that names it.
    years = [a for a in needs.anchors if a.kind == "year"]
    dated = sum(a.variants[0] in window for a in years) / len(years) if years else 1.0
    new_words = [w for w in content_words(text) if not set(stems(w)) & set(needs.weights)]
    facts = _facts(text, needs)
    speaker_is_news = bool(passage.speaker) and not set(stems(passage.speaker)) & set(needs.weights)
    informative = len(new_words) >= 3 or bool(facts and new_words) or speaker_is_news  # who said it is news too
    similarity = passage.dense_similarity or 0.0
    score = 0.45 * coverage + 0.3 * sentence_coverage + 0.25 * similarity
    own_share = anchored if own_anchored is None else own_anchored
    score *= 0.6 + 0.4 * own_share  # a passage about someone else answers nothing about X
    if not typed:
        score *= 0.6  # a "when" question wants a date, "how many" a number, "who" a name
    score *= 0.8 + 0.2 * dated
    if not informative:
        score *= 0.7  # a sentence that only restates the question
    score += 0.02 * min(facts, 5)  # lead with the sentence that carries numbers, names, quotes
    if needs.ahead and typed and AHEAD.search(text):
        score += 0.08  # "When is it due to go on sale?": "Tiger is due to be shipped in early 2005", not a
        # date of something done
    if needs.defines and any(_describes(text, a.text) for a in needs.defines):
        score += 0.1  # "Who is Mervyn King?": "Bank of England governor Mervyn King", "Ofcom, the regulator"
    if needs.pairs:  # the question's own wording, in order ("all territorial disputes ... resolved")
        score += 0.15 * len(needs.pairs & word_pairs(text)) / len(needs.pairs)
    if quoted:
        score += 0.5  # the exact words the journalist asked about
        coverage = max(coverage, 1.0)
    if needs.asks_words and _SPEECH.search(text):
        score += 0.08  # "what did X say": X's words
        if typed and _QUOTATION.search(text):
            score += 0.08  # in X's own words, quoted
    score = round(score, 9)  # equal scores tie-break on position, whatever the float noise
    return Candidate(i, start, end, text, score, coverage, bool(typed), anchored, distinct, informative, covered,
                     _predicate(needs, covered), similarity, by_meaning, heard if typed else ())


def _typed(needs: Needs, passage: Passage, text: str, quoted: bool, voice: str, meant: frozenset,
           told: str) -> tuple[bool, bool, tuple]:
    """Has ``text`` the kind of answer the question asks for (``Candidate.typed``)? With whether its
    number counts what was asked only in other words, and who of those asked about speaks in it."""
    undated = _without(text, needs.given_dates)  # the question's own dates say nothing about when
    if needs.in_years:  # "on what day in 1956": "signed in October 1993" dates something else
        undated = _OTHER_YEAR_DATE.sub(lambda m: m.group(0) if m.group("year") in needs.in_years else " ", undated)
    uncounted = text if needs.years_answer else _BARE_YEAR.sub(" ", text)  # nor does a year say how many
    if needs.counts_things:  # "how many people": "It could take up to 15 years" counts no one, nor
        uncounted = _AMOUNT.sub(" ", _DURATION.sub(" ", uncounted))  # does "a budget of 9 trillion yen"
        uncounted = _SHARE.sub(" ", DAY_DATE.sub(" ", uncounted))  # or the 25 of "December 25", or a share
        uncounted = _NO_COUNT.sub(" ", uncounted)  # nor "one by one", "no one"
    # "Who is the manager of Chelsea?": a name besides the question's own ("the chairman, the manager
    # and all the players of Chelsea" names no one); "Who is Anna Brandt?" asks what is said of her
    unnamed = text if needs.defines or not {"name", "place"} & set(needs.wants) else _unnamed(needs, text)
    typed = quoted or all(WANTS[kind][1].search(undated if kind in ("date", "day") else
                                                uncounted if kind == "number" else
                                                unnamed if kind in ("name", "place") else text)
                          or (kind == "name" and passage.speaker) for kind in needs.wants)
    heard = ()
    if typed and needs.speakers and not quoted:  # "How did Japan's ministry respond?": Japan's words, not
        # someone else's. "Hyundai chairman Chung Mong-koo": the last name is who speaks, the rest
        # says who he is ('..., chairman Chung Mong-koo said' is his word without "Hyundai").
        if needs.frame <= _SPEECH_ONLY:  # "what did Tait say": words said, not a line about him
            spoken = _speaking_in(text)  # None: nobody speaks here (quotation marks around a phrase are not speech)
            said_by = f"{spoken} {voice}" if spoken is not None else (voice if passage.speaker else "")
        else:  # "how did X respond" is met by what X did as well
            said_by = f"{_speaking(text)} {voice}"
        heard = tuple(x.text for x in needs.speaking if _names(x, fold(said_by)) or _by_surname(x, said_by, passage.text))
        typed = bool(heard)
    if typed and needs.defines and not all(_names(a, fold(told or text)) for a in needs.defines):
        typed = False  # "Who is Kuroi?": a sentence of his article, naming him only in its byline, says not who he is
    if typed and needs.role and not needs.present(needs.role, set(stems(told or text))):
        typed = False  # "Who is the chief executive of M&S?": a sentence naming someone, not its chief executive
    if typed and needs.yes_no and not needs.compare and not all(a.found_in(fold(told or text))
                                                             for a in needs.anchors if a.kind == "name"):
        typed = False  # "Did Putin meet Suzuki?": a sentence on Suzuki's meetings that does not name Putin says nothing
    if typed and {"number", "money"} & set(needs.wants) and needs.in_years and not quoted:
        years = {m.group(0) for m in _BARE_YEAR.finditer(text)}  # "trade in 2014": "$32bn in 2013" is
        typed = not years or bool(years & set(needs.in_years))  # another year's figure
    if typed and {"number", "money"} & set(needs.wants) and needs.in_months and not quoted:
        months = {m.group(0).lower() for m in _MONTH_NAME.finditer(text)}  # "the price in December": "fell
        typed = not months or bool(months & set(needs.in_months))  # to £180,226, from £180,444 in October" is not it
    by_meaning = False
    if typed and needs.focus and not quoted:  # "how many troops": a number of troops
        typed, by_meaning = _count_of(text, needs, meant)
    return bool(typed), by_meaning, heard if typed else ()


_MONTH_NAME = re.compile(r"\b(?:January|February|March|April|June|July|August|September|October|November|"
                         r"December)\b")  # not "May", which may be the verb


# A length of time: "15 years", "a 10-day strike", "three months".
_DURATION = re.compile(r"(?:\d[\d,.]*|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a few|"
                       rf"several|many))[\s-]+{TIME_UNITS}\b", re.I)


# "One" that counts nothing: "defeat them one by one", "no one", "one another".
_NO_COUNT = re.compile(r"\b(?:no|any|every|some)[ -]?one\b|\bone (?:by one|another|after (?:another|the other))\b",
                       re.I)


# A share, not a count: "25%", "30 percent", "5.3 per cent".
_SHARE = re.compile(r"\d[\d,.]*\s*(?:%|percent\b|per\s+cent\b)", re.I)


# A sum of money: "$1.8bn", "£46m", "9 trillion yen", "1.55bn euros".
_SCALED = r"\d[\d,.]*(?:\s*(?:bn|m|k|billion|million|trillion|thousand)\b)?"
_AMOUNT = re.compile(rf"[$€£¥₽₩]\s?{_SCALED}|\b{_SCALED}\s*(?:dollars?|euros?|pounds?|yen|yuan|renminbi|rubles?|"
                     r"roubles?|rupees?|francs?|baht|lira)\b", re.I)


# A date with its year ("October 1993", "19 October 1993", "October 19, 1993", "in 1993").
_OTHER_YEAR_DATE = re.compile(r"(?:\b\d{1,2}(?:st|nd|rd|th)?\s+)?\b"
                              r"(?:[A-Z][a-z]+\s+(?:\d{1,2}(?:st|nd|rd|th)?,?\s+)?|in\s+)(?P<year>(?:1[89]|20)\d\d)\b")


# A capitalised word inside a sentence is a name (or part of one), not the counted noun.
_NAME_WORDS = re.compile(r"(?<![.!?:]\s)(?<!^)(?<![“\"\n])\b[A-Z][\w'’-]*")
_COUNT = re.compile(r"\d[\d,.]*|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|"
                    r"hundreds?|thousands?|millions?|billions?|trillions?)\b", re.I)
_SCALE = frozenset({"hundred", "thousand", "million", "billion", "trillion", "m", "bn"})
_YEAR = re.compile(r"(?:1[89]|20)\d\d")
# A year standing alone ("deliveries will begin in 2005") counts nothing: "how many aircraft" is
# not answered by it ("2,005 aircraft" and "2005-06" are not years standing alone).
_BARE_YEAR = re.compile(r"(?<![\d,.$£€¥-])(?:1[89]|20)\d\d(?![\d,.%-]\d|[\d%-])")


def _count_of(text: str, needs: Needs, meant: frozenset = frozenset()) -> tuple[bool, bool]:
    """Does the text hold a count of what "how many X" asks about? (counted, in other words).
    X itself in the text, with a number (the answer type asks for one); or a number of ``meant``
    words, X in other words ("8,500 military personnel" for troops).

    Tried and dropped: asking that the number stand next to X ("27 million subscribers", not "one
    network ... for new subscribers"). News puts counts far from their nouns ("the number of troops
    ... has risen to 100,000") and says "how much tourism income" of "30bn baht in earnings from
    tourism", so it refused more answerable questions than it saved unanswerable ones. Nor need
    they share one sentence of a pair: "...a BT Together fixed-line customer... The offer will be
    limited to the first 50,000 people" answers how many customers."""
    common = set(stems(_NAME_WORDS.sub(" ", text)))  # "units" is not "United States"
    if any(needs.present(f, common) for f in needs.focus):
        return True, False
    if meant and any(meant & set(phrases) for phrases in _counts(text)):
        return True, True
    return False, False


def _counts(text: str) -> list[list[str]]:
    """For each number in a text (not a year), what it counts: the word after it, and that word
    with the next, past capitalised words saying whose and words of scale ("8,500 U.S. military
    personnel on alert": "military", "military personnel"), lower-cased; none when no word follows.

    >>> _counts("About 8,500 U.S. military personnel are on standby, and 36 planes.")
    [['military', 'military personnel'], ['planes']]
    >>> _counts("a 100,000-strong military force; 1.2 million affected; in 2005 it rose to 40.")
    [['strong', 'military', 'military force'], ['affected'], []]
    """
    tokens = text.split()
    found = []
    for i, token in enumerate(tokens):
        number, _, joined = token.strip("(£$€¥),.;:").partition("-")  # "a 100,000-strong force"
        if not _COUNT.fullmatch(number) or _YEAR.fullmatch(number):
            continue
        if number.lower() in _SCALE and i and _COUNT.fullmatch(tokens[i - 1].strip("(£$€¥")):
            continue  # the "million" of "1.2 million": one number
        phrases = [joined.lower()] if joined.isalpha() else []  # "a 36-member panel": members
        if token[-1] not in ",.;:!?)":
            rest = tokens[i + 1:i + 6]
            while len(rest) > 1 and (rest[0][:1].isupper() or rest[0].lower() in _SCALE):
                rest = rest[1:]  # "8,500 U.S. military personnel", "1.2 million affected": whose, how many
            phrase: list[str] = []
            for nxt in rest[:2]:
                word = nxt.strip("()“”\"',.;:!?").lower()
                if not word.isalpha() or word in STOPWORDS:
                    break
                phrase.append(word)
                phrases.append(" ".join(phrase))
                if nxt[-1] in ",.;:!?)":
                    break
        found.append(phrases)
    return found


# Two words this close in MiniLM's space are names of one thing ("troops" ~ "soldiers" 0.88,
# "aircraft" ~ "planes" 0.85, "employees" ~ "staff" 0.71, "troops" ~ "military personnel" 0.66),
# farther ones are related things ("troops" ~ "tanks" 0.54, "subscribers" ~ "customers" 0.51,
# "aircraft" ~ "jets" 0.49). Chosen on these general pairs, not on any eval case.
SAME_THING = 0.6


def counted_phrases(needs: Needs, passages: list[Passage], encode) -> frozenset:
    """The words after numbers in the passages that name what a "how many X" question counts in
    other words (``SAME_THING``), by ``encode`` (texts -> unit vectors, the index's encoder).
    Only the sentences that share a rare word with the question are read: the rest answer nothing."""
    if not needs.focus_words or encode is None:
        return frozenset()
    rare = {t for t, w in needs.weights.items() if w >= 2.5 and t not in needs.focus}
    phrases = set()
    for passage in passages:
        for _, _, sentence in sentences(passage.text):
            here = set(stems(sentence))
            if rare & here and not _count_of(sentence, needs)[0]:
                phrases.update(p for counted in _counts(sentence) for p in counted)
    if not phrases:
        return frozenset()
    ordered = sorted(phrases)
    vectors = encode([" ".join(needs.focus_words), *ordered])
    similarity = vectors[1:] @ vectors[0]
    return frozenset(p for p, sim in zip(ordered, similarity) if sim >= SAME_THING)


# Asking verbs met only by words said ("what did X say / tell / claim"); "how did X respond /
# react / defend it" is met by what X did as well ("Russia summoned Japan's ambassador").
_SPEECH_ONLY = frozenset(stemmer().stemWords("say said tell told comment argue claim warn describe call characterise "
                                             "characterize predict forecast expect admit".split()))


# A closing quotation mark, then who said it ('..., it," said Andrew Bud'); not an opening one
# ('"Consumers have to be told ...': "told" is the quotation's own word).
_ATTRIBUTION = re.compile(r'(?:”|(?<=\S)")\s*,?\s*((?:\S+\s+){0,6}?(?:said|says|added|told|explained|insisted|'
                          r'stressed|warned)\b(?:\s+\S+){0,5})')


# A person speaking: a name just before a verb of saying ("Lavrov bluntly said", "Yuri Trutnev,
# also said") or just after a quotation ('…," said HVB analyst Peter-Thilo Halser'). "The WTO said"
# and "the ministry said" are institutions, not a person's voice.
_SPEAKER_BEFORE = re.compile(r"(?<![\w'’-])((?:[A-Z][\w'’-]+\s+){0,3}[A-Z][a-z][\w'’-]*),?(?:\s+[a-z]+ly)?"
                             r"(?:\s+also)?,?\s+" + _SAYING + r"\b")
_SPEAKER_AFTER = re.compile(r"[”\"]\s*,?\s*" + _SAYING +
                            r"\s+(?:[\w'’-]+\s+){0,4}?([A-Z][a-z][\w'’-]*(?:\s+[A-Z][\w'’-]+){0,3})")


def _unnamed(needs: Needs, text: str) -> str:
    """The text without the question's names, word by word: what else it names."""
    names = {w for a in needs.anchors if a.kind == "name" for v in a.variants for w in v.split()}
    return _without(text, tuple(sorted(names)))


def _without(text: str, phrases: tuple[str, ...]) -> str:
    """``text`` with each of ``phrases`` (lower case) cut out wherever it stands, in any case."""
    for phrase in phrases:
        text = re.sub(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", " ", text, flags=re.I)
    return text


def _voices(text: str) -> set[str]:
    """The surnames of the people a sentence quotes or reports speaking ("Lavrov bluntly said: …":
    {"lavrov"}). "How did Moscow respond?" is answered by each voice of Moscow (Lavrov, then
    Trutnev), and such a voice may take one sentence more than the usual three."""
    return {name[-1].lower() for name in _speakers_named(text)}


def _speakers_named(text: str) -> list[list[str]]:
    """The names, word by word, of the people a sentence quotes or reports speaking ('"…," argued
    Mr Davis': [["Mr", "Davis"]])."""
    # The whole run of capitalised words must not be an institution's: "the Ministry of Foreign
    # Affairs said" is no person; "Russian Foreign Minister Sergei Lavrov bluntly said" is Lavrov.
    found = [m.group(1).split() for m in _SPEAKER_BEFORE.finditer(text)
             if not re.search(r"(?:\bof|\bthe|\bThe)\s+(?:[A-Z][\w'’-]*\s+)*$", text[:m.start(1)])]
    found += [m.group(1).split() for m in _SPEAKER_AFTER.finditer(text)]
    names = [[w for w in name if w not in _DISCOURSE] for name in found]  # "Then Mr Blair said": Blair
    return [name for name in names if name and name[0] != "The" and name[-1].lower() not in _PRONOUNS]


_PRONOUNS = frozenset("he she they it we i you this that who his her their its our".split())  # "He said": no name


def _by_surname(anchor, head: str, passage_text: str) -> bool:
    """"Julian White" named in the passage, then "White said": the surname alone, capitalised, is
    the same person even when it is a common word (a rare one is matched anywhere: ``_names``)."""
    full = anchor.text.split(" of ")[0]  # as the question writes it: "Julian White"
    surname = full.split()[-1]
    return (len(full.split()) > 1 and surname[:1].isupper() and full in passage_text
            and re.search(rf"(?<![\w'’-]){re.escape(surname)}(?![\w-])", head) is not None)


def _surnames(anchor) -> set[str]:
    """A person's surname as the question names them ("Ken Clarke": {"clarke"}); none for a one-word
    name ("Moscow", "Lavrov"), which may be a place or an institution as well as a person."""
    return {words(variant)[-1] for variant in anchor.variants if len(words(variant)) > 1}


def _another_voice_of(needs: Needs, cand: Candidate, heard: set[str]) -> bool:
    """"How did Moscow respond?": a sentence where someone not yet heard speaks for X, named as X's
    ("Russian Foreign Minister Sergei Lavrov", "the Russian Far Eastern Federal District, Cousin Yuri
    Trutnev"). Not for a person X, already heard in the answer ("Andrew Marr said"): others speaking
    near X ("In an interview with Andrew Marr, Mr Blair said") are not X."""
    if not needs.asks_words or not needs.speakers:
        return False
    x = needs.speakers[-1]
    new = _voices(cand.text) - heard
    return bool(new) and not (heard | new) & _surnames(x) and _names(x, fold(_speaking(cand.text)))


def _speaking(text: str) -> str:
    """Where a sentence names who speaks: up to its first verb of saying (or quotation mark) and
    the few words after it ("Japan announced sanctions against Russia": Japan, not Russia)."""
    cue = _SPEECH.search(text)
    if cue is None:
        return text
    # '"We need to expand," chairman Chung Mong-koo said' / '..." said HVB analyst Peter-Thilo
    # Halser': who speaks follows the quotation.
    after = _ATTRIBUTION.search(text)
    named = _NAMED_AFTER_QUOTE.search(text)  # '"…," Roy Asher, chief investment officer at …, told'
    following = text[cue.end():].split()
    reach = 8 if following[:1] == ["by"] else 3  # "The report was welcomed by Conservative shadow pensions
    # secretary David Willetts": who speaks follows "by"
    return " ".join([text[:cue.end()], *following[:reach], after.group(1) if after else "",
                     named.group(1) if named else ""])


def _speaking_in(text: str) -> str | None:
    """Where ``text`` (one sentence, or a pair quoted as one) names who speaks: in its first sentence
    that speaks (``_speaking``); None when none does. In a pair, a first sentence that only
    names someone ("Robinson had words of comfort for Mathew Tait.") says who speaks only when the
    second's speaker is "he" ('"I want more," he said.'), not when it names its own ("said Robinson")."""
    spans = [s for _, _, s in sentences(text)]
    for k, sentence in enumerate(spans):
        if not _speaks(sentence):
            continue  # the first sentence that speaks says whose words the quote is
        if k and not _voices(sentence) and not _names_someone(sentence) and (
                _SAID_BY_PRONOUN.search(sentence) or _PRONOUN_SAYS.search(sentence) or _PRONOUN_START.match(sentence)):
            if _SUBJECT_DESCRIBED.match(spans[k - 1]) or _DESCRIBED.match(spans[k - 1]):
                # "The world number one was forced to go the distance against Ivo Minar. '...,' he
                # said": he is the one the first sentence refers back to, said before the pair
                return _speaking(sentence)
            return f"{spans[k - 1]} {_speaking(sentence)}"
        named = " ".join(" ".join(name) for name in _speakers_named(sentence))  # '"…," argued Mr Davis'
        if k + 1 < len(spans) and _opens_quotation(sentence):  # '"The reality is ... the dark horse. People
            # feel emotionally about it," said Tom O'Neil': the quotation, and who said it, go on
            closing = _ATTRIBUTION.search(spans[k + 1])
            named += f" {closing.group(1)}" if closing else ""
        return f"{_speaking(sentence)} {named}"
    return None


# A sentence whose subject is a description of someone named before ("The world number one was ...").
_SUBJECT_DESCRIBED = re.compile(r"[“\"‘']?The\s+(?-i:[a-z])")


def _speaks(sentence: str) -> bool:
    """Does someone speak in the sentence: a verb of saying ("Lavrov said", "Laporte believes"), or a
    quotation that opens it or follows a colon? A phrase in quotation marks inside a sentence ('the
    only country that "went along with" Russia') is the writer's, not speech."""
    if _SPEECH_VERB.search(sentence) or _REPORTED.search(sentence):
        return True
    return bool(re.match(r"\s*[“\"‘']", sentence) or re.search(r":\s*[“\"]", sentence))


# Verbs that report what someone said or thinks, beyond ``_SPEECH``'s: "Laporte believes his team
# will be scared, but claims it will work in their favour" gives his words.
_REPORTED = re.compile(r"\b(?:claims|believes|believed|thinks|admits|admitted|accepts|accepted|concedes|conceded|"
                       r"insists|warns|argues|suggests|suggested|predicts|predicted|describes|tells|adds|explains|"
                       r"notes|states|declares|stresses|urges|vows|promises|maintains|maintained|acknowledges|"
                       r"acknowledged|reveals|revealed|confirms|confirmed|recalled|asked|joked)\b", re.I)


_NAMED_AFTER_QUOTE = re.compile(r"[”\"]\s*,?\s+((?:[A-Z][\w'’-]+\s+){0,2}[A-Z][\w'’-]+)\s*,")


def _names(anchor, folded: str) -> bool:
    """Is this who speaks? A name of several words word for word ("Japan's Foreign Ministry", not
    Russia's ministry next to "Japan"); a one-word name also as the start of a word ("Russian")."""
    def plain(text: str) -> list[str]:
        return [w.removesuffix("'s") for w in words(text)]

    tokens = plain(folded)
    padded = f" {' '.join(tokens)} "
    # "Roy Asher of Hibernian Investment Managers": the person is Roy Asher, as the text may say alone.
    heads = [v.split(" of ")[0] for v in anchor.variants if " of " in v and len(v.split(" of ")[0].split()) > 1]
    for variant in (*anchor.variants, *heads):
        name = plain(variant)
        if len(name) > 1 and f" {' '.join(name)} " in padded:
            return True
        if len(name) > 1 and word_weight(name[-1]) >= _RARE and name[-1] in tokens:
            return True  # "Isaiah Kiplagat", then "said Kiplagat": a person's surname (a rare word;
            # not the "ministry" of "Japan's Foreign Ministry")
        if len(name) > 1 and any(f" {title} {name[-1]} " in padded for title in HONORIFICS):
            return True  # "David Davis", then "argued Mr Davis": a common surname, but a person's by title
        if len(name) == 1 and any(t.startswith(name[0]) for t in tokens):
            return True
    return False


# A word this rare in English (wordfreq Zipf <= 4) is a name's own: Kiplagat 5.8, Mourinho 3.8; the last
# words of institutions are common (ministry 2.9, department, council, parliament: all below).
_RARE = 3.5
_QUOTATION = re.compile(r"[“\"](?:\S+\s+){2,}[^”\"]*[”\"]")  # three words or more in quotation marks
# A quotation of three words or more opening here, closed here or running on into the next sentence.
_QUOTE_OPENS = re.compile(r"[“\"](?:[^\s“”\"]+\s+){2,}[^\s“”\"]")
_NUMBER = re.compile(r"\d[\d,.]*")
_FACT_NUMBER = re.compile(r"\d(?:[\d,.]*\d)?(?:bn|m)?\b")  # "1.55bn", "27", "40,000"
_CAPITAL = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+")


def _opens_quotation(sentence: str) -> bool:
    """Does the sentence open a quotation it does not close ('"I didn't threaten anybody.')?"""
    return sentence.count("“") > sentence.count("”") or sentence.count('"') % 2 == 1


def _plain(first: str, second: str) -> bool:
    """Two sentences that can be quoted as one: no quotation opens or closes between them, unless one
    quotation runs over both and closes with who said it ('..., said Vieira.'). A first
    sentence quoting a phrase it closes itself may lead into a quotation that opens the second:
    '... 40 record labels turned up to one gig in Glasgow - which the band thought was "totally
    ridiculous".' '"I'm really glad it was almost comical ...," Kapranos said.'"""
    def closed(s: str) -> bool:
        return s.count("“") == s.count("”") and s.count("«") == s.count("»") and s.count('"') % 2 == 0
    marks = "“”\"«»"
    if not closed(second):
        # '"I didn't threaten anybody.' 'They are big enough players to handle themselves," said
        # Vieira.': one quotation over both, closed in the second by who said it
        return _opens_quotation(first) and closed(f"{first} {second}") and _ATTRIBUTION.search(second) is not None
    return not any(c in first for c in marks) or (closed(first) and second.lstrip()[:1] in "“\"«")


def _describes(text: str, name: str) -> bool:
    """Does the sentence say what ``name`` is, as news introduces someone or something: a title or
    a description just before it ("media regulator Ofcom", "Chelsea boss Jose Mourinho"), an
    apposition ("Ofcom, the regulator,"), or "Ofcom is a ..."?

    >>> _describes("The decision falls to media regulator Ofcom.", "Ofcom"), _describes("Ofcom, the watchdog, said so.", "Ofcom")
    (True, True)
    >>> _describes("The industry, and particularly Ofcom, said so.", "Ofcom"), _describes("It was approved by Ofcom.", "Ofcom")
    (False, False)
    >>> _describes("It was approved by Ofcom, as media regulator Ofcom must.", "Ofcom")  # any mention, not the first
    True
    """
    named = re.escape(name)
    for before in re.finditer(rf"\b([a-z][\w-]*)\s+{named}\b", text):
        word = before.group(1)
        if word not in STOPWORDS and not _SPEECH_VERB.fullmatch(word) and not word.endswith(("ly", "ed", "ing")):
            return True
    return bool(re.search(rf"\b{named}(?:'s|’s)?,\s+(?:the|a|an|who|which)\b|\b{named}\s+(?:is|was|are|were)\s+"
                          r"(?:a|an|the|one)\b", text))


def _facts(text: str, needs: Needs) -> int:
    """Numbers, quotations and names in the text that the question does not already contain."""
    asked = set(needs.weights)
    numbers = {n for n in _NUMBER.findall(text) if n.strip(",.") and n.strip(",.") not in asked}
    names = {w for w in _CAPITAL.findall(text) if not set(stems(w)) & asked and w not in _DISCOURSE}
    quotes = len(re.findall(r"[“\"][^”\"]{8,}[”\"]", text))
    return 2 * len(numbers) + len(names) + quotes  # a number is the most specific answer there is


def _answer_facts(text: str, needs: Needs) -> set[str]:
    """The facts of the kind the question asks for that the text gives and the question does not:
    its numbers for "how many", "how much" and "when" ("1.55bn", "27"; not a year alone). Not names:
    which of a sentence's names is the answer to "who" no rule here can tell ("Uefa Cup" is in both
    texts on Middlesbrough's win, the scorer in one).

    >>> from rag.answer.question import analyse
    >>> paid = analyse("How much did GM pay Fiat?", [])
    >>> sorted(_answer_facts("GM is to pay Fiat 1.55bn euros ($2bn) in 2005, 2 years on.", paid))
    ['1.55bn', '2bn']
    >>> _answer_facts("Levy's book Small Island won the Orange Prize.", analyse("Which book won Levy the prize?", []))
    set()
    """
    kinds = set(needs.wants)
    asked = set(needs.weights)
    found = set()
    if kinds & {"number", "money", "date", "day", "age", "duration", "often"}:  # "2" or "2005" alone may be anything
        found |= {n for n in _FACT_NUMBER.findall(text) if len(n) > 1 and n not in asked and not _YEAR.fullmatch(n)}
    return found


def _predicate(needs: Needs, covered: frozenset) -> float:
    """How much of what the question asks *about* its names the window covers ("Did Putin receive
    Suzuki": received). 1.0 when the question is little more than its names."""
    rest = {t: w for t, w in needs.weights.items()
            if t not in needs.anchor_terms and t not in needs.focus and w >= 2.5}  # not frame words ("give")
    total = sum(rest.values())
    return 1.0 if total < 2.5 else sum(w for t, w in rest.items() if t in covered) / total


def compose(needs: Needs, passages: list[Passage], max_sentences: int = 3, encode=None, closeness=None,
            said_before: tuple[str, ...] = (), around: list[str] | None = None) -> Draft:
    """Optional, from the index's encoder: ``encode`` (texts -> unit vectors) lets a "how many
    troops" question take "8,500 military personnel" as its answer (``counted_phrases``);
    ``closeness`` (texts -> their cosine with the question) lets a question in other words than
    the text's be answered by the sentence that means what it asks (``_closest_in_meaning``).
    Either way the answer is marked not direct. ``said_before``: quotes of the last answer, which
    "What else did he say?" does not want again. ``around``: for each passage, the text about it in
    its document (``surroundings``), where the names it leaves to "he" or "the company" are written."""
    if not passages:
        return Draft([], [], Outcome.NOT_FOUND)
    everything = fold(" ".join(f"{p.text} {header(p)} {p.source.published_iso or ''}" for p in passages))
    distinctive = [a for a in needs.anchors if a.distinctive]
    missing = [a for a in distinctive if not a.found_in(everything)]
    # A name common in English ("Netflix", "Apple") is still what the question is about when it is
    # the question's only name: no passage mentions it, so none is about it.
    names = [a for a in needs.anchors if a.kind == "name"]
    if len(names) == 1 and not names[0].distinctive and not names[0].found_in(everything):
        missing, distinctive = [names[0]], [names[0]]
    if missing and 2 * math.fsum(_absent_weight(a) for a in missing) >= len(distinctive):
        # What the question is about (half its names and years, or more) is in no passage. One
        # name of several may be written another way ("the Pentagon", "the Defense Department").
        # Some of it is ("Mourinho", not "Tottenham", which the text calls "Spurs"): they touch on it.
        return Draft([], [], Outcome.TOUCHES_ON if len(missing) < len(distinctive) else Outcome.NOT_FOUND)
    ranked = candidates(needs, passages, counted_phrases(needs, passages, encode), around)
    if not ranked:
        return Draft([], [], Outcome.NOT_FOUND)
    best = ranked[0]
    top_similarity = max(p.dense_similarity or 0.0 for p in passages)
    closest = _closest(ranked)
    # The lead sentence's passage mentions as many of the question's distinctive names and years as
    # any one passage does. Only passages about the question (half of them, or more) set the bar:
    # an unrelated article that happens to name one of them must not raise it.
    found_share = max([c.distinct_anchored for c in ranked if c.distinct_anchored >= 0.5], default=1.0)
    quoted_before = " ".join(" ".join(q.split()) for q in said_before)
    usable = [c for c in ranked if c.typed and c.informative and c.anchored >= 0.5 and not _said(c, quoted_before)]
    named = _from_named_source(needs, passages)
    if named:  # "according to Kuroi": Kuroi's passages answer, not others that say something alike
        usable = [c for c in usable if c.passage_index in named]
    leads = usable if needs.compare else [c for c in usable if c.distinct_anchored >= found_share]
    lead = leads[0] if leads else None
    close = False
    on_topic = {c.passage_index for c in ranked if c.distinct_anchored >= found_share and c.anchored >= 0.5}
    # each part of a question asking several things may be answered from the passages about the
    # whole question, or from those naming what that part names
    part_passages = [_kept(passages, on_topic | _on_topic_for(part, passages)) for part in needs.parts]
    if (lead is None or not _answers(lead, needs)) and needs.parts:
        # "What did the ODPM put the price at, and what did Rightmove report?": no one sentence
        # answers both; one answering a part leads, and the other part is looked for below
        parted = next((c for part, theirs in zip(needs.parts, part_passages)
                       for c in [_answer_to(part, theirs, [], encode)] if c is not None), None)
        lead, close = (parted, True) if parted is not None else (lead, close)
    if (lead is None or not (close or _answers(lead, needs))) and closeness is not None:
        lead, close = _closest_in_meaning(needs, leads, closeness, clauses=not said_before), True
    if ((lead is None or not (close or _answers(lead, needs))) and leads
            and _names_everything(needs, leads[0], passages[leads[0].passage_index])):
        lead, close = leads[0], True
    identified_by = None
    if lead is None or not (close or _answers(lead, needs)):
        bridged = _said_of_whom(needs, leads, ranked)
        if bridged is not None:
            (lead, identified_by), close = bridged, True
    if lead is None or not (close or _answers(lead, needs)):
        # About the subject, not answering: passages that share enough of the question's words or
        # meaning, or one that mentions every name, year and day the question gives (what Rank's
        # advisers valued its Hollywood arm at is not "in no passage" when a passage about Rank's
        # Hollywood arm is there, in other words).
        named_all = bool(needs.anchors) and any(c.anchored >= 1.0 for c in ranked)
        related = named_all or best.coverage >= RELATED_COVERAGE or top_similarity >= CLOSE_MEANING
        return Draft([], [], Outcome.TOUCHES_ON if related else Outcome.NOT_FOUND, closest=closest)

    if needs.person and not close and not _names_a_person(needs, lead, passages):
        # "Who is Paul Boateng taking over from?": the opening that restates the question names the
        # Treasury and South Africa; the sentence naming Ann Grant answers too, and names a person
        lead = next((c for c in leads if _answers(c, needs) and _names_a_person(needs, c, passages)), lead)
    chosen = [lead, *_own_words(needs, lead, usable, passages)]
    if identified_by is not None:  # what the question calls "the web directory ...", then its answer
        chosen.insert(0 if identified_by.start < lead.start else 1, identified_by)
    compared = (_each_source(needs, usable, passages) if needs.compare and needs.sources else
                _each_speaker(needs, usable) if len(needs.speaking) > 1 else [])
    if compared:  # each text compared, or each person asked about, has its say, whatever the others score
        chosen, lead = compared, compared[0]
        if needs.compare and needs.sources:  # and other texts have none
            theirs = {i for source in needs.sources for i in passages_from(source, passages)}
            usable = [c for c in usable if c.passage_index in theirs]
    covered = set(lead.terms) | _names_given(needs, lead)
    limit = 4 if needs.compare else max_sentences
    voices = set().union(*(_voices(c.text) for c in chosen))
    docs_used = [passages[c.passage_index].doc_id for c in chosen]
    corroborated, lead_facts = False, _answer_facts(lead.text, needs)
    for cand in (usable if compared else usable[1:]):
        if cand.score < 0.7 * lead.score:
            break
        doc_id = passages[cand.passage_index].doc_id
        if close and doc_id != passages[lead.passage_index].doc_id and not _answers(cand, needs):
            continue  # a lead that is no plain answer (close in meaning, naming everything, one part's answer,
            # or with the sentence saying who) is the best evidence there is; another text's sentence that
            # shares a word or two with the question ("On the same day, ...") adds nothing to it
        if len(chosen) >= limit and not (len(chosen) == limit and _another_voice_of(needs, cand, voices)):
            continue  # full; one more sentence only for another voice of X ("how did Moscow respond")
        if needs.compare and doc_id in docs_used and not (compared and docs_used.count(doc_id) < 2):
            continue  # one sentence per source when the question compares sources (two per named text)
        if any(_overlaps(cand, c) for c in chosen):
            continue  # the same sentence, alone or in a pair, or via an overlapping chunk
        more_voices = needs.asks_words and (cand.passage_index != lead.passage_index  # another source, or
                                            or bool(_voices(cand.text) - voices)  # another person speaking, or
                                            or _more_of_xs_words(needs, cand, lead, passages))
        # "How much did GM pay Fiat?": another text giving the same "1.55bn euros" confirms it; and
        # another text answering about as well ("How much did Rosneft pay for Yugansk?": "$6bn in
        # credits ... to finance the purchase" / "bought the Yugansk unit for $9.3bn") is one the reader
        # should see too, agreeing or not. The answer cites both (once: a third adds nothing a reader needs).
        confirms = (not close and not corroborated and doc_id not in docs_used and lead.coverage >= ANSWER_COVERAGE
                    and _answers(cand, needs)
                    and (bool(lead_facts & _answer_facts(cand.text, needs)) or cand.score >= AS_WELL * lead.score))
        if (not needs.compare and not more_voices and not confirms
                and not (set(cand.terms) - needs.covered(covered)) & needs.own_terms):
            continue  # adds no part of the question (or, for "how did X respond", no other voice): another
            # name for something already covered ("Moscow" for "Russia") or a word of the history is no new part
        chosen.append(cand)
        corroborated = corroborated or confirms
        covered |= cand.terms | _names_given(needs, cand)
        voices |= _voices(cand.text)
        docs_used.append(doc_id)

    if needs.asks_words:  # "What did X say": X's quotation to its end, not cut off after one sentence
        chosen = [_quotation_to_its_end(c, passages[c.passage_index], chosen) for c in chosen]

    if compared:  # each text's sentences together, in the question's order
        first = {d: k for k, d in reversed(list(enumerate(passages[c.passage_index].doc_id for c in chosen)))}
        chosen.sort(key=lambda c: first[passages[c.passage_index].doc_id])

    for part, theirs in zip(needs.parts, part_passages):  # "..., and how did Gilbert take it?": each part
        extra = _answer_to(part, theirs, chosen, encode)  # answered, if any sentence does
        if extra is not None and len(chosen) <= limit:
            chosen.append(extra)

    # Citation numbers in order of first use; several sentences from one passage share its number.
    order: list[int] = []
    spans: dict[int, list[tuple[int, int]]] = {}
    lines = []
    last_line = None  # (passage, span) of the line above
    for cand in chosen:
        if cand.passage_index not in spans:
            order.append(cand.passage_index)
            spans[cand.passage_index] = []
        body, taken = passages[cand.passage_index].text, spans[cand.passage_index]
        start = _with_speaker(cand, body)[0]
        if start < cand.start and quoted_before and " ".join(body[start:cand.start].split()) in quoted_before:
            start = cand.start  # "What else did she say?": who "she" is was quoted by the last answer
        # Text of this line already quoted above (who speaks, often): go on from where that ended.
        quoted_above = [end for begin, end in taken if begin < cand.end and start < end]
        if quoted_above and max(quoted_above) >= cand.end:
            continue  # all of it is quoted above already
        if quoted_above:
            start = max(quoted_above)
            start += len(body[start:cand.end]) - len(body[start:cand.end].lstrip())
        if (taken and last_line == (cand.passage_index, taken[-1]) and start >= taken[-1][1]
                and not body[taken[-1][1]:start].strip()):
            start = taken.pop()[0]  # right after the line above, in the same passage: one quote, one line
            lines.pop()
        taken.append((start, cand.end))
        last_line = (cand.passage_index, taken[-1])
        text = re.sub(r"\s*\n\s*", " ", body[start:cand.end])  # one answer line per quote
        n = order.index(cand.passage_index) + 1
        lines.append(attribute(text, passages[cand.passage_index], n))
    direct = lead.coverage >= ANSWER_COVERAGE and not lead.counted_by_meaning and not close
    return Draft(lines, [(i, spans[i]) for i in order], Outcome.ANSWERED, direct=direct)


def _absent_weight(anchor) -> float:
    """How much a name or year no passage mentions says the question's subject is not there: a
    country or US state half as much as a person, a firm, a city or a year. News often names such a
    place by a city or a region in it: "joined Diaghilev in Monte Carlo when she was 14" answers "How
    old was Markova when she went to Monaco?" (``country_names``, GeoNames). A question about nothing
    but the place is still refused when no passage names it, and so is one naming the place and one
    other distinctive name when neither is there.

    >>> from .question import Anchor
    >>> _absent_weight(Anchor("Monaco", "name", ("monaco",))), _absent_weight(Anchor("Markova", "name", ("markova",)))
    (0.5, 1.0)
    """
    return 0.5 if anchor.kind == "name" and anchor.text.lower() in country_names() else 1.0


def _closest_in_meaning(needs: Needs, leads: list[Candidate], closeness, pool: int = 8,
                        clauses: bool = True) -> Candidate | None:
    """When no sentence covers most of the question's words: the one, of the few best that share
    any of them, whose meaning is close to the question's (MiniLM cosine of question and
    sentence >= ``CLOSE_MEANING``). "How does Ken Clarke rate the Tories' prospects of taking power
    at the next poll?" is answered by "Mr Clarke says ... it is "conceivable" it could win the next
    election". Not for yes/no questions (whether it happened is in the words, not the topic) nor
    comparisons (their own rule)."""
    if needs.yes_no or needs.compare:
        return None
    few = [c for c in leads if c.coverage > 0][:pool]
    if not few:
        return None
    similarity = closeness([c.text for c in few])
    best = max(range(len(few)), key=lambda k: (similarity[k], -k))  # ties: the better-scored one
    if similarity[best] >= CLOSE_MEANING:
        return few[best]
    # A long sentence's meaning is its clauses' together: "Kim Jong Un, in his congratulation to the
    # President of the Russian Federation on the occasion of Russia Day, emphasized ..." is far from
    # "Who sent Putin a congratulatory telegram on Russia Day?" as a whole (0.37), close in its clause
    # (0.56). Only when no whole sentence is close: a clause restating the subject is not the answer.
    # Nor for "What else did he say?" (``clauses`` False): a clause on his subject is not more of his words.
    pieces = [(k, piece) for k, c in enumerate(few) for piece in _clauses(c.text)] if clauses else []
    if not pieces:
        return None
    similarity = closeness([piece for _, piece in pieces])
    # one clause in a sentence and in its pair with a neighbour: the sentence, the tighter quote
    best = max(range(len(pieces)), key=lambda k: (round(float(similarity[k]), 6), -len(few[pieces[k][0]].text),
                                                  -pieces[k][0]))
    return few[pieces[best][0]] if similarity[best] >= CLOSE_MEANING else None


def _clauses(text: str, least: int = 6) -> list[str]:
    """The text cut at its commas, semicolons and dashes, the pieces of ``least`` words or more;
    none when it has no cut.

    >>> _clauses("Kim Jong Un, in his congratulation to the President on Russia Day, emphasized support.")
    ['in his congratulation to the President on Russia Day']
    """
    pieces = [p for p in re.split(r"\s*(?:[,;]|\s[–—-])\s+", text) if p]
    return [p for p in pieces if len(p.split()) >= least] if len(pieces) > 1 else []


def _said_of_whom(needs: Needs, leads: list[Candidate], ranked: list[Candidate]) -> tuple | None:
    """(answer, identifier) when a question describes its subject instead of naming it and the
    passage says who that is in another sentence than the answer: "How much did the web directory
    that two Stanford students started in a campus trailer raise from venture capitalists in
    1995?" is answered by "... in April 1995 persuaded venture capitalists ... to fund Yahoo to the
    tune of $2m", which the passage's "The web portal ... was set up by Stanford University
    students ... in a campus trailer" says is the one asked about. Together the two cover most of
    the question (``ANSWER_COVERAGE``), the identifier alone enough to be about it
    (``RELATED_COVERAGE``), and the answer, with the kind of answer asked for, as much (a quarter)
    of what the identifier leaves. None when no two sentences of one passage do."""
    if not needs.described or needs.compare or needs.yes_no:
        return None
    share = lambda terms: math.fsum(needs.weights[t] for t in terms) / needs.total  # noqa: E731
    for answer in leads:
        best = None
        for who in ranked:
            if (who.passage_index != answer.passage_index or who.coverage < RELATED_COVERAGE
                    or _overlaps(who, answer)):
                continue
            if share(answer.terms | who.terms) < ANSWER_COVERAGE:
                continue
            rest = frozenset(needs.weights) - who.terms  # what the identifier leaves to the answer
            if share(answer.terms & rest) < RELATED_COVERAGE * share(rest):
                continue
            if best is None or who.coverage > best.coverage:
                best = who
        if best is not None:
            return answer, best
    return None


def _answer_to(part: Needs, passages: list[Passage | None], chosen: list[Candidate], encode=None) -> Candidate | None:
    """The sentence that answers one part of a question asking several things, when the answer
    has none yet: the best one, in the passages about the whole question or naming what the part
    names (the others are None), with the kind of answer that part asks for if it asks for one (a
    date, a number, a name, someone's words; "why ..." asks for none) and most of the part's own
    words (the other parts' words say what it is about, not what it asks); None when the answer
    already quotes it, or no sentence answers it."""
    where = [i for i, p in enumerate(passages) if p is not None]
    present = [passages[i] for i in where]
    own = sum(w for t, w in part.weights.items() if t in part.own_terms) or 1.0
    for cand in candidates(part, present, counted_phrases(part, present, encode)):
        if not (cand.typed and cand.informative and cand.anchored >= 0.5):
            continue
        cand.passage_index = where[cand.passage_index]  # back to the answer's numbering
        if math.fsum(part.weights[t] for t in cand.terms if t in part.own_terms) / own < ANSWER_COVERAGE:
            continue  # the best that answers it: not one sharing few of its words
        if any(cand.text in c.text for c in chosen):
            return None  # the answer quotes it already
        if not any(_overlaps(cand, c) for c in chosen):
            return cand
    return None


def _more_of_xs_words(needs: Needs, cand: Candidate, lead: Candidate, passages: list[Passage]) -> bool:
    """"What did X say": more of X's own quoted words, in the document the answer leads with
    ('"We are pulling out all the stops," said John Miller' / 'The show is "a symbol of American
    culture and ... a high-visibility target," he added.'), say more of what was asked. X is named
    in full: "how did Moscow respond" wants Moscow's several voices instead (``_another_voice_of``)."""
    return (bool(needs.speakers) and len(needs.speakers[-1].text.split()) > 1 and cand.typed  # "John Miller"
            and _QUOTATION.search(cand.text) is not None
            and passages[cand.passage_index].doc_id == passages[lead.passage_index].doc_id)


def _names_everything(needs: Needs, cand: Candidate, passage: Passage) -> bool:
    """Is the sentence about everything the question names, with the kind of answer it asks for?
    Then it is the best evidence there is, though in other words than the question's ("What
    vehicles did Tokyo pledge to Kyiv in May?": "In May, Japan announced its decision to transfer
    100 military trucks ... to Ukraine"), and answers, marked not direct. Not when the question
    names nothing, asks yes or no, or compares; and when it names one thing only, not unless it
    asks for a kind of answer (a date, a number, a name): any sentence about Ken Clarke names
    everything "What does Ken Clarke think of the party's chances?" names."""
    if not needs.anchors or needs.yes_no or needs.compare or cand.coverage < RELATED_COVERAGE:
        return False
    if len(needs.anchors) < 2 and not needs.wants:
        return False
    here = fold(f"{cand.text} {header(passage)}")
    return cand.typed and cand.informative and all(a.found_in(here) for a in needs.anchors)


NEXT_QUOTE_REACH = 300  # characters between a report of X's words and the quotation that follows it


def _own_words(needs: Needs, lead: Candidate, usable: list[Candidate], passages: list[Passage]) -> list[Candidate]:
    """"What did X say": when the lead reports it ("Benitez refused to blame Dudek") without X's
    words, X's quoted words from the same document follow it (a quotation X is heard in): those
    right after the report, and X's quotation that best meets the question."""
    if not needs.asks_words or _QUOTATION.search(lead.text):
        return []
    doc_id = passages[lead.passage_index].doc_id
    theirs = [c for c in usable if passages[c.passage_index].doc_id == doc_id and _QUOTATION.search(c.text)
              and not _overlaps(c, lead) and c.score >= 0.5 * lead.score]
    # 'Thompson reacted sharply to the fans ... Thompson added: "I heard those comments ...': the
    # words X is heard in right after the report are what it reports, whatever else of X's scores
    # higher (a quotation running over sentences opens in one and closes in another).
    after = [c for c in usable if c.passage_index == lead.passage_index and c.heard and not _overlaps(c, lead)
             and 0 <= c.start - lead.end <= NEXT_QUOTE_REACH and _QUOTE_OPENS.search(c.text)]
    found = [min(after, key=lambda c: (c.start, -c.score))] if after else []
    found += [c for c in theirs[:1] if not any(_overlaps(c, f) for f in found)]
    return found


def _from_named_source(needs: Needs, passages: list[Passage]) -> set[int]:
    """The passages of the source the question names ("according to the ISN analysis": those whose
    outlet, author or speaker has every naming word; not the title, which names what a text is
    about: "according to Moscow" is not every article with Moscow in its headline). Empty when no
    passage is from it (it may be written another way): then every passage may answer, as usual."""
    return passages_from(needs.source, passages) if needs.source else set()


def _each_speaker(needs: Needs, usable: list[Candidate]) -> list[Candidate]:
    """"What did Lavrov and Zakharova say about Japan?": the best sentence of each one's words."""
    best: list[Candidate] = []
    for x in needs.speaking:
        theirs = [c for c in usable if x.text in c.heard and c.coverage >= RELATED_COVERAGE
                  and not any(_overlaps(c, b) for b in best)]
        # Reported as saying it (before merely named), alone (before with the other's words), in a
        # sentence of its own (before with its neighbour); then by score (a stable sort).
        ranked = sorted(theirs, key=lambda c: (not _SAYS.search(c.text), len(c.heard) > 1, len(sentences(c.text)) > 1))
        if ranked:
            best.append(ranked[0])
    return best if len(best) >= 2 else []


def _each_source(needs: Needs, usable: list[Candidate], passages: list[Passage]) -> list[Candidate]:
    """"How do the ISN analysis and Kuroi's report differ …": the best sentence of each text the
    question compares, in the question's order (none for a text no passage is from)."""
    best = []
    for source in needs.sources:
        mine = passages_from(source, passages)
        cand = next((c for c in usable if c.passage_index in mine and c.coverage >= RELATED_COVERAGE), None)
        if cand is not None and all(passages[c.passage_index].doc_id != passages[cand.passage_index].doc_id
                                    for c in best):
            best.append(cand)
    return best if len(best) >= 2 else []


def _names_given(needs: Needs, cand: Candidate) -> set:
    """Question names a chosen sentence gives under another of their names ("Russia" for the
    question's "Moscow"): what it covers, though not in the question's own words."""
    return set(stems(cand.text)) & set(needs.same_as)


def _names_a_person(needs: Needs, cand: Candidate, passages: list[Passage]) -> bool:
    """Does the candidate name a person besides the question's own names? A post or a comment
    does: whoever wrote it, named or not."""
    passage = passages[cand.passage_index]
    return (bool(passage.speaker) or passage.segment_kind is not SegmentKind.ARTICLE
            or person_named(_unnamed(needs, cand.text)))


def _answers(lead: Candidate, needs: Needs) -> bool:
    """Enough evidence to answer: the window covers most of the question, including most of what
    it asks about its names; or, for a question in other words than the text's, the passage is
    close in meaning and covers some of it."""
    if needs.compare:
        return lead.coverage >= RELATED_COVERAGE
    if needs.yes_no and lead.predicate < ANSWER_COVERAGE:
        return False  # a yes/no question hinges on whether the thing asked about happened
    if lead.coverage >= ANSWER_COVERAGE:
        return True
    return lead.similarity >= CLOSE_MEANING and lead.coverage >= RELATED_COVERAGE


def _said(cand: Candidate, quoted_before: str) -> bool:
    """Is a sentence of the candidate in the last answer's quotes (whitespace aside)?"""
    return bool(quoted_before) and any(" ".join(s.split()) in quoted_before for _, _, s in sentences(cand.text))


def _closest(ranked: list[Candidate], n: int = 3) -> list[int]:
    seen: list[int] = []
    for cand in ranked:
        if cand.passage_index not in seen:
            seen.append(cand.passage_index)
        if len(seen) == n:
            break
    return seen


def _overlaps(a: Candidate, b: Candidate) -> bool:
    """The same sentence twice: overlapping offsets, or (overlapping chunks of one document, or a
    pair and one of its halves) a sentence of one found in the other."""
    if a.passage_index == b.passage_index and a.start < b.end and b.start < a.end:
        return True
    return any(s in b.text for _, _, s in sentences(a.text)) or any(s in a.text for _, _, s in sentences(b.text))


def _quotation_to_its_end(cand: Candidate, passage: Passage, chosen: list[Candidate]) -> Candidate:
    """X's words going on in the next sentence ('... said Mr Shaw. "Our view is the Bank will keep
    its powder dry."'): the quote takes that sentence too (one, no more), unless the answer quotes
    it already."""
    if not cand.heard:
        return cand
    after = next(((a, b, s) for a, b, s in sentences(passage.text) if a >= cand.end), None)
    if after is None or passage.text[cand.end:after[0]].strip() or overlaps(instructions(passage.text), *after[:2]):
        return cand
    last = sentences(cand.text)[-1][2]
    if not _goes_on_quoting(after[2], last) or any(c.passage_index == cand.passage_index and c.start < after[1]
                                                   and after[0] < c.end for c in chosen):
        return cand
    return replace(cand, end=after[1], text=passage.text[cand.start:after[1]])


def _with_speaker(cand: Candidate, passage_text: str) -> tuple[int, str]:
    """A quote starting "He said…" names nobody: quote from the sentence that names him (at most
    two sentences back, three for a quotation; verbatim and contiguous)."""
    before = sentences(passage_text[:cand.start])
    first = next((s for _, _, s in sentences(cand.text)), cand.text)
    # '"The consumer has a right to be protected," he said.', and a quotation going on from the
    # sentence before, name nobody either
    quoting = bool(_SAID_BY_PRONOUN.search(first)) or bool(before) and _goes_on_quoting(first, before[-1][2])
    if not quoting and (not _PRONOUN_START.match(cand.text) or _names_someone(cand.text)):
        return cand.start, cand.text
    for back in before[::-1][:3 if quoting else 2]:
        if _refers_back(back[2]) and not _names_someone(back[2]) or _goes_on_quoting(back[2], "\""):
            continue
        if re.search(r"(?<!^)\b[A-Z][a-z]+", back[2].lstrip("“\"‘' ")):  # '"These lessons': no name
            return back[0], passage_text[back[0]:cand.end]
        if quoting and not _QUOTATION.search(back[2]):
            return cand.start, cand.text  # the words between are not the speaker's ("Ticket sales rose")
    return (before[-1][0], passage_text[before[-1][0]:cand.end]) if before else (cand.start, cand.text)


def _names_someone(sentence: str) -> bool:
    """Does the sentence name a person before its first pronoun ("Lavrov said he …")?"""
    head = _PRONOUN_START.match(sentence)
    before = sentence[:head.start(1)] if head else ""
    return any(w not in _DISCOURSE for w in re.findall(r"\b[A-Z][a-z]+", before))


# Capitalised words that open a sentence without naming anyone ("First, she warned ...").
_DISCOURSE = frozenset("""Then But And So Also However Yet First Second Third Finally Later Earlier Meanwhile
Moreover Furthermore Still Instead Next Now Here There In On At After Before Since When While Although Though
Thus Therefore Besides Indeed Today Yesterday Nevertheless""".split())


def attribute(sentence: str, passage: Passage, n: int) -> str:
    """Quote a sentence with the attribution its source calls for."""
    outlet, speaker, kind = passage.source.outlet, passage.speaker, passage.segment_kind
    partisan, unrated = passage.source.partisan, passage.source.rating is Rating.UNRATED
    rated = f" (rated: {passage.source.label})" if partisan else " (unrated source)" if unrated else ""
    if outlet == "unknown outlet":  # say which document, so the reader can find it; no quote marks
        # around the title: in an answer, quote marks promise words found in the cited passage
        outlet = f"{TITLED} {passage.source.title}" if passage.source.title else f"the document {passage.doc_id}"
    quote = f"“{sentence}” [{n}]"
    if kind is SegmentKind.COMMENT:
        who = f"the commenter {speaker}" if speaker else f"an unnamed poster ({passage.segment_label})"
        return f"On {outlet}{rated}, {who} wrote: {quote}"
    if kind is SegmentKind.OPENING_POST and speaker:
        return f"On {outlet}{rated}, the opening post by {speaker} says: {quote}"
    if partisan or unrated:  # framing, or nobody has vouched for the source: never stated as fact
        return f"According to {outlet}{rated}, {quote}"
    # Stated plainly: every sentence carries its own marker (a pair of sentences is two claims).
    return " ".join(f"{text} [{n}]" for _, _, text in sentences(sentence))


NOT_FOUND = "The documents don't say. None of the retrieved passages mentions what this question is about; the closest ones are listed separately."
TOUCHES_ON = ("The documents touch on this but don't answer it directly. The closest passages are listed "
              "separately; none of them states the answer.")
INDIRECT = "The passages do not state this in so many words; the quoted sentences are the closest evidence."
NOTHING_MORE = ("The documents say nothing more on this than the last answer quoted. The closest passages are listed "
                "separately.")
