"""Turn a raw page dump into clean, attributed segments.

A segment is one voice: the article body, a forum's opening post, or one reply or
comment, with the poster's name where the page shows one. Site chrome (image file
names, "What's new", "Back / Top / Bottom", subscribe/comment prompts, copyright and
footer lines, forum post headers) is dropped, and passages that a forum repeats when
posters quote each other are kept once, where they first appear.

    >>> doc = clean("Bo    发表于  3 小时前 | 显示全部楼层\\nBody text here.\\nphoto (1).jpg\\n"
    ...             "Ann    发表于  2 小时前 | 显示全部楼层\\nNice post.\\nBody text here.")
    >>> [(s.label, doc.text[s.start:s.end]) for s in doc.segments]
    [('opening post by Bo', 'Body text here.'), ('comment by Ann', 'Nice post.')]

The cleaned text is what the index stores and the UI shows: every chunk's offsets
point into it, so ``doc.text[chunk.start:chunk.end] == chunk.text``.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

from ..model import Segment, SegmentKind
from ..text import words

CLEANER_VERSION = "6"  # 6: HTML character references decoded

ARTICLE, OPENING_POST, COMMENT = SegmentKind.ARTICLE, SegmentKind.OPENING_POST, SegmentKind.COMMENT


@dataclass
class CleanDocument:
    text: str
    segments: list[Segment]


# Lines that are site chrome wherever they appear (matched against the stripped line).
_JUNK = [
    r".{0,160}\.(?:jpe?g|png|gif|webp|bmp|svg|tiff?)",  # image file names: "… (3).jpg", "640.jpg"
    r"what'?s new",
    r"back|top|bottom|top\s+bottom|back\s+top\s+bottom",
    r"last edited:?.{0,40}",
    r"click to expand\.*",
    r"subscribe to our .{0,60}",
    r"and for the channel in telegram:?",
    r"leave a (?:comment|reply)",
    r"this site uses akismet.*",
    r"(?:#[\w-]+\s*)+",  # hashtag rows
    r"home\s*».*",  # breadcrumbs
    r".{0,80}copyright\s*(?:©|\(c\)).*",
    r"©.{0,120}",
    r".{0,60}powered by .{0,60}",
    r"gmt[+-]\d+.{0,40}processed in .*",
    r"archiver\s*\|.*",
    r"您需要登录后才可以回帖.*",
    r"\d*\s*下一页",
    r"返回列表|显示全部楼层|只看该作者",
    r"share this:?|related(?: posts| articles)?:?|advertisement",
    r"translation:\s*\w{1,12}",  # translator credit (kept in the source registry instead)
    r"[\s.·•|_\-–—=*]*",  # punctuation-only lines and post separators
]
_JUNK_LINE = re.compile("|".join(f"(?:{p})" for p in _JUNK), re.I)
# Bylines ("Report by Fumitaro Kuroi"): only capitalised name words, no full stop (the author is in the registry).
_BYLINE = re.compile(r"(?:Report(?:ed)? by|Reporting and writing by:?|By)\s+(?:[A-Z][\w'-]*\.?\s?){1,5}")
_CHROME_PREFIX = re.compile(r"^/\s*[\w .]{3,40}/\s*")  # "/ world today news/ The bloc of …"
# Footnote references ("… of Japan. [5]") point at a bibliography the page dump lacks, and in an
# answer they would read as citation markers.
_FOOTNOTE_REF = re.compile(r"\s*\[\d{1,3}\](?=\s|$)")
_COMMENTS_START = re.compile(r"^(?:leave a (?:comment|reply)|\d+\s+comments?|\d*\s*(?:reader )?comments? \(\d+\))$", re.I)

# Discuz! forums (Chinese): "Adelaide    发表于  2 小时前 | 显示全部楼层"
_DISCUZ_HEADER = re.compile(r"^(?P<name>\S.{0,40}?)\s+发表于\s+.*$")
# XenForo-style profile block under the thread title: name, rank, Joined, date, Messages, n, Reaction score, n …
_XF_FIELDS = ("Joined", "Messages", "Reaction score", "Points", "Country", "Location")
_POST_SEPARATOR = re.compile(r"^\s*\.(?:\s*\.)*\s*$")


# An HTML character reference left in text copied out of a web page: "communiqu&#233;", "&#163;5m", "&amp;".
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def normalise(raw: str) -> str:
    """Line ends, Unicode form, spaces, and character references as the characters they stand for
    (the text is shown as plain text, never as HTML: "&lt;b&gt;" becomes "<b>" to read, not a tag).

    >>> normalise("G7 communiqu&#233; on &#163;5m &amp; more&nbsp;here; AT&T R&D")
    'G7 communiqué on £5m & more here; AT&T R&D'
    """
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    if "&" in text:
        text = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
    text = unicodedata.normalize("NFC", text)
    return text.lstrip("\ufeff").replace("\u00a0", " ").replace("\t", " ")


def clean(raw: str, comments: str | None = None) -> CleanDocument:
    """Clean ``raw`` into segments. ``comments`` is extra reader-comment text (from HTML extraction)."""
    lines = normalise(raw).split("\n")
    posts = _split_discuz(lines) or _split_xenforo(lines) or _split_article(lines)
    if comments and comments.strip():
        posts.append((COMMENT, None, "reader comments (posters not shown)", normalise(comments).split("\n")))

    builder = _Builder()
    for kind, speaker, label, post_lines in posts:
        builder.add(kind, speaker, label, post_lines)
    return builder.result()


class _Builder:
    def __init__(self):
        self.parts: list[str] = []
        self.segments: list[Segment] = []
        self.length = 0
        self.repeats = _RepeatDetector()

    def add(self, kind, speaker, label, lines):
        kept = []
        for line in lines:
            line = _FOOTNOTE_REF.sub("", _CHROME_PREFIX.sub("", line.strip())).strip()
            if not line or _JUNK_LINE.fullmatch(line) or (_BYLINE.fullmatch(line) and not line.endswith(".")):
                continue
            if self.repeats.seen(line):
                continue
            kept.append(line)
        if not kept:
            return
        if self.parts:
            self.parts.append("\n\n")
            self.length += 2
        body = "\n".join(kept)
        self.segments.append(Segment(kind, speaker, label, self.length, self.length + len(body)))
        self.parts.append(body)
        self.length += len(body)

    def result(self) -> CleanDocument:
        return CleanDocument("".join(self.parts), self.segments)


class _RepeatDetector:
    """Has this paragraph (or nearly all of it) appeared earlier in the document?

    Forum replies quote earlier posts, sometimes trimmed; a paragraph whose word
    4-grams were (>=80%) already seen is a quote and is kept only where it first appeared.
    """

    def __init__(self):
        self.exact: set[str] = set()
        self.shingles: set[tuple[str, ...]] = set()

    def seen(self, paragraph: str) -> bool:
        tokens = words(paragraph)
        key = " ".join(tokens)
        if not tokens or key in self.exact:
            return bool(tokens)
        grams = {tuple(tokens[i:i + 4]) for i in range(len(tokens) - 3)}
        if len(tokens) >= 8 and len(grams & self.shingles) >= 0.8 * len(grams):
            return True
        self.exact.add(key)
        self.shingles |= grams
        return False


def _split_article(lines):
    """A plain article; anything after a 'Leave a comment' / 'N Comments' marker is reader comments."""
    for i, line in enumerate(lines):
        # Only after some article text: a "Comment" kicker above an opinion piece is not a comment section.
        if _COMMENTS_START.match(line.strip()) and sum(len(l.strip()) for l in lines[:i]) > 200:
            return [
                (ARTICLE, None, "article body", lines[:i]),
                (COMMENT, None, "reader comments (posters not shown)", lines[i + 1:]),
            ]
    return [(ARTICLE, None, "article body", lines)]


def _split_discuz(lines):
    headers = [(i, m["name"].strip()) for i, line in enumerate(lines) if (m := _DISCUZ_HEADER.match(line.strip()))]
    if not headers:
        return None
    posts = []
    for n, (i, name) in enumerate(headers):
        end = headers[n + 1][0] if n + 1 < len(headers) else len(lines)
        if n == 0:  # the thread title above the first header belongs to the opening post
            posts.append((OPENING_POST, name, f"opening post by {name}", lines[:i] + lines[i + 1:end]))
        else:
            posts.append((COMMENT, name, f"comment by {name}", lines[i + 1:end]))
    return posts


def _split_xenforo(lines):
    stripped = [line.strip() for line in lines]
    try:
        joined = next(i for i, s in enumerate(stripped[:60]) if s == "Joined")
    except StopIteration:
        return None
    if "Messages" not in stripped[joined:joined + 6]:
        return None
    # Above "Joined": the thread title, the poster's name, then their rank ("ELITE MEMBER").
    above = [i for i in range(joined) if stripped[i] and not _JUNK_LINE.fullmatch(stripped[i])]
    if len(above) < 2:
        return None
    name = stripped[above[-2]]
    # Below: field/value pairs until the first line that is neither.
    body = joined
    while body < len(stripped) and (stripped[body] in _XF_FIELDS or not stripped[body]):
        body += 2 if stripped[body] in _XF_FIELDS else 1
    posts, current = [], []
    for line in lines[body:]:
        if _POST_SEPARATOR.match(line):
            posts.append(current)
            current = []
        else:
            current.append(line)
    posts.append(current)
    result = [(OPENING_POST, name, f"opening post by {name}", posts[0])]
    # The page shows no names after the first post; posts are labelled by thread position.
    for n, post in enumerate(posts[1:], start=2):
        result.append((COMMENT, None, f"post #{n} (poster not shown)", post))
    return result
