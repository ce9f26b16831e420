"""Offline answers on the bundled corpus: facts, citations, attribution, refusals, follow-ups, filters."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from rag import (AnswerMode, Assistant, Document, Filters, Outcome, Passage, QuestionError, Segment, SegmentKind, Source, WarningKind,
                 is_comparison)
from rag.answer.extractive import NOTHING_MORE, _refers_back, _voices, candidates, compose, surroundings
from rag.answer.followup import earlier_words, rewrite_offline, without_history
from rag.answer.question import analyse, expand_query
from rag.answer.support import check, check_answer, split_answer
from rag.text import fold, sentences

from helpers import PROJECT_DIR, clean_environ


def run_cli(args, data_dir, input: str):
    import subprocess
    import sys

    env = clean_environ({"RAG_DATA_DIR": data_dir} if data_dir else {})
    return subprocess.run([sys.executable, "-m", "rag", *args], cwd=PROJECT_DIR, env=env, input=input,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def assistant(corpus_settings):
    return Assistant(corpus_settings)


@pytest.mark.parametrize(
    "question, doc_id, fact",
    [
        ("How many Russian servicemen did Japan sanction in December?", "003_b5aeacde14fc594e", "35"),
        ("What did Japan give to Ukraine in May?", "004_5fc457110d24e7fd", "100 military trucks"),
        ("What trade volume did Russia and Japan reach in 2013?", "001_68ffb54545db6918", "$32 billion"),
        ("What did Zakharova call the Yasukuni Shrine?", "000_e3a53b2cbbda76ec", "loathsome symbol"),
        ("What did Lavrov say on Russia 1 about the territorial disputes?", "003_b5aeacde14fc594e", "have been resolved"),
    ],
)
def test_offline_answer_contains_fact_and_cites_the_right_document(assistant, question, doc_id, fact):
    answer = assistant.ask(question)
    assert answer.mode is AnswerMode.OFFLINE and not answer.refused
    assert fact in answer.answer
    cited = [c for c in answer.citations if fact in c.passage.text]
    assert cited and cited[0].doc_id == doc_id
    # Every sentence ends with a citation that resolves, and every quote is verbatim in its passage.
    texts = {c.n: c.passage.text for c in answer.citations}
    context = {c.n: c.metadata_text() for c in answer.citations}
    for sentence in split_answer(answer.answer):
        assert check(sentence, texts, context).supported, sentence


def test_a_title_ending_as_a_question_stays_with_the_quotation_it_attributes():
    """"According to the document titled Could Yukos be a blessing in disguise? (unrated source), “…” [1]"
    is one claim, cited; the evals had read the title as a sentence citing nothing. A question in
    the answer's own words is still a sentence of its own."""
    lines = ["According to the document titled Could Yukos be a blessing in disguise? (unrated source), "
             "“The report highlights the case of Sibneft.” [1]",
             "According to the document titled Rivals of the £400 Apple... (unrated source), “Apple offer a "
             "less powerful Mac Mini for £339.” [2]"]
    assert split_answer("\n".join(lines)) == lines
    assert split_answer("Did Japan act? It did “at once” [1].") == ["Did Japan act?", "It did “at once” [1]."]
    assert split_answer("A report titled it Why? [1] Then “more” [2].") == ["A report titled it Why [1]?", "Then “more” [2]."]


def test_an_answer_found_by_meaning_quotes_only_its_own_document(assistant):
    """"Who sent Putin a congratulatory telegram on Russia Day?": the text says "the President of the
    Russian Federation" and "congratulation", so no sentence covers the question's words; the clause
    close in meaning answers (Kim Jong Un), and a sentence of another text sharing only "day" and
    "Putin" with the question is not added to it."""
    answer = assistant.ask("Who sent Putin a congratulatory telegram on Russia Day?")
    assert not answer.refused and "Kim Jong Un" in answer.answer, answer.answer
    assert {c.doc_id for c in answer.citations} == {"004_5fc457110d24e7fd"}, answer.answer
    # the clause is in the sentence and in its pair with the sentence before: the sentence alone is quoted
    assert "has long been ready" not in answer.answer, answer.answer
    # said to be indirect, in a note the app and the CLI show after the answer: it cannot point "below"
    note = next(w for w in answer.warnings if w.kind is WarningKind.INDIRECT_EVIDENCE)
    assert "quoted sentences" in note.text and "below" not in note.text, note.text


def test_partisan_claims_are_attributed_and_warned(assistant):
    answer = assistant.ask("What did Japan give to Ukraine in May?")
    citation = next(c for c in answer.citations if c.doc_id == "004_5fc457110d24e7fd")
    line = next(l for l in answer.answer.splitlines() if f"[{citation.n}]" in l)
    assert line.startswith("According to world today news") and "Pro-Kremlin outlet" in line
    assert any(w.kind is WarningKind.PARTISAN_SOURCE and w.citations == (citation.n,) and "Pro-Kremlin" in w.text
               for w in answer.warnings)
    framing = citation.to_json()["framing"]
    assert framing["partisan"] and framing["label"] == "Pro-Kremlin outlet" and framing["rated_by"]


def test_a_second_source_must_add_a_part_of_the_question_not_another_name(assistant):
    # The forum's ISN analysis answers (April 2013). A world today news sentence only adds "Moscow"
    # and "Russian Federation" where the answer already says "Russia": quoting it would pull a
    # partisan source, and its warning, into an answer it adds nothing to. The two real passages
    # are given to the answerer directly: which of them retrieval ranks sixth or seventh moves
    # with the encoder, and is not what this test is about.
    question = "When did Tokyo stop putting the island dispute first in its Moscow policy?"
    pool = assistant.search(question, 20)
    isn = next(p for p in pool if "April 2013" in p.text and p.doc_id == "001_68ffb54545db6918")
    other = next(p for p in pool if p.source.partisan and "Moscow" in p.text and "Russian Federation" in p.text)
    for order in ([isn, other], [other, isn]):
        draft = compose(analyse(question, assistant.aliases), order)
        assert not draft.refused and "2013" in " ".join(draft.lines), draft.lines
        assert [order[i].doc_id for i, _ in draft.used] == [isn.doc_id], draft.lines


def test_other_names_of_a_covered_thing_count_as_covered():
    needs = analyse("When did Tokyo stop putting the island dispute first in its Moscow policy?",
                    [["Russia", "Moscow", "Kremlin"], ["Japan", "Tokyo"], ["United Kingdom", "Britain"]])
    assert {"moscow", "kremlin"} <= needs.covered({"russia"}) and "tokyo" in needs.covered({"japan"})
    assert "britain" not in needs.covered({"russia", "japan"})  # the question never names Britain
    assert needs.own_terms >= {"tokyo", "moscow", "island"} and "kremlin" not in needs.own_terms


@pytest.mark.parametrize("question, wants", [
    ("How much did the mine detectors Japan gave Ukraine cost?", {"number", "money"}),
    ("How much was the aid package worth?", {"number", "money"}),
    ("How much oil does Russia export?", {"number"}),
    ("What are the names of the sanctioned officers?", {"name"}),
    ("What was the total value of Japan–Russia trade in 2021?", {"money"}),  # any currency, not the word "value"
    ("What salary will the new envoy earn?", {"money"}),
    ("What is the tycoon's personal fortune estimated at?", {"money"}),
    ("How old is the new chief executive?", {"number", "age"}),
    ("On what date did the minister visit the shrine?", {"date", "day"}),  # a day, not just a year
    ("When did the minister visit the shrine?", {"date"}),
    ("How did she describe his image when he was home secretary?", set()),  # "when" here asks nothing
    ("The plant opens soon, but when?", {"date"}),
    ("How often did he sing the theme tune?", {"often"}),  # "at least once a day"
    ("How much is the carmaker investing in its new plant?", {"number", "money"}),  # not 150,000 cars a year
    ("How much is the bank offering for the stake?", {"number", "money"}),
    ("How much does the bank think its profits will climb?", {"number"}),  # a change: "20-25%" answers
    ("Which Middlesbrough player scored both goals?", {"name"}),  # the noun a word or two after "which"
    ("Which of the tycoon's companies was at the centre of the case?", {"name"}),
    ("Which way did the committee vote?", set()),
    ("What level did the index of factory activity reach?", {"number"}),
    ("How much money did the presenter leave in his will?", {"number", "money"}),  # not "1,000 people"
    ("What was the runner's winning time at the cross-country race?", {"number", "duration"}),  # a time taken
    ("What is the sprinter's world record?", {"number"}),
    ("What was the record label's response?", set()),  # "record" says whose response, not what is measured
    ("What proportion of the film's data has to be squeezed out?", {"number"}),  # a share: "about 98%"
    ("What fraction of the world's pandas live there?", {"number"}),
    ("Which newspaper first reported the leak?", {"name"}),  # a named outlet, product or place
    ("Which airline cancelled the most flights?", {"name"}),
    ("Which city will host the contest?", {"name"}),
    ("Where will the contest be held?", {"place"}),
    ("When and where are they due in court?", {"date", "place"}),
    ("Where had the explorer's shares sunk to by the close?", set()),  # a level, not a place
    ("And who was named best Irish male?", {"name"}),  # a follow-up's "and who" asks for a name too
])
def test_answer_type_read_from_the_question(question, wants):
    assert set(analyse(question, []).wants) == wants


@pytest.mark.parametrize("question, wrong, right, value", [
    ("On what date did the minister visit the shrine?",  # a day, not a year
     "The administration unveiled its fiscal year 2026 budget last spring. Reports say the minister is likely to "
     "visit the shrine soon, officials said.",
     "The minister visited the shrine on December 26, officials said, in a private capacity.", "December 26"),
    ("How old is the new chief executive Patrick Cescau?",  # an age, not a share price
     "Under the restructuring, co-chairman Patrick Cescau will become chief executive. Shares fell 1% to 510.75 "
     "pence in London.",
     "Patrick Cescau, 56, will become chief executive, the company said on Thursday.", "56"),
    ("How old was the dancer Ann Cole when she joined the ballet company?",  # an age said as "when she was 14"
     "Ann Cole, the ballet company's star dancer, died in 2004 after 40 years on its stage and 3 world tours.",
     "Ann Cole joined the ballet company in Monte Carlo when she was 14.", "14"),
    ("On what day and month in 1956 was the declaration signed?",  # a date of that year, not of another
     "The declaration of 1956 was recognised by the treaty signed in October 1993 in the capital.",
     "The declaration was signed on 19 October 1956 in the capital.", "19 October"),
    ("What was the value of trade between the two countries in 2014?",  # that year's figure, not 2013's
     "Trade between the two countries hit a record $32bn in 2013, up 5% on the year before. The two leaders met "
     "in the capital last week. Both sides expect closer ties in 2014.",
     "Trade between the two countries was worth $28bn in 2014, down from the year before.", "$28bn"),
    ("What was the average house price in December, according to the Office of the Deputy Prime Minister?",
     # that month's figure, not another month's
     "The Office of the Deputy Prime Minister said the average house price fell to £180,226 in November, from "
     "£180,444 in October.",
     "The Office of the Deputy Prime Minister said the average house price fell to £178,906 in December.",
     "£178,906"),
    ("What was Kathy Butler's winning time at the race in Spain?",  # a time taken, not the race's numbers
     "Kathy Butler won Sunday's 25th race in Spain, pulling away from the field halfway into the 6.6km course.",
     "Kathy Butler shrugged off her rival to win the race in Spain in 20 minutes 38 seconds.", "20 minutes 38"),
    ("How many times over was the share offer subscribed?",  # a number in words past ten
     "The share offer was subscribed mostly by foreign funds and local banks, brokers said on Monday.",
     "The share offer was eleven times oversubscribed, brokers said on Monday.", "eleven times"),
])
def test_a_question_is_answered_by_the_kind_of_value_it_asks_for(question, wrong, right, value):
    assert compose(analyse(question, []), [_passage(1, wrong)]).refused
    draft = compose(analyse(question, []), [_passage(1, wrong), _passage(2, right)])
    assert not draft.refused and value in draft.lines[0]


@pytest.mark.parametrize("question, compares", [
    ("How do the outlets frame Japan's sanctions?", True),
    ("Do the Chinese article and the world today news article agree on the sanctions?", True),
    ("How do both articles describe Abe?", True),
    ("What do the sources say about the islands?", True),
    ("What did each side mainly export to the other?", False),  # the parties of the story, not its sources
    ("What did the two sides commit to in 2001?", False),
    ("Which player scored both goals?", False),
    ("Did Japan agree to the sanctions?", False),
])
def test_a_comparison_of_sources_is_told_from_the_parties_of_a_story(question, compares):
    assert analyse(question, []).compare is compares
    assert is_comparison(question) is compares


def test_each_part_of_a_question_is_answered_from_the_passages_naming_what_that_part_names():
    question = ("What was the average house price in December according to the Office of the Deputy Prime Minister, "
                "and what average asking price did Rightmove report for the same month?")
    needs = analyse(question, [])
    assert [a.text for a in needs.anchors] == ["Office of the Deputy Prime Minister", "Rightmove"]
    official = _passage(1, "The average house price fell to £178,906 in December, the Office of the Deputy Prime "
                           "Minister said.")
    asking = _passage(2, "Property website Rightmove said the average asking price of a home fell to £189,733 in "
                         "December.")
    draft = compose(needs, [official, asking])
    answer = " ".join(draft.lines)
    assert not draft.refused and "£178,906" in answer and "£189,733" in answer, draft.lines
    assert [a.text for a in analyse("What did Andrew Bud of the Mobile Entertainment Forum say?", []).anchors] == [
        "Andrew Bud", "Mobile Entertainment Forum"]  # a person of an organisation: two names


