"""One eval run: build the eval index, run every case through both systems, score, aggregate,
compare with the stored baseline, write the report."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import rag

from . import metrics as m
from .dataset import CASES_PATH, EVALS_DIR, Case, fingerprint, interleave, load_corpus, load_cases, read_raw, validate
from .scoring import METRICS, aggregate, score_case

BASELINE_PATH = EVALS_DIR / "baseline.json"
DEFAULT_TOLERANCE = 0.02
SCHEMA = 1
# Settings passed through from the environment in LLM mode (nothing else: the eval measures the
# product's defaults unless --use-env is given).
LLM_VARIABLES = ("RAG_LLM_MODEL", "OPENAI_BASE_URL", "OPENAI_API_KEY", "RAG_LLM_TIMEOUT")
# How the embedding model runs, and where its ONNX export is kept: passed through always, so
# the encoders can be compared (the report records which one ran) and each run reuses one export.
ENCODER_VARIABLES = ("RAG_ENCODER", "RAG_MODELS_DIR")


class EvalError(RuntimeError):
    """A run that cannot be done as asked (exit status 2)."""


@dataclass
class Options:
    mode: str = "offline"
    out: Path | None = None
    fail_under: Path | None = None
    k: int | None = None
    limit: int | None = None
    categories: tuple[str, ...] = ()
    data_dir: Path | None = None
    keep_index: bool = False
    update_baseline: bool = False
    tolerance: float | None = None
    judge: bool = False
    judge_limit: int = 30
    semantic_support: str = "auto"  # auto | on | off
    threads: int = 1
    use_env: bool = False
    cases_path: Path = CASES_PATH
    corpus_dir: Path | None = None  # None: the settings' corpus (the bundled one unless --use-env says otherwise)
    distractors: tuple[Path, ...] = ()  # more folders indexed beside the corpus (no case is about them)
    tutorial: bool = True  # also run the tutorial baseline
    play_history: bool = True  # answer a follow-up's earlier questions in turn and pass the answers on, as the app does
    progress: bool | None = None  # None: tqdm decides (shown on a terminal)
    log: object = field(default=sys.stderr, repr=False)


def _settings_env(opts: Options) -> dict:
    if opts.use_env:
        env = dict(os.environ)
    else:
        env = {k: os.environ[k] for k in LLM_VARIABLES if os.environ.get(k)}
    if opts.mode == "offline":
        for key in LLM_VARIABLES:
            env.pop(key, None)
    env.update({k: os.environ[k] for k in ENCODER_VARIABLES if os.environ.get(k)})
    # the eval index lives in its own data folder; the model export is the user's, built once
    env.setdefault("RAG_MODELS_DIR", str(rag.Settings.from_env().model_cache_dir))
    if opts.corpus_dir is not None:
        env["RAG_CORPUS_DIR"] = str(opts.corpus_dir)
    return env


def eval_corpus_dir(opts: Options) -> Path:
    """The corpus the run indexes: --corpus, else RAG_CORPUS_DIR under --use-env, else the bundled one."""
    return rag.Settings.from_env(_settings_env(opts)).corpus_dir


def _encoder(settings) -> str:
    """What encoded the passages: the configured encoder, or torch when ONNX fell back to it."""
    encoder = rag.get_embeddings(settings)
    return getattr(encoder, "backend", settings.embedding)


def build_settings(opts: Options, data_dir: Path):
    env = _settings_env(opts)
    env["RAG_DATA_DIR"] = str(data_dir)
    settings = rag.Settings.from_env(env)
    if opts.mode == "llm" and not settings.llm_configured:
        raise EvalError("--mode llm needs an LLM: set RAG_LLM_MODEL and OPENAI_BASE_URL (or OPENAI_API_KEY).")
    return settings


def judge_llm_settings():
    """The LLM the judge asks (from the environment, whatever the run's mode)."""
    settings = rag.Settings.from_env({k: os.environ[k] for k in LLM_VARIABLES if os.environ.get(k)})
    if not settings.llm_configured:
        raise EvalError("--judge needs an LLM: set RAG_LLM_MODEL and OPENAI_BASE_URL (or OPENAI_API_KEY).")
    return settings


def select_cases(cases: list[Case], opts: Options) -> list[Case]:
    if opts.categories:
        unknown = sorted(set(opts.categories) - {c.category for c in cases})
        if unknown:
            raise EvalError(f"no cases in category {', '.join(unknown)}")
        cases = [c for c in cases if c.category in opts.categories]
    if opts.limit:
        chosen = {c.id for c in interleave(cases)[: opts.limit]}
        cases = [c for c in cases if c.id in chosen]  # file order
    return cases


def corpus_fingerprint(corpus_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(corpus_dir).iterdir()):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def run(opts: Options) -> dict:
    """Run the evaluation; returns the results dict (as written to results.json)."""
    started = time.perf_counter()
    log = opts.log
    build_settings(opts, Path(tempfile.gettempdir()))  # a bad configuration fails before any work
    rows = read_raw(opts.cases_path)
    # Validation, the tutorial baseline and corpus_sha read the folder the assistant's index is
    # built from (the settings' corpus_dir), so both systems always see the same documents.
    corpus_dir = eval_corpus_dir(opts)
    problems = validate(rows, corpus_dir, min_cases=1, min_per_category=0)
    if problems:
        raise EvalError("the dataset has problems:\n  " + "\n  ".join(problems[:20]))
    cases = select_cases(load_cases(opts.cases_path), opts)
    if opts.update_baseline and (opts.limit or opts.categories or opts.mode != "offline"):
        raise EvalError("--update-baseline records a full offline run: drop --limit/--category/--mode llm.")

    if opts.judge:
        judge_llm_settings()  # fail before the long part
    _limit_threads(opts.threads)
    temp_dir = None
    data_dir = opts.data_dir
    if data_dir is None:
        temp_dir = Path(tempfile.mkdtemp(prefix="rag-evals-"))
        data_dir = temp_dir / "data"
    try:
        settings = build_settings(opts, Path(data_dir))
        if opts.k:
            settings = settings.with_(k=opts.k)
        results = _run_cases(opts, settings, cases, corpus_dir, log, started)
    finally:
        if temp_dir is not None and not opts.keep_index:
            shutil.rmtree(temp_dir, ignore_errors=True)
    return results


def _progress(log, opts: Options):
    """Ingest progress in plain lines (the eval index can be large with distractors)."""
    if opts.progress is False:
        return None
    return rag.Progress("Indexing", stream=log, every=30.0).update


def _limit_threads(threads: int) -> None:
    """One torch thread by default: on a shared 2-core machine two threads make each single
    query encode several times slower, and a fixed thread count keeps the floats identical."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        import torch

        torch.set_num_threads(max(1, threads))
    except ImportError:
        pass


def _run_cases(opts: Options, settings, cases: list[Case], corpus_dir: Path, log, started: float) -> dict:
    from tqdm import tqdm

    from .systems import AssistantSystem, TutorialPipeline

    print(f"Building the evaluation index in {settings.data_dir} …", file=log, flush=True)
    t0 = time.perf_counter()
    folders = [corpus_dir, *opts.distractors]
    report = rag.ingest(settings, folders, progress=_progress(log, opts))
    if report.failed:
        raise EvalError("ingest failed: " + "; ".join(f"{f.path}: {f.reason}" for f in report.failed[:5]))
    index_s = time.perf_counter() - t0
    assistant = AssistantSystem(settings, k=settings.k, play_history=opts.play_history)
    if opts.mode == "llm" and assistant.mode != "llm":
        raise EvalError("the assistant did not pick up the LLM configuration")
    systems = [assistant]
    t0 = time.perf_counter()
    if opts.tutorial:
        llm = rag.LLM(settings) if opts.mode == "llm" else None
        systems.append(TutorialPipeline(settings, folders, llm=_SafeLLM(llm) if llm else None))
    tutorial_index_s = time.perf_counter() - t0
    print(f"Index ready: {report.documents} documents, {report.chunks} chunks ({index_s:.1f} s)"
          + (f"; tutorial baseline: {len(systems[1].chunks)} chunks ({tutorial_index_s:.1f} s)." if opts.tutorial
             else "."), file=log, flush=True)

    corpus = load_corpus(corpus_dir)
    aliases = assistant.assistant.aliases
    semantic = opts.semantic_support == "on" or (opts.semantic_support == "auto" and opts.mode == "llm")
    embedder = assistant.encoder if semantic else None
    passages = {s.key: [m.norm(t) for t in s.all_passages()] for s in systems}

    per_case = []
    latency = {s.key: {} for s in systems}
    show = None if opts.progress is None else not opts.progress  # None: tqdm shows it on a terminal only
    for case in tqdm(cases, desc="Evaluating", unit="case", file=log, disable=show):
        row = {"id": case.id, "category": case.category, "question": case.question,
               "history": [t["content"] for t in case.history_list], "expect_refusal": case.expect_refusal,
               "expect_warning": case.expect_warning, "speaker": case.speaker, "key_facts": list(case.key_facts)}
        for system in systems:
            result = system.run(case)
            latency[system.key][case.id] = round(result.latency_ms, 1)
            row[system.key] = score_case(case, result, passages[system.key], corpus, aliases, embedder)
        per_case.append(row)
    for system in systems[1:]:
        system.close()

    tuned_file = Path(opts.cases_path).resolve() == CASES_PATH.resolve()
    split_of = (lambda c: "tuning" if c.tuning_half else "held-out") if tuned_file else (lambda c: "held-out")
    for row, case in zip(per_case, cases):
        row["split"] = split_of(case)
    metrics, counts, by_category, by_split = {}, {}, {}, {}
    for system in systems:
        records = [row[system.key] for row in per_case]
        metrics[system.key], counts[system.key] = aggregate(cases, records)
        by_category[system.key], by_split[system.key] = {}, {}
        for name, key in (("category", lambda c: c.category), ("split", split_of)):
            target = by_category[system.key] if name == "category" else by_split[system.key]
            for value in dict.fromkeys(key(c) for c in cases):
                idx = [i for i, c in enumerate(cases) if key(c) == value]
                target[value] = {"n": len(idx), **aggregate([cases[i] for i in idx], [records[i] for i in idx])[0]}

    stored_path = Path(opts.fail_under or BASELINE_PATH)
    stored = load_baseline(stored_path)
    results = {
        "schema": SCHEMA,
        "run": {
            "mode": opts.mode, "k": settings.k, "cases": len(cases), "limit": opts.limit,
            "categories": list(opts.categories), "cases_file": str(opts.cases_path.name),
            "cases_sha": fingerprint(opts.cases_path), "corpus_sha": corpus_fingerprint(corpus_dir),
            "distractors": [str(d) for d in opts.distractors], "documents": report.documents,
            "chunks": report.chunks,
            "semantic_support": semantic, "torch_threads": opts.threads,
            "settings": {"chunk_tokens": settings.chunk_tokens, "chunk_overlap": settings.chunk_overlap,
                         "embedding": settings.embedding, "encoder": _encoder(settings), "llm_model": settings.llm_model if opts.mode == "llm" else None},
        },
        "systems": {s.key: s.label for s in systems},
        "metric_labels": {k: v[0] for k, v in METRICS.items()},
        "metric_directions": {k: v[1] for k, v in METRICS.items()},
        "metrics": metrics,
        "counts": counts,
        "by_category": by_category,
        "by_split": by_split,
        "stored_baseline": stored and {"path": _display(stored_path), "mode": stored.get("mode"), "k": stored.get("k"),
                                       "cases": stored.get("cases"), "metrics": stored.get("metrics")},
        "gate": None,
        "cases": per_case,
    }
    if opts.judge:
        from .judge import judge_run

        judge_settings = judge_llm_settings()
        cache_root = opts.data_dir or rag.Settings.from_env().data_dir  # the user's data dir: the cache outlives the run
        results["judge"] = judge_run(rag.LLM(judge_settings), judge_settings, per_case, [s.key for s in systems], log,
                                     Path(cache_root), opts.judge_limit or None)

    wall = time.perf_counter() - started
    results["timing"] = {
        "note": "timing (not deterministic): excluded from comparisons between runs",
        "generated_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "wall_s": round(wall, 1), "index_s": round(index_s, 1), "tutorial_index_s": round(tutorial_index_s, 1),
        **{key: {"p50_ms": m.percentile(list(v.values()), 50), "p95_ms": m.percentile(list(v.values()), 95),
                 "per_case_ms": v} for key, v in latency.items()},
    }
    return results


class _SafeLLM:
    """The tutorial pipeline's LLM call: a failure becomes an empty answer, not a crashed run."""

    def __init__(self, llm):
        self.llm = llm

    def complete(self, messages, max_tokens: int = 600) -> str:
        try:
            return self.llm.complete(messages, max_tokens=max_tokens)
        except rag.LLMError as error:
            return f"(LLM error: {error})"


# -- the stored baseline and the regression gate --------------------------------------------------------
def load_baseline(path: Path) -> dict | None:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _display(path: Path) -> str:
    path, project = Path(path).resolve(), EVALS_DIR.parent
    return str(path.relative_to(project)) if path.is_relative_to(project) else str(path)


def gate(results: dict, baseline: dict, tolerance: float | None = None, path: Path = BASELINE_PATH) -> dict:
    """Compare the assistant's metrics with a stored baseline. A metric fails when it is worse than
    the stored value by more than the tolerance (lower for most metrics, higher for the rates)."""
    run_info = results["run"]
    if baseline.get("mode") != run_info["mode"] or baseline.get("k") != run_info["k"]:
        raise EvalError(f"the baseline was recorded with mode={baseline.get('mode')} k={baseline.get('k')}; "
                        f"this run has mode={run_info['mode']} k={run_info['k']}: not comparable")
    if run_info["limit"] or run_info["categories"]:
        raise EvalError("--fail-under compares full runs: drop --limit/--category")
    tol = baseline.get("tolerance", DEFAULT_TOLERANCE) if tolerance is None else tolerance
    current = results["metrics"]["assistant"]
    failures, checked, skipped = [], [], []
    for name, stored in (baseline.get("metrics") or {}).items():
        if name not in METRICS:
            continue
        now = current.get(name)
        if stored is None or now is None:
            skipped.append(name)
            continue
        direction = METRICS[name][1]
        worse_by = (stored - now) if direction > 0 else (now - stored)
        checked.append(name)
        if worse_by > tol + 1e-9:
            failures.append({"metric": name, "stored": stored, "now": now, "worse_by": round(worse_by, 4)})
    notes = []
    if baseline.get("cases_sha") and baseline.get("cases_sha") != run_info["cases_sha"]:
        notes.append("cases.jsonl changed since the baseline was recorded; refresh it with --update-baseline "
                     "once the change is reviewed")
    return {"baseline": _display(path), "tolerance": tol, "passed": not failures, "failures": failures,
            "checked": checked, "skipped": skipped, "notes": notes}


def baseline_from(results: dict, tolerance: float) -> dict:
    run_info = results["run"]
    return {
        "note": "Stored offline metrics of the rag assistant: the regression gate of `python -m evals run "
                "--fail-under`. Rewrite with `python -m evals run --update-baseline` after reviewing a change.",
        "recorded": time.strftime("%Y-%m-%d"),
        "mode": run_info["mode"], "k": run_info["k"], "cases": run_info["cases"],
        "cases_sha": run_info["cases_sha"], "corpus_sha": run_info["corpus_sha"], "tolerance": tolerance,
        "metrics": results["metrics"]["assistant"],
        "tutorial_metrics": results["metrics"].get("tutorial"),
        "by_split": (results.get("by_split") or {}).get("assistant"),
    }
