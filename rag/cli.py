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

    p = commands.add_parser("ask", help="ask a question ('-' reads one question per line from stdin)")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the answer as one JSON object per question")
    p.add_argument("-k", type=int, default=None, help="number of passages to retrieve")
    p.add_argument("--outlet", action="append", help="only this outlet (repeatable)")
    p.add_argument("--doc-type", action="append", help="only this document type (repeatable)")
    p.add_argument("--date-from", help="YYYY, YYYY-MM or YYYY-MM-DD, inclusive")
    p.add_argument("--date-to", help="YYYY, YYYY-MM or YYYY-MM-DD, inclusive (2023-12: to the end of December)")
    p.add_argument("--partisan", choices=("all", "exclude", "only"), default="all",
                   help="include, exclude or only use partisan sources")
    p.set_defaults(run=_ask)

    p = commands.add_parser("cues", help="framing cues: one passage per stdin line -> one JSON object per line")
    p.set_defaults(run=_cues)

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


def _filters(args):
    from .retrieval import Filters

    partisan = {"all": None, "exclude": False, "only": True}[args.partisan]
    return Filters(
        outlets=tuple(args.outlet or ()), doc_types=tuple(args.doc_type or ()),
        date_from=args.date_from, date_to=args.date_to, partisan=partisan,
    )


def _ask(args, settings: Settings) -> int:
    from .assistant import Assistant, QuestionError

    try:
        filters = _filters(args)  # before loading anything: a bad date is reported at once
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.k:
        settings = settings.with_(k=args.k)
    assistant = Assistant(settings)
    questions = (line.strip() for line in sys.stdin) if args.question == "-" else iter([args.question])
    status = 0
    for question in questions:
        if not question:
            continue
        try:
            answer = assistant.ask(question, filters=filters)
        except QuestionError as error:
            print(f"error: {error}", file=sys.stderr)
            status = 2
            continue
        if args.json:
            print(json.dumps(answer.to_json(), ensure_ascii=False), flush=True)
        else:
            _print_answer(answer)
    return status


def _print_answer(answer) -> None:
    if answer.standalone_query != answer.question:
        print(f"(searched for: {answer.standalone_query})")
    print(answer.answer)
    for warning in answer.warnings:
        print(f"! {warning}")
    for c in answer.citations or answer.closest:
        tag = "closest" if answer.refused else f"[{c.n}]"
        rating = f"PARTISAN: {c.source.label}" if c.source.partisan else c.source.label
        print(f"  {tag} {c.source.outlet} | {c.source.published_iso or 'undated'} | {c.segment} | {rating}")
    t = answer.timings_ms
    print(f"  ({answer.mode}; retrieve {t['retrieve']} ms, generate {t['generate']} ms, total {t['total']} ms)")


def _cues(args, settings: Settings) -> int:
    from .framing import find_cues

    for line in sys.stdin:
        passage = line.rstrip("\n")
        print(json.dumps({"cues": [c.to_json() for c in find_cues(passage)]}, ensure_ascii=False), flush=True)
    return 0