def test_another_text_giving_the_same_figure_is_cited_as_well():
    """Two reports give GM's payment to Fiat as 1.55bn euros: the answer cites both, once; a third
    text's 3bn euros is another figure, and a sentence adding no word of the question is not quoted."""
    question = "How much did General Motors pay Fiat to end their agreement?"
    first = _passage(1, "General Motors is to pay Fiat 1.55bn euros ($2bn) to end their agreement, which could have "
                        "forced it to buy the Italian carmaker outright.", similarity=0.7)
    second = _passage(2, "General Motors had to pay former partner Fiat 1.55bn euros to end the agreement, the "
                         "carmaker said on Monday.", similarity=0.6)
    third = _passage(3, "General Motors had to pay Fiat's banks 3bn euros to end the agreement on loans.",
                     similarity=0.6)
    draft = compose(analyse(question, []), [first, second, third])
    assert [i for i, _ in draft.used] == [0, 1], draft.lines
    assert "1.55bn euros" in draft.lines[1], draft.lines


def test_another_text_answering_about_as_well_is_cited_too():
    """Two reports give Rosneft's price for Yugansk differently ($9.3bn, $9.4bn) and answer about as
    well (``AS_WELL``): the reader sees both, whichever the scorer put first. A text answering
    clearly less well ($6bn of loans, in a passage farther from the question) is not quoted."""
    question = "How much did Rosneft pay for the Yugansk unit?"
    first = _passage(1, "State-owned Rosneft paid $9.3bn for the Yugansk unit in a sale forced by Russia.", similarity=0.6)
    second = _passage(2, "The Yugansk unit was sold at auction, falling to Rosneft, which paid $9.4bn for it.",
                      similarity=0.6)
    third = _passage(3, "Rosneft paid $6bn of loans back after the Yugansk unit was sold.", similarity=0.3)
    draft = compose(analyse(question, []), [first, second, third])
    assert [i for i, _ in draft.used] == [0, 1], draft.lines
    assert "$9.4bn" in draft.lines[1], draft.lines


def test_saying_and_say_are_words_said():
    """"What did Downing Street say?": "Downing Street would not be drawn ..., saying the timing was a
    matter for the prime minister" is its words ("saying", like "would only say:", is a verb of saying);
    a sentence that only names a former Downing Street aide is not."""
    question = "What did Downing Street say about the election date?"
    aide = _passage(1, "Ex-Downing Street media chief Alastair Campbell will return to strengthen the election campaign, "
                       "the party has confirmed. He is keen to play a part in the poll.", similarity=0.5)
    office = _passage(2, "Downing Street would not be drawn on the election date, saying the timing was a matter for the "
                         "prime minister. Ministers expect a May poll.", similarity=0.6)
    lines = compose(analyse(question, []), [aide, office]).lines
    assert lines[0].startswith("Downing Street would not be drawn"), lines


def test_a_quotation_over_two_sentences_is_quoted_with_who_said_it():
    """'"The reality is ... the dark horse at the Oscars. People feel emotionally about it," said awards
    pundit Tom O'Neil.': one quotation over two sentences, its speaker named where it closes. Both are
    quoted together, as his words, not the second alone."""
    question = "What did Tom O'Neil say about Million Dollar Baby's chances at the Oscars?"
    text = ('Million Dollar Baby has won seven nominations. "The reality is Million Dollar Baby is the dark horse at '
            'the Oscars. People feel emotionally about it," said awards pundit Tom O\'Neil. The ceremony is on 27 '
            'February.')
    lines = compose(analyse(question, []), [_passage(1, text, similarity=0.6)]).lines
    assert "dark horse" in lines[0] and "Tom O'Neil" in lines[0], lines


def test_got_is_no_word_of_the_question_to_find():
    """"Which Middlesbrough player got both goals ...?": "have got to grips with" shares only a word
    with no meaning of its own; the sentence on who scored both goals leads."""
    question = "Which Middlesbrough player got both goals in the win over Lazio?"
    boss = _passage(1, "Middlesbrough boss Steve McClaren has praised the way his side have got to grips with European "
                       "football after the 2-0 Uefa Cup win against Lazio. Boro are top of their group.", similarity=0.52)
    forward = _passage(2, "Middlesbrough forward Boudewijn Zenden said he did not expect such a comfortable match against "
                          "Lazio after he scored both goals. \"We didn't expect it to be that one-sided,\" said Zenden.",
                       similarity=0.57)
    assert "got" not in analyse(question, []).weights
    lines = compose(analyse(question, []), [boss, forward]).lines
    assert lines[0].startswith("Middlesbrough forward Boudewijn Zenden"), lines


def test_a_name_written_just_around_a_passage_makes_it_about_that_name():
    """News names a subject once, then says "the firm": the passage with the answer is about "the
    company that once owned England's national stadium" because the text right after it in its
    document says so (``surroundings``). The text of another segment, and a day written nearby, do not
    count: the next comment is someone else's, and a day there may be another event's."""
    body = ("Wembley is to sell its US gaming division. US gaming consortium BLB will pay $339m for the US unit, "
            "although the deal is subject to conditions. Wembley sold the English national football stadium in 1999 "
            "to concentrate on gaming. The sale was agreed on March 3.")
    comment = "Reader comment: I went to England's stadium once."
    start, end = body.index("US gaming consortium"), body.index(" Wembley sold")
    doc = Document("d1", "h", "d1.txt", Source("d1", outlet="Wire"), f"{body}\n\n{comment}",
                   [Segment(SegmentKind.ARTICLE, None, "article body", 0, len(body)),
                    Segment(SegmentKind.COMMENT, "Reader", "comment by Reader", len(body) + 2, len(body) + 2 + len(comment))])
    passage = Passage("d1:1", "d1", body[start:end], start, end, Source("d1", outlet="Wire"), dense_similarity=0.5)
    around = surroundings([passage], {"d1": doc}.get)
    assert "English national football stadium" in around[0] and "Reader comment" not in around[0], around
    assert surroundings([passage], {}.get) == [""]  # the document not at hand: the passage alone
    needs = analyse("How much will the American gaming consortium pay for the US unit of the company that once "
                    "owned England's stadium?", [])
    assert compose(needs, [passage]).refused  # the passage alone names neither America nor England
    lines = compose(needs, [passage], around=around).lines
    assert lines and "$339m" in lines[0], lines
    dated = analyse("How much will BLB pay for Wembley's US unit agreed on March 3?", [])
    assert candidates(dated, [passage], around=around)[0].anchored < 1.0  # the day nearby is not the passage's


def test_a_country_the_text_names_by_its_city_is_not_missing():
    """"How old was Alicia Markova when she went to Monaco ...?": the text says "Monte Carlo". A
    country no passage names weighs half a missing name, so Markova and her age answer; a question
    about nothing but the country, or missing the country and someone else, is still refused."""
    text = ("Alicia Markova was spotted by the Russian impresario Sergei Diaghilev, who wanted her for his company. "
            "With a governess in tow, she joined Diaghilev in Monte Carlo when she was 14.")
    passage = _passage(1, text, similarity=0.5)
    lines = compose(analyse("How old was Alicia Markova when she went to Monaco to dance for the Russian "
                            "impresario's troupe?", []), [passage]).lines
    assert lines and "when she was 14" in lines[0], lines
    assert compose(analyse("How old was Anna Pavlova when she went to Monaco?", []), [passage]).refused
    assert compose(analyse("What is the population of Monaco?", []), [passage]).refused
    # a person who shares a town's name ("Markova", Russia) is no place: missing, she counts in full
    assert compose(analyse("How old was Markova when she went to Sochi to dance?", []),
                   [_passage(2, "Diaghilev took the troupe to Sochi when she was 14.")]).refused


def test_a_part_asking_no_kind_of_answer_is_answered_too():
    """"Why ..., and what leaflet ...?": neither part asks for a date, a number or a name. A pair of
    sentences sharing words with both parts leads ("... Nick Griffin ... the leaflet. ... without fear
    of arrest."); the sentence with most of the second part's own words is quoted as well."""
    question = "Why was BNP leader Nick Griffin arrested, and what BNP leaflet are police in Wales looking at?"
    text = ("A South Wales Police spokeswoman confirmed that they were looking at the contents of the leaflet. "
            "According to the BNP's website, they have been posted to homes in the Castle ward. "
            "The BNP website carries a photograph of party leader Nick Griffin - who lives near Welshpool, mid Wales - "
            "delivering the leaflet. The BNP has denied it is trying to stir up hatred, but argues that it should be "
            "able to debate this without fear of arrest.")
    lines = compose(analyse(question, []), [_passage(1, text)]).lines
    assert "photograph of party leader Nick Griffin" in lines[0], lines
    assert any("confirmed that they were looking at the contents of the leaflet" in line for line in lines), lines


def test_a_part_is_answered_by_the_best_sentence_answering_it_not_the_first_with_a_number():
    question = "How many people does Yahoo now employ, and how many gamers a month does its games service attract?"
    games = _passage(1, '"Gamers play poker and pool," said Geoff Graber, director of Yahoo Games, which attracts '
                        'about 12 million gamers a month.')
    firm = _passage(2, "Yahoo is ten years old this week. Now the firm employs 7,600 workers in its offices.")
    lines = " ".join(compose(analyse(question, []), [games, firm]).lines)
    assert "12 million" in lines and "7,600" in lines, lines


def test_a_sentence_close_in_meaning_answers_though_it_shares_few_of_the_questions_words():
    question = ("Which pricey compound makes the signal boosters of today's fibre networks so dear, according to "
                "Intel's head of light-based computing research?")
    said = _passage(1, "Currently, says Intel's Dr Paniccia, equipment that amplifies the laser light travelling down "
                       "optic cables is very expensive because of the exotic materials, such as gallium arsenide, used "
                       "to make it.")  # shares a fifth of the question's words
    needs = analyse(question, [])
    draft = compose(needs, [said], closeness=lambda texts: np.full(len(texts), 0.66))
    assert not draft.refused and not draft.direct and "gallium arsenide" in draft.lines[0], draft.lines
    assert compose(needs, [said], closeness=lambda texts: np.full(len(texts), 0.40)).refused  # not close: touches on


def test_a_sentence_quoting_a_phrase_leads_into_the_quotation_after_it():
    text = ("Singer Alex Kapranos studied English at university. The buzz about the band soon spread and 40 record "
            "labels turned up to one gig in Glasgow - which the band thought was \"totally ridiculous\". \"I'm "
            "really glad it was almost comical because we weren't overwhelmed by the seriousness of it,\" Kapranos "
            "said. They signed with an independent label in June 2003.")
    question = "How did Alex Kapranos react to 40 record labels turning up to one of their Glasgow gigs?"
    draft = compose(analyse(question, []), [_passage(1, text)])
    answer = " ".join(draft.lines)
    assert not draft.refused and "almost comical" in answer and "studied English" not in answer, draft.lines


def test_he_after_a_sentence_that_refers_back_is_who_that_sentence_is_about_not_a_name_in_it():
    text = ("Top seed Roger Federer had to save two match points in Dubai. Federer was not unduly worried despite "
            "being taken to three sets. The world number one was forced to go the distance against Ivo Minar in "
            "the first round. \"I definitely had a slow start again after the final,\" he said. Minar, ranked "
            "158th in the world, reached his first final. \"For me, this was a big success,\" said the 20-year-old.")
    found = candidates(analyse("What did Ivo Minar say after the final?", []), [_passage(1, text)])
    assert not any(c.typed for c in found if "slow start" in c.text)  # Federer's words, not Minar's
    found = candidates(analyse("What did Roger Federer say after the final?", []), [_passage(1, text)])
    assert any(c.typed for c in found if "slow start" in c.text)


def test_a_quotation_going_on_is_the_speakers_and_is_quoted_with_who_speaks():
    text = ('The drafting of the rules was led by the forum and the phone firms. "Everyone is required to conform '
            'to this code," said Andrew Bud, regulatory head of the forum. "It\'s all about transparency," he said. '
            '"Consumers have to be told what they have got themselves into and how to get out of it." "The consumer '
            'has a right to be protected," he said. Christian Harris of Zed said the system was essential.')
    needs = analyse("What did Andrew Bud say consumers must be told under the new code?", [])
    draft = compose(needs, [_passage(1, text)])
    assert not draft.refused, draft.lines
    line = next(line for line in draft.lines if "themselves into" in line)  # "told" is the quotation's own word
    assert "said Andrew Bud" in line, draft.lines  # the line says who is speaking


def _passage(n: int, text: str, outlet: str = "Wire", similarity: float = 0.5) -> Passage:
    return Passage(f"d{n}:0", f"d{n}", text, 0, len(text), Source(f"d{n}", outlet=outlet, partisan=False, label="news agency"),
                   dense_similarity=similarity)


TRADE_ALIASES = [["Russia", "Moscow", "Kremlin"], ["Japan", "Tokyo"]]


