"""HTML for everything the app shows from documents, built by hand from escaped text.

No streamlit here: these are pure functions (tested directly). The rule is simple:
every piece of text that comes from a document, its metadata, an answer or the person
asking goes through ``esc`` (``html.escape``) before it is put between our own tags, and
markup is only ever our own (<mark>, <span class="…">, <p>, <div>). Nothing is a link,
nothing is an image, and "$", "*", "_", "[", "<" show as themselves because no Markdown
renderer ever sees the text.
"""

from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass
from typing import Iterable

from rag import CITATION_MARKER as MARKER  # the one citation-marker syntax, shared with the support check
from rag import CueKind, Failure, Rating, RatingOrigin, SegmentKind, Warning, WarningKind

UNSUPPORTED_TAG = re.compile(r"\s*\[unsupported: ([^\]]*)\]")
_RATING_CLASS = {Rating.PARTISAN: "partisan", Rating.NOT_PARTISAN: "rated", Rating.UNRATED: "unrated"}


def esc(text) -> str:
    return html.escape("" if text is None else str(text), quote=True)


# -- spans -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Span:
    start: int
    end: int
    cls: str
    title: str | None = None
    anchor: str | None = None  # element id on the span's first piece (scroll target)


def spans_html(text: str, spans: Iterable[Span]) -> str:
    """``text`` escaped, with possibly overlapping class spans (split where they cross)."""
    n = len(text)
    spans = [Span(max(0, s.start), min(n, s.end), s.cls, s.title, s.anchor) for s in spans]
    spans = [s for s in spans if s.end > s.start]
    if not spans:
        return esc(text)
    cuts = sorted({0, n, *(s.start for s in spans), *(s.end for s in spans)})
    out, anchored = [], set()
    for a, b in zip(cuts, cuts[1:]):
        if a >= b:
            continue
        piece = esc(text[a:b])
        active = [s for s in spans if s.start <= a and b <= s.end]
        if not active:
            out.append(piece)
            continue
        classes = " ".join(dict.fromkeys(c for s in active for c in s.cls.split()))
        titles = "; ".join(dict.fromkeys(s.title for s in active if s.title))
        attrs = f' class="{esc(classes)}"'
        if titles:
            attrs += f' title="{esc(titles)}"'
        for s in active:
            if s.anchor and s.anchor not in anchored:
                attrs += f' id="{esc(s.anchor)}"'
                anchored.add(s.anchor)
                break
        tag = "mark" if any("rag-hl" in s.cls.split() for s in active) else "span"
        out.append(f"<{tag}{attrs}>{piece}</{tag}>")
    return "".join(out)


# -- badges --------------------------------------------------------------------------------------
def rating_class(source) -> str:
    """The CSS class of a source's rating: partisan, rated or unrated."""
    return _RATING_CLASS[source.rating]


def badge_html(source, with_label: bool = True) -> str:
    """The rating badge: Partisan / Not partisan / Unrated (unverified), its label, and where the
    rating comes from when it is the outlet registry's (what matched, on hover and in words)."""
    return rating_badge_html(source.rating, source.label, source.rating_origin, source.registry_match, with_label)


def rating_badge_html(rating: Rating, label: str | None, origin: RatingOrigin, registry_match: str | None = None,
                      with_label: bool = True) -> str:
    """``badge_html`` from its parts (a ``rag.Badge`` of an outlet has them under other names)."""
    kind = _RATING_CLASS[rating]
    icon = "⚠ " if rating is Rating.PARTISAN else ""
    title = "Unrated · unverified" if rating is Rating.UNRATED else rating.title
    out = f'<span class="rag-badge rag-badge-{kind}">{icon}{esc(title)}</span>'
    if with_label and rating is not Rating.UNRATED and label:
        out += f' <span class="rag-label">{esc(label)}</span>'
    if with_label and origin is RatingOrigin.REGISTRY:
        out += (f' <span class="rag-origin" title="{esc(registry_match or "")}">registry match</span>')
    return out


