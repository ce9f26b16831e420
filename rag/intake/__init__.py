"""Files in, indexed documents out: unpack uploaded ZIPs (``archive``), read (``loaders``), attribute (``sources``), clean
(``cleaning``), chunk (``chunking``), and write through ``rag.index`` (``pipeline``)."""

from .archive import EntryStatus, Unpacked, UnpackedEntry, unpack_zip
from .loaders import SUPPORTED, LoadedFile, doc_id_for, load_file, safe_file_name
from .pipeline import Failure, IngestReport, Phase, chunks_of, ingest, read_documents
from .outlets import Outlet, OutletMatch, Outlets
from .outlets import load as load_outlets
from .sources import rate_document, sidecar_path

__all__ = ["ingest", "IngestReport", "Phase", "Failure", "read_documents", "chunks_of", "load_file", "LoadedFile", "SUPPORTED",
           "doc_id_for", "safe_file_name", "sidecar_path", "rate_document", "Outlet", "OutletMatch", "Outlets",
           "load_outlets", "unpack_zip", "Unpacked", "UnpackedEntry", "EntryStatus"]