def test_another_name_of_a_question_name_is_that_name_not_one_more_word_to_find():
    needs = analyse("How much did trade between Moscow and Tokyo grow in 2013?", TRADE_ALIASES)
    assert needs.present("moscow", {"russian", "trade"}) and needs.present("tokyo", {"japanes"})
    assert not needs.present("moscow", {"china"})
    assert set(needs.weights) == {"trade", "moscow", "tokyo", "grow", "2013"}  # "how much" asks, it is not asked about
    draft = compose(needs, [_passage(1, "Trade relations between Russia and Japan hit $32 billion in 2013, "
                                        "a 5.3 percent increase compared to 2012.")])
    assert not draft.refused and "5.3 percent" in draft.lines[0], draft.lines


def test_a_sentence_dated_only_with_the_questions_own_date_does_not_say_when():
    question = "On what date did Lavrov arrive in Japan for the visit he announced on January 14?"
    announced = _passage(1, "Foreign Minister Lavrov announced on January 14 that he would visit Japan within months.")
    draft = compose(analyse(question, TRADE_ALIASES), [announced])
    assert draft.refused, draft.lines  # it restates the question's date
    arrived = _passage(2, "Lavrov arrived in Japan on March 3 for talks with his Japanese counterpart.")
    draft = compose(analyse(question, TRADE_ALIASES), [announced, arrived])
    assert not draft.refused and "March 3" in draft.lines[0], draft.lines


def test_a_sentence_about_everything_the_question_names_answers_in_other_words():
    aliases = [["Japan", "Tokyo"], ["Ukraine", "Kyiv", "Kiev"]]
    needs = analyse("What vehicles and provisions did Tokyo pledge to send to Kyiv in May?", aliases)
    elsewhere = _passage(1, "In May, Japan announced it would transfer 100 military trucks and 30,000 food rations to "
                            "its partners in Asia.")
    draft = compose(needs, [elsewhere])
    assert draft.refused, draft.lines  # Kyiv is not what it is about
    to_ukraine = _passage(2, "In May, Japan announced it would transfer 100 military trucks and 30,000 food rations to "
                             "Ukraine.")
    draft = compose(needs, [elsewhere, to_ukraine])
    assert not draft.refused and not draft.direct and "Ukraine" in draft.lines[0], draft.lines
    draft = compose(analyse("Did Tokyo pledge vehicles to Kyiv in May?", aliases), [to_ukraine])
    assert draft.refused, draft.lines  # yes or no hinges on the words the text does not use


def test_the_modal_may_is_not_the_month():
    question = "When did the bank's backup tapes disappear?"
    stolen = _passage(1, "The bank's backup tapes may have been stolen by baggage handlers, and nobody knows how they disappeared.")
    draft = compose(analyse(question, TRADE_ALIASES), [stolen])
    assert draft.refused, draft.lines  # no date: "may" is a verb here
    missing = _passage(2, "The bank said the backup tapes went missing in May while being shipped.")
    draft = compose(analyse(question, TRADE_ALIASES), [stolen, missing])
    assert not draft.refused and "in May" in draft.lines[0], draft.lines


def test_a_year_standing_alone_does_not_say_how_many():
    question = "How many aircraft is Air Deccan buying from ATR?"
    begins = _passage(1, "ATR said deliveries of the aircraft to Air Deccan will begin in 2005.")
    draft = compose(analyse(question, TRADE_ALIASES), [begins])
    assert draft.refused, draft.lines  # a year counts nothing
    bought = _passage(2, "Air Deccan has agreed to buy 30 aircraft from ATR, the company said.")
    draft = compose(analyse(question, TRADE_ALIASES), [begins, bought])
    assert not draft.refused and "30 aircraft" in draft.lines[0], draft.lines
    lasted = _passage(3, "The Air Deccan talks with ATR over the aircraft ran from 2003 to 2005.")
    draft = compose(analyse("How long did Air Deccan talk with ATR about the aircraft?", TRADE_ALIASES), [lasted])
    assert not draft.refused, draft.lines  # "how long": years may answer


def test_a_length_of_time_does_not_say_how_many_people():
    question = "How many people live in Turkey?"
    wait = _passage(1, "It could take up to 15 years before Turkey is able to join the European Union.")
    draft = compose(analyse(question, TRADE_ALIASES), [wait])
    assert draft.refused, draft.lines  # fifteen years count no one
    census = _passage(2, "Turkey's census counted 67.8 million people living in its 81 provinces.")
    draft = compose(analyse(question, TRADE_ALIASES), [wait, census])
    assert not draft.refused and "67.8 million" in draft.lines[0], draft.lines
    draft = compose(analyse("How many years could Turkey wait to join the European Union?", TRADE_ALIASES), [wait])
    assert not draft.refused and "15 years" in draft.lines[0], draft.lines


def test_a_sum_of_money_a_day_of_the_month_or_a_share_does_not_say_how_many_people():
    question = "How many people were in the delegation that flew with Suzuki to Moscow on December 25?"
    flight = _passage(1, "On December 25 a flight carrying Suzuki's delegation departed Tokyo for Moscow.")
    budget = _passage(2, "As Suzuki's delegation left for Moscow, Tokyo unveiled a budget of 9 trillion yen.")
    draft = compose(analyse(question, TRADE_ALIASES), [flight, budget])
    assert draft.refused, draft.lines  # the 25 of a date and a sum of yen count no one
    share = _passage(4, "Some 40% of the people in the delegation that flew with Suzuki to Moscow on December 25 "
                        "were MPs.")
    assert compose(analyse(question, TRADE_ALIASES), [flight, budget, share]).refused  # nor a share
    idioms = _passage(5, "No one in the delegation that flew with Suzuki to Moscow on December 25 spoke; Tokyo "
                         "hopes to defeat its rivals one by one.")
    assert compose(analyse(question, TRADE_ALIASES), [flight, budget, idioms]).refused  # nor "no one", "one by one"
    size = _passage(3, "Suzuki's delegation of 12 people flew to Moscow on December 25.")
    draft = compose(analyse(question, TRADE_ALIASES), [flight, budget, size])
    assert not draft.refused and "12 people" in draft.lines[0], draft.lines


def test_what_is_the_population_asks_for_a_count_not_a_share():
    question = "What is the population of India?"
    mobiles = _passage(1, "Less than 20% of India's total population own a mobile, against well over 50% in Europe.")
    draft = compose(analyse(question, TRADE_ALIASES), [mobiles])
    assert draft.refused, draft.lines
    census = _passage(2, "Christians make up about two per cent of India's population of more than a billion people.")
    draft = compose(analyse(question, TRADE_ALIASES), [mobiles, census])
    assert not draft.refused and "a billion people" in draft.lines[0], draft.lines


def test_a_quotation_that_goes_on_is_still_the_speakers_words():
    # News names the speaker once and quotes on for several sentences: 'he said: "..." "..."'.
    text = ("Ms Okada was elected to the council in 2019. Speaking in Osaka on Monday, at the launch of her "
            "campaign, she said: \"I have never stood for mayor before. \"But this city has been waiting for "
            "a change. \"I will cut the port fees by half in my first year.\" Her rivals declined to comment.")
    needs = analyse("What did Ms Okada say about the port?", TRADE_ALIASES)
    found = {c.text: c for c in candidates(needs, [_passage(1, text)])}
    assert found['"I will cut the port fees by half in my first year."'].typed


def test_one_of_the_others_is_someone_new_not_the_speaker_named_before():
    text = ("President Okada said the steel mill had been sold far too cheaply. One of the jilted bidders, a Dutch "
            "group, said it would look at a new tender for the mill \"with great interest\".")
    needs = analyse("What did President Okada say about the steel mill?", TRADE_ALIASES)
    found = {c.text: c for c in candidates(needs, [_passage(1, text)])}
    assert not found[text.split(". ", 1)[1]].typed  # the bidder's words, not Okada's


def test_what_did_x_say_quotes_more_of_xs_own_words():
    text = ("Security at the ceremony will be tight. \"We are pulling out all the stops,\" said John Miller, the "
            "city's counterterrorism chief. Ticket sales for the ceremony rose by a tenth this year. Security matters "
            "most at this ceremony because it is \"a symbol of our culture and a high-visibility target,\" he added.")
    draft = compose(analyse("What did John Miller say about security at the ceremony?", TRADE_ALIASES),
                    [_passage(1, text)])
    answer = " ".join(draft.lines)
    assert "all the stops" in answer and "high-visibility target" in answer, draft.lines
    assert "Ticket sales" not in answer


def test_no_sentence_is_quoted_twice_when_one_line_says_who_speaks_in_the_next():
    text = ("Mr Hale was asked whether the club would sell its striker to the league champions. \"We would look "
            "at any offer for the striker, but the decision is his. \"I don't think he wants to leave the club "
            "for the champions.\" The club's owner has said the same about the striker.")
    draft = compose(analyse("What did Mr Hale say about selling the striker to the champions?", TRADE_ALIASES),
                    [_passage(1, text)])
    said = [s.strip('"“” ') for line in draft.lines for _, _, s in sentences(re.sub(r"\[\d+\]", "", line))]
    assert not draft.refused and len(said) == len(set(said)), draft.lines


def test_a_possessive_inside_a_name_is_not_a_rare_word_of_it():
    # "UN's" is no word wordfreq knows, so it weighed as the rarest: the name had to be found by it.
    question = "What did the UN's World Food Programme say about Darfur?"
    said = _passage(1, "The UN World Food Programme said aid deliveries to Darfur would double this year.")
    draft = compose(analyse(question, TRADE_ALIASES), [said])
    assert not draft.refused and "double" in draft.lines[0], draft.lines
    mac = _passage(2, "Apple expects the Mac mini to sell for 339 pounds in the UK.")
    draft = compose(analyse("How much will Apple's Mac mini cost in the UK?", TRADE_ALIASES), [mac])
    assert not draft.refused and "339" in draft.lines[0], draft.lines


def test_the_asking_verb_is_met_by_the_words_of_the_one_asked_about():
    needs = analyse("How did Putin react to the sanctions?", TRADE_ALIASES)
    cands = candidates(needs, [_passage(1, "Japan imposed very light sanctions, and Putin even noted his admiration.")])
    assert "react" in cands[0].terms


def test_how_did_x_respond_quotes_x_not_the_one_x_responds_to():
    question = "How did Japan's Foreign Ministry respond to Zakharova's remarks on the Yasukuni Shrine?"
    zakharova = _passage(1, "On December 25, Russian Foreign Ministry spokesperson Maria Zakharova said the Yasukuni "
                            "Shrine was a loathsome symbol of militarism. She said Japan should build a new temple.")
    draft = compose(analyse(question, TRADE_ALIASES), [zakharova])
    assert draft.outcome is Outcome.TOUCHES_ON, draft.lines  # her words are not the ministry's reply
    reply = _passage(2, "Japan's Foreign Ministry said Zakharova's remarks on the Yasukuni Shrine were regrettable "
                        "and lodged a protest.")
    draft = compose(analyse(question, TRADE_ALIASES), [zakharova, reply])
    assert not draft.refused and "regrettable" in draft.lines[0], draft.lines


def test_whose_words_is_read_from_who_speaks_not_from_any_name_in_the_sentence():
    question = "How did Russia respond to the new sanctions?"
    imposed = _passage(1, "Japan announced new sanctions against Russia on Friday, freezing the assets of 35 officers.")
    reply = _passage(2, "Russia's foreign ministry said the new sanctions were unfriendly and promised a response.")
    for order in ([imposed, reply], [reply, imposed]):
        draft = compose(analyse(question, TRADE_ALIASES), order)
        assert not draft.refused and "unfriendly" in draft.lines[0], draft.lines
    quoted = _passage(3, "Russia's envoy spoke at the reception. We see that Tokyo has joined the campaign against us, "
                         "he said of the new sanctions.")
    draft = compose(analyse("What did Russia's envoy say about the new sanctions?", TRADE_ALIASES), [quoted])
    assert not draft.refused and "We see that Tokyo" in " ".join(draft.lines), draft.lines  # "we": the envoy


def test_what_did_x_say_quotes_the_words_that_follow_the_report_of_them():
    text = ("Club legend Phil Tate has urged the captain to stay. He said: \"The club would think about any bid, but "
            "it is down to him. \"It would not feel the same anywhere else, where it is all about money.\" Tate "
            "reacted sharply to some of the club's fans, who criticised the captain after the cup final. A number of "
            "fans questioned the captain's commitment on the club's forum. Tate added: \"I heard those comments from "
            "so-called supporters and they were diabolical. \"He has carried the club this year.\"")
    draft = compose(analyse("What did Phil Tate say about the fans who criticised the captain?", []),
                    [_passage(1, text)])
    assert not draft.refused and "diabolical" in " ".join(draft.lines), draft.lines


def test_adjacent_sentences_of_one_passage_are_quoted_on_one_line():
    text = ("City manager Ann Lee said she would not blame goalkeeper Tom Dent for his error in the late draw with "
            "Rovers. Lee said: \"It was difficult for Tom. \"He was expecting a cross and it became a shot, so I don't blame him.\"")
    draft = compose(analyse("What did Ann Lee say about Tom Dent's error against Rovers?", []), [_passage(1, text)])
    assert len(draft.lines) == 1 and "would not blame" in draft.lines[0] and "difficult for Tom" in draft.lines[0], \
        draft.lines