# -- answers -----------------------------------------------------------------------------------
def _markers_html(text: str) -> str:
    """Escape text and style its [n] markers as citation chips (the visible text stays "[n]")."""
    out, pos = [], 0
    for m in MARKER.finditer(text):
        out.append(esc(text[pos:m.start()]))
        for number in re.split(r"\s*,\s*", m.group(1)):
            out.append(f'<span class="rag-ref" title="source {esc(number)}">[{esc(number)}]</span>')
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def _line_html(line: str, unsupported: Iterable[str]) -> str:
    """One answer line; sentences the support check rejected are wrapped and labelled."""
    pieces, pos = [], 0
    for tag in UNSUPPORTED_TAG.finditer(line):
        before = line[pos:tag.start()]
        sentence_start = None
        for sentence in unsupported:
            if sentence and before.endswith(sentence.rstrip()):
                sentence_start = len(before) - len(sentence.rstrip())
                break
        if sentence_start is None:  # fall back to the text since the previous sentence end
            cut = max(before.rfind(". "), before.rfind("? "), before.rfind("! "))
            sentence_start = cut + 2 if cut >= 0 else 0
        pieces.append(_markers_html(before[:sentence_start]))
        pieces.append(
            f'<span class="rag-unsupported" title="Not supported by the cited passage">'
            f"{_markers_html(before[sentence_start:])}</span>"
            f'<span class="rag-unsupported-tag">not supported: {esc(tag.group(1))}</span>'
        )
        pos = tag.end()
    pieces.append(_markers_html(line[pos:]))
    return "".join(pieces)


def answer_html(text: str, unsupported: Iterable[str] = (), refused: bool = False, streaming: bool = False) -> str:
    unsupported = list(unsupported)
    lines = [line for line in (text or "").split("\n") if line.strip()]
    body = "".join(f"<p>{_line_html(line, unsupported)}</p>" for line in lines)
    if streaming:  # a blinking caret after the last piece while tokens arrive
        cursor = '<span class="rag-cursor" aria-hidden="true">▍</span>'
        body = body[:-4] + f" {cursor}</p>" if body else f"<p>{cursor}</p>"
    classes = "rag-answer" + (" rag-refused" if refused else "") + (" rag-streaming" if streaming else "")
    return f'<div class="{classes}">{body or "<p>…</p>"}</div>'


def user_html(question: str) -> str:
    return f'<div class="rag-question">{esc(question)}</div>'


def searched_for_html(query: str) -> str:
    return f'<div class="rag-searched">Searched for: <span>{esc(query)}</span></div>'


# Where each kind of warning goes: these in the banner above the answer (in this order), the LLM
# fallback in its own box (notice_html), every other kind in the notes below the answer.
BANNER = {WarningKind.PROMPT_INJECTION: "rag-w-partisan", WarningKind.INDEX_INCOMPLETE: "rag-w-onesided",
          WarningKind.PARTISAN_SOURCE: "rag-w-partisan", WarningKind.ONE_SIDED: "rag-w-onesided"}


def banner_html(warnings: Iterable[Warning]) -> str:
    """The answer-level banner: partisan sources and one-sided evidence, calm but hard to miss."""
    warnings = list(warnings)
    items = [f'<li class="{BANNER[w.kind]}">{_markers_html(w.text)}</li>'
             for kind in BANNER for w in warnings if w.kind is kind]
    if not items:
        return ""
    title = "Read with care"
    return (
        f'<div class="rag-banner" role="note"><div class="rag-banner-title">⚠ {title}</div>'
        f'<ul>{"".join(items)}</ul></div>'
    )


