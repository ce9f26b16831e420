"""HTML for "Compare sources" (a ``rag.Comparison``): per-outlet card heads, quotes, and the lists
under the cards. Pure functions, no streamlit, the rule of ``ui.render``: every piece of text from a
document, its metadata or the person asking is escaped, and markup is only ever our own. Loaded
words are marked by their offsets in the quote (``render.spans_html``), never with the document's HTML.
"""

from __future__ import annotations

from rag import Badge, Comparison, OutletRef, OutletView, Quote, Rating, SegmentKind
from ui import render
from ui.render import Span, esc

LOADED = "Loaded words are underlined (advisory); the rating describes the outlet, not each sentence."


def badge_html(badge: Badge) -> str:
    """The same badge as a chat citation's (registry / user / unrated), with the rater's reasons."""
    out = render.rating_badge_html(badge.rating, badge.label, badge.origin, badge.registry_match)
    if badge.rationale and badge.rating is not Rating.UNRATED:
        out += (f'<details class="rag-why"><summary>Why this rating</summary>'
                f'<div class="rag-rationale">{esc(badge.rationale)}</div></details>')
    return out


def summary_html(c: Comparison) -> str:
    parts = [f"{len(c.outlets)} outlet{'s' if len(c.outlets) != 1 else ''} on “{esc(c.topic)}”",
             f"{c.k} passages searched"]
    if c.filters:
        parts.append(esc(c.filters))
    return f'<div class="rag-cmp-summary">{" · ".join(parts)}. {LOADED}</div>'


def head_html(view: OutletView) -> str:
    """A card's head: the outlet, its badge, when it published and how much it says."""
    dates = ", ".join(view.dates) or "undated"
    docs = len(view.doc_ids)
    meta = f"{esc(dates)} · {view.mentions} sentence{'s' if view.mentions != 1 else ''} on the topic"
    meta += f" · {docs} document{'s' if docs != 1 else ''}"
    return (f'<div class="rag-cmp-head rag-cite-{render.rating_class(view.badge)}" data-outlet="{esc(view.outlet)}">'
            f'<div class="rag-outlet">{esc(view.outlet)}</div><div class="rag-cmp-badge">{badge_html(view.badge)}</div>'
            f'<div class="rag-meta">{meta}</div></div>')


def quote_html(q: Quote) -> str:
    """A dated sentence, verbatim, its loaded words underlined; whose words when not the outlet's own."""
    spans = [Span(c.start, c.end, "rag-cue", c.kind.title) for c in q.cues]
    who = q.segment if q.segment_kind is not SegmentKind.ARTICLE else None
    meta = " · ".join(esc(x) for x in (q.date or "undated", who) if x)
    title = f' · <span class="rag-cmp-title">{esc(q.title)}</span>' if q.title else ""
    text = _quoted(q.text, render.spans_html(q.text, spans))
    return (f'<div class="rag-cmp-quote" data-doc="{esc(q.doc_id)}" data-n="{q.n}">'
            f'<span class="rag-n">[{q.n}]</span> {text}'
            f'<div class="rag-meta">{meta}{title}</div></div>')


def _quoted(text: str, markup: str) -> str:
    """In quotation marks, unless the sentence opens with its own."""
    return markup if text.startswith(("“", '"', "‘", "'", "«", "「")) else f"“{markup}”"


def only_in_html(c: Comparison) -> str:
    if not c.only_in:
        return ('<div class="rag-cmp-section"><div class="rag-sources-title">Only in partisan or unrated sources</div>'
                '<div class="rag-empty">No quoted claim is found only in partisan or unrated sources.</div></div>')
    items = "".join(
        f'<li><span class="rag-n">[{x.n}]</span> {_quoted(x.text, esc(x.text))} — {esc(x.outlet)}. '
        f'<span class="rag-meta">Found only in {esc(" and ".join(k.value for k in x.kinds))} sources: '
        f'{esc("; ".join(x.outlets))}.</span></li>' for x in c.only_in)
    return ('<div class="rag-cmp-section" data-testid="rag-only-in"><div class="rag-sources-title">Only in partisan '
            f'or unrated sources</div><ul class="rag-cmp-list">{items}</ul></div>')


def refs_html(title: str, refs: tuple[OutletRef, ...], testid: str, empty: str | None = None) -> str:
    """Outlets named without quotes (silent, or on the topic outside the passages searched)."""
    if not refs:
        return (f'<div class="rag-cmp-section"><div class="rag-sources-title">{esc(title)}</div>'
                f'<div class="rag-empty">{esc(empty)}</div></div>') if empty else ""
    items = "".join(f'<li data-outlet="{esc(r.outlet)}"><span class="rag-outlet">{esc(r.outlet)}</span> '
                    f'{render.rating_badge_html(r.badge.rating, r.badge.label, r.badge.origin, r.badge.registry_match)}'
                    f'</li>' for r in refs)
    return (f'<div class="rag-cmp-section" data-testid="{esc(testid)}"><div class="rag-sources-title">{esc(title)}'
            f'</div><ul class="rag-cmp-list">{items}</ul></div>')


def error_html(message: str) -> str:
    """One line: the cause and the fix (a ``rag.QuestionError``'s own words)."""
    return f'<div class="rag-failed" role="alert">{esc(message)}</div>'
