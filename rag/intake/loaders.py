"""Read .txt, .md, .html, .mhtml and .pdf files into text plus metadata, or say clearly why not.

A web page (.html, or .mhtml: "Save page as… Webpage, Single File") is read by trafilatura; what
it leaves out of the title, URL, outlet and date is taken from the page's own meta tags (and an
.mhtml's ``Snapshot-Content-Location`` header); a sidecar still wins over both.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "note.md"
    >>> _ = p.write_text("---\\noutlet: Kyodo\\n---\\nTokyo said so.")
    >>> loaded = load_file(p, max_bytes=10_000)
    >>> loaded.doc_id, loaded.meta["outlet"], loaded.text
    ('note', 'Kyodo', 'Tokyo said so.')
"""

from __future__ import annotations

import datetime as dt
import email
import re
import urllib.parse
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from ..errors import BadFile, MetadataError
from .sources import read_sidecar, split_front_matter

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".mhtml", ".mht", ".pdf")
_UNSAFE = re.compile(r"[^\w.\-]+")


@dataclass
class LoadedFile:
    path: Path
    doc_id: str
    raw: bytes
    text: str
    comments: str | None = None  # reader comments found by the HTML extractor
    meta: dict = field(default_factory=dict)  # from front matter / HTML metadata / sidecar (sidecar wins)


def doc_id_for(path: Path, folder: Path | None = None) -> str:
    """A file's document id: its name without the extension, odd characters replaced; for a file
    in a subfolder of the folder being ingested, its path from there, joined by "__", so that
    ``2023/report.pdf`` and ``2024/report.pdf`` are two documents.

    >>> doc_id_for(Path("Report (final) 2024.pdf"))
    'Report_final_2024'
    >>> doc_id_for(Path("/archive/bbc/business/001.txt"), folder=Path("/archive/bbc"))
    'business__001'
    """
    parts = list(Path(path).relative_to(folder).parent.parts) if folder else []
    names = [_UNSAFE.sub("_", part).strip("_") for part in parts] + [_UNSAFE.sub("_", Path(path).stem).strip("_")]
    return "__".join(name for name in names if name) or "document"


def safe_file_name(name: str) -> str:
    """A plain file name for an upload (no folders, no odd characters), whose id is ``doc_id_for`` it.

    >>> safe_file_name("../../etc/Report (final).PDF")
    'Report_final.pdf'
    """
    base = Path(name.replace("\\", "/")).name
    stem = doc_id_for(Path(base)).strip("._") or "document"
    return f"{stem[:80]}{Path(base).suffix.lower()}"


def safe_folder_name(name: str) -> str:
    """A folder name for an unpacked archive: odd characters replaced as ``doc_id_for`` does,
    no leading or trailing dots, at most 80 characters ("" when nothing is left).

    >>> safe_folder_name("Desk files (2024)"), safe_folder_name("..")
    ('Desk_files_2024', '')
    """
    return _UNSAFE.sub("_", name).strip("._")[:80].strip("._")


