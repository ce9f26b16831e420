"""Deleting a document: from Chroma, the keyword index, the stored documents and the uploads folder.

    >>> deleted = delete_document(Settings.from_env(), "otaru_harbour")      # doctest: +SKIP
    >>> deleted.chunks, [p.name for p in deleted.files]                      # doctest: +SKIP
    (2, ['otaru_harbour.txt', 'otaru_harbour.txt.meta.yaml'])

Where the document's file lives decides what happens to it:

* in the uploads folder (``<RAG_DATA_DIR>/uploads``, where the app and ``ingest x.zip`` put files):
  the file and its sidecar are deleted too (and a folder of an unpacked archive left empty);
* in the corpus folder (``RAG_CORPUS_DIR``): refused (``DocumentError``). The next sync would
  index the file again, so the index cannot forget it alone: remove the file from the corpus
  folder, and the next sync removes the document;
* anywhere else (a folder ingested by path with the CLI): the index forgets it and the file is
  left where it is (nothing syncs that folder by itself; ingesting it again brings it back).

It goes through the same ``Index`` calls as an ingest that finds a file gone (``remove``, then
``commit``, which writes tombstones into the keyword index), under the same write lock, and is
recorded in the document's history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DocumentError
from ..index import Index, get_embeddings
from ..settings import Settings
from . import history
from .sources import sidecar_path


@dataclass(frozen=True)
class Deleted:
    doc_id: str
    path: str  # the file it had been read from
    chunks: int  # passages removed from the index
    files: list[Path] = field(default_factory=list)  # files deleted (the document's, its sidecar's)


def delete_document(settings: Settings, doc_id: str) -> Deleted:
    """Remove ``doc_id`` from the index, the stored documents and, for an upload, the uploads
    folder; DocumentError (one line) when it is not indexed or lives in the corpus folder."""
    with Index.write_lock(settings):
        index = Index.open(settings, get_embeddings(settings))
        have = index.manifest().get(doc_id)
        stored = index.document(doc_id)
        if have is None and stored is None:
            raise DocumentError(f"no document '{doc_id}' in the index: it may have been deleted already; "
                                "reload the page")
        path = Path(have.path if have is not None else stored.path)
        if _inside(path, settings.corpus_dir):
            raise DocumentError(f"'{doc_id}' is a file of the corpus folder ({path}): remove the file from there "
                                "and the next sync removes it from the index")
        index.begin(pending=0)
        if have is not None:
            index.remove(have)
        else:
            index.remove_stored(doc_id)
        index.commit()
        upload = _inside(path, settings.uploads_dir)
        chunks = len(have.ids) if have is not None else 0
        history.record(settings, [history.HistoryEntry(
            history.now(), doc_id, history.HistoryEvent.DELETED, str(path),
            have.doc_hash if have is not None else stored.doc_hash, chunks=chunks,
            note="deleted with its file from the uploads folder" if upload else "its file was left where it is")])
        try:
            files = _delete_upload(path, settings.uploads_dir) if upload else []
        except OSError as error:
            raise DocumentError(f"'{doc_id}' left the index, but its file {path} could not be deleted "
                                f"({error.strerror or error}): delete it by hand") from None
    return Deleted(doc_id, str(path), chunks, files)


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except OSError:
        return False


def _delete_upload(path: Path, uploads: Path) -> list[Path]:
    """The file, its sidecar, then each folder it leaves empty up to (not including) the uploads folder."""
    gone = []
    for item in (path, sidecar_path(path)):
        if item.exists() or item.is_symlink():
            item.unlink()
            gone.append(item)
    folder, top = path.parent.resolve(), uploads.resolve()
    while folder != top and folder.is_relative_to(top):
        try:
            folder.rmdir()  # only when empty
        except OSError:
            break
        folder = folder.parent
    return gone