def test_what_did_x_say_quotes_x_after_a_lead_that_only_reports_it():
    passage = _passage(1, "City manager Ann Lee has refused to blame goalkeeper Tom Dent for the late draw with Rovers. "
                          "Lee said the result still pleased her. \"It was an unlucky moment, and I don't blame him for "
                          "what happened,\" she added.")
    draft = compose(analyse("What did Ann Lee say about Tom Dent's error against Rovers?", []), [passage])
    assert not draft.refused and "I don't blame him" in " ".join(draft.lines), draft.lines


def test_brand_names_written_in_camel_case_are_names():
    anchors = [a.text for a in analyse("Who is the iTunes customer suing Apple over the iPod?", []).anchors]
    assert anchors == ["iTunes", "Apple", "iPod"]  # not "Tunes" and "Pod", which no text contains


def test_names_written_with_an_ampersand_are_one_name():
    anchors = analyse("What did Marks & Spencer and AT&T say about R&D?", []).anchors
    assert [a.text for a in anchors] == ["Marks & Spencer", "AT&T"]  # not "Marks", "Spencer", "T"; R&D names no one
    marks = anchors[0]
    assert marks.found_in(fold("Marks and Spencer cut prices.")) and marks.found_in(fold("Shares in Marks & Spencer rose."))


def test_the_ceremony_refers_back_and_what_date_is_not_a_word_to_find():
    passage = _passage(1, "Sky will broadcast this year's Academy Awards live for the first time. The ceremony, hosted "
                          "by newcomer Chris Rock, takes place on 27 February.")
    needs = analyse("On what date will Chris Rock present the Academy Awards?", [])
    assert "date" not in needs.weights
    draft = compose(needs, [passage])
    assert not draft.refused and "27 February" in " ".join(draft.lines), draft.lines


def test_a_plural_pronoun_points_back_even_after_a_name():
    history = [{"role": "user", "content": "What sanctions did Japan impose after Russia annexed Crimea in 2014?"}]
    assert "following up on" in rewrite_offline("How did Putin react to them?", history)
    assert rewrite_offline("How did Putin react to the G7 statement on Ukraine's grain exports?", history) == \
        "How did Putin react to the G7 statement on Ukraine's grain exports?"


def test_comment_is_attributed_to_its_poster_not_the_outlet(assistant):
    answer = assistant.ask("Who said that Putin is very shrewd?")
    citation = next(c for c in answer.citations if "very shrewd" in c.passage.text)
    assert citation.speaker == "Adelaide" and citation.segment == "comment by Adelaide"
    line = next(l for l in answer.answer.splitlines() if "very shrewd" in l)
    assert "the commenter Adelaide wrote" in line
    assert any(w.kind is WarningKind.COMMENT and w.citations == (citation.n,) and "Adelaide" in w.text
               for w in answer.warnings)


def test_cues_in_citation_point_at_loaded_words(assistant):
    answer = assistant.ask("How does world today news describe the government in Kyiv?")
    cues = [(cue, c.passage.text) for c in answer.citations for cue in c.cues]
    assert any(cue.text in ("Kiev regime", "Kyiv regime") for cue, _ in cues)
    for cue, text in cues:
        assert text[cue.start:cue.end] == cue.text


@pytest.mark.parametrize("question", ["What is the GDP of Japan in 2030?", "Who won the 2022 football World Cup?"])
def test_out_of_corpus_question_is_refused_without_citations(assistant, question):
    answer = assistant.ask(question)
    assert answer.refused
    assert answer.citations == [] and answer.warnings == []
    assert answer.answer.startswith("The documents don't say")
    assert answer.closest  # nearest passages are still offered, separately


def test_follow_up_offline_retrieves_lavrov_and_trutnev(assistant):
    first = "What sanctions did Japan impose on Russia in December 2023?"
    answer = assistant.ask("How did Moscow respond?", history=[{"role": "user", "content": first},
                                                                {"role": "assistant", "content": "..."}])
    assert answer.standalone_query != answer.question and first in answer.standalone_query
    passages = assistant.search(answer.standalone_query, k=6)
    texts = " ".join(p.text for p in passages)
    assert "Lavrov" in texts and "Trutnev" in texts
    assert any(c.doc_id == "003_b5aeacde14fc594e" for c in answer.citations)
    # Moscow's voices in the answer itself: each of Russia's people who spoke, not only the first.
    assert "Lavrov bluntly said" in answer.answer and "Yuri Trutnev, also said" in answer.answer


def test_a_follow_up_naming_someone_new_is_answered_about_them(assistant):
    """After two questions about Suzuki's trip, "What did Zakharova say?" is read with them, but it
    is about Zakharova: the earlier questions' words must not outweigh hers, nor keep her out of the
    passages searched."""
    history = [{"role": "user", "content": "Who is Munenori Suzuki?"}, {"role": "user", "content": "Why did he go to Moscow?"}]
    answer = assistant.ask("What did Zakharova say?", history=history)
    assert answer.outcome is Outcome.ANSWERED, answer.answer
    assert "Zakharova" in answer.answer, answer.answer
    assert answer.citations and "Zakharova" in answer.citations[0].passage.text


def test_a_follow_up_naming_someone_and_pointing_back_still_searches_for_them(assistant):
    """"What did Zakharova say about it?" after two questions on Suzuki's trip: the article on the
    trip also quotes her, and its chunks on Suzuki had kept out every chunk naming her, so the
    answer was that no passage mentions what the question is about. Her statements are not about
    the trip, so "touches on" is the honest outcome, with her words among the closest passages."""
    history = [{"role": "user", "content": "Who is Munenori Suzuki?"}, {"role": "user", "content": "Why did he go to Moscow?"}]
    answer = assistant.ask("What did Zakharova say about it?", history=history)
    assert answer.outcome is not Outcome.NOT_FOUND, answer.answer
    assert any("Zakharova" in c.passage.text for c in [*answer.citations, *answer.closest]), answer


def test_he_after_a_who_question_is_the_person_its_answer_named(assistant):
    """"Who is Russia's foreign minister?" is answered with Lavrov; "What did he say about the
    disputed islands?" is then about Lavrov, read from that answer (the app and the CLI pass it)."""
    first = assistant.ask("Who is Russia's foreign minister?")
    assert "Lavrov" in first.answer, first.answer
    history = [{"role": "user", "content": "Who is Russia's foreign minister?"},
               {"role": "assistant", "content": first.answer}]
    assert rewrite_offline("What did he say about the disputed islands?", history).startswith(
        "What did Lavrov say about the disputed islands?")
    answer = assistant.ask("What did he say about the disputed islands?", history=history)
    assert answer.outcome is Outcome.ANSWERED, answer.answer
    assert re.search(r"Lavrov (?:\w+ly )?(?:said|stated)", answer.answer.splitlines()[0]), answer.answer  # his words
    # with the questions alone there is no one to read "he" as: the question is only followed up
    assert rewrite_offline("What did he say about the disputed islands?", history[:1]).startswith(
        "What did he say about the disputed islands? (following up on:")


@pytest.fixture(scope="module")
def guilty_pleas(tmp_path_factory):
    """Two reports of executives pleading guilty, each naming a prosecutor and an executive."""
    from helpers import ingest_texts

    return ingest_texts(tmp_path_factory.mktemp("pleas"), {
        "pleas.txt": "Insurance bosses admit fraud\n\n"
        "Three more insurance executives have admitted fraud charges in an inquiry into bid rigging. "
        "The inquiry by New York attorney general Eliot Spitzer has now obtained nine guilty pleas. "
        "The highest ranking executive pleading guilty on Tuesday was former Marsh senior vice president "
        "Joshua Bewlay. He admitted one count of scheming to defraud and faces up to four years in prison.\n",
        "stearns.txt": "Broker admits bid rigging\n\n"
        "A broker has admitted rigging bids for insurance contracts, prosecutors said. Senior vice president "
        "Robert Stearns pleaded guilty to scheming to defraud. The offence carries a sentence of 16 months to "
        "four years in state prison.\n"})


def test_he_is_the_person_the_answer_names_in_the_role_asked_not_the_first_name_it_quotes(guilty_pleas):
    """Over the BBC set, "Who is the most senior executive to plead guilty?" is answered with a pair
    whose first sentence names New York and its attorney general. "he" in the follow-up is the
    executive the second sentence names, Bewlay, not "New York" (two capitalised words)."""
    from helpers import settings_for

    corpus, data = guilty_pleas
    assistant = Assistant(settings_for(data, RAG_CORPUS_DIR=corpus))
    history = [{"role": "user", "content": "Who is the most senior executive to plead guilty?"},
               {"role": "assistant", "content": "According to the document titled Insurance bosses admit fraud "
                "(unrated source), “The inquiry by New York attorney general Eliot Spitzer has now obtained nine "
                "guilty pleas. The highest ranking executive pleading guilty on Tuesday was former Marsh senior "
                "vice president Joshua Bewlay.” [1]"}]
    answer = assistant.ask("What prison sentence does he face?", history=history)
    assert answer.standalone_query.startswith("What prison sentence does Joshua Bewlay face?"), answer.standalone_query
    assert answer.citations[0].passage.source.title == "Insurance bosses admit fraud", answer.answer
    assert "four years in prison" in answer.answer.splitlines()[0], answer.answer


@pytest.fixture(scope="module")
def envoys(tmp_path_factory):
    """A report whose opening restates who is going where, and names his predecessor later on; and a
    sale where only companies are named."""
    from helpers import ingest_texts

    return ingest_texts(tmp_path_factory.mktemp("envoys"), {
        "envoy.txt": "Minister to become envoy\n\n"
        "Paul Hartley, Chief Secretary to the Treasury, is to step down as a Labour MP at the election. "
        "Mr Hartley, 53, is to become the UK's high commissioner to South Africa. "
        "He was the UK's first black cabinet minister when appointed to his post in 2002. "
        "He will succeed the previous high commissioner, Ann Grant, shortly after the election.\n",
        "auction.txt": "Oil unit sold at auction\n\n"
        "The main production unit of the oil firm was sold at an auction in Moscow on Sunday. "
        "Baikal Finance Group outbid the gas monopoly Gazprom to buy the production unit for $9bn.\n"})


def test_who_leads_with_the_sentence_naming_a_person_not_the_opening_that_restates_the_question(envoys):
    """The opening sentence shares most of the question's words and names only the Treasury, a
    party and a country; "who" asks for a person, and the sentence naming Ann Grant answers."""
    from helpers import settings_for

    corpus, data = envoys
    assistant = Assistant(settings_for(data, RAG_CORPUS_DIR=corpus))
    answer = assistant.ask("Who is Paul Hartley taking over from as the UK's high commissioner in South Africa?")
    assert answer.outcome is Outcome.ANSWERED and "Ann Grant" in answer.answer.splitlines()[0], answer.answer
    # where nobody but companies is named, "who" is still answered by a company
    bought = assistant.ask("Who bought the oil firm's main production unit at the Moscow auction?")
    assert bought.outcome is Outcome.ANSWERED and "Baikal Finance Group" in bought.answer, bought.answer


def test_replay_answers_the_questions_a_history_leaves_unanswered(assistant):
    """``replay`` gives a follow-up the history the app holds: each earlier question with its answer,
    asked in turn, and an answer the turns already give kept as it is."""
    played = assistant.replay([{"role": "user", "content": "Who is Russia's foreign minister?"},
                               {"role": "user", "content": "What did he say about the disputed islands?"}])
    assert [t["role"] for t in played] == ["user", "assistant", "user", "assistant"]
    assert "Lavrov" in played[1]["content"] and "have been resolved" in played[3]["content"], played
    given = [{"role": "user", "content": "Who is Russia's foreign minister?"},
             {"role": "assistant", "content": "According to X, “Foreign Minister Shoigu said so.” [1]"}]
    assert assistant.replay(given) == given


def test_what_else_did_he_say_quotes_what_the_last_answer_did_not(assistant):
    """"He" carries through the follow-ups about the person a "who" question was answered with,
    and "What else did he say?" is answered with other words than the last answer quoted."""
    history = []
    for question in ("Who is Russia's foreign minister?", "What did he say about the disputed islands?"):
        answer = assistant.ask(question, history=history)
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.answer}]
    assert "Lavrov" in answer.answer.splitlines()[0], answer.answer
    more = assistant.ask("What else did he say?", history=history)
    assert more.standalone_query.startswith("What else did Lavrov say?"), more.standalone_query
    assert more.outcome is Outcome.ANSWERED and "Lavrov" in more.answer, more.answer
    before = " ".join(re.findall(r"“([^”]*)”", answer.answer))
    assert not [s for line in more.answer.splitlines() for q in re.findall(r"“([^”]*)”", line)
                for _, _, s in sentences(q) if s in before], more.answer


def test_he_after_asking_what_someone_said_is_that_person(assistant):
    """"How did Maria Zakharova describe the Yasukuni Shrine?", then "What else did she say?":
    she is Zakharova, and the answer goes on past what the last one quoted."""
    question = "How did Maria Zakharova describe the Yasukuni Shrine?"
    first = assistant.ask(question)
    history = [{"role": "user", "content": question}, {"role": "assistant", "content": first.answer}]
    more = assistant.ask("What else did she say?", history=history)
    assert more.standalone_query.startswith("What else did Maria Zakharova say?"), more.standalone_query
    assert more.outcome is Outcome.ANSWERED and "build a temple" in more.answer, more.answer


