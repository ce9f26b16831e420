"""A conversation as one Markdown file with footnotes, for pasting into a story or a notes file.

    >>> from rag.model import Answer, AnswerMode
    >>> print(conversation_markdown([Answer("Q?", "Q?", "The documents don't say.", True, AnswerMode.OFFLINE, [])],
    ...                             exported_at="2026-01-02 10:00"))   # doctest: +ELLIPSIS
    # Conversation with the newsroom retrieval assistant
    ...
    ## 1. Q?
    ...

Every citation marker ``[n]`` of answer ``q`` becomes a footnote reference ``[^q-n]``; the
footnotes (outlet, date, URL, segment, quoted passage, rating label) follow at the end.

Text that comes from documents or from the person asking is escaped, so the file renders
as the words it quotes in any Markdown viewer: no image is loaded, no link or HTML is
made from document text (``![x](http://…)`` shows as those characters). Bare URLs and
e-mail addresses, which GitHub-style viewers turn into links, become code spans.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Iterable, Sequence

from ..answer import MARKER, cited_numbers
from ..model import Answer, AnswerMode, Citation

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>!|~$])")
_SPACE = re.compile(r"\s+")
# What extended-autolink viewers (GitHub, GitLab) link without any markup; trailing punctuation stays out.
_AUTOLINK = re.compile(
    r"(?:https?://|www\.)[^\s<>()\[\]`\"“”]*[^\s<>()\[\]`\"“”.,;:!?'’]|[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.I
)
TITLE = "Conversation with the newsroom retrieval assistant"
QUOTE_CHARS = 320


def md_escape(text: str | None) -> str:
    """Backslash-escape Markdown/HTML metacharacters; collapse whitespace to single spaces."""
    return md_escape_inline(_SPACE.sub(" ", str(text or "")).strip())


def _code(text: str) -> str:
    """A code span (never rendered as a link): for URLs."""
    text = _SPACE.sub(" ", str(text)).replace("`", "'").strip()
    return f"`{text}`"


def _with_footnote_refs(text: str, q: int, known: set[int]) -> str:
    """Escape ``text`` and turn its [n] / [n, m] markers into footnote references [^q-n]."""
    out, pos = [], 0
    for match in MARKER.finditer(text):
        out.append(md_escape_inline(text[pos:match.start()]))
        numbers = cited_numbers(match.group())
        refs = "".join(f"[^{q}-{n}]" if n in known else md_escape(f"[{n}]") for n in numbers)
        out.append(refs)
        pos = match.end()
    out.append(md_escape_inline(text[pos:]))
    return "".join(out)


def md_escape_inline(text: str) -> str:
    """Like md_escape but keeps leading/trailing single spaces (for pieces between markers)."""
    collapsed = _SPACE.sub(" ", text)
    out, pos = [], 0
    for match in _AUTOLINK.finditer(collapsed):
        out += [_MD_SPECIAL.sub(r"\\\1", collapsed[pos:match.start()]), _code(match.group())]
        pos = match.end()
    out.append(_MD_SPECIAL.sub(r"\\\1", collapsed[pos:]))
    return "".join(out)


def quoted_passage(citation: Citation, limit: int = QUOTE_CHARS) -> str:
    """The cited sentence(s) of a passage, or its opening when no sentence is marked."""
    text = citation.passage.text
    spans = sorted((max(0, a), min(len(text), b)) for a, b in citation.highlights if b > a)
    if spans:
        quote = " … ".join(text[a:b].strip() for a, b in spans)
    else:
        quote = text.strip()
    quote = _SPACE.sub(" ", quote)
    if len(quote) > limit:
        quote = quote[:limit].rsplit(" ", 1)[0] + " …"
    return quote


def footnote(q: int, citation: Citation) -> str:
    s = citation.source
    date = s.date_text
    url = _code(s.url) if s.url else "no URL"
    who = citation.segment
    parts = [
        md_escape(s.outlet),
        md_escape(date),
        url,
        md_escape(f"“{s.title}”") if s.title else None,
        md_escape(who) if who else None,
    ]
    head = ", ".join(p for p in parts if p)
    return f"[^{q}-{citation.n}]: {head}. Quoted passage: “{md_escape(quoted_passage(citation))}” " \
           f"Label: {md_escape(s.rating_text())}."


def answer_markdown(q: int, answer: Answer) -> tuple[str, list[str]]:
    """(the answer's section, its footnote lines)."""
    lines = [f"## {q}. {md_escape(answer.question)}", ""]
    if answer.standalone_query and answer.standalone_query != answer.question:
        lines += [f"*Searched for: {md_escape(answer.standalone_query)}*", ""]
    known = {c.n for c in answer.citations}
    for warning in answer.warnings:
        lines.append(f"> **Note:** {_with_footnote_refs(warning.text, q, known)}")
        lines.append(">")
    if answer.warnings:
        lines[-1:] = [""]
    for line in answer.answer.splitlines() or [""]:
        if line.strip():
            lines.append(_with_footnote_refs(line.strip(), q, known))
            lines.append("")
    if answer.refused and answer.closest:
        lines.append("*The documents do not answer this. Closest passages (not cited as evidence):*")
        lines.append("")
        for c in answer.closest:
            s = c.source
            lines.append(f"- {md_escape(s.outlet)}, {md_escape(s.published_iso or 'undated')}: "
                         f"“{md_escape(quoted_passage(c, 200))}”")
        lines.append("")
    mode = {AnswerMode.LLM: "language model", AnswerMode.OFFLINE: "offline (quoted sentences)"}.get(
        answer.mode, answer.mode.value)
    lines.append(f"*Answer mode: {md_escape(mode)}.*")
    lines.append("")
    notes = [footnote(q, c) for c in answer.citations]
    return "\n".join(lines), notes


def conversation_markdown(
    answers: Sequence[Answer] | Iterable[Answer],
    *,
    title: str = TITLE,
    exported_at: dt.datetime | str | None = None,
) -> str:
    """The whole conversation: one section per answer, footnotes at the end."""
    answers = list(answers)
    when = exported_at or dt.datetime.now().replace(microsecond=0)
    when = when.isoformat(sep=" ", timespec="minutes") if isinstance(when, dt.datetime) else str(when)
    out = [f"# {md_escape(title)}", "", f"Exported {md_escape(when)} · {len(answers)} question(s).", ""]
    out.append(
        "Quotes are verbatim from the indexed documents. Ratings describe the source, not each sentence: "
        "claims from partisan sources are that outlet's framing, not established fact."
    )
    out.append("")
    notes: list[str] = []
    for q, answer in enumerate(answers, start=1):
        section, answer_notes = answer_markdown(q, answer)
        out.append(section)
        notes.extend(answer_notes)
    if notes:
        out += ["---", "", *notes, ""]
    return "\n".join(out).rstrip() + "\n"


__all__ = ["conversation_markdown", "answer_markdown", "footnote", "md_escape", "quoted_passage"]
