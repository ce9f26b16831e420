"""Command line: ``python -m rag ingest|sources|ask|cues``. A thin shell over the ``rag`` API."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .settings import Settings, SettingsError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rag", description="Newsroom retrieval assistant")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("ingest", help="index documents (default: the bundled corpus)")
    p.add_argument("paths", nargs="*", type=Path, help=".txt/.md/.html/.pdf files or folders")
    p.add_argument("--json", action="store_true", help="print one JSON summary object")
    p.add_argument("--rebuild", action="store_true", help="drop the index and build it again")
    p.set_defaults(run=_ingest)

    p = commands.add_parser("sources", help="list indexed documents with outlet, date, type and rating")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_sources)

    args = parser.parse_args(argv)
    try:
        return args.run(args, Settings.from_env())
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # a clear one-line message instead of a traceback for known failures
        from .store import EmbeddingMismatch, IndexMissing

        if isinstance(error, (EmbeddingMismatch, IndexMissing)):
            print(f"error: {error}", file=sys.stderr)
            return 2
        raise


def _ingest(args, settings: Settings) -> int:
    from tqdm import tqdm

    from .ingest import ingest

    bar = tqdm(total=0, unit="chunk", desc="Indexing", file=sys.stderr, disable=None)

    def progress(done: int, total: int, message: str) -> None:
        bar.total = total
        bar.n = done
        bar.set_description(message.capitalize())
        bar.refresh()

    print("Loading the embedding model and reading documents…", file=sys.stderr)
    report = ingest(settings, args.paths or None, progress=progress, rebuild=args.rebuild)
    bar.close()
    summary = report.to_json()
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(
            f"added {report.added}, updated {report.updated}, skipped {report.skipped}, "
            f"removed {report.removed}, failed {len(report.failed)} — index holds "
            f"{report.documents} documents, {report.chunks} chunks ({report.seconds:.1f} s)"
        )
        for failure in report.failed:
            print(f"  failed: {failure['path']}: {failure['reason']}")
    return 1 if report.failed else 0


def _sources(args, settings: Settings) -> int:
    from . import documents

    rows = [dict(doc_id=d.doc_id, **{k: v for k, v in d.source.to_dict().items() if k != "doc_id"})
            for d in documents.all_documents(settings)]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    if not rows:
        print("No documents indexed yet. Run: python -m rag ingest", file=sys.stderr)
        return 1
    for row in rows:
        rating = f"PARTISAN: {row['label']}" if row["partisan"] else row["label"]
        print(f"{row['doc_id']}\n  {row['outlet']} | {row['published_iso'] or row['published'] or 'undated'}"
              f" | {row['doc_type']} | {rating}\n  {row['title']}")
    return 0
