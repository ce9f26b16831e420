"""Ingest end to end with the real model and real Chroma: CLI output, incremental updates,
bad input, model mismatch, a run killed mid-way, and a Chroma server.

Each test gets a fresh data dir. In-process ``ingest`` calls share the model (loaded once per
process); the CLI runs as a subprocess only where the CLI itself is under test.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from helpers import (
    PROJECT_DIR, SEED_IDS, clean_environ, copy_bbc, copy_seeds, make_pdf, run_cli, settings_for,
)
import rag
from rag import EmbeddingMismatch, ingest
from rag.index import documents
from rag.index.chroma import Catalog, ChromaStore
from rag.index.lexical import LexicalIndex
from rag.settings import DEFAULT_EMBEDDING

SUMMARY_KEYS = {"added", "updated", "skipped", "removed", "failed", "documents", "chunks", "seconds"}
DOC_002, DOC_003, DOC_004, DOC_001 = (
    "002_8a0a0fb16ab6ea83", "003_b5aeacde14fc594e", "004_5fc457110d24e7fd", "001_68ffb54545db6918",
)

GOOD_TEXT = (
    "Japan's fisheries agency said on Tuesday that talks with Russia on salmon quotas would resume in April. "
    "Officials in Nemuro said the fleet had lost two seasons to the dispute.\n"
    "A Russian embassy spokesman declined to comment on the timing of the talks."
)


def _summary(proc: subprocess.CompletedProcess) -> dict:
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one JSON line on stdout, got:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return json.loads(lines[0])


def _store(settings) -> ChromaStore:
    return Catalog(settings, fresh=True).open_active(DEFAULT_EMBEDDING)  # what another process wrote too


def _version(settings) -> str:
    return Catalog(settings).active().version


def _ids(settings) -> dict[str, set[str]]:
    return {doc_id: doc.ids for doc_id, doc in _store(settings).indexed_docs().items()}


def _chunks_of(settings, doc_id: str) -> list[tuple[str, str, dict]]:
    got = _store(settings).collection.get(where={"doc_id": doc_id}, include=["documents", "metadatas"])
    return list(zip(got["ids"], got["documents"], got["metadatas"]))


def _assert_consistent(settings) -> None:
    """Chroma, BM25 and the stored documents describe the same chunks."""
    store = _store(settings)
    ids, texts, metas = store.all_chunks()
    lexical = LexicalIndex.load(settings.bm25_dir)
    assert lexical is not None
    assert lexical.version == _version(settings) != ""
    live = lexical.live_positions()
    assert sorted((lexical.ids[i], lexical.text(i)) for i in live) == sorted(zip(ids, texts))
    for chunk_id, text, meta in zip(ids, texts, metas):
        stored = documents.load(settings, meta["doc_id"])
        assert stored is not None, f"no documents/{meta['doc_id']}.json"
        assert stored.doc_hash == meta["doc_hash"]
        assert stored.text[meta["start"]:meta["end"]] == text
        assert stored.segment_at(meta["start"]).label == meta["segment_label"]
    on_disk = {p.stem for p in settings.documents_dir.glob("*.json")} if settings.documents_dir.exists() else set()
    assert on_disk == {m["doc_id"] for m in metas}


# -- CLI ---------------------------------------------------------------------------------------
@pytest.mark.slow
def test_cli_ingest_json_is_idempotent_and_sources_lists_ratings(data_dir):
    env = {"RAG_DATA_DIR": data_dir}
    first = run_cli("ingest", "--json", env=env)
    assert first.returncode == 0, first.stderr
    summary = _summary(first)
    assert set(summary) == SUMMARY_KEYS
    assert summary["added"] == 5
    assert (summary["updated"], summary["skipped"], summary["removed"], summary["failed"]) == (0, 0, 0, [])
    assert summary["documents"] == 5 and summary["chunks"] > 5
    assert isinstance(summary["seconds"], (int, float))

    second = run_cli("ingest", "--json", env=env)
    assert second.returncode == 0, second.stderr
    again = _summary(second)
    assert set(again) == SUMMARY_KEYS
    assert (again["added"], again["updated"], again["skipped"], again["removed"]) == (0, 0, 5, 0)
    assert again["chunks"] == summary["chunks"] and again["documents"] == 5

    sources = run_cli("sources", "--json", env=env)
    assert sources.returncode == 0, sources.stderr
    rows = json.loads(sources.stdout)
    assert isinstance(rows, list) and len(rows) == 5
    assert sorted(row["doc_id"] for row in rows) == SEED_IDS
    partisan = {row["doc_id"]: row["partisan"] for row in rows}
    assert partisan[DOC_004] is True
    assert partisan[DOC_001] is False
    assert all(isinstance(row["partisan"], bool) for row in rows)


def test_index_of_the_bundled_corpus_is_consistent(corpus_settings):
    """Session index: every chunk is a slice of its stored document, BM25 matches Chroma, registry metadata applied."""
    _assert_consistent(corpus_settings)
    docs = _store(corpus_settings).indexed_docs()
    assert sorted(docs) == SEED_IDS
    meta = _chunks_of(corpus_settings, DOC_004)[0][2]
    assert meta["partisan"] is True and meta["doc_type"] == "state-aligned outlet"
    assert meta["published_iso"] == "2024-09-06" and meta["date_num"] == 20240906
    speakers = {m.get("speaker") for _, _, m in _chunks_of(corpus_settings, "000_e3a53b2cbbda76ec")}
    assert {"司徒凯琮", "Adelaide", "April"} <= speakers


# -- incremental updates -----------------------------------------------------------------------
def test_edited_re_rated_deleted_and_single_file_ingests(tmp_path, settings):
    folder = copy_seeds(tmp_path / "docs")
    first = ingest(settings, [folder])
    assert (first.added, first.failed) == (5, [])
    before = _ids(settings)
    total = first.chunks

    # 1. Edit one document's text: only it is re-indexed, and its old chunks are gone.
    path = folder / f"{DOC_003}.txt"
    old_sentence = "Japan will impose a ban on the export of non-industrially produced diamonds from Russia."
    new_sentence = "Japan will impose a ban on the import of cultured pearls and caviar from Russia."
    text = path.read_text(encoding="utf-8")
    assert text.count(old_sentence) == 1
    path.write_text(text.replace(old_sentence, new_sentence), encoding="utf-8")
    report = ingest(settings, [folder])
    assert (report.added, report.updated, report.skipped, report.removed, report.failed) == (0, 1, 4, 0, [])
    assert report.doc_ids == [DOC_003]
    after = _ids(settings)
    stale = before[DOC_003] - after[DOC_003]
    assert stale, "the edited chunk must get a new id"
    assert _store(settings).embeddings(sorted(stale)) == {}
    texts = [t for _, t, _ in _chunks_of(settings, DOC_003)]
    assert not any("diamonds" in t for t in texts)
    assert any(new_sentence in t for t in texts)
    assert {d: after[d] for d in after if d != DOC_003} == {d: before[d] for d in before if d != DOC_003}
    assert new_sentence in documents.load(settings, DOC_003).text
    _assert_consistent(settings)

    # 2. Re-rate a document in a sidecar: re-indexed with the new metadata (same text, same ids).
    sidecar = folder / f"{DOC_002}.txt.meta.yaml"
    sidecar.write_text(
        "outlet: Test Desk Outlet\nframing:\n  partisan: no\n  label: re-rated by the desk\n", encoding="utf-8"
    )
    report = ingest(settings, [folder])
    assert (report.added, report.updated, report.skipped, report.removed) == (0, 1, 4, 0)
    assert report.doc_ids == [DOC_002]
    chunks = _chunks_of(settings, DOC_002)
    assert {c[0] for c in chunks} == before[DOC_002]
    assert all(m["outlet"] == "Test Desk Outlet" and m["partisan"] is False for _, _, m in chunks)
    assert all(m["label"] == "re-rated by the desk" for _, _, m in chunks)
    assert documents.load(settings, DOC_002).source.outlet == "Test Desk Outlet"

    # 3. Front matter in the file itself: re-indexed, the front matter is metadata, not text.
    path = folder / f"{DOC_004}.txt"
    path.write_text(
        "---\ntitle: Retitled by the desk\ndoc_type: opinion\n---\n" + path.read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    report = ingest(settings, [folder])
    assert (report.updated, report.skipped, report.doc_ids) == (1, 4, [DOC_004])
    chunks = _chunks_of(settings, DOC_004)
    assert {c[0] for c in chunks} == before[DOC_004]
    assert all(m["title"] == "Retitled by the desk" and m["doc_type"] == "opinion" for _, _, m in chunks)
    assert not any("Retitled" in t or "doc_type" in t for _, t, _ in chunks)
    unchanged = ingest(settings, [folder])
    assert (unchanged.added, unchanged.updated, unchanged.skipped) == (0, 0, 5)
    assert unchanged.chunks == total - len(stale) + len(after[DOC_003] - before[DOC_003])

    # 4. Delete a file: its chunks and its stored document go.
    (folder / f"{DOC_001}.txt").unlink()
    report = ingest(settings, [folder])
    assert (report.removed, report.skipped, report.added, report.updated) == (1, 4, 0, 0)
    assert report.documents == 4
    assert _chunks_of(settings, DOC_001) == []
    assert _store(settings).embeddings(sorted(before[DOC_001])) == {}
    assert not (settings.documents_dir / f"{DOC_001}.json").exists()
    assert documents.load(settings, DOC_001) is None
    _assert_consistent(settings)
    count = report.chunks

    # 5. Ingesting one file, or another folder, removes nothing else.
    report = ingest(settings, [folder / f"{DOC_003}.txt"])
    assert (report.removed, report.skipped, report.documents, report.chunks) == (0, 1, 4, count)
    other = tmp_path / "other"
    other.mkdir()
    (other / "fisheries.txt").write_text(GOOD_TEXT, encoding="utf-8")
    report = ingest(settings, [other])
    assert (report.added, report.removed, report.documents) == (1, 0, 5)
    assert set(_ids(settings)) == {DOC_002, DOC_003, DOC_004, "000_e3a53b2cbbda76ec", "fisheries"}
    _assert_consistent(settings)


def test_unchanged_files_are_skipped_by_size_and_time_unread(tmp_path, settings):
    folder = tmp_path / "docs"
    folder.mkdir()
    path = folder / "fisheries.txt"
    path.write_text(GOOD_TEXT, encoding="utf-8")
    past = time.time_ns() - 3600 * 10**9  # older than the clock's tick: its stamp is recorded

    def stamp_at(seconds: int) -> None:
        os.utime(path, ns=(past + seconds * 10**9,) * 2)

    stamp_at(0)
    assert ingest(settings, [folder]).added == 1
    # Other bytes, same size and time: trusted unread (that is the point: a no-op re-ingest reads nothing).
    path.write_text(GOOD_TEXT.replace("April", "March"), encoding="utf-8")
    stamp_at(0)
    report = ingest(settings, [folder])
    assert (report.skipped, report.updated, report.doc_ids) == (1, 0, [])
    assert "April" in documents.load(settings, "fisheries").text
    # A new time: read again, and the content hash decides.
    stamp_at(1)
    report = ingest(settings, [folder])
    assert (report.updated, report.skipped) == (1, 0)
    assert "March" in documents.load(settings, "fisheries").text
    stamp_at(2)  # touched, not changed: read, same hash, nothing re-embedded
    report = ingest(settings, [folder])
    assert (report.skipped, report.updated) == (1, 0)
    # A sidecar appearing beside an untouched file: read again.
    sidecar = folder / "fisheries.txt.meta.yaml"
    sidecar.write_text("outlet: Test Desk Outlet\n", encoding="utf-8")
    os.utime(sidecar, ns=(past,) * 2)
    report = ingest(settings, [folder])
    assert report.updated == 1 and documents.load(settings, "fisheries").source.outlet == "Test Desk Outlet"
    # A damaged record costs one full read, nothing else; a rebuild never trusts it.
    (settings.data_dir / "ingest-stat.json").write_text("{not json", encoding="utf-8")
    report = ingest(settings, [folder])
    assert (report.skipped, report.updated, report.failed) == (1, 0, [])
    # Another outlet registry changes what a file becomes: everything is read again.
    outlets = tmp_path / "outlets.yaml"
    outlets.write_bytes(settings.outlets_file.read_bytes())
    report = ingest(replace(settings, outlets_file=outlets), [folder])
    assert (report.skipped, report.updated) == (1, 0)
    assert json.loads((settings.data_dir / "ingest-stat.json").read_text())["files"]["fisheries"]["hash"]
    _assert_consistent(settings)


def test_a_new_registry_drops_the_records_of_files_ingested_elsewhere(tmp_path, settings):
    past = time.time_ns() - 3600 * 10**9
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        folder.mkdir()
        (folder / f"{folder.name}.txt").write_text(GOOD_TEXT, encoding="utf-8")
        os.utime(folder / f"{folder.name}.txt", ns=(past, past))
        assert ingest(settings, [folder]).added == 1
    outlets = tmp_path / "outlets.yaml"
    outlets.write_bytes(settings.outlets_file.read_bytes())
    changed = replace(settings, outlets_file=outlets)
    assert ingest(changed, [a]).skipped == 1  # a is read again under the new registry; b is not in this run
    (b / "b.txt").write_text(GOOD_TEXT.replace("April", "March"), encoding="utf-8")
    os.utime(b / "b.txt", ns=(past, past))
    report = ingest(changed, [b])  # b's record was made under the old registry: b is read, not trusted
    assert (report.updated, report.skipped) == (1, 0)
    assert "March" in documents.load(settings, "b").text


def test_moved_file_is_tracked_at_its_new_path(tmp_path, settings):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    (old / "fisheries.txt").write_text(GOOD_TEXT, encoding="utf-8")
    assert ingest(settings, [old]).added == 1
    (old / "fisheries.txt").rename(new / "fisheries.txt")
    ingest(settings, [new])
    (new / "fisheries.txt").unlink()
    report = ingest(settings, [new])
    assert report.removed == 1 and report.documents == 0


def test_bm25_is_saved_before_chroma_records_the_new_version(tmp_path, settings, monkeypatch):
    """A reader that sees the new version in Chroma must find its BM25 folder already saved."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "fisheries.txt").write_text(GOOD_TEXT, encoding="utf-8")
    ingest(settings, [inbox])
    old_version = _version(settings)
    seen_at_save = []
    save = LexicalIndex._save

    def spy(index, root):
        seen_at_save.append(_version(settings))
        save(index, root)

    monkeypatch.setattr(LexicalIndex, "_save", spy)
    (inbox / "crabs.txt").write_text("Customs in Hakodate inspected 23 crab shipments in March.", encoding="utf-8")
    ingest(settings, [inbox])
    assert seen_at_save == [old_version]
    assert _version(settings) not in ("", old_version)
    _assert_consistent(settings)