def load_file(path: Path, max_bytes: int | None = None, doc_id: str | None = None) -> LoadedFile:
    """The file's text and metadata as the index will read them (before cleaning); BadFile says why not.
    ``max_bytes``: refuse larger files (None: no limit). ``doc_id``: default ``doc_id_for(path)``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise BadFile(f"unsupported file type '{suffix or '(none)'}' (supported: {', '.join(SUPPORTED)})")
    try:
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise BadFile(f"file is {_size(size)}, over the {_size(max_bytes)} limit (RAG_MAX_FILE_MB)")
        raw = path.read_bytes()
    except OSError as error:
        raise BadFile(f"cannot read file: {error.strerror or error}") from None
    if not raw.strip():
        raise BadFile("file is empty")

    meta: dict = {}
    comments = None
    if suffix == ".pdf":
        text, meta = _read_pdf(raw)
    elif suffix in (".mhtml", ".mht"):
        text, comments, meta = _read_mhtml(raw)
    else:
        text = _decode(raw)
        if suffix in (".html", ".htm"):
            text, comments, meta = _read_html(text)
        else:
            try:
                meta, text, _ = split_front_matter(text, path.name)
            except MetadataError as error:
                raise BadFile(str(error)) from None
    if not text.strip():
        raise BadFile("no text left after extraction (nothing to index)")
    try:
        meta = {**meta, **read_sidecar(path)}
    except MetadataError as error:
        raise BadFile(str(error)) from None
    return LoadedFile(path, doc_id or doc_id_for(path), raw, text, comments, meta)


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1_000_000 else f"{n / 1e3:.0f} KB"


def _decode(raw: bytes) -> str:
    if b"\x00" in raw[:8192] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BadFile("looks like a binary file (contains NUL bytes), not text")
    for encoding in ("utf-8-sig", "utf-16") if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else ("utf-8-sig",):
        try:
            return _check_text(raw.decode(encoding))
        except UnicodeDecodeError:
            pass
    try:  # Legacy newsroom files are often Windows-1252; it still rejects five undefined bytes.
        return _check_text(raw.decode("cp1252"))
    except UnicodeDecodeError:
        raise BadFile("cannot decode the file as UTF-8 or Windows-1252 text") from None


def _check_text(text: str) -> str:
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\t\n\r\f")
    if controls > max(3, len(text) // 100):
        raise BadFile("looks like binary data, not text (too many control characters)")
    return text


def _read_mhtml(raw: bytes) -> tuple[str, str | None, dict]:
    """A page saved as one file: a MIME message whose text/html part is the page (read as HTML)."""
    message = email.message_from_bytes(raw)
    location = (message.get("Snapshot-Content-Location") or "").strip() or None
    pages = [part for part in message.walk() if part.get_content_type() == "text/html"]
    if not pages:
        raise BadFile("no web page (text/html part) in the .mhtml file; save the page again as 'Webpage, Single File'")
    page = next((p for p in pages if location and (p.get("Content-Location") or "").strip() == location), pages[0])
    body = page.get_payload(decode=True) or b""
    try:
        html = body.decode(page.get_content_charset() or "utf-8-sig")
    except (LookupError, UnicodeDecodeError):
        html = _decode(body)
    return _read_html(html, location)


def _read_html(html: str, location: str | None = None) -> tuple[str, str | None, dict]:
    """Main text, reader comments and metadata; ``location``: where the page was saved from (.mhtml)."""
    import trafilatura

    result = trafilatura.bare_extraction(
        html, include_comments=True, include_tables=True, include_images=False, include_links=False,
        with_metadata=True, favor_precision=True,
    )
    if result is None:
        raise BadFile("no main text found in the HTML page")
    data = result.as_dict() if hasattr(result, "as_dict") else dict(result)
    meta = {
        key: data.get(src)
        for key, src in (("title", "title"), ("author", "author"), ("outlet", "sitename"), ("url", "url"))
        if data.get(src)
    }
    if data.get("date"):
        meta["published"] = data["date"]
        meta["published_iso"] = data["date"][:10]
    for key, value in _page_meta(html, location).items():  # only what trafilatura did not find
        meta.setdefault(key, value)
    return data.get("text") or "", data.get("comments") or None, meta


def _page_meta(html: str, location: str | None = None) -> dict:
    """What a page's <head> says about itself (its text is only parsed, never rendered).

    >>> _page_meta('<head><title>Talks resume</title><meta property="og:site_name" content="Kyodo News">'
    ...            '<meta property="article:published_time" content="2024-03-12T09:30:00+09:00"></head>',
    ...            "https://english.kyodonews.net/news/1")
    {'url': 'https://english.kyodonews.net/news/1', 'title': 'Talks resume', 'outlet': 'Kyodo News', \
'published': '2024-03-12T09:30:00+09:00', 'published_iso': '2024-03-12'}
    """
    head = _Head()
    end = re.search(r"<body[\s>]|</head\s*>", html, re.I)
    head.feed(html[: end.start()] if end else html)
    tags = head.meta
    found = {
        "url": next((u for u in (tags.get("og:url"), head.canonical, location) if _web_address(u)), None),
        "title": tags.get("og:title") or head.title,
        "outlet": tags.get("og:site_name"),
        "published": tags.get("article:published_time") or tags.get("date"),
    }
    day = re.match(r"\d{4}-\d{2}-\d{2}", found["published"] or "")
    try:
        found["published_iso"] = day and dt.date.fromisoformat(day[0]).isoformat()
    except ValueError:  # "2024-02-30": kept as written, not as a date to sort by
        pass
    return {key: value for key, value in found.items() if value}


class _Head(HTMLParser):
    """<meta property|name=... content=...>, <link rel=canonical> and <title>, first of each."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.canonical: str | None = None
        self.title: str | None = None
        self._title: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {k.lower(): " ".join((v or "").split()) for k, v in attrs}
        if tag == "meta" and a.get("content"):
            self.meta.setdefault((a.get("property") or a.get("name") or "").lower(), a["content"])
        elif tag == "link" and "canonical" in a.get("rel", "").lower().split() and self.canonical is None:
            self.canonical = a.get("href") or None
        elif tag == "title" and self.title is None:
            self._title = []

    def handle_data(self, data: str) -> None:
        if self._title is not None:
            self._title.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._title is not None:
            self.title, self._title = " ".join("".join(self._title).split()) or None, None


def _web_address(url: str | None) -> bool:
    try:
        return bool(url) and urllib.parse.urlsplit(url).scheme in ("http", "https")
    except ValueError:
        return False


def _read_pdf(raw: bytes) -> tuple[str, dict]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception:
                raise BadFile("PDF is encrypted") from None
        pages = [page.extract_text() or "" for page in reader.pages]
        info = _pdf_info(reader)
    except BadFile:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError) as error:
        raise BadFile(f"not a readable PDF: {error}") from None
    text = "\n\n".join(_reflow(page) for page in pages if page.strip())
    if not text.strip():
        raise BadFile("PDF has no extractable text (scanned images need OCR first)")
    meta = {}
    if info.get("/Title"):
        meta["title"] = str(info["/Title"])
    if info.get("/Author"):
        meta["author"] = str(info["/Author"])
    return text, meta


def _pdf_info(reader) -> dict:
    """The document information dictionary; a broken one only costs us the title and author."""
    try:
        return dict(reader.metadata or {})
    except Exception:  # pypdf raises several types for malformed /Info objects
        return {}


def _reflow(page: str) -> str:
    """PDF text breaks lines at the page margin; join lines that do not end a sentence."""
    out: list[str] = []
    for line in page.split("\n"):
        line = line.strip()
        if out and out[-1] and line and not re.search(r"[.!?:;”\"')\]]$", out[-1]) and not line[:1].isupper():
            out[-1] = out[-1].removesuffix("-") + ("" if out[-1].endswith("-") else " ") + line
        else:
            out.append(line)
    return "\n".join(out)