def notes_html(warnings: Iterable[Warning]) -> str:
    warnings = list(warnings)
    notes = [w for w in warnings if w.kind not in BANNER and w.kind is not WarningKind.LLM_FALLBACK]
    notes.sort(key=lambda w: w.kind is not WarningKind.COMMENT)  # comment notes first (a stable sort)
    items = [f"<li>{_markers_html(w.text)}</li>" for w in notes]
    return f'<ul class="rag-notes">{"".join(items)}</ul>' if items else ""


def notice_html(notice: str) -> str:
    return f'<div class="rag-notice">{esc(notice)}</div>'


# -- citations ---------------------------------------------------------------------------------
def who_text(citation) -> str:
    """Author for the outlet's own text; the poster for a forum post or comment."""
    if citation.passage.segment_kind in (SegmentKind.COMMENT, SegmentKind.OPENING_POST):
        return citation.segment
    author = citation.source.author
    return f"by {author}" if author else "no byline"


def _snap_start(text: str, a: int, limit: int) -> int:
    """Move ``a`` forward to the first sentence or line start before ``limit`` (if there is one)."""
    if a <= 0:
        return 0
    m = re.search(r"(?:[.!?…][”\"’)]?\s+|\n)", text[a:limit])
    return a + m.end() if m else a


def _snap_end(text: str, b: int, floor: int) -> int:
    """Move ``b`` back to the last sentence or line end at or after ``floor`` (if there is one)."""
    if b >= len(text):
        return len(text)
    ends = [m.end() for m in re.finditer(r"[.!?…][”\"’)]?(?=\s)|\n", text[floor:b])]
    return floor + ends[-1] if ends else b


def excerpt_windows(text: str, spans: list[tuple[int, int]], context: int = 170) -> list[tuple[int, int]]:
    """Windows of text around the cited sentences (merged when they touch), snapped to sentences."""
    if not spans:
        return [(0, _snap_end(text, min(len(text), 420), 0))]
    windows: list[list[int]] = []
    for a, b in sorted(spans):
        lo, hi = max(0, a - context), min(len(text), b + context)
        if windows and lo <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], hi)
            windows[-1][2] = b
        else:
            windows.append([lo, hi, b, a])
    out: list[tuple[int, int]] = []
    for lo, hi, last_end, first_start in windows:
        a, b = _snap_start(text, lo, first_start), _snap_end(text, hi, last_end)
        if out and a - out[-1][1] < 2 * context:  # a short gap reads better than "… …"
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def passage_html(citation, dim: bool = True) -> str:
    """The cited sentence(s) in their immediate context, and the whole passage one click away."""
    text = citation.passage.text
    highlights = [(max(0, a), min(len(text), b)) for a, b in citation.highlights if b > a]
    spans = [Span(a, b, "rag-hl") for a, b in highlights]
    spans += [Span(c.start, c.end, "rag-cue", c.kind.title) for c in citation.cues]
    cls = "rag-passage" + (" rag-dim" if dim and highlights else "")
    windows = excerpt_windows(text, highlights)
    if windows == [(0, len(text))] or (len(windows) == 1 and windows[0][0] == 0
                                       and windows[0][1] >= len(text.rstrip())):
        return f'<div class="{cls}">{spans_html(text, spans)}</div>'
    pieces = []
    for a, b in windows:
        a += len(text[a:b]) - len(text[a:b].lstrip())
        b = a + len(text[a:b].rstrip())
        local = [Span(s.start - a, s.end - a, s.cls, s.title) for s in spans if s.end > a and s.start < b]
        pieces.append(("… " if a > 0 else "") + spans_html(text[a:b], local) + (" …" if b < len(text) else ""))
    excerpt = f'<div class="{cls}">{"<br>".join(pieces)}</div>'
    whole = (f'<details class="rag-more"><summary>Show the whole passage ({len(text):,} characters)</summary>'
             f'<div class="{cls}">{spans_html(text, spans)}</div></details>')
    return excerpt + whole


