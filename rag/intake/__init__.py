"""Files in, indexed documents out: unpack uploaded ZIPs (``archive``), read (``loaders``), attribute (``sources``), clean
(``cleaning``), chunk (``chunking``), and write through ``rag.index`` (``pipeline``); delete a document
(``manage``); each document's history of adds, updates and removals (``history``)."""

from .archive import EntryStatus, Unpacked, UnpackedEntry, unpack_zip
from .loaders import SUPPORTED, LoadedFile, doc_id_for, load_file, safe_file_name
from .history import HistoryEntry, HistoryEvent, document_history
from .manage import Deleted, delete_document
from .pipeline import Failure, IngestReport, Phase, chunks_of, ingest, read_documents
from .outlets import Outlet, OutletMatch, Outlets
from .outlets import load as load_outlets
from .sources import rate_document, sidecar_path, update_sidecar

__all__ = ["ingest", "IngestReport", "Phase", "Failure", "read_documents", "chunks_of", "load_file", "LoadedFile", "SUPPORTED",
           "doc_id_for", "safe_file_name", "sidecar_path", "rate_document", "Outlet", "OutletMatch", "Outlets",
           "load_outlets", "unpack_zip", "Unpacked", "UnpackedEntry", "EntryStatus", "update_sidecar", "delete_document",
           "Deleted", "document_history", "HistoryEntry", "HistoryEvent"]