# -- bad input ---------------------------------------------------------------------------------
def test_bad_files_are_reported_and_nothing_is_lost(tmp_path, settings):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "keep.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (inbox / "victim.txt").write_text(
        "The ministry said the Kuril fishing quota talks were postponed. No new date was given.", encoding="utf-8"
    )
    earlier = copy_seeds(tmp_path / "earlier", ids=[DOC_003])
    assert ingest(settings, [earlier]).added == 1
    first = ingest(settings, [inbox])
    assert (first.added, first.failed) == (2, [])
    before = _ids(settings)

    (inbox / "good.txt").write_text(
        "Russian customs data showed seafood imports from Japan fell by a third in 2023.", encoding="utf-8"
    )
    (inbox / "binary.txt").write_bytes(b"PK\x03\x04\x00\x00binary\x00\x01\x02" * 40)
    (inbox / "victim.txt").write_bytes(b"\x00\x01\x02\x03" * 100)  # a good document overwritten by junk
    (inbox / "empty.txt").write_bytes(b"")
    (inbox / "blank.md").write_text("  \n\n \t\n", encoding="utf-8")
    (inbox / "undecodable.txt").write_bytes(b"Tokyo \x81\x8d\x8f\x90\x9d said \xff\xfe\x81\x8d \x90\x9d" * 20)
    (inbox / "report.docx").write_bytes(b"PK\x03\x04 not really a docx")
    (inbox / "huge.txt").write_text(("Oversized newsroom dump line. " * 40 + "\n") * 100, encoding="utf-8")
    (inbox / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Ty")
    (inbox / "bad-sidecar.txt").write_text(GOOD_TEXT.replace("salmon", "crab"), encoding="utf-8")
    (inbox / "bad-sidecar.txt.meta.yaml").write_text("outlet: X\nsentiment: angry\n", encoding="utf-8")
    missing = tmp_path / "no-such-file.txt"
    assert (inbox / "huge.txt").stat().st_size > 100_000

    small = settings.with_(max_file_mb=0.1)
    report = ingest(small, [inbox, missing])
    failed = {Path(f.path).name: f.reason for f in report.failed}
    assert set(failed) == {
        "binary.txt", "victim.txt", "empty.txt", "blank.md", "undecodable.txt", "report.docx", "huge.txt",
        "broken.pdf", "bad-sidecar.txt", "no-such-file.txt",
    }, failed
    assert "binary" in failed["binary.txt"] and "NUL" in failed["binary.txt"]
    assert "binary" in failed["victim.txt"]
    assert failed["empty.txt"] == "file is empty"
    assert "empty" in failed["blank.md"] or "no text" in failed["blank.md"]
    assert "cannot decode" in failed["undecodable.txt"] and "UTF-8" in failed["undecodable.txt"]
    assert "unsupported file type '.docx'" in failed["report.docx"]
    assert "RAG_MAX_FILE_MB" in failed["huge.txt"] and "limit" in failed["huge.txt"]
    assert failed["broken.pdf"].startswith("not a readable PDF")
    assert "sentiment" in failed["bad-sidecar.txt"] and "unknown metadata" in failed["bad-sidecar.txt"]
    assert failed["no-such-file.txt"] == "no such file or folder"

    assert (report.added, report.updated, report.skipped, report.removed) == (1, 0, 1, 0)
    after = _ids(settings)
    assert set(after) == {DOC_003, "keep", "victim", "good"}
    for doc_id in (DOC_003, "keep", "victim"):
        assert after[doc_id] == before[doc_id], f"{doc_id} lost or changed"
    assert "Kuril fishing quota talks" in documents.load(settings, "victim").text
    _assert_consistent(settings)

    # The CLI reports the same failures in plain text and exits 1 (nothing to embed: fast).
    proc = run_cli("ingest", inbox, env={"RAG_DATA_DIR": settings.data_dir, "RAG_MAX_FILE_MB": "0.1"})
    assert proc.returncode == 1, proc.stderr
    assert "added 0, updated 0, skipped 2, removed 0, failed 9" in proc.stdout
    assert "failed: " in proc.stdout and "report.docx: unsupported file type" in proc.stdout


def test_pdf_with_broken_info_dictionary_is_ingested_without_its_metadata(tmp_path, settings):
    from rag.index import documents

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "keep.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (inbox / "odd.pdf").write_bytes(make_pdf(["Readable page text about the Kuril talks."], info_body=b"42"))
    report = ingest(settings, [inbox])
    assert report.failed == [] and report.added == 2
    odd = documents.load(settings, "odd")
    assert "Readable page text about the Kuril talks." in odd.text
    assert odd.source.author is None  # the broken /Info dictionary contributed nothing


def test_markdown_html_and_pdf_are_ingested_with_their_metadata(tmp_path, settings):
    inbox = tmp_path / "formats"
    inbox.mkdir()
    (inbox / "desk-brief.md").write_text(
        "---\n"
        "title: Kuril fishing talks, desk brief\n"
        "outlet: Newsroom research desk\n"
        "author: R. Sato\n"
        "published_iso: 2024-03\n"
        "doc_type: analysis\n"
        "framing:\n  partisan: yes\n  label: internal memo\n  confidence: low\n"
        "---\n"
        "# Background\n\n"
        "Japan and Russia last agreed salmon quotas in 2022. The talks stalled after sanctions.\n\n"
        "Nemuro trawler crews say the uncertainty costs them a season each year.\n",
        encoding="utf-8",
    )
    (inbox / "ledger-fishing.html").write_text(HTML_PAGE, encoding="utf-8")
    (inbox / "mofa-briefing.pdf").write_bytes(
        make_pdf(
            [
                "Ministry of Foreign Affairs press briefing, 12 March 2024.",
                "The spokesperson said talks on the Kuril",
                "islands fishing quotas would resume in spring.",
                "Officials declined to comment on the visa-free exchanges.",
            ],
            title="MOFA briefing on Kuril fishing talks",
            author="Press Division",
        )
    )
    (inbox / "mofa-briefing.pdf.meta.yaml").write_text(
        "outlet: Ministry of Foreign Affairs of Japan\npublished_iso: 2024-03-12\ndoc_type: news report\n",
        encoding="utf-8",
    )
    report = ingest(settings, [inbox])
    assert report.failed == [] and report.added == 3

    md = documents.load(settings, "desk-brief")
    assert md.source.title == "Kuril fishing talks, desk brief"
    assert (md.source.outlet, md.source.author, md.source.published_iso) == ("Newsroom research desk", "R. Sato", "2024-03-01")
    assert md.source.partisan is True and md.source.label == "internal memo" and md.source.doc_type == "analysis"
    assert "---" not in md.text and "outlet:" not in md.text
    assert "Nemuro trawler crews say the uncertainty costs them a season each year." in md.text
    meta = _chunks_of(settings, "desk-brief")[0][2]
    assert meta["partisan"] is True and meta["date_num"] == 20240301 and meta["outlet"] == "Newsroom research desk"

    page = documents.load(settings, "ledger-fishing")
    assert page.source.title == "Tokyo and Moscow resume fishing talks"
    assert (page.source.outlet, page.source.author, page.source.published_iso) == (
        "Northern Ledger", "Mariko Tanaka", "2024-03-12",
    )
    assert page.source.url == "https://ledger.example.com/world/fishing-talks"
    assert "resume talks on salmon fishing quotas near the disputed Kuril Islands" in page.text
    for chrome in ("Subscribe now", "Privacy policy", "All rights reserved", "Business"):
        assert chrome not in page.text, chrome
    article = [s for s in page.segments if s.kind == "article"]
    comments = [s for s in page.segments if s.kind == "comment"]
    assert len(article) == 1 and len(comments) == 1
    assert "Nemuro harbour has been half empty" in page.text[comments[0].start:comments[0].end]
    assert "Nemuro harbour" not in page.text[article[0].start:article[0].end]
    kinds = {m["segment_kind"] for _, _, m in _chunks_of(settings, "ledger-fishing")}
    assert kinds == {"article", "comment"}

    pdf = documents.load(settings, "mofa-briefing")
    assert pdf.source.title == "MOFA briefing on Kuril fishing talks"
    assert pdf.source.author == "Press Division"
    assert pdf.source.outlet == "Ministry of Foreign Affairs of Japan" and pdf.source.published_iso == "2024-03-12"
    # Lines broken at the page margin are joined back into one sentence.
    assert "The spokesperson said talks on the Kuril islands fishing quotas would resume in spring." in pdf.text
    _assert_consistent(settings)


HTML_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Tokyo and Moscow resume fishing talks | Northern Ledger</title>
  <meta property="og:site_name" content="Northern Ledger">
  <meta property="og:title" content="Tokyo and Moscow resume fishing talks">
  <meta name="author" content="Mariko Tanaka">
  <meta property="article:published_time" content="2024-03-12T09:30:00+09:00">
  <link rel="canonical" href="https://ledger.example.com/world/fishing-talks">
</head>
<body>
  <header><a href="/">Northern Ledger</a></header>
  <nav><ul><li><a href="/world">World</a></li><li><a href="/business">Business</a></li>
    <li><a href="/subscribe">Subscribe now</a></li></ul></nav>
  <main>
    <article>
      <h1>Tokyo and Moscow resume fishing talks</h1>
      <p class="byline">By Mariko Tanaka</p>
      <p>Japanese and Russian officials met in Sakhalin on Tuesday to resume talks on salmon fishing quotas
      near the disputed Kuril Islands, the first such meeting since sanctions were imposed.</p>
      <p>The Japanese fisheries agency said the two sides agreed to keep the catch limit for Hokkaido trawlers
      at last year's level, while Russian negotiators pressed for higher fees for access to the waters.</p>
      <p>Fishing cooperatives in Nemuro welcomed the outcome but warned that fuel prices and the suspended
      visa-free visits continue to weigh on coastal towns that depend on the Kuril fishing grounds.</p>
    </article>
    <section id="comments" class="comments">
      <h2>Comments</h2>
      <div class="comment"><p class="comment-author">kuril_watcher</p>
        <p>Good to see pragmatic cooperation between fishermen despite the politics in Tokyo and Moscow.</p></div>
      <div class="comment"><p class="comment-author">hokkaido_dad</p>
        <p>Nemuro harbour has been half empty for two winters now; any quota deal helps the families there.</p></div>
    </section>
  </main>
  <footer><p>Copyright © 2024 Northern Ledger. All rights reserved.</p><p><a href="/privacy">Privacy policy</a></p></footer>
</body>
</html>
"""


# -- embedding model mismatch ------------------------------------------------------------------
def test_opening_the_index_with_another_model_is_refused(tmp_path, settings):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "keep.txt").write_text(GOOD_TEXT, encoding="utf-8")
    count = ingest(settings, [inbox]).chunks

    with pytest.raises(EmbeddingMismatch, match="--rebuild") as error:
        Catalog(settings).open_active("some-other-model")
    assert DEFAULT_EMBEDDING in str(error.value) and "some-other-model" in str(error.value)
    # The refused open changed nothing: the right model still opens it, with its chunks.
    store = _store(settings)
    assert store.count() == count
    assert store.collection.metadata["embedding_model"] == DEFAULT_EMBEDDING

    # The CLI turns it into a one-line error and exit status 2 (no network: it fails before embedding).
    proc = run_cli(
        "ingest", inbox, env={"RAG_DATA_DIR": settings.data_dir, "RAG_EMBEDDINGS": "openai:text-embedding-3-small"}
    )
    assert proc.returncode == 2, proc.stderr
    assert "error:" in proc.stderr and "--rebuild" in proc.stderr and "Traceback" not in proc.stderr


# -- a run killed mid-way ----------------------------------------------------------------------
N_BBC = 80  # with the 5 seeds: ~315 chunks = two upsert batches (EMBED_BATCH_CHUNKS = 256); the kill lands in the second


def _snapshot(settings):
    store = _store(settings)
    got = store.collection.get(include=["documents", "metadatas", "embeddings"])
    rows = {
        chunk_id: (text, meta, np.asarray(vector, dtype=np.float32))
        for chunk_id, text, meta, vector in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"])
    }
    lexical = LexicalIndex.load(settings.bm25_dir)
    stored = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in settings.documents_dir.glob("*.json")}
    return rows, lexical, stored, _version(settings)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_killed_ingest_converges_to_the_uninterrupted_index(tmp_path):
    folder = copy_seeds(tmp_path / "big")
    copy_bbc(folder, N_BBC)
    n_docs = 5 + N_BBC
    crashed = settings_for(tmp_path / "crashed", RAG_EMBED_BATCH=8)
    clean = settings_for(tmp_path / "clean", RAG_EMBED_BATCH=8)

    # 1. Start the CLI and SIGKILL it as soon as the first batch of chunks is stored: a document's
    #    JSON is written right after its chunks are upserted, and ~60 chunks remain to embed then.
    out, err = open(tmp_path / "killed.out", "wb"), open(tmp_path / "killed.err", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "rag", "ingest", str(folder), "--json"], cwd=PROJECT_DIR,
        env=clean_environ({"RAG_DATA_DIR": crashed.data_dir, "RAG_EMBED_BATCH": 8}), stdout=out, stderr=err,
    )
    deadline = time.monotonic() + 400
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if crashed.documents_dir.exists() and any(crashed.documents_dir.glob("*.json")):
                break
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    finally:
        proc.wait()
        out.close()
        err.close()
    assert proc.returncode == -signal.SIGKILL, (
        f"the run was not killed mid-way (exit {proc.returncode}):\n{(tmp_path / 'killed.err').read_text()}"
    )
    assert (tmp_path / "killed.out").read_text() == "", "a killed run must not have printed its summary"
    saved = len(list(crashed.documents_dir.glob("*.json")))
    assert 0 < saved < n_docs
    # Until an ingest completes, answers say the index is incomplete and how much is missing.
    notices = rag.Assistant(crashed).ask("What did Lavrov say about the Kuril Islands?").warnings_of(
        rag.WarningKind.INDEX_INCOMPLETE)
    assert len(notices) == 1 and re.search(r"\((\d+) document\(s\) not yet indexed\)", notices[0].text)
    assert 0 < int(re.search(r"\((\d+) document", notices[0].text).group(1)) < n_docs

    # 2. Run again to completion: the documents stored before the kill are skipped, the rest added.
    rerun = run_cli("ingest", folder, "--json", env={"RAG_DATA_DIR": crashed.data_dir, "RAG_EMBED_BATCH": 8})
    assert rerun.returncode == 0, rerun.stderr
    summary = _summary(rerun)
    assert summary["failed"] == [] and summary["documents"] == n_docs
    assert summary["skipped"] >= 1 and summary["added"] >= 1, summary
    assert summary["skipped"] + summary["added"] == n_docs and summary["updated"] == 0
    assert not rag.Assistant(crashed).ask("What did Lavrov say?").warnings_of(rag.WarningKind.INDEX_INCOMPLETE)

    # 3. The same folder ingested without interruption into another data dir (in-process).
    report = ingest(clean, [folder])
    assert (report.added, report.failed, report.documents) == (n_docs, [], n_docs)
    assert report.chunks == summary["chunks"] and report.chunks > 256, "needs more than one encoder batch"

    rows_a, lex_a, docs_a, version_a = _snapshot(crashed)
    rows_b, lex_b, docs_b, version_b = _snapshot(clean)
    assert set(rows_a) == set(rows_b)
    for chunk_id, (text, meta, vector) in rows_b.items():
        text_a, meta_a, vector_a = rows_a[chunk_id]
        assert text_a == text, chunk_id
        assert meta_a == meta, chunk_id
        assert float(np.max(np.abs(vector_a - vector))) <= 1e-5, chunk_id
    assert version_a == version_b != ""
    assert lex_a is not None and lex_b is not None
    assert lex_a.version == lex_b.version and sorted(lex_a.texts) == sorted(lex_b.texts)
    assert lex_a.version == version_a
    assert docs_a == docs_b and len(docs_a) == n_docs
    _assert_consistent(crashed)


# -- a Chroma server ---------------------------------------------------------------------------
@pytest.mark.slow
def test_cli_ingest_into_a_chroma_server(chroma_server, tmp_path):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    host, port = chroma_server
    env = {"RAG_DATA_DIR": tmp_path / "data", "CHROMA_HOST": host, "CHROMA_PORT": port}
    first = run_cli("ingest", "--json", env=env)
    assert first.returncode == 0, first.stderr
    summary = _summary(first)
    assert (summary["added"], summary["documents"], summary["failed"]) == (5, 5, [])

    client = chromadb.HttpClient(host=host, port=port, settings=ChromaSettings(anonymized_telemetry=False))
    active = client.get_collection("passages-active").metadata["active"]  # the pointer names the generation
    assert active.startswith("passages-")
    collection = client.get_collection(active)
    got = collection.get(include=["metadatas"])
    assert len(got["ids"]) == summary["chunks"] == collection.count()
    assert sorted({m["doc_id"] for m in got["metadatas"]}) == SEED_IDS
    assert collection.metadata["embedding_model"] == DEFAULT_EMBEDDING
    assert not (tmp_path / "data" / "chroma").exists(), "no embedded index when a server is configured"
    assert (tmp_path / "data" / "bm25" / "CURRENT").exists()

    second = run_cli("ingest", "--json", env=env)
    assert second.returncode == 0, second.stderr
    again = _summary(second)
    assert (again["added"], again["updated"], again["skipped"], again["removed"]) == (0, 0, 5, 0)
    assert again["chunks"] == summary["chunks"]