def cues_html(cues) -> str:
    """Loaded words (with why each was marked), and, apart, sentences addressed to a model."""
    seen = {}
    for c in cues:
        if c.kind is not CueKind.INSTRUCTION:
            seen.setdefault(c.text.lower(), c)
    out = "".join(
        '<div class="rag-injection" role="note">⚠ Possible prompt injection (addressed to an AI model, not '
        f'reporting; never used as evidence): <span class="rag-cue-word">“{esc(c.text)}”</span></div>'
        for c in cues if c.kind is CueKind.INSTRUCTION)
    if seen:
        words = ", ".join(
            f'<span class="rag-cue-word">“{esc(c.text)}”</span> <span class="rag-cue-kind">({esc(c.kind.title)})</span>'
            for c in seen.values()
        )
        out += f'<div class="rag-cues">Loaded words in this passage (advisory): {words}</div>'
    return out


def framing_html(citation) -> str:
    """The framing warning beside a partisan citation: label, rationale, loaded words found; a
    note beside an unrated one (its claims are unverified)."""
    s = citation.source
    if s.rating is Rating.UNRATED:
        return ('<div class="rag-unrated-note">Unrated source: nobody has rated this outlet, so its claims are '
                f"attributed to it, not stated as fact.</div>{cues_html(citation.cues)}")
    if not s.partisan:
        return cues_html(citation.cues)
    rated = ""
    if s.rated_by or s.rated_on:
        rated = " Rated" + (f" by {esc(s.rated_by)}" if s.rated_by else "") + (f" on {esc(s.rated_on)}" if s.rated_on else "") + "."
    rationale = (f'<details class="rag-why"><summary>Why this rating</summary>'
                 f'<div class="rag-rationale">{esc(s.rationale)}{rated}</div></details>') if s.rationale else ""
    origin = (f'<div class="rag-framing-text">Rating from {esc(s.registry_match)}.</div>'
              if s.rating_origin is RatingOrigin.REGISTRY else "")
    return (
        '<div class="rag-framing" role="note">'
        f'<div class="rag-framing-title">⚠ Framing warning: this source is rated “{esc(s.label)}”.</div>'
        f'<div class="rag-framing-text">Treat its claims as this outlet\'s framing, not as established fact.</div>'
        f"{origin}{cues_html(citation.cues)}{rationale}</div>"
    )


def citation_html(citation, closest: bool = False) -> str:
    s = citation.source
    number = f'<span class="rag-n">{"·" if closest else f"[{citation.n}]"}</span>'
    meta = " · ".join(esc(x) for x in (who_text(citation), s.date_text, s.doc_type) if x)
    if s.published_iso and s.published and s.published != s.published_iso:
        given = s.published if len(s.published) <= 60 else s.published[:57].rstrip() + "…"
        meta += f' <span class="rag-datebasis" title="{esc(s.published)}">(date as given: {esc(given)})</span>'
    title = f'<div class="rag-title">{esc(s.title)}</div>' if s.title else ""
    return (
        f'<div class="rag-cite rag-cite-{rating_class(s)}" data-doc="{esc(citation.doc_id)}" data-n="{citation.n}">'
        f'<div class="rag-cite-head">{number}<span class="rag-outlet">{esc(s.outlet)}</span> {badge_html(s)}</div>'
        f"{title}"
        f'<div class="rag-meta">{meta}</div>'
        f"{framing_html(citation) if not closest else ''}"
        f"{passage_html(citation)}"
        "</div>"
    )