def test_what_else_does_not_quote_again_who_she_is(assistant):
    """A sentence that says "she" is quoted from the sentence naming her, except when the last
    answer quoted that already: "What else did she say?" goes on with her next words alone."""
    question = "Who warned Japan of countermeasures?"
    first = assistant.ask(question)
    assert "Maria Zakharova issued" in first.answer and "countermeasures" in first.answer, first.answer
    history = [{"role": "user", "content": question}, {"role": "assistant", "content": first.answer}]
    more = assistant.ask("What else did she say?", history=history)
    assert "loathsome symbol" in more.answer, more.answer
    assert "Maria Zakharova issued" not in more.answer and "non-nuclear" not in more.answer, more.answer


def test_what_else_when_there_is_nothing_else_says_so(assistant):
    """Trutnev's one statement is the whole of what the documents quote of him: asked for more,
    the answer says there is nothing more, rather than that the documents only touch on it."""
    question = "Which Russian official proposed developing the islands with China?"
    first = assistant.ask(question)
    assert "Trutnev" in first.answer.splitlines()[0], first.answer
    history = [{"role": "user", "content": question}, {"role": "assistant", "content": first.answer}]
    more = assistant.ask("What else did he say?", history=history)
    assert more.refused and more.answer == NOTHING_MORE, more.answer


def test_standalone_question_is_not_rewritten(assistant):
    answer = assistant.ask("What did Lavrov say on Russia 1?", history=[{"role": "user", "content": "Who is Abe?"}])
    assert answer.standalone_query == answer.question


def test_filters_exclude_partisan_and_restrict_outlet(assistant):
    answer = assistant.ask("What did Japan give to Ukraine in May?", filters=Filters(partisan=False))
    assert all(not c.source.partisan for c in answer.citations + answer.closest)
    only = Filters(outlets=("world today news (republisher)",))
    assert {p.doc_id for p in assistant.search("sanctions", 6, only)} == {"004_5fc457110d24e7fd"}
    dated = Filters(date_from="2023-01-01", date_to="2023-12-31")
    assert {p.doc_id for p in assistant.search("sanctions", 6, dated)} == {"003_b5aeacde14fc594e"}
    types = Filters(doc_types=("forum thread",))
    assert {p.doc_id for p in assistant.search("sanctions", 10, types)} <= {
        "000_e3a53b2cbbda76ec", "001_68ffb54545db6918"}


def test_results_are_diversified_across_sources(assistant):
    passages = assistant.search("Japan Russia sanctions", k=6)
    assert len({p.doc_id for p in passages}) >= 3


def test_one_sided_notice_when_all_citations_share_one_outlet(assistant):
    answer = assistant.ask("What did Japan give to Ukraine in May?", filters=Filters(outlets=("world today news (republisher)",)))
    notices = [w.text for w in answer.warnings if w.kind is WarningKind.ONE_SIDED]
    # One partisan outlet: one notice saying so, not a second one about unrated sources it has none of.
    assert len(notices) == 1 and "single outlet" in notices[0], notices


def test_unverified_notice_counts_unrated_and_partisan_sources():
    from rag.answer.framing import one_sided_notices
    from rag import Citation

    def cite(n, outlet, partisan, label):
        source = Source(f"d{n}", outlet=outlet, partisan=partisan, label=label)
        return Citation(n, _passage(n, "Text.", outlet), source)

    texts = [w.text for w in one_sided_notices([cite(1, "A", True, "state media"), cite(2, "B", False, "unrated")])]
    assert texts == ["Unverified evidence: no cited source is rated independent (1 unrated, 1 partisan); look for "
                     "confirmation from a source you trust."]


def test_bad_questions_get_clear_errors(assistant):
    with pytest.raises(QuestionError, match="empty"):
        assistant.ask("   ")
    with pytest.raises(QuestionError, match="characters"):
        assistant.ask("why " * 1000)


def test_cli_ask_json_contract_and_stdin_batch(corpus_settings):
    keys = {"question", "standalone_query", "answer", "refused", "mode", "citations", "warnings",
            "unsupported_sentences", "timings_ms"}
    citation_keys = {"n", "doc_id", "title", "outlet", "author", "published", "url", "segment", "text", "start",
                     "end", "score", "framing"}
    result = run_cli(["ask", "-", "--json"], corpus_settings.data_dir,
                     input="What did Japan give to Ukraine in May?\n\nWho won the 2022 football World Cup?\n")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 2
    assert keys <= set(rows[0]) and set(rows[0]["timings_ms"]) == {"retrieve", "generate", "total"}
    assert citation_keys <= set(rows[0]["citations"][0])
    assert {"partisan", "label", "rationale", "rated_by", "cues"} <= set(rows[0]["citations"][0]["framing"])
    assert rows[1]["refused"] is True and rows[1]["citations"] == []


def test_cli_asks_follow_ups_after_earlier_questions(corpus_settings):
    # --after gives the earlier turns; --conversation makes stdin lines one conversation.
    first, follow = "What sanctions did Japan impose on Russia in December 2023?", "How did Moscow respond?"
    result = run_cli(["ask", follow, "--after", first, "--json"], corpus_settings.data_dir, input="")
    assert result.returncode == 0, result.stderr
    after = json.loads(result.stdout)
    assert first in after["standalone_query"] and not after["refused"]
    assert "Lavrov" in after["answer"] and "Trutnev" in after["answer"]
    result = run_cli(["ask", "-", "--conversation", "--json"], corpus_settings.data_dir, input=f"{first}\n{follow}\n")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows[0]["standalone_query"] == first and rows[1]["standalone_query"] == after["standalone_query"]
    assert rows[1]["answer"] == after["answer"]
    alone = run_cli(["ask", "-", "--json"], corpus_settings.data_dir, input=f"{first}\n{follow}\n")
    assert json.loads(alone.stdout.splitlines()[1])["standalone_query"] == follow  # no --conversation: no history
    # --after questions are answered in turn, as in the app: "he" is whom the answer named
    result = run_cli(["ask", "What did he say about the disputed islands?", "--after", "Who is Russia's foreign minister?",
                      "--json"], corpus_settings.data_dir, input="")
    assert json.loads(result.stdout)["standalone_query"].startswith("What did Lavrov say"), result.stdout[-500:]


def test_cli_cues_one_json_per_line():
    result = run_cli(["cues"], None, input="Aid to the Kiev regime\nA calm sentence.\n")
    lines = [json.loads(l) for l in result.stdout.splitlines()]
    assert lines[0]["cues"] == [{"text": "Kiev regime", "start": 11, "end": 22, "kind": "name_calling"}]
    assert lines[1] == {"cues": []}


def test_running_assistant_sees_a_reindex_by_another_process(tmp_path):
    """The app keeps one Assistant; a CLI ingest in another process must show up in its BM25 side too."""
    import shutil
    import time

    from helpers import settings_for

    from rag import ingest

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(PROJECT_DIR / "corpus" / "003_b5aeacde14fc594e.txt", corpus)
    settings = settings_for(tmp_path / "data")
    ingest(settings, [corpus])
    assistant = Assistant(settings)
    assert assistant.search("Lavrov", k=3)
    (corpus / "otaru.txt").write_text("The Otaru harbour pilots union voted to strike over pay on Monday.\n")
    result = run_cli(["ingest", str(corpus), "--json"], settings.data_dir, input="")
    assert json.loads(result.stdout)["added"] == 1, result.stderr
    time.sleep(2.1)  # the index re-checks its version at most every 2 s
    query = "Otaru harbour pilots strike"
    assert any("Otaru" in p.text for p in assistant.search(query, k=3))
    # The dense side too: the embedded client re-reads what the other process wrote.
    dense = assistant.index.search_dense(assistant.encoder.encode([query])[0], 3, Filters())
    assert dense[0].doc_id == "otaru" and dense[0].dense_similarity > 0.5


