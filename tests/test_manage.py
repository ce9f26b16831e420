"""Managing documents through the public API: delete one, edit its metadata, read its history.

Real model, real Chroma, a fresh data dir per test (a handful of tiny documents).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import rag
from rag import Filters

NOTES = {
    "otaru": "The Otaru harbour authority said 17 Russian trawlers were refused entry on 3 March 2024.",
    "kushiro": "The Kushiro port office said 12 cargo ships were delayed by drift ice in February 2024.",
}


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _hits(settings, query: str) -> set[str]:
    index = rag.Index.open(settings)
    return {p.doc_id for p in index.search_lexical(query, 10, Filters())}


def test_delete_an_upload_removes_it_everywhere_and_keeps_the_rest(settings):
    uploads = settings.uploads_dir
    paths = [_write(uploads, f"{name}.txt", text) for name, text in NOTES.items()]
    rag.update_sidecar(paths[0], {"outlet": "Hokkaido Shimbun"})
    archive = _write(uploads / "desk" / "2024", "note.txt", "The Wakkanai ferry was cancelled 8 times in 2024.")
    report = rag.ingest(settings, [*paths, uploads / "desk"])
    assert report.added == 3 and not report.failed
    assert "otaru" in _hits(settings, "Otaru trawlers")

    deleted = rag.delete_document(settings, "otaru")
    assert deleted.chunks >= 1 and sorted(p.name for p in deleted.files) == ["otaru.txt", "otaru.txt.meta.yaml"]
    assert "otaru" not in _hits(settings, "Otaru trawlers")
    assert {d.doc_id for d in rag.list_documents(settings)} == {"kushiro", "2024__note"}
    assert not paths[0].exists() and paths[1].exists()
    assert "kushiro" in _hits(settings, "Kushiro cargo ships drift ice")

    rag.delete_document(settings, "2024__note")  # the archive's folders go when they are left empty
    assert not archive.exists() and not (uploads / "desk").exists() and uploads.exists()
    with pytest.raises(rag.DocumentError, match="no document 'otaru'"):
        rag.delete_document(settings, "otaru")
    assert [(e.event, e.doc_id) for e in rag.document_history(settings, "otaru")] == [
        (rag.HistoryEvent.ADDED, "otaru"), (rag.HistoryEvent.DELETED, "otaru")]


def test_a_corpus_document_is_refused_with_the_fix(settings, tmp_path):
    corpus = tmp_path / "corpus"
    _write(corpus, "kushiro.txt", NOTES["kushiro"])
    settings = settings.with_(corpus_dir=corpus)
    rag.ingest(settings)
    with pytest.raises(rag.DocumentError) as error:
        rag.delete_document(settings, "kushiro")
    assert "remove the file from there" in str(error.value) and "\n" not in str(error.value)
    assert (corpus / "kushiro.txt").exists() and "kushiro" in _hits(settings, "Kushiro cargo ships")


def test_history_records_adds_updates_and_removals_with_hashes(settings, tmp_path):
    folder = tmp_path / "desk"
    path = _write(folder, "otaru.txt", NOTES["otaru"])
    rag.ingest(settings, [folder])
    rag.ingest(settings, [folder])  # unchanged: nothing recorded
    path.write_text(NOTES["otaru"] + " The rules apply to every port.", encoding="utf-8")
    rag.ingest(settings, [folder])
    path.unlink()
    rag.ingest(settings, [folder])
    events = rag.document_history(settings, "otaru")
    assert [e.event for e in events] == [rag.HistoryEvent.ADDED, rag.HistoryEvent.UPDATED, rag.HistoryEvent.REMOVED]
    assert events[1].content_sha256 == hashlib.sha256((NOTES["otaru"] + " The rules apply to every port.")
                                                      .encode()).hexdigest()
    assert events[0].doc_hash != events[1].doc_hash and events[1].path == str(path.resolve())


def test_a_file_of_a_folder_reindexed_alone_keeps_its_id(settings, tmp_path):
    """Editing a document of an unpacked archive re-indexes its file alone: it stays '2024__otaru'."""
    folder = tmp_path / "desk"
    path = _write(folder / "2024", "otaru.txt", NOTES["otaru"])
    rag.ingest(settings, [folder])
    rag.update_sidecar(path, {"outlet": "Hokkaido Shimbun", "doc_type": "news report"})
    report = rag.ingest(settings, [path])
    assert (report.updated, report.added, report.removed, report.doc_ids) == (1, 0, 0, ["2024__otaru"])
    (doc,) = rag.list_documents(settings)
    assert doc.doc_id == "2024__otaru" and doc.source.outlet == "Hokkaido Shimbun"


def test_update_sidecar_refuses_what_the_index_cannot_take(tmp_path):
    path = _write(tmp_path, "a.txt", "Text.")
    with pytest.raises(rag.MetadataError, match="unknown metadata field"):
        rag.update_sidecar(path, {"colour": "red"})
    assert not rag.sidecar_path(path).exists()