# -- the whole document ----------------------------------------------------------------------
def document_html(doc, start: int | None = None, end: int | None = None,
                  highlights: Iterable[tuple[int, int]] = (), anchor: str | None = None) -> tuple[str, str]:
    """(html, anchor id): the cleaned text, segment labels inline, the passage and cited sentences marked.

    ``start``/``end`` are the passage offsets in ``doc.text``; ``highlights`` are absolute offsets.
    """
    text = doc.text
    anchor = anchor or f"rag-target-{secrets.token_hex(4)}"
    spans: list[Span] = []
    highlights = [(a, b) for a, b in highlights if b > a]
    if start is not None and end is not None and end > start:
        spans.append(Span(start, end, "rag-psg", None, None if highlights else anchor))
    for i, (a, b) in enumerate(sorted(highlights)):
        spans.append(Span(a, b, "rag-hl", None, anchor if i == 0 else None))
    # Segment labels go in at segment starts when the document has more than one voice.
    label_at = {}
    if len(doc.segments) > 1:
        for seg in doc.segments:
            label_at.setdefault(seg.start, seg.label)
    cuts = sorted({0, len(text), *label_at})
    parts = []
    for a, b in zip(cuts, cuts[1:]):
        if a in label_at:
            parts.append(f'<span class="rag-seg">{esc(label_at[a])}</span>')
        local = [Span(s.start - a, s.end - a, s.cls, s.title, s.anchor) for s in spans if s.end > a and s.start < b]
        parts.append(spans_html(text[a:b], local))
    return f'<div class="rag-doc" id="{anchor}-box">{"".join(parts)}</div>', anchor


def scroll_script(anchor: str) -> str:
    """Our own constant script (no document text in it): scroll the marked passage into view.

    No "<" in it: DOMPurify drops a script whose text looks like markup ("n<60").
    """
    safe = re.sub(r"[^\w-]", "", anchor)
    return (
        "<script>(function(){var n=0;function go(){"
        f"var box=document.getElementById('{safe}-box');var t=document.getElementById('{safe}');"
        "n+=1;if(!box||!t){if(60>n){setTimeout(go,50);}return;}"
        "var d=t.getBoundingClientRect().top-box.getBoundingClientRect().top;"
        "box.scrollTop=Math.max(0,box.scrollTop+d-box.clientHeight/4);"
        "box.setAttribute('data-scrolled','1');"
        "if(4>n){setTimeout(go,150);}}"
        "setTimeout(go,30);})();</script>"
    )


def origin_text(source) -> str:
    """Where a rating comes from, in words."""
    if source.rating_origin is RatingOrigin.REGISTRY:
        return f"the outlet registry: {source.registry_match}"
    if source.rating_origin is RatingOrigin.USER:
        return "the newsroom (corpus registry, sidecar or upload form)"
    return "nobody: unrated"


def doc_header_html(doc) -> str:
    """Title, one line of who/when/what, the rating; the rest folded under "About this source"."""
    s = doc.source
    line = " · ".join(esc(x) for x in (s.outlet, s.author and f"by {s.author}", s.date_text, s.doc_type) if x)
    rows = [
        ("Date as given", s.published if s.published and s.published != s.published_iso else None),
        ("How dated", s.date_basis), ("URL (not opened)", s.url), ("Language", s.translation or s.language),
        ("Rating", f"{s.label}" + (f" — {s.rationale}" if s.rationale else "")),
        ("Rated by", ", ".join(x for x in (s.rated_by, s.rated_on, s.confidence and f"confidence {s.confidence}") if x)),
        ("Rating from", origin_text(s)),
        ("Document id", doc.doc_id),
    ]
    body = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows if v)
    return (
        f'<div class="rag-doc-head"><div class="rag-title">{esc(s.title)}</div>'
        f'<div class="rag-meta">{line}</div><div class="rag-doc-rating">{badge_html(s)}</div>'
        f'<details class="rag-more"><summary>About this source</summary><dl>{body}</dl></details></div>'
    )


def failures_html(failed: Iterable[Failure], title: str = "Some documents could not be indexed") -> str:
    items = "".join(f"<li><code>{esc(f.path)}</code>: {esc(f.reason)}</li>" for f in failed)
    return f'<div class="rag-failed" role="alert"><div class="rag-failed-title">{esc(title)}</div><ul>{items}</ul></div>'
