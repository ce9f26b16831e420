"""rag.export: the conversation as Markdown with footnotes (pure function over Answers)."""

from __future__ import annotations

import re

from rag import Answer, AnswerMode, Citation, Warning, WarningKind
from rag.present.export import conversation_markdown, md_escape, quoted_passage
from rag import find_cues
from rag import Passage
from rag import Source

PASSAGE = ("Japan suddenly issued a startling statement on December 15. Japan has decided to sanction 35 "
           "Russian-related servicemen and 44 groups. Some commentators said Russia's move is just too good.")
CITED = "Japan has decided to sanction 35 Russian-related servicemen and 44 groups."
SPAN = (PASSAGE.index(CITED), PASSAGE.index(CITED) + len(CITED))


def citation(n=1, text=PASSAGE, highlights=(SPAN,), **source) -> Citation:
    fields = {"title": "Japan's new sanctions", "outlet": "Unnamed content site", "published_iso": "2023-12-20",
              "doc_type": "content site", "partisan": True, "label": "Pro-Russia commentary site"}
    fields.update(source)
    src = Source.from_mapping(f"doc{n}", fields)
    passage = Passage(f"doc{n}:0", src.doc_id, text, 0, len(text), src, score=0.5)
    return Citation(n, passage, src, list(highlights), find_cues(text))


def answer(question="What sanctions did Japan impose?", text=None, cites=None, **kw) -> Answer:
    cites = cites if cites is not None else [citation()]
    text = text if text is not None else "According to Unnamed content site, “Japan has decided to sanction 35.” [1]"
    warning = Warning(WarningKind.PARTISAN_SOURCE, "Partisan source [1]: Unnamed content site is rated "
                      "“Pro-Russia commentary site”. Treat its claims as that outlet's framing.", (1,))
    return Answer(question, kw.pop("standalone_query", question), text, False, AnswerMode.OFFLINE, cites,
                  kw.pop("warnings", [warning]), **kw)


def test_markers_become_footnotes_with_outlet_date_url_quote_and_label():
    md = conversation_markdown([answer(cites=[citation(url="https://example.org/a")])], exported_at="2026-01-02 10:00")
    assert md.startswith("# Conversation with the newsroom retrieval assistant\n")
    assert "## 1. What sanctions did Japan impose?" in md
    assert "“Japan has decided to sanction 35.” [^1-1]" in md
    note = next(line for line in md.splitlines() if line.startswith("[^1-1]:"))
    assert "Unnamed content site" in note and "2023-12-20" in note
    assert "`https://example.org/a`" in note  # a code span: shown, never a link
    assert "Japan has decided to sanction 35 Russian-related servicemen and 44 groups." in note  # the cited sentence
    assert "partisan source, rated “Pro-Russia commentary site”" in note
    # Every footnote reference has its definition and vice versa.
    refs = set(re.findall(r"\[\^(\d+-\d+)\](?!:)", md))
    defs = set(re.findall(r"^\[\^(\d+-\d+)\]:", md, re.M))
    assert refs == defs == {"1-1"}


def test_several_answers_number_footnotes_per_question_and_show_the_rewritten_query():
    a1 = answer()
    a2 = answer("How did Moscow respond?", "Russia said X [1]. Another source said Y [2].",
                [citation(1), citation(2, outlet="Other outlet", partisan=False, label="wire service")],
                standalone_query="How did Moscow respond? (following up on: What sanctions…)")
    md = conversation_markdown([a1, a2])
    assert "## 2. How did Moscow respond?" in md
    assert "*Searched for: How did Moscow respond? (following up on: What sanctions…)*" in md
    assert "[^2-1]" in md and "[^2-2]" in md
    assert re.search(r"^\[\^2-2\]: Other outlet, .*not partisan, rated “wire service”", md, re.M)
    assert "no URL" in md
    # Warnings travel with the answer, their [n] linked to the same footnotes.
    assert "> **Note:** Partisan source [^1-1]" in md
    assert re.search(r"^\[\^1-1\]:", md, re.M).start() > md.index("## 2.")  # footnotes at the end


def test_document_text_cannot_inject_markdown_or_html():
    evil = ("Look ![x](http://evil.example/x.png) and [click](javascript:alert(1)) <script>alert(1)</script> "
            "<img src=http://evil.example/y.png> costs $5 and *stars* _under_ `tick`.")
    cite = citation(text=evil, highlights=((0, len(evil)),), outlet="<b>Evil</b> [outlet](http://x)",
                    url="javascript:alert(1)`")
    md = conversation_markdown([answer("<img src=http://q.example/q.png>?", f"{evil} [1]", [cite], warnings=[])])
    for unsafe in ("![x](", "[click](", "<script", "<img", "<b>", "](http://x)", "](javascript:"):
        # Only the escaped form (a backslash before the metacharacter) may appear.
        assert not re.search(r"(?<!\\)" + re.escape(unsafe), md), unsafe
    assert r"\<script\>alert(1)\</script\>" in md
    assert r"\!\[x\](`http://evil.example/x.png`)" in md  # shown literally, escaped; the URL a code span
    assert not _autolinkable(md)
    assert r"\$5" in md and r"\*stars\*" in md and r"\_under\_" in md and r"\`tick\`" in md
    assert "`javascript:alert(1)'`" in md  # the URL as a code span; its backtick neutralised


def _autolinkable(md: str) -> list[str]:
    """URLs and addresses a GitHub-style viewer would link: bare ones, outside code spans."""
    outside = re.sub(r"(?<!\\)`[^`]*`", " ", md)
    return re.findall(r"https?://\S*|www\.\S+|\S+@\S+\.\w+", outside)


def test_bare_urls_and_addresses_from_documents_are_code_spans_not_links():
    text = "Read https://evil.example/a?b=1, see www.evil.example/p. Mail tips@evil.example now."
    cite = citation(text=text, highlights=((0, len(text)),), title="Posted at www.evil.example/t")
    md = conversation_markdown([answer("Is http://q.example/x true?", f"{text} [1]", [cite], warnings=[])])
    assert not _autolinkable(md), _autolinkable(md)
    assert "`https://evil.example/a?b=1`, see `www.evil.example/p`." in md  # trailing punctuation stays outside
    assert "`tips@evil.example`" in md and "`http://q.example/x`" in md


def test_refusal_lists_closest_passages_without_footnotes():
    refused = Answer("Weather in Paris?", "Weather in Paris?", "The documents don't say.", True, AnswerMode.OFFLINE, [],
                     closest=[citation(highlights=())])
    md = conversation_markdown([refused])
    assert "The documents don't say." in md
    assert "Closest passages (not cited as evidence)" in md
    assert "[^" not in md


def test_marker_without_citation_is_left_as_text_and_unsupported_tag_is_literal():
    a = answer(text="Claim one [1]. Claim two [7]. Invented [1] [unsupported: number '9' is not in the passage]")
    md = conversation_markdown([a])
    assert "Claim one [^1-1]" in md
    assert r"Claim two \[7\]" in md
    assert r"\[unsupported: number '9' is not in the passage\]" in md


def test_helpers():
    assert md_escape("a*b_c [d](e) <f> $g\n h") == r"a\*b\_c \[d\](e) \<f\> \$g h"
    long = citation(text="word " * 200, highlights=())
    assert quoted_passage(long).endswith(" …") and len(quoted_passage(long)) < 340
    assert quoted_passage(citation()) == "Japan has decided to sanction 35 Russian-related servicemen and 44 groups."
