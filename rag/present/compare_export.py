"""A "Compare sources" result as one Markdown file, every quoted sentence footnoted.

    >>> from rag.answer import Comparison
    >>> print(comparison_markdown(Comparison("Kuril <b>talks</b>", 30, "", (), (), (), ()),
    ...                           exported_at="2026-01-02 10:00"))   # doctest: +ELLIPSIS
    # Compare sources: Kuril \\<b\\>talks\\</b\\>
    ...
    No outlet says anything on this topic in the passages retrieved.
    <BLANKLINE>

One section per outlet (its rating, dates, quotes); then the claims found only in partisan or
unrated sources, and the outlets that say nothing. Quote ``n`` is footnote ``[^n]``: outlet,
title, date and document id. Everything that comes from documents or from the person asking
is escaped as in the conversation export (``rag.present.export.md_escape``): document text can
make no link, image or HTML, and a bare URL becomes a code span.
"""

from __future__ import annotations

import datetime as dt

from ..answer import Comparison, OutletRef, OutletView, Quote
from ..model import Rating, SegmentKind
from .export import md_escape

TITLE = "Compare sources"


def comparison_markdown(comparison: Comparison, *, exported_at: dt.datetime | str | None = None) -> str:
    when = exported_at or dt.datetime.now().replace(microsecond=0)
    when = when.isoformat(sep=" ", timespec="minutes") if isinstance(when, dt.datetime) else str(when)
    c = comparison
    out = [f"# {TITLE}: {md_escape(c.topic)}", "",
           f"Exported {md_escape(when)} · {len(c.outlets)} outlet(s) · {c.k} passages searched"
           + (f" · {md_escape(c.filters)}" if c.filters else "") + ".", "",
           "Quotes are verbatim from the indexed documents. Ratings describe the source, not each sentence: "
           "claims from partisan sources are that outlet's framing, not established fact.", ""]
    for warning in c.warnings:
        out += [f"> **Note:** {md_escape(warning.text)}", ""]
    if not c.outlets:
        out += ["No outlet says anything on this topic in the passages retrieved.", ""]
    for view in c.outlets:
        out += [f"## {md_escape(view.outlet)}", "",
                f"*{md_escape(view.badge.text)} · {md_escape(', '.join(view.dates) or 'undated')} · "
                f"{view.mentions} sentence(s) on the topic*", ""]
        out += [_quote_line(q) for q in view.quotes] + [""]
    if c.only_in:
        out += ["## Only in partisan or unrated sources", ""]
        for claim in c.only_in:
            kinds = " and ".join(k.value for k in claim.kinds)
            out.append(f"- “{md_escape(claim.text)}” [^{claim.n}] — found only in {md_escape(kinds)} sources "
                       f"({md_escape('; '.join(claim.outlets))})")
        out.append("")
    out += _refs("Silent: outlets that say nothing on this topic", c.silent)
    out += _refs(f"On the topic, but not in the {c.k} passages retrieved", c.not_retrieved)
    notes = [_footnote(view, q) for view in c.outlets for q in view.quotes]
    if notes:
        out += ["---", "", *notes, ""]
    return "\n".join(out).rstrip() + "\n"


def _quote_line(q: Quote) -> str:
    line = f"- “{md_escape(q.text)}” [^{q.n}]"
    if q.cues:
        words = ", ".join(f"“{md_escape(c.text)}” ({md_escape(c.kind.title)})" for c in q.cues)
        line += f" — marked words: {words}"
    return line


def _refs(heading: str, refs: tuple[OutletRef, ...]) -> list[str]:
    if not refs:
        return []
    lines = [f"## {md_escape(heading)}", ""]
    for ref in refs:
        rating = "" if ref.badge.rating is Rating.UNRATED else f" ({md_escape(ref.badge.text)})"
        lines.append(f"- {md_escape(ref.outlet)}{rating}")
    return lines + [""]


def _footnote(view: OutletView, q: Quote) -> str:
    parts = [md_escape(view.outlet), md_escape(f"“{q.title}”") if q.title else None, md_escape(q.date or "undated"),
             f"document {md_escape(q.doc_id)}",
             md_escape(q.segment) if q.segment_kind is not SegmentKind.ARTICLE else None]
    return f"[^{q.n}]: " + ", ".join(p for p in parts if p) + f". Label: {md_escape(view.badge.text)}."


__all__ = ["comparison_markdown"]