def test_a_rebuild_in_another_process_never_breaks_a_running_assistant(tmp_path):
    """Threads keep asking while another process rebuilds: no question fails, and afterwards the
    assistant answers from the new generation (the old collection is not dropped under it)."""
    import shutil
    import subprocess
    import sys
    import threading
    import time

    from helpers import settings_for

    from rag import ingest

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("003_b5aeacde14fc594e.txt", "004_5fc457110d24e7fd.txt"):
        shutil.copy(PROJECT_DIR / "corpus" / name, corpus)
    settings = settings_for(tmp_path / "data")
    ingest(settings, [corpus])
    assistant = Assistant(settings)
    before = assistant.ask("What did Lavrov say about the territorial disputes?")
    (corpus / "otaru.txt").write_text("The Otaru harbour pilots union voted to strike over pay on Monday.\n")
    rebuild = subprocess.Popen([sys.executable, "-m", "rag", "ingest", str(corpus), "--rebuild", "--json"],
                               cwd=PROJECT_DIR, env=clean_environ({"RAG_DATA_DIR": settings.data_dir}),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    errors, answers = [], []

    def ask_until_done():
        while rebuild.poll() is None or len(answers) < 8:
            try:
                answers.append(assistant.ask("What did Lavrov say about the territorial disputes?").answer)
            except Exception as error:  # the point of the test: there must be none
                errors.append(f"{type(error).__name__}: {error}")
                return

    threads = [threading.Thread(target=ask_until_done) for _ in range(3)]
    for t in threads:
        t.start()
    out, err = rebuild.communicate(timeout=300)
    for t in threads:
        t.join(timeout=120)
    assert rebuild.returncode == 0, err
    assert errors == [] and len(answers) >= 8
    assert set(answers) == {before.answer}  # the same answer from the old and the new generation
    time.sleep(2.1)
    assert any(p.doc_id == "otaru" for p in assistant.search("Otaru harbour pilots strike", k=3))
    assistant.reload()  # an explicit reload also lands on the new generation
    assert any(p.doc_id == "otaru" for p in assistant.search("Otaru harbour pilots strike", k=3))


def test_each_cited_passage_is_encoded_once_per_answer():
    class CountingEmbedder:  # with OpenAI embeddings every encoded text is paid for
        def __init__(self):
            self.texts = []

        def encode(self, texts):
            self.texts += texts
            return np.full((len(texts), 4), 0.5)

    passage = "Japan has decided to sanction 35 Russian-related servicemen and 44 groups."
    embedder = CountingEmbedder()
    results = check_answer(["Japan sanctioned 35 servicemen [1].", "Japan sanctioned 44 groups [1].",
                            "Japan sanctioned Russian-related servicemen [1]."], {1: passage}, embedder=embedder)
    assert [r.supported for r in results] == [True, True, True]
    assert embedder.texts.count(passage) == 1


def test_a_claim_from_the_end_of_a_long_passage_is_close_in_meaning_to_what_it_cites(assistant):
    """A passage joining three chunks is longer than the encoder reads: encoded whole, it is its
    opening, and a claim quoting its last sentence looked far from it (similarity 0.37)."""
    opening = " ".join(f"Fishing crews in Hokkaido reported a quiet season in port number {n}, where the "
                       f"catch of salmon and crab was landed and sold at the market as usual." for n in range(14))
    ending = "Lavrov said that all territorial disputes between Russia and Japan have been resolved."
    claim = f"{ending} [1]"
    result = check(claim, {1: f"{opening} {ending}"}, embedder=assistant.encoder)
    assert result.supported and result.similarity > 0.8, (result.similarity, result.reasons)


def test_a_question_naming_its_source_is_answered_from_that_source_only():
    """"According to Kuroi": Kuroi's passage answers; another outlet saying the same is not added
    (and its rating does not bring a framing warning the question did not ask for)."""
    kuroi = Passage("k:0", "k", "Lavrov announced on January 14 that he would visit Japan within three months.", 0, 77,
                    Source("k", outlet="Unnamed Japanese outlet", author="Fumitaro Kuroi", partisan=True,
                           label="advocacy opinion"), dense_similarity=0.5)
    other = _passage(2, "On January 14 Foreign Minister Lavrov announced that he would visit Japan, TASS reported.",
                     outlet="Pro-Kremlin republisher", similarity=0.9)
    assert analyse("When did Lavrov announce his visit to Japan, according to Kuroi?", []).source == {"kuroi"}
    assert analyse("What did Lavrov say, according to the sources?", []).source == frozenset()

    named = compose(analyse("When did Lavrov announce that he would visit Japan, according to Kuroi?", []),
                    [other, kuroi])
    assert [i for i, _ in named.used] == [1], named.lines
    # A headline naming Kuroi is about Kuroi, not by Kuroi: it is not the source asked for.
    about = Passage("t:0", "t", "Lavrov announced on January 14 that he would visit Japan, a wire report said.", 0, 78,
                    Source("t", outlet="Wire", title="Kuroi's critics answer back", partisan=False, label="news agency"),
                    dense_similarity=0.9)
    named = compose(analyse("When did Lavrov announce that he would visit Japan, according to Kuroi?", []),
                    [about, kuroi])
    assert [i for i, _ in named.used] == [1], named.lines
    unnamed = compose(analyse("When did Lavrov announce that he would visit Japan?", []), [other, kuroi])
    assert unnamed.used[0][0] == 0, unnamed.lines  # unnamed, the closer passage leads: the rule made the difference
    nowhere = compose(analyse("When did Lavrov announce that he would visit Japan, according to the wire story?", []),
                      [other, kuroi])
    assert nowhere.used[0][0] == 0, nowhere.lines  # a source no passage names (written another way?) restricts nothing


def test_a_question_naming_a_text_by_its_publisher_is_answered_from_that_text():
    """"What does Kuroi's report say", "the Kuroi article": the same as "according to Kuroi"; but
    a question comparing two texts, or a text with someone, wants both."""
    kuroi = Passage("k:0", "k", "Lavrov announced on January 14 that he would visit Japan within three months.", 0, 77,
                    Source("k", outlet="Unnamed Japanese outlet", author="Fumitaro Kuroi", partisan=True,
                           label="advocacy opinion"), dense_similarity=0.5)
    other = _passage(2, "On January 14 Foreign Minister Lavrov announced that he would visit Japan, TASS reported.",
                     outlet="Pro-Kremlin republisher", similarity=0.9)
    for question in ("When, in Fumitaro Kuroi's report, did Lavrov announce that he would visit Japan?",
                     "When does the Kuroi article say Lavrov announced that he would visit Japan?"):
        assert "kuroi" in analyse(question, []).source
        named = compose(analyse(question, []), [other, kuroi])
        assert [i for i, _ in named.used] == [1], named.lines
    assert analyse("How do the Kuroi article and the TASS report differ on Lavrov's visit?", []).source == frozenset()
    assert analyse("How does Kuroi's report compare with what Lavrov said?", []).source == frozenset()
    assert analyse("What did the latest report say about Lavrov's visit?", []).source == {"latest"}
    draft = compose(analyse("When did the latest report say Lavrov would visit Japan?", []), [other, kuroi])
    assert draft.used[0][0] == 0, draft.lines  # a name no passage's source has restricts nothing


def test_each_part_of_a_question_asking_two_things_is_answered():
    text = ("The Greens won 12 seats on the Lyon city council on Sunday, their best result there. "
            "The party's campaign was run by a former teacher from Villeurbanne. "
            "In the regional assembly the Greens took 9 seats, the electoral commission said.")
    question = "How many seats did the Greens win on the Lyon city council, and how many in the regional assembly?"
    draft = compose(analyse(question, []), [_passage(1, text)])
    answer = " ".join(draft.lines)
    assert not draft.refused and "12 seats" in answer and answer.count("9 seats") == 1, draft.lines


def test_which_spokesman_asks_for_a_name():
    assert "name" in analyse("Which government spokesman vowed to keep up the pressure?", []).wants
    assert "name" not in analyse("Which way did the vote go?", []).wants


def test_a_sentence_in_two_overlapping_chunks_is_quoted_once():
    """Chunks overlap: the same sentence, reached once alone and once paired with the sentence
    before it, is one claim, not two."""
    source = Source("d1", outlet="Wire", partisan=False, label="news agency")
    before = "The government in Tokyo had hesitated for 6 weeks before it acted against Moscow."
    key = "In the first stage, Japan imposed very light sanctions, and Putin even praised Japan's restraint."
    after = "In April, Japan widened the sanctions to 40 banks after a visit by the US president."
    first, second = f"{key} {after}", f"{before} {key}"  # two chunks: key with what follows, with what precedes
    passages = [Passage("d1:1", "d1", first, 100, 100 + len(first), source, chunk_index=1, dense_similarity=0.7),
                Passage("d1:0", "d1", second, 0, len(second), source, dense_similarity=0.7)]
    draft = compose(analyse("How did Putin react to Japan's first sanctions?", TRADE_ALIASES), passages)
    assert not draft.refused
    assert sum(line.count("Putin even praised") for line in draft.lines) == 1, draft.lines


def test_how_many_takes_a_count_of_the_same_thing_in_other_words(assistant):
    """'How many troops': '8,500 military personnel' answers, in MiniLM's judgement the same
    thing, and the answer says it is not in so many words; a number of something else does not."""
    question = "How many troops did the ministry put on standby in January?"
    personnel = _passage(1, "In January the ministry said about 8,500 U.S. military personnel had been placed on standby.")
    tanks = _passage(2, "In January the ministry said about 300 tanks had been placed on standby near the border.")
    encode = assistant.encoder.encode
    draft = compose(analyse(question, []), [personnel], encode=encode)
    assert not draft.refused and "8,500" in draft.lines[0] and not draft.direct
    assert compose(analyse(question, []), [personnel]).refused  # without the encoder: no count of troops
    assert compose(analyse(question, []), [tanks], encode=encode).refused



def test_words_said_after_the_quotation_are_the_speakers_own():
    """'"...," chairman Chung Mong-koo said': who speaks follows the quotation, and the person, not
    the company named before his title, is who must be named."""
    statement = _passage(1, "Hyundai will build a second plant in India. Car ownership there is low and demand is "
                            "growing. \"We desperately need to expand our "
                            "production in order to meet growing demand in the Indian market,\" chairman Chung Mong-koo "
                            "said in the statement.")
    other = _passage(2, "\"We need more plants in India,\" a rival carmaker's chief executive said on Monday.")
    question = "What did Hyundai chairman Chung Mong-koo say about why the carmaker needs more capacity in India?"
    draft = compose(analyse(question, []), [other, statement])
    assert not draft.refused and "desperately need" in draft.lines[0]
    assert compose(analyse(question, []), [other]).refused  # someone else's words


def test_a_name_is_found_in_its_other_form():
    tories = [a for a in analyse("How does Ken Clarke rate the Tories' chances?", []).anchors if a.variants == ("tories",)][0]
    assert tories.found_in("mr clarke says the tory party is improving")
    assert not tories.found_in("the story is improving")


def test_a_question_in_other_words_is_answered_by_the_sentence_that_means_it(assistant):
    """Few shared words ("chances of victory at the coming poll" / "could win the next
    election"): the sentence close in meaning answers, marked not direct; one merely about the
    same man does not."""
    question = "What does Ken Clarke think of the party's chances of victory at the coming poll?"
    encode = assistant.encoder.encode

    def closeness(texts):
        vectors = encode([question, *texts])
        return vectors[1:] @ vectors[0]

    clarke = _passage(1, "Former chancellor Ken Clarke says Mr Howard has a bigger problem changing perceptions of the "
                         "party than his image. Mr Clarke says the party is improving and it is \"conceivable\" it "
                         "could win the next election.")
    jazz = _passage(2, "Former chancellor Ken Clarke is a keen jazz fan and has written a column about cricket for "
                       "the Sunday papers.")
    assert compose(analyse(question, []), [clarke]).refused  # the words alone do not answer
    draft = compose(analyse(question, []), [clarke], closeness=closeness)
    assert not draft.refused and not draft.direct and "conceivable" in " ".join(draft.lines)
    assert compose(analyse(question, []), [jazz], closeness=closeness).refused


@pytest.mark.parametrize("question, asks_words", [
    ("How did DiCaprio praise Scorsese at the Golden Globes?", True),
    ("What did the minister deny about the deal?", True),
    ("How did he explain the delay?", False),  # reasons, whoever gives them
    ("Why did Anna Brandt say she is missing the Berlin marathon?", True),  # the reason she gave
    ("What did the surveyors' spokesman predict for house sales?", True),
    ("Why did the marathon start late?", False),
    ("What did the police find in the warehouse?", False),
])
def test_questions_asking_for_someones_words(question, asks_words):
    assert analyse(question, []).asks_words is asks_words


def test_a_counted_noun_is_not_found_in_a_name():
    """"How many units": "the United States" holds no units, and "units" only counts: the text's
    own noun ("four ALIS installations") answers."""
    embassy = _passage(1, "On January 23, the United States decided to evacuate some staff members of its embassy in "
                          "Ukraine, and Japan followed.")
    detectors = _passage(2, "At the end of April, Japan handed over to Ukraine four ALIS installations, which enable "
                            "the detection of mines with a high degree of accuracy.")
    draft = compose(analyse("What did the mine-detection equipment Japan sent to Ukraine do, and how many units were "
                            "there?", TRADE_ALIASES), [embassy, detectors])
    assert not draft.refused and "four ALIS" in draft.lines[0]


@pytest.mark.parametrize("question, text, words", [
    # the speaker after the quotation, past a title of several words
    ("How did HVB analyst Peter-Thilo Halser describe Borussia Dortmund's losses?",
     "Dortmund posted a record loss of 68m euros. \"This is the bill for their mismanagement over the past years,\" "
     "said HVB analyst Peter-Thilo Halser.", "bill for their mismanagement"),
    # named in full once, then by surname
    ("What did Athletics Kenya chief Isaiah Kiplagat say about banning Susan Chepkemei?",
     "Kenya's athletics body has banned Susan Chepkemei from all races for a year. \"We are taking this action in "
     "order to salvage our pride,\" said Kiplagat.", "salvage our pride"),
    # "he added": the one named in the sentence before, after his quotation
    ("How did counterterrorism chief John Miller describe the Oscars ceremony as a security risk?",
     "\"We are pulling out all the stops,\" said John Miller, the counterterrorism chief. The show is \"a symbol of "
     "American culture and has the potential to be a high-visibility target\" at the Oscars, he added.",
     "high-visibility target"),
    # '"…," he said': the pronoun after the quotation is the one named before
    ("What did Retail Decisions boss Carl Clump say happens to card fraud when security is tightened?",
     "Retail Decisions chief executive Carl Clump told the BBC there was \"no doubt\" chip and pin would cut fraud. "
     "\"Fraud doesn't just disappear, it mutates to the next weakest link in the chain,\" he said.",
     "next weakest link"),
    # a common surname after a title: "argued Mr Davis" is David Davis
    ("How did Tory spokesman David Davis characterise the government's handling of the EU immigration changes?",
     "Tory spokesman David Davis called the plans \"a muddle\" in the Commons on Monday. The home secretary was "
     "answering questions from MPs. \"The government is employing the politics of confusion on immigration - I "
     "think, deliberately,\" argued Mr Davis.", "politics of confusion"),
    # after the quotation, the name first and the title after it
    ("What did Roy Asher of Hibernian Investment Managers say about Ireland's appeal to investors?",
     "Irish shares hit a record on Friday, with the market up 2% in a week. \"Ireland ticks all the boxes as far as "
     "international investors are concerned,\" Roy Asher, chief investment officer at Hibernian Investment "
     "Managers, told Reuters.", "ticks all the boxes"),
    # named in full, then by a surname that is a common word: capitalised, it is still him
    ("What did England prop Julian White say about the Welsh scrum?",
     "England prop Julian White is expecting a rough ride from Wales on Saturday. Wales have a new coach. "
     "\"The Welsh scrum is a force to be reckoned with,\" White told BBC Sport before England's trip.",
     "force to be reckoned with"),
    # a passive: "welcomed by" the one who speaks
    ("How did shadow pensions secretary David Willetts react to Age Concern's report on older voters?",
     "Age Concern's report says older voters feel ignored by all parties. The report was welcomed by shadow "
     "pensions secretary David Willetts. \"The pensioners' voice must be heard in the next election,\" he said.",
     "pensioners' voice"),
    # "what advice did X give": X's words, after the sentence reporting that he gave it
    ("What advice did Sir Bobby Robson give Chelsea boss Jose Mourinho about coping with defeat?",
     "Sir Bobby Robson has offered Chelsea boss Jose Mourinho some advice on coping with defeat. The pair worked "
     "together at Barcelona. \"Jose has to learn how to lose a game and how to cope with defeat,\" said Robson.",
     "learn how to lose"),
])
def test_the_speaker_is_found_where_news_names_him(question, text, words):
    draft = compose(analyse(question, []), [_passage(1, text)])
    assert not draft.refused and words in " ".join(draft.lines), draft


def test_why_did_x_say_quotes_xs_reason_not_another_runners_words():
    """"Why did X say ...": X's words. She is "the 27-year-old" and then "she"; the other article
    names her in a list, says "they", then quotes a rival who names herself ("said Lind")."""
    question = "Why did Anna Brandt say she is missing the Berlin marathon?"
    hers = _passage(1, "Anna Brandt will miss April's Berlin marathon to prepare for the world championships in "
                       "August. The 27-year-old finished second in Rotterdam last month behind Maria Lind. \"My "
                       "hamstring is still tight and I cannot risk another long race so soon,\" she said.")
    squad = _passage(2, "Maria Lind, Anna Brandt and Eva Roth were named in the squad for the world marathon "
                        "championships. They will train together in Kenya in June. \"Being picked means I can plan "
                        "my whole spring around the championships,\" said Lind.")
    draft = compose(analyse(question, []), [squad, hers])
    assert not draft.refused and "hamstring" in " ".join(draft.lines), draft.lines
    assert "plan my whole spring" not in " ".join(draft.lines), draft.lines  # Lind's words, not hers
    assert _refers_back("The 27-year-old finished second.") and not _refers_back("The 26-year-old Lind twins won.")


def test_a_quotation_going_on_past_who_said_it_is_quoted_to_its_end():
    """'..., said Ms Adler. "Our view is ..."': her words go on in the next sentence, and the quote
    takes it too, not only the sentence that names her."""
    text = ("Northbank chief economist Ruth Adler said she did not expect the weak figures to move interest rates. "
            "\"The figures are very poor, but December is always hard to read,\" said Ms Adler. \"Our view is that "
            "the central bank will wait for the spring data before it acts.\" Retailers reported mixed results.")
    draft = compose(analyse("What did Northbank's chief economist expect after the weak figures?", []),
                    [_passage(1, text)])
    assert not draft.refused and "wait for the spring data" in " ".join(draft.lines), draft.lines
    assert "Retailers" not in " ".join(draft.lines)  # the quotation ends there


def test_when_is_it_due_asks_for_a_date_still_to_come():
    """"When is it supposed to go on sale?" after a question about a lawsuit: the date of what is
    planned ("is due to be shipped in early 2006"), not the date of something done ("In March 2003
    it sued"), though that sentence is the one about lawsuits."""
    text = ("Northwind is suing two file sharers over leaked copies of Atlas, its new operating system. Northwind "
            "is no stranger to suing those who leak its plans. In March 2003 it sued a former contractor who put "
            "drawings of its servers online. Atlas is due to be shipped in early 2006.")
    asked = "When is it supposed to go on sale? (following up on: Who is Northwind suing over leaked copies of Atlas?)"
    needs = analyse(without_history(asked), [], context=earlier_words(asked))
    draft = compose(needs, [_passage(1, text)])
    assert not draft.refused and "early 2006" in " ".join(draft.lines), draft.lines
    assert analyse("When will the festival open?", []).ahead and not analyse("When did it open?", []).ahead


def test_each_voice_of_a_collective_speaker_is_heard():
    """"How did Moscow respond?": Putin, Lavrov and Trutnev each speak for Russia, so a fourth
    sentence is given to the voice not yet heard, after the report that leads."""
    report = _passage(1, "Russia responded to the sanctions imposed by Japan on December 18, with Moscow vowing to "
                         "retaliate against the sanctions.", similarity=0.9)
    voices = _passage(2, "After the sanctions, Russian President Putin said: \"Japan is still using Russian "
                         "electricity.\" Russian Foreign Minister Sergei Lavrov bluntly said: \"The territorial "
                         "disputes with Japan are resolved, sanctions or not.\" The Russian envoy for the Far East, "
                         "Yuri Trutnev, also said: \"Russia will develop the islands with China despite the "
                         "sanctions.\"", similarity=0.6)
    draft = compose(analyse("How did Moscow respond to the sanctions?", TRADE_ALIASES), [report, voices])
    said = " ".join(draft.lines)
    assert not draft.refused and all(name in said for name in ("Putin", "Lavrov", "Trutnev")), draft.lines


@pytest.mark.parametrize("text, voices", [
    ("When talking about Japan, Lavrov bluntly said: all disputes are resolved.", {"lavrov"}),
    ("The envoy for the Far East, Yuri Trutnev, also said Russia would develop the islands.", {"trutnev"}),
    ('"This is the bill," said HVB analyst Peter-Thilo Halser.', {"halser"}),
    ("Then Mr Blair said he was a huge figure.", {"blair"}),
    ("He explained, \"A Judo player must take a brave step forward.\"", set()),  # a pronoun names no one
    ("The Russian Federation, the Ministry of Foreign Affairs said, continues to monitor it.", set()),  # an institution
    ("The WTO said there was no consensus.", set()),
])
def test_who_speaks_in_a_sentence(text, voices):
    assert _voices(text) == voices


def test_how_much_likelier_asks_a_ratio_and_a_shared_hyphen_is_no_counted_noun():
    """"How much likelier": a comparative, not a noun the number must count ("400 times more
    likely" answers it); "short- and mid-haul services": the noun is "services", not "short-"."""
    liberty = _passage(1, "Liberty said statistics suggested Roma Czechs were 400 times more likely to be stopped by "
                          "British immigration officials at Prague airport than non-Roma Czechs.")
    draft = compose(analyse("According to Liberty, how much likelier were Roma travellers to be turned back at Prague "
                            "airport than other Czechs?", []), [liberty])
    assert not draft.refused and "400 times" in draft.lines[0], draft
    flights = _passage(2, "Lufthansa said it had to cancel 77 short- and mid-haul services because of the Frankfurt "
                          "airport closure during the visit.")
    draft = compose(analyse("How many short- and mid-haul services did Lufthansa have to scrap during the visit?", []),
                    [flights])
    assert not draft.refused and "77" in draft.lines[0], draft


def test_a_common_name_that_no_passage_mentions_is_not_found():
    """"Netflix" is a common word in English, so not a distinctive name; but as the question's only
    name, in no passage, it is what the documents don't cover."""
    broadband = _passage(1, "Broadband subscribers in Europe rose to 40 million at the end of 2004, the report said.")
    draft = compose(analyse("How many subscribers did Netflix have at the end of 2004?", []), [broadband])
    assert draft.outcome is Outcome.NOT_FOUND
    wire = _passage(2, "Netflix had 2.6 million subscribers at the end of 2004, the company said.")
    assert "2.6 million" in compose(analyse("How many subscribers did Netflix have at the end of 2004?", []),
                                    [broadband, wire]).lines[0]


_SCORES_SCRIPT = """
from rag import Passage, Source
from rag.answer.extractive import candidates
from rag.answer.question import analyse, expand_query
text = ("Sir Alan Ward has given City manager Joe Moran some advice on coping with defeat.\\n"
        "The two worked together at Leeds and Porto and Ward had a word of caution for his former assistant. "
        "\\"Things have gone his way lately, but sometimes you need humility and to learn how to lose,\\" said Ward.")
needs = analyse("What advice did Sir Alan Ward give City manager Joe Moran about coping with defeat?", [])
passage = Passage("d1:0", "d1", text, 0, len(text), Source("d1", outlet="Wire", partisan=False), dense_similarity=0.5)
print([(c.start, c.end, repr(c.score)) for c in candidates(needs, [passage])])
"""


def test_sentence_scores_do_not_depend_on_the_processes_hash_seed():
    # Each process orders a set of words by its own string-hash seed; a plain sum over that set
    # rounds differently, and with it which of two equally good sentences led the answer (a BBC
    # dev answer changed from one eval run to the next).
    import subprocess
    import sys

    runs = {subprocess.run([sys.executable, "-c", _SCORES_SCRIPT], cwd=PROJECT_DIR, capture_output=True, text=True,
                           env=clean_environ({"PYTHONHASHSEED": seed}), timeout=120, check=True).stdout
            for seed in range(1, 9)}
    assert len(runs) == 1, runs


def test_a_name_written_in_capitals_is_named_only_in_capitals():
    # "tell us" is no mention of the US: it had widened the search with "United States Washington America".
    aliases = [["United States", "U.S.", "US", "Washington", "America"], ["Japan", "Tokyo"]]
    assert "Washington" not in expand_query("Can you tell us what Lavrov said about Japan?", aliases)
    assert "Washington" in expand_query("What did the US say about Japan?", aliases)
    assert "washington" not in analyse("Can you tell us what Lavrov said about Japan?", aliases).same_as


def test_a_comparison_of_two_named_texts_quotes_each_and_no_other():
    question = "How do the Harbour Times article and the Valley Post report differ on the new bridge toll?"
    harbour = _passage(1, "The Harbour Times said the new bridge toll of four dollars was a fair price for commuters. "
                          "It added that the toll would pay for repairs within a decade.", outlet="Harbour Times")
    valley = _passage(2, "The Valley Post called the new bridge toll a tax on the poor that commuters cannot afford.",
                      outlet="Valley Post")
    other = _passage(3, "Both the Harbour Times and the Valley Post wrote about the new bridge toll, which differs "
                        "from the old one: commuters will pay it twice a day.", outlet="City Wire", similarity=0.9)
    draft = compose(analyse(question, []), [other, harbour, valley])
    assert not draft.refused, draft.lines
    cited = [i for i, _ in draft.used]
    assert cited == [1, 2], draft.lines  # each text compared, in the question's order; not the text about them
    assert [line[-3:] for line in draft.lines] == sorted(line[-3:] for line in draft.lines)  # each text's lines together


def test_a_name_of_three_words_is_found_by_its_initials():
    question = "How many visitors attended the Consumer Electronics Show this year?"
    text = "More than 120,000 visitors attended CES in Las Vegas this year, the organisers said."
    draft = compose(analyse(question, []), [_passage(1, text)])
    assert not draft.refused and "120,000" in draft.lines[0], draft.lines


_MILL = ("President Okada said the steel mill had been sold far too cheaply to the Dutch group. "
         "Workers at the mill staged a protest outside the city hall on Monday. "
         "Union leader Anna Brandt said the sale of the mill would cost a thousand jobs within a year.")


@pytest.mark.parametrize("question", [
    "What did President Okada and Anna Brandt say about the sale of the steel mill?",
    "Compare what President Okada and Anna Brandt said about the sale of the steel mill.",
    "How do President Okada's and Anna Brandt's remarks on the sale of the steel mill differ?",
])
def test_asking_what_two_people_said_quotes_each_of_them(question):
    draft = compose(analyse(question, TRADE_ALIASES), [_passage(1, _MILL)])
    answer = " ".join(draft.lines)
    assert "far too cheaply" in answer and "a thousand jobs" in answer, draft.lines
    assert "protest" not in answer, draft.lines  # each one's own sentence, not a pair with the workers


def test_a_day_the_question_gives_must_be_in_the_answers_passage():
    december = _passage(1, "On December 15, Japan announced sanctions on 35 Russian servicemen and 44 military groups.")
    may = _passage(2, "On May 26, Tokyo announced its 20th package of sanctions against Russia.")
    asked = "How many Russian servicemen did the sanctions Tokyo announced on May 26 target?"
    assert compose(analyse(asked, TRADE_ALIASES), [december, may]).refused  # 35 were December's
    draft = compose(analyse("How many Russian servicemen did the sanctions of 15 December target?", TRADE_ALIASES),
                    [december, may])
    assert not draft.refused and "35" in draft.lines[0], draft.lines  # "15 December" is "December 15"


def _thread() -> list[Passage]:
    """A forum thread: the opening post, and a reply whose poster is not shown (no "comment" in its label)."""
    source = Source("t1", outlet="Harbour Forum", partisan=False, label="forum")
    post = ("The council voted on Tuesday to close the old ferry pier for repairs. "
            "The ferry pier will stay closed for at least six months, the council said.")
    reply = ("Closing the ferry pier for six months is a disaster for every shop on the harbour. "
             "The council never listens to the people who use the ferry pier.")
    return [Passage("t1:0", "t1", post, 0, len(post), source, SegmentKind.OPENING_POST, "opening post",
                    dense_similarity=0.6),
            Passage("t1:1", "t1", reply, 0, len(reply), source, SegmentKind.COMMENT, "post #2 (poster not shown)",
                    dense_similarity=0.5)]


@pytest.mark.parametrize("question, quoted", [
    ("What did the commenters say about closing the ferry pier?", "disaster"),  # the replies, not the post
    ("According to one forum commenter, what will closing the ferry pier do?", "disaster"),
    ("Does the forum post itself say the ferry pier closes for six months, or was that a commenter?", "at least six months"),
])
def test_asking_what_the_commenters_said_quotes_the_replies(question, quoted):
    draft = compose(analyse(question, []), _thread())
    assert quoted in " ".join(draft.lines), draft.lines
    if "itself" not in question:
        assert [i for i, _ in draft.used] == [1], draft.lines


def test_passages_naming_everything_the_question_names_touch_on_it_even_in_other_words():
    """Not "the documents don't say … none mentions what this question is about" when they do."""
    passage = _passage(1, "Zorbatech, the Oslo software maker, opened a new office in Bergen this week.", similarity=0.3)
    asked = "How many engineers and designers did {} recruit during its first full year of trading on the stock exchange?"
    draft = compose(analyse(asked.format("Zorbatech"), []), [passage])
    assert draft.outcome is Outcome.TOUCHES_ON, draft
    elsewhere = compose(analyse(asked.format("Quillonex"), []), [passage])
    assert elsewhere.outcome is Outcome.NOT_FOUND, elsewhere


def test_who_someone_is_comes_from_what_the_text_says_of_them_not_from_a_byline():
    text = "The steel mill was sold to the Dutch group on Monday. Workers staged a protest outside the city hall."
    byline = Passage("b1:0", "b1", text, 0, len(text), Source("b1", outlet="Wire", author="Anna Brandt", partisan=False,
                                                              label="news agency"), dense_similarity=0.4)
    draft = compose(analyse("Who is Anna Brandt?", []), [byline])
    assert draft.outcome is Outcome.TOUCHES_ON, draft.lines  # her article says nothing of who she is
    told = _passage(2, "Workers staged a protest on Monday. Anna Brandt spoke to them at the gates. "
                       "She has led the steelworkers' union since 2019, and said the sale would cost jobs.")
    draft = compose(analyse("Who is Anna Brandt?", []), [byline, told])
    assert "led the steelworkers' union" in " ".join(draft.lines), draft.lines  # "She": Anna Brandt, named before


def test_a_yes_no_question_is_answered_only_by_a_sentence_naming_everyone_it_names():
    near = _passage(1, "Suzuki met Russian foreign ministry officials in Moscow on Tuesday. "
                       "Putin was in St Petersburg that week for a summit with Central Asian leaders.")
    draft = compose(analyse("Did Putin meet Suzuki during the visit?", []), [near])
    assert draft.outcome is not Outcome.ANSWERED, draft.lines  # Suzuki's meetings, Putin elsewhere
    said = _passage(2, "Putin met Suzuki in the Kremlin on Tuesday, the Russian foreign ministry said.")
    draft = compose(analyse("Did Putin meet Suzuki during the visit?", []), [near, said])
    assert draft.outcome is Outcome.ANSWERED and "in the Kremlin" in draft.lines[0], draft.lines


def test_a_question_half_of_whose_names_are_in_no_passage_is_touched_on_when_the_rest_are():
    passage = _passage(1, "Zorbatech, the Oslo software maker, opened a new office in Bergen this week.", similarity=0.3)
    draft = compose(analyse("What did Zorbatech say about its merger with Quillonex?", []), [passage])
    assert draft.outcome is Outcome.TOUCHES_ON, draft  # Zorbatech is there, the merger with Quillonex is not
    draft = compose(analyse("What did Vantrelle say about its merger with Quillonex?", []), [passage])
    assert draft.outcome is Outcome.NOT_FOUND, draft


def test_a_numbered_name_is_that_name_not_any_of_its_words():
    """"Live 8" is not every live concert, nor every 8."""
    other = _passage(1, "The band's live concert session drew 8 million listeners to the radio station on Sunday.")
    draft = compose(analyse("How many people watched the Live 8 concert?", []), [other])
    assert draft.outcome is Outcome.NOT_FOUND, draft.lines
    named = _passage(2, "About 9.6 million people watched the Live 8 concert on television, the broadcaster said.")
    draft = compose(analyse("How many people watched the Live 8 concert?", []), [other, named])
    assert draft.outcome is Outcome.ANSWERED and "9.6 million" in draft.lines[0], draft.lines


def test_a_documents_title_line_is_not_quoted_as_part_of_a_sentence():
    """BBC files open with their headline on a line of its own; quoted with the next sentence it
    read "Deadline nears for Fiat-GM deal Fiat and General Motors (GM) have until ..."."""
    text = ("Deadline nears for Fiat-GM deal\nFiat and General Motors (GM) have until midnight on 1 February "
            "to settle a disagreement over a potential takeover.\nThe deadline marks the point at which Fiat "
            "will gain the right to sell its car division to GM.")
    passage = Passage("d1:0", "d1", text, 0, len(text), Source("d1", title="Deadline nears for Fiat-GM deal",
                      outlet="Wire", partisan=False, label="news agency"), dense_similarity=0.6)
    draft = compose(analyse("What is the deadline for the Fiat-GM dispute?", []), [passage])
    assert draft.outcome is Outcome.ANSWERED, draft
    assert "midnight on 1 February" in draft.lines[0] and "Deadline nears" not in " ".join(draft.lines), draft.lines


def test_how_many_followed_by_a_name_then_a_verb_counts_the_named_people():
    """"How many Americans started reading blogs": a number of Americans, not of "started"."""
    text = ("Americans are becoming avid blog readers, with 32 million getting hooked in 2004, according to "
            "new research. The survey was conducted by the Pew Internet and American Life Project.")
    draft = compose(analyse("How many Americans started reading blogs in 2004, according to the Pew Internet and "
                            "American Life Project?", []), [_passage(1, text, similarity=0.7)])
    assert draft.outcome is Outcome.ANSWERED and "32 million" in draft.lines[0], draft.lines


def test_what_did_x_say_is_not_answered_by_a_line_about_x_that_quotes_nobody():
    """"Robinson had words of comfort for Mathew Tait ..." is about Tait; "I have had a word with
    Mathew," said Robinson, is Robinson's; '"I want more of that definitely," he said.' is Tait's."""
    about = _passage(1, "Robinson also had words of comfort for 18-year-old Newcastle centre Mathew Tait, who made his "
                        "debut against Wales but has been demoted. \"I have had a word with Mathew,\" said Robinson.",
                     similarity=0.6)
    his = _passage(2, "After the defeat by Wales, Tait himself appeared unaffected by the treatment dished out to him. "
                      "\"I want more of that definitely,\" he said.", similarity=0.4)
    draft = compose(analyse("What did Mathew Tait say after the Wales defeat?", []), [about, his])
    assert draft.outcome is Outcome.ANSWERED, draft
    assert any("I want more of that definitely" in line for line in draft.lines), draft.lines
    assert not any("I have had a word" in line for line in draft.lines), draft.lines


def test_a_description_after_a_name_refers_back_to_the_person_named():
    """"The Leicester tight-head is in the form of his life ... he told BBC Sport": "he" is the
    Julian White the first sentence names, two sentences back."""
    text = ("Tough-scrummaging prop Julian White is expecting a resurgent Wales to give him a rough ride in Cardiff. "
            "The Leicester tight-head is in the form of his life. But he knows Wales will put his technique under "
            "scrutiny. \"The Welsh scrum is a force to be reckoned with,\" he told BBC Sport.")
    draft = compose(analyse("What did England prop Julian White say about the Welsh scrum?", []),
                    [_passage(1, text, similarity=0.6)])
    assert draft.outcome is Outcome.ANSWERED and "force to be reckoned with" in " ".join(draft.lines), draft.lines


def test_a_question_asking_a_number_and_someones_words_is_led_by_either_part():
    """No one sentence has both the count and Baroness Scotland's words: each part is answered."""
    text = ("The Law Commission's consultation on murder law showed 64 respondents out of 146 believed a mandatory "
            "life sentence was \"indefensible and should cease\". But speaking after the report was published, Home "
            "Office minister Baroness Scotland said: \"We have no intention of abolishing the mandatory life sentence.\"")
    question = ("In the Law Commission's consultation on murder law, how many respondents said the mandatory life "
                "sentence was indefensible, and what did Home Office minister Baroness Scotland say about abolishing it?")
    draft = compose(analyse(question, []), [_passage(1, text, similarity=0.6)])
    assert draft.outcome is Outcome.ANSWERED, draft
    assert "64 respondents" in " ".join(draft.lines) and "no intention of abolishing" in " ".join(draft.lines), draft.lines


def test_a_question_about_the_headline_is_answered_by_the_title_line():
    """A title line is quoted only when the question asks for the headline."""
    text = ("Koike Stabs China in the Back as Delegation Visits Russia\nThe main passenger aboard the special "
            "aircraft to Moscow was Munenori Suzuki, a veteran lawmaker.")
    passage = Passage("d1:0", "d1", text, 0, len(text), Source("d1", title="Koike Stabs China in the Back as Delegation "
                      "Visits Russia", outlet="Forum", partisan=False, label="forum"), dense_similarity=0.6)
    draft = compose(analyse("How does the forum post headline frame Suzuki's trip to Moscow?", []), [passage])
    assert draft.outcome is Outcome.ANSWERED and "Stabs China in the Back" in draft.lines[0], draft.lines
    draft = compose(analyse("Who flew to Moscow aboard the special aircraft?", []), [passage])
    assert not any("Stabs China" in line for line in draft.lines), draft.lines


def test_a_phrase_in_quotation_marks_is_not_speech():
    """'the only country that "went along with" Russia' quotes nobody: it is not Russia's words,
    even after a sentence naming Russia."""
    text = ("Russia annexed Crimea and the West imposed sanctions on Russia over the annexation. However, in the midst "
            "of such a tense international situation, Japan was the only country whose sanctions \"went along with\" "
            "Russia.")
    words_ = ("The foreign ministry in Moscow issued a statement. Russia said the sanctions were \"an unfriendly act\" "
              "that would not go unanswered.")
    draft = compose(analyse("What did Russia say about the sanctions?", []),
                    [_passage(1, text, similarity=0.7), _passage(2, words_, similarity=0.5)])
    assert draft.outcome is Outcome.ANSWERED and "unfriendly act" in draft.lines[0], draft.lines


def test_someone_asked_about_by_what_they_are_is_who_must_speak():
    """"What was the ambassador's reply?": the ambassador's words, not the statement that summoned him."""
    summons = _passage(1, "From the official statement of the Russian Foreign Ministry: \"On June 9, Deputy Minister "
                          "Rudenko summoned the Ambassador of Japan to Russia in connection with the decision to deliver "
                          "armoured vehicles.\"", similarity=0.7)
    reply = _passage(2, "Summoned by the Russian deputy foreign minister on June 9, Ambassador Toyohisa Kozuki responded "
                        "that the claims were extremely unfair and absolutely unacceptable.", similarity=0.5)
    earlier = "Which Russian deputy foreign minister summoned Japan's ambassador on June 9, and why?"
    draft = compose(analyse("What was the ambassador's reply?", [], context=earlier), [summons, reply])
    assert draft.outcome is Outcome.ANSWERED and "extremely unfair" in draft.lines[0], draft.lines


def test_who_is_the_role_of_x_wants_a_sentence_naming_that_role():
    prices = _passage(1, "Marks & Spencer has cut prices by an average of 24%, said analyst Dresdner Kleinwort Wasserstein.")
    needs = analyse("Who is the chief executive of Marks & Spencer?", [])
    assert needs.role == "execut"
    assert compose(needs, [prices]).refused  # someone is named, but not its chief executive
    boss = _passage(2, "Marks & Spencer chief executive Stuart Rose said spring sales had started well.")
    draft = compose(needs, [prices, boss])
    assert not draft.refused and "Stuart Rose" in draft.lines[0], draft.lines


@pytest.mark.parametrize("question, closer, answer, expected", [
    # "who": a name besides the question's own
    ("Who is the manager of Chelsea?", '"The whole of Chelsea is different now - the chairman, the manager and all the '
     'players," he said.', "Chelsea manager Jose Mourinho expects the Champions League clash to be a fight to the finish.",
     "Jose Mourinho"),
    # "where": a named place besides the question's own
    ("Where will the 50th Eurovision Song Contest be held?", "The 50th Eurovision Song Contest will be held amid record "
     "demand for tickets, organisers said.", "Organisers chose Kiev to stage the 50th Eurovision Song Contest in May.",
     "Kiev"),
    # "what is X": the sentence saying what X is
    ("What is Ofcom?", '"The big question is whether the industry, and particularly Ofcom, feels the proposals go far '
     'enough," an analyst said.', "Figures from telecommunications regulator Ofcom show that BT faces increasing "
     "competition.", "regulator Ofcom"),
])
def test_the_sentence_with_the_kind_of_answer_asked_for_leads(question, closer, answer, expected):
    draft = compose(analyse(question, []), [_passage(1, closer, similarity=0.6), _passage(2, answer)])
    assert not draft.refused and expected in draft.lines[0], draft.lines


def test_a_month_and_the_question_s_own_names_are_no_place():
    summit = _passage(3, "Both Japan and Russia agreed at a summit in April to speed up the talks.")
    draft = compose(analyse("Where was the April summit between Japan and Russia held?", []), [summit])
    assert draft.refused, draft.lines


def test_a_subject_told_by_what_it_did_is_found_in_another_sentence_of_its_passage():
    """"How much did the map service that three Leeds graduates started in a garage raise ...?":
    the text says who that is in one sentence and what it raised in another, two sentences on.
    Each alone covers too little of the question; together they answer, both quoted."""
    text = ("Larkspur, the map service that three Leeds graduates started in a rented garage, turns ten this week. "
            "It now draws millions of walkers and cyclists every month. The founders were students of geography "
            "rather than business. In May 2003 they persuaded venture backers at Tarn Capital to fund Larkspur to "
            "the tune of £4m.")
    question = ("How much did the map service that three Leeds graduates started in a garage raise from venture "
                "backers in 2003?")
    draft = compose(analyse(question, []), [_passage(1, text)])
    said = " ".join(draft.lines)
    assert not draft.refused and "£4m" in said and "Leeds graduates" in said, draft.lines
    assert not draft.direct  # two sentences put together, not a plain statement


@pytest.mark.parametrize("question, described", [
    ("How long has the veteran legislator who flew to Moscow been in politics?", True),
    ("What did the American radio group that pulled Howard Stern accuse him of?", True),
    ("Who wrote that Japan's policy has been too preoccupied?", False),
    ("At which summit did Japan and Russia agree to speed up talks?", False),
    ("When did Lavrov announce that he would visit Japan?", False),
    ("And who introduced his band to the crowd that night?", False),
])
def test_a_question_describing_its_subject(question, described):
    assert analyse(question, []).described is described


def test_a_long_sentence_close_in_meaning_in_one_clause_answers(assistant):
    """"Who sent King Harald a congratulatory telegram on his jubilee?": the long sentence naming
    John Kufuor ("the Norwegian monarch") is far from the question as a whole (its other clauses
    are about a visit and trade), close in its clause "in his congratulation to the Norwegian
    monarch on the occasion of the jubilee". No whole sentence being close, that clause's sentence
    answers, marked not direct."""
    question = "Who sent King Harald a congratulatory telegram on his jubilee?"
    encode = assistant.encoder.encode

    def closeness(texts):
        vectors = encode([question, *texts])
        return vectors[1:] @ vectors[0]

    long_one = ("The president of Ghana, John Kufuor, in his congratulation to the Norwegian monarch on the occasion "
                "of the jubilee, stressed that the people of Ghana hold warm memories of his 1961 visit, when crowds "
                "lined the road from the airport to Accra for many hours, and asked that the ties of trade and study "
                "between the two countries be widened in the coming years.")
    ghana = _passage(1, f"{long_one} Ghana's cocoa exports to Scandinavia have doubled since 2000. King Harald has "
                        "reigned for 25 years.")
    needs = analyse(question, [])
    assert compose(needs, [ghana]).refused  # the words alone do not answer
    assert max(closeness([long_one])) < 0.55  # nor the sentence's meaning as a whole
    draft = compose(needs, [ghana], closeness=closeness)
    assert not draft.refused and not draft.direct and "John Kufuor" in " ".join(draft.lines), draft.lines
