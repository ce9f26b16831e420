"""Saved web pages: .mhtml/.mht ("Save page as… Webpage, Single File") and the meta tags of
.html pages, read by the real loaders and seen by the pipeline and the outlet registry."""

from __future__ import annotations

import base64
import quopri
from pathlib import Path

import pytest

from helpers import settings_for
from rag import BadFile, RatingOrigin, SUPPORTED, load_file, read_documents

ARTICLE = (
    "<p>Japanese and Russian officials met in Sakhalin on Tuesday to resume talks on salmon fishing quotas near "
    "the disputed Kuril Islands — the first such meeting since sanctions were imposed.</p>"
    "<p>The Japanese fisheries agency said the two sides agreed to keep the catch limit for Hokkaido trawlers at "
    "last year's level, while Russian negotiators pressed for higher fees for access to the waters.</p>"
)


def page(head: str, body: str = ARTICLE) -> str:
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8">{head}</head><body><header>Menu</header>'
            f"<main><article><h1>Fishing talks resume</h1>{body}</article></main></body></html>")


def mhtml(html: str, location: str | None, boundary: str = "----MultipartBoundary--Xy9----") -> bytes:
    """A single-file page as Chrome writes it: the page quoted-printable, an image, an iframe's page after it."""
    snapshot = f"Snapshot-Content-Location: {location}\r\n" if location else ""
    frame = "<html><body><p>Advertisement: cheap flights to Sapporo, book now and save.</p></body></html>"
    parts = [
        ("text/html", "quoted-printable", location or "about:blank", quopri.encodestring(html.encode()).decode()),
        ("image/png", "base64", "https://cdn.example/logo.png", base64.encodebytes(b"\x89PNG\r\n\x1a\n" + bytes(64)).decode()),
        ("text/html", "quoted-printable", "https://ads.example/frame", frame),
    ]
    out = (f"From: <Saved by Blink>\r\n{snapshot}Subject: Fishing talks resume\r\n"
           "Date: Tue, 12 Mar 2024 10:00:00 -0000\r\nMIME-Version: 1.0\r\n"
           f'Content-Type: multipart/related;\r\n\ttype="text/html";\r\n\tboundary="{boundary}"\r\n\r\n\r\n')
    for ctype, encoding, where, body in parts:
        out += (f"--{boundary}\r\nContent-Type: {ctype}\r\nContent-ID: <frame-1@mhtml.blink>\r\n"
                f"Content-Transfer-Encoding: {encoding}\r\nContent-Location: {where}\r\n\r\n{body}\r\n\r\n")
    return (out + f"--{boundary}--\r\n").encode()


def test_mhtml_and_mht_are_supported_types():
    assert {".mhtml", ".mht", ".html", ".pdf"} <= set(SUPPORTED)


@pytest.mark.parametrize("suffix", [".mhtml", ".mht"])
def test_a_saved_page_is_read_as_its_html_with_the_address_it_was_saved_from(tmp_path, suffix):
    path = tmp_path / f"talks{suffix}"
    path.write_bytes(mhtml(page('<title>Fishing talks resume</title><meta property="og:site_name" content="Ledger">'
                                '<meta name="date" content="2024-03-12">'),
                           "https://ledger.example.com/world/talks?utm_source=x"))
    loaded = load_file(path)
    assert "the disputed Kuril Islands — the first such meeting" in loaded.text  # quoted-printable, UTF-8 decoded
    assert "Hokkaido trawlers" in loaded.text
    assert "Advertisement" not in loaded.text and "PNG" not in loaded.text and "Menu" not in loaded.text
    assert loaded.meta["url"] == "https://ledger.example.com/world/talks?utm_source=x"
    assert (loaded.meta["title"], loaded.meta["outlet"], loaded.meta["published_iso"]) == (
        "Fishing talks resume", "Ledger", "2024-03-12")
    assert loaded.doc_id == "talks"


def test_the_page_own_address_wins_over_the_saved_from_address(tmp_path):
    path = tmp_path / "talks.mhtml"
    path.write_bytes(mhtml(page('<link rel="canonical" href="https://ledger.example.com/world/talks">'),
                           "https://m.ledger.example.com/world/talks?amp=1"))
    assert load_file(path).meta["url"] == "https://ledger.example.com/world/talks"


def test_meta_tags_fill_only_what_trafilatura_leaves_out(tmp_path):
    # trafilatura (htmldate) takes no date before 1995: the page's own article:published_time is used
    old = tmp_path / "coup.html"
    old.write_text(page('<title>Coup in Moscow | Ledger</title><meta property="og:url" content="https://ledger.example.com/1991/coup">'
                        '<meta property="article:published_time" content="1991-08-19T06:00:00+03:00">'), encoding="utf-8")
    meta = load_file(old).meta
    assert (meta["published"], meta["published_iso"]) == ("1991-08-19T06:00:00+03:00", "1991-08-19")
    assert meta["title"] == "Fishing talks resume"  # trafilatura's title (here the <h1>) is kept, not the <title>
    assert meta["url"] == "https://ledger.example.com/1991/coup"
    # a date that is not a day is kept as written, without a sortable date (not a failed file)
    odd = tmp_path / "odd.html"
    odd.write_text(page('<meta name="date" content="1991-02-30"><title>Odd</title>'), encoding="utf-8")
    meta = load_file(odd).meta
    assert meta.get("published_iso") is None and meta["published"] == "1991-02-30"


def test_a_sidecar_still_wins_over_the_page(tmp_path):
    path = tmp_path / "talks.mhtml"
    path.write_bytes(mhtml(page('<meta property="og:site_name" content="Ledger"><title>Talks</title>'),
                           "https://ledger.example.com/world/talks"))
    (tmp_path / "talks.mhtml.meta.yaml").write_text("outlet: Northern Ledger\nurl: https://ledger.example.com/a\n",
                                                    encoding="utf-8")
    meta = load_file(path).meta
    assert (meta["outlet"], meta["url"]) == ("Northern Ledger", "https://ledger.example.com/a")
    assert meta["title"] == "Fishing talks resume"  # what the sidecar leaves out still comes from the page


def test_an_mhtml_without_a_web_page_is_a_bad_file(tmp_path):
    path = tmp_path / "notes.mhtml"
    path.write_bytes(b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nJust a note, not a saved page.\r\n")
    with pytest.raises(BadFile, match=r"no web page \(text/html part\) in the \.mhtml file; save the page again"):
        load_file(path)


def test_saved_pages_reach_the_pipeline_and_the_outlet_registry(tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "rt-kurils.mhtml").write_bytes(
        mhtml(page("<title>Kuril fishing talks resume</title>"), "https://www.rt.com/russia/590000-kuril-fishing/"))
    (folder / "tass-kurils.html").write_text(
        page('<meta property="og:site_name" content="TASS"><title>Talks on Kuril fishing</title>'), encoding="utf-8")
    docs, failed = read_documents(settings_for(tmp_path / "data"), [folder])
    assert failed == []
    by_id = {d.doc_id: d.source for d in docs}
    rt = by_id["rt-kurils"]
    assert rt.url == "https://www.rt.com/russia/590000-kuril-fishing/" and rt.title == "Fishing talks resume"
    assert rt.rating_origin is RatingOrigin.REGISTRY and rt.partisan is True
    assert rt.registry_match == "RT (outlet registry), matched by web domain rt.com in the URL"
    assert rt.outlet == "RT"
    tass = by_id["tass-kurils"]
    assert tass.outlet == "TASS" and tass.rating_origin is RatingOrigin.REGISTRY
    assert "outlet name “TASS”" in tass.registry_match
