"""Command line: ``python -m rag ingest|sources|ask|compare|cues|doctor``. A thin shell over the ``rag`` API."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import RagError
from ..settings import Settings
from .progress import Progress


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rag", description="Newsroom retrieval assistant")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("ingest", help="index documents (default: the bundled corpus)")
    p.add_argument("paths", nargs="*", type=Path,
                   help=".txt/.md/.html/.mhtml/.pdf files, folders, or .zip archives (unpacked into the uploads folder)")
    p.add_argument("--json", action="store_true", help="print one JSON summary object")
    p.add_argument("--rebuild", action="store_true", help="drop the index and build it again")
    p.set_defaults(run=_ingest)

    p = commands.add_parser("sources", help="list indexed documents with outlet, date, type and rating")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_sources)

    p = commands.add_parser("ask", help="ask a question ('-' reads one question per line from stdin)")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the answer as one JSON object per question")
    p.add_argument("-k", type=_positive, default=None, help="number of passages to retrieve (1 to 50)")
    _filter_options(p)
    p.add_argument("--after", action="append", metavar="EARLIER_QUESTION",
                   help="an earlier question of the conversation, oldest first (repeatable; each is answered in "
                        "turn, unseen, as in the app): the question is a follow-up")
    p.add_argument("--conversation", action="store_true",
                   help="with '-': the stdin lines are one conversation, each question following up the ones before")
    p.set_defaults(run=_ask)

    p = commands.add_parser("compare", help="per outlet, what each says on a topic, side by side")
    p.add_argument("topic", help="a few words, e.g. \"Japan's sanctions on Russia\"")
    p.add_argument("--json", action="store_true", help="print the comparison as one JSON object (README: the contract)")
    p.add_argument("--markdown", action="store_true", help="print it as Markdown with footnotes")
    p.add_argument("--k", "-k", type=_compare_k, default=None, help="passages to retrieve (1 to 100, default 30)")
    _filter_options(p)
    p.set_defaults(run=_compare)

    p = commands.add_parser("doctor", help="check the data directory (index, keyword index, documents); --repair fixes it")
    p.add_argument("--repair", action="store_true", help="move damaged parts aside and rebuild them")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_doctor)

    p = commands.add_parser("cues", help="framing cues: one passage per stdin line -> one JSON object per line")
    p.set_defaults(run=_cues)

    args = parser.parse_args(argv)
    settings = None
    try:
        settings = Settings.from_env()
        return args.run(args, settings)
    except RagError as error:  # a clear one-line message instead of a traceback
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted (nothing already indexed is lost; run the command again to finish)",
              file=sys.stderr)
        return 130
    except Exception as error:  # a bug: one line here, the details in the log
        where = _log_traceback(settings)
        print(f"error: unexpected {type(error).__name__}: {str(error)[:200]}. This is a bug; the details are "
              f"in {where}.", file=sys.stderr)
        return 3


def _filter_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--outlet", action="append", help="only this outlet (repeatable)")
    p.add_argument("--doc-type", action="append", help="only this document type (repeatable)")
    p.add_argument("--date-from", help="YYYY, YYYY-MM or YYYY-MM-DD, inclusive")
    p.add_argument("--date-to", help="YYYY, YYYY-MM or YYYY-MM-DD, inclusive (2023-12: to the end of December)")
    p.add_argument("--partisan", choices=("all", "exclude", "only"), default="all",
                   help="include, exclude or only use partisan sources")


def _log_traceback(settings: Settings | None) -> str:
    import traceback

    try:
        folder = (settings or Settings()).logs_dir
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "errors.log", "a", encoding="utf-8") as log:
            log.write(f"--- {' '.join(sys.argv)}\n{traceback.format_exc()}\n")
        return str(folder / "errors.log")
    except OSError:
        return "(no writable log folder)"


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if not 1 <= value <= 50:
        raise argparse.ArgumentTypeError(f"must be between 1 and 50, got {value}")
    return value


def _compare_k(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"must be between 1 and 100, got {value}")
    return value


def _ingest(args, settings: Settings) -> int:
    from ..intake import ingest

    paths, archives = _unpack_archives(args.paths, settings, quiet=args.json)
    progress = Progress("Indexing")
    print("Loading the embedding model and reading documents…", file=sys.stderr)
    try:
        report = ingest(settings, paths or None, progress=progress.update, rebuild=args.rebuild)
    finally:
        progress.close()
    summary = report.to_json()
    refused = sum(len(a["refused"]) for a in archives)
    if args.json:
        print(json.dumps({**summary, **({"archives": archives} if archives else {})}, ensure_ascii=False))
    else:
        print(
            f"added {report.added}, updated {report.updated}, skipped {report.skipped}, "
            f"removed {report.removed}, failed {len(report.failed)} — index holds "
            f"{report.documents} documents, {report.chunks} chunks ({report.seconds:.1f} s)"
        )
        for failure in report.failed:
            print(f"  failed: {failure.path}: {failure.reason}")
    return 1 if report.failed or refused else 0


def _unpack_archives(paths: list[Path], settings: Settings, quiet: bool) -> tuple[list[Path], list[dict]]:
    """Each .zip among ``paths`` unpacked into ``<data_dir>/uploads/<its name>/``, which is ingested in
    its place; one line per entry left out. A refused archive stops here (ArchiveError, one line)."""
    from ..intake import EntryStatus, doc_id_for, unpack_zip

    out, archives = [], []
    for path in paths:
        if path.suffix.lower() != ".zip" or not path.is_file():
            out.append(path)
            continue
        unpacked = unpack_zip(path, settings.uploads_dir / doc_id_for(path), settings)
        archives.append(unpacked.to_json())
        out.append(unpacked.folder)
        for entry in unpacked.entries:
            if entry.status is not EntryStatus.EXTRACTED and not quiet:
                print(f"  {entry.status.value}: {path.name}: {entry.name}: {entry.reason}")
        if not quiet:
            print(f"unpacked {path.name}: {len(unpacked.files)} files into {unpacked.folder}")
    return out, archives


def _sources(args, settings: Settings) -> int:
    from ..index import Index, list_documents

    docs = list_documents(settings)
    if settings.chroma_host or not docs:
        Index.exists(settings)  # an unreachable server or a damaged index is an error, not "no documents"
    if args.json:
        print(json.dumps([d.source.to_dict() for d in docs], ensure_ascii=False, indent=1))
        return 0
    if not docs:
        print("No documents indexed yet. Run: python -m rag ingest", file=sys.stderr)
        return 1
    for d in docs:
        s = d.source
        print(f"{d.doc_id}\n  {s.outlet} | {s.date_text} | {s.doc_type} | {s.rating_text()}\n  {s.title}")
        if s.registry_match:
            print(f"  rating from {s.registry_match}")
    return 0


def _filters(args):
    from ..model import Filters

    partisan = {"all": None, "exclude": False, "only": True}[args.partisan]
    return Filters(
        outlets=tuple(args.outlet or ()), doc_types=tuple(args.doc_type or ()),
        date_from=args.date_from, date_to=args.date_to, partisan=partisan,
    )


def _ask(args, settings: Settings) -> int:
    from ..answer import Assistant, check_question
    from ..errors import QuestionError

    filters = _filters(args)  # before loading anything: a bad date or question is reported at once
    if args.question != "-":
        check_question(args.question)
    if args.k:
        settings = settings.with_(k=args.k)
    assistant = Assistant(settings)
    questions = (line.strip() for line in sys.stdin) if args.question == "-" else iter([args.question])
    for earlier in args.after or []:
        check_question(earlier)
    # answered in turn, as in the app: "he" may be whom an answer named
    history = assistant.replay([{"role": "user", "content": q} for q in args.after or []], filters=filters)
    status = 0
    for question in questions:
        if not question:
            continue
        try:
            answer = assistant.ask(question, history=history or None, filters=filters)
        except QuestionError as error:
            print(f"error: {error}", file=sys.stderr)
            status = 2
            continue
        if args.conversation:
            history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.answer}]
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
        print(f"! {warning.text}")
    for c in answer.citations or answer.closest:
        tag = "closest" if answer.refused else f"[{c.n}]"
        print(f"  {tag} {c.source.outlet} | {c.source.published_iso or 'undated'} | {c.segment} | "
              f"{c.source.rating_text()}")
    t = answer.timings_ms
    print(f"  ({answer.mode.value}; retrieve {t['retrieve']} ms, generate {t['generate']} ms, total {t['total']} ms)")


def _compare(args, settings: Settings) -> int:
    from ..answer import Assistant, check_topic

    filters = _filters(args)  # before loading anything: a bad date or topic is reported at once
    check_topic(args.topic)
    comparison = Assistant(settings).compare(args.topic, k=args.k, filters=filters)
    if args.json:
        print(json.dumps(comparison.to_json(), ensure_ascii=False))
    elif args.markdown:
        from .compare_export import comparison_markdown

        print(comparison_markdown(comparison), end="")
    else:
        _print_comparison(comparison)
    return 0


def _print_comparison(c) -> None:
    for warning in c.warnings:
        print(f"! {warning.text}")
    if not c.outlets:
        print(f"No outlet says anything on “{c.topic}” in the {c.k} passages retrieved.")
    for view in c.outlets:
        print(f"== {view.outlet} | {view.badge.text}")
        print(f"   {', '.join(view.dates) or 'undated'} | {', '.join(view.doc_ids)} | "
              f"{view.mentions} sentence(s) on the topic")
        for q in view.quotes:
            print(f"   [{q.n}] “{' '.join(q.text.split())}” ({q.segment}; {q.doc_id} {q.start}-{q.end})")
            if q.cues:
                print("       marked: " + ", ".join(f"{c.text} ({c.kind.title})" for c in q.cues))
    if c.only_in:
        print("Only in partisan or unrated sources:")
        for claim in c.only_in:
            print(f"   [{claim.n}] only in {' and '.join(k.value for k in claim.kinds)} sources "
                  f"({'; '.join(claim.outlets)}); key terms: {', '.join(claim.key_terms)}")
    if c.silent:
        print("Silent (nothing on the topic): " + "; ".join(r.outlet for r in c.silent))
    if c.not_retrieved:
        print(f"On the topic but not in the {c.k} passages retrieved (raise --k): "
              + "; ".join(r.outlet for r in c.not_retrieved))


def _cues(args, settings: Settings) -> int:
    from ..answer import find_cues

    for line in sys.stdin:
        passage = line.rstrip("\n")
        cues = find_cues(passage, settings.cues_file)
        print(json.dumps({"cues": [c.to_json() for c in cues]}, ensure_ascii=False), flush=True)
    return 0


def _doctor(args, settings: Settings) -> int:
    from .doctor import diagnose, repair

    found = diagnose(settings)
    actions: list[str] = []
    if args.repair and not found.ok:
        actions = repair(settings, found, progress=Progress("Repairing").update)
        found = diagnose(settings)
    if args.json:
        print(json.dumps({"ok": found.ok, "checks": [c.to_json() for c in found.checks], "repaired": actions},
                         ensure_ascii=False))
    else:
        for action in actions:
            print(f"repaired {action}")
        for check in found.checks:
            print(check.line() + (f"  (--repair: {check.repair})" if not check.ok and check.repair else ""))
    return 0 if found.ok else 1
