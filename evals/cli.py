"""``python -m evals run|validate`` (see evals/README.md).

Exit status: 0 done (gate passed or not asked), 1 a gated metric regressed (``--fail-under``),
2 the run could not be done as asked (bad dataset, no LLM for --mode llm, incomparable baseline).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

from .dataset import CASES_PATH, EVALS_DIR, read_raw, validate
from .runner import BASELINE_PATH, DEFAULT_TOLERANCE, EvalError, Options, baseline_from, gate, load_baseline, run
from .scoring import METRICS

OUT_ROOT = EVALS_DIR / "out"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals", description="Answer-quality evals for the assistant")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("run", help="run the evals and write the report")
    p.add_argument("--mode", choices=("offline", "llm"), default="offline",
                   help="offline (default): extractive answers; llm: the configured LLM answers")
    p.add_argument("--out", type=Path, help="report folder (default: evals/out/<timestamp>/, copied to evals/out/latest/)")
    p.add_argument("--fail-under", nargs="?", type=Path, const=BASELINE_PATH, default=None, metavar="BASELINE",
                   help="exit 1 if a gated metric is worse than this stored baseline by more than the tolerance "
                        "(default file: evals/baseline.json; on by default when $CI is set)")
    p.add_argument("--no-gate", action="store_true", help="never gate, even in CI")
    p.add_argument("--tolerance", type=float, help=f"allowed drop per metric (default: the baseline's, {DEFAULT_TOLERANCE})")
    p.add_argument("--update-baseline", nargs="?", type=Path, const=BASELINE_PATH, default=None, metavar="BASELINE",
                   help="rewrite the baseline (default evals/baseline.json) from this (full, offline) run")
    p.add_argument("--k", type=int, help="passages the assistant answers from (default: the product default, 6)")
    p.add_argument("--limit", type=int, help="only N cases, taken round-robin across categories (quick checks)")
    p.add_argument("--category", action="append", default=[], help="only this category (repeatable)")
    p.add_argument("--data-dir", type=Path,
                   help="index folder to build/reuse (default: a fresh temporary folder, deleted afterwards)")
    p.add_argument("--keep-index", action="store_true", help="keep the temporary index folder")
    p.add_argument("--judge", action="store_true", help="also ask the configured LLM to judge (informational)")
    p.add_argument("--judge-limit", type=int, default=30, help="judge only the first N cases (0: all; default 30)")
    p.add_argument("--semantic-support", choices=("auto", "on", "off"), default="auto",
                   help="add the embedding-similarity test to the support check (auto: in llm mode only)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1: fastest on a busy 2-core box)")
    p.add_argument("--use-env", action="store_true", help="take RAG_* settings (chunking, k, ...) from the environment")
    p.add_argument("--cases", type=Path, default=CASES_PATH, help="the case file (default evals/cases.jsonl)")
    p.add_argument("--corpus", type=Path, help="the corpus folder to index (default: RAG_CORPUS_DIR or the bundled one)")
    p.add_argument("--distractors", type=Path, action="append", default=[],
                   help="a folder of documents indexed beside the corpus, which no case is about (repeatable)")
    p.add_argument("--no-tutorial", action="store_true", help="skip the tutorial baseline (faster with distractors)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--history-as-written", action="store_true",
                   help="pass a follow-up's history as the case file writes it, instead of answering its earlier "
                        "questions in turn and passing the answers on, as the app and the CLI do")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON instead of a table")

    v = commands.add_parser("validate", help="check cases.jsonl against the corpus (fast, no index)")
    v.add_argument("--cases", type=Path, default=CASES_PATH)
    v.add_argument("--corpus", type=Path, help="the corpus folder (default: RAG_CORPUS_DIR or the bundled one)")

    g = commands.add_parser("gate", help="check an existing results.json against a stored baseline (no run)")
    g.add_argument("results", type=Path, nargs="?", default=OUT_ROOT / "latest" / "results.json")
    g.add_argument("--baseline", type=Path, default=BASELINE_PATH)
    g.add_argument("--tolerance", type=float)

    args = parser.parse_args(argv)
    try:
        if args.command == "validate":
            return _validate(args)
        if args.command == "gate":
            return _gate_only(args)
        return _run(args)
    except EvalError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _validate(args) -> int:
    import rag

    corpus_dir = args.corpus or rag.Settings.from_env().corpus_dir
    # The bundled set must cover every category; a case file of your own may hold any cases.
    bundled = args.cases.resolve() == CASES_PATH.resolve()
    problems = validate(read_raw(args.cases), corpus_dir, **({} if bundled else {"min_cases": 1, "min_per_category": 0}))
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problem(s) in {args.cases}", file=sys.stderr)
    return 1 if problems else 0


def _gate_only(args) -> int:
    try:
        results = json.loads(args.results.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise EvalError(f"cannot read {args.results}: {error}") from None
    baseline = load_baseline(args.baseline)
    if baseline is None:
        raise EvalError(f"no readable baseline at {args.baseline}")
    return _report_gate(gate(results, baseline, args.tolerance, args.baseline))


def _report_gate(g: dict | None) -> int:
    if g is None:
        return 0
    for note in g["notes"]:
        print(f"note: {note}", file=sys.stderr)
    if not g["passed"]:
        print(f"REGRESSION against {g['baseline']} (tolerance {g['tolerance']}):", file=sys.stderr)
        for f in g["failures"]:
            print(f"  {f['metric']}: {f['stored']} stored -> {f['now']} now (worse by {f['worse_by']})", file=sys.stderr)
        return 1
    print(f"Gate passed: {len(g['checked'])} metrics within {g['tolerance']} of {g['baseline']}.", file=sys.stderr)
    return 0


def _run(args) -> int:
    default_run = args.cases.resolve() == CASES_PATH.resolve() and not args.corpus and not args.distractors
    ci_default = BASELINE_PATH if _in_ci() and not args.update_baseline and default_run else None
    fail_under = None if args.no_gate else (args.fail_under or ci_default)
    opts = Options(
        mode=args.mode, out=args.out, fail_under=fail_under, k=args.k, limit=args.limit,
        categories=tuple(args.category), data_dir=args.data_dir, keep_index=args.keep_index,
        update_baseline=bool(args.update_baseline), tolerance=args.tolerance, judge=args.judge,
        judge_limit=args.judge_limit, semantic_support=args.semantic_support, threads=args.threads,
        use_env=args.use_env, cases_path=args.cases, corpus_dir=args.corpus,
        distractors=tuple(args.distractors), tutorial=not args.no_tutorial, progress=False if args.no_progress else None,
        play_history=not args.history_as_written,
    )
    if fail_under is not None:
        if load_baseline(fail_under) is None:
            raise EvalError(f"no readable baseline at {fail_under} (record one with --update-baseline)")
        if args.limit or args.category:
            raise EvalError("--fail-under compares full runs: drop --limit/--category (or pass --no-gate)")
    results = run(opts)
    if fail_under is not None:
        results["gate"] = gate(results, load_baseline(fail_under), args.tolerance, fail_under)

    from .report import write_all

    if args.out:
        out_dir = args.out
        write_all(results, out_dir)
    else:
        out_dir = OUT_ROOT / time.strftime("%Y%m%d-%H%M%S")
        write_all(results, out_dir)
        latest = OUT_ROOT / "latest"
        tmp = OUT_ROOT / f".latest-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(out_dir, tmp)
        shutil.rmtree(latest, ignore_errors=True)
        os.replace(tmp, latest)

    if args.json:
        print(json.dumps({"metrics": results["metrics"], "gate": results["gate"]}, ensure_ascii=False, indent=1))
    else:
        print(summary_table(results))
    print(f"Report: {out_dir / 'report.md'}", file=sys.stderr)

    if args.update_baseline:
        tolerance = args.tolerance if args.tolerance is not None else DEFAULT_TOLERANCE
        args.update_baseline.write_text(json.dumps(baseline_from(results, tolerance), ensure_ascii=False, indent=1)
                                        + "\n", encoding="utf-8")
        print(f"Baseline written: {args.update_baseline}", file=sys.stderr)

    return _report_gate(results["gate"])


def summary_table(results: dict) -> str:
    """The metrics as a text table: the assistant on all cases and on each split (when the case
    file has a tuning half), the tutorial baseline (when it ran) and the stored baseline."""
    stored = (results.get("stored_baseline") or {}).get("metrics") or {}
    splits = (results.get("by_split") or {}).get("assistant") or {}
    columns = [("assistant", f"({results['run']['mode']})", results["metrics"]["assistant"])]
    if len(splits) > 1:
        columns += [(name, f"n={splits[name]['n']}", splits[name]) for name in ("tuning", "held-out") if name in splits]
    if "tutorial" in results["metrics"]:
        columns.append(("tutorial", "baseline", results["metrics"]["tutorial"]))
    columns.append(("stored", "baseline", stored))
    width = max(len(v[0]) for v in METRICS.values()) + 4

    def f(x):
        return "n/a" if x is None else f"{x:.3f}"

    lines = [f"{'metric':<{width}}" + "".join(f"{name:>11}" for name, _, _ in columns),
             f"{'':<{width}}" + "".join(f"{sub:>11}" for _, sub, _ in columns)]
    for name, (label, direction) in METRICS.items():
        label = label + (" ↓" if direction < 0 else "")
        lines.append(f"{label:<{width}}" + "".join(f"{f(values.get(name)):>11}" for _, _, values in columns))
    t = results["timing"]
    lines.append("")
    parts = [f"{key} p50 {t[key]['p50_ms']} ms, p95 {t[key]['p95_ms']} ms" for key in ("assistant", "tutorial") if key in t]
    lines.append(f"timing (not deterministic): {'; '.join(parts)}; index {t['index_s']} s; run {t['wall_s']} s")
    return "\n".join(lines)
