#!/usr/bin/env python
"""Load: many sessions asking at once while another process ingests, then rebuilds, the index.

    python benchmarks/bench_load.py                      # 20 sessions x 10 questions per phase
    python benchmarks/bench_load.py --sessions 5 --new-docs 20

One process holds the app's shared objects (``ui.runtime.Runtime``: one Assistant for every
session, as the Streamlit server does) and runs each session in a thread. Phases:

  1. quiet: the sessions ask with nothing else running (the serial answers are taken first);
  2. ingest: another process runs ``python -m rag ingest`` with ``--new-docs`` BBC articles added;
  3. rebuild: another process runs ``python -m rag ingest --rebuild``.

In phases 2 and 3 every session keeps asking its questions until the other process is done
(at least one round). An answer counts as identical when its text and cited documents equal
the serial answer of the index before or after that phase. Prints errors, identical answers
and p50/p95 latency per phase. Asserts nothing: a benchmark, not a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import rag
from evals.metrics import percentile
from ui.runtime import Runtime

ROOT = Path(__file__).resolve().parent.parent
BBC = ROOT.parent / "shared" / "data" / "news_distractors" / "bbc_news" / "bbc"


def questions(n: int) -> list[str]:
    cases = [json.loads(line) for line in open(ROOT / "evals" / "cases.jsonl", encoding="utf-8")]
    return [c["question"] for c in cases if not c["history"]][:n]


def signature(answer: rag.Answer) -> tuple:
    return answer.answer, tuple(c.doc_id for c in answer.citations)


def copy_bbc(dest: Path, start: int, count: int) -> None:
    articles = sorted((BBC / "business").glob("*.txt")) + sorted((BBC / "tech").glob("*.txt"))
    if len(articles) < start + count:
        raise SystemExit(f"needs {start + count} BBC articles under {BBC}")
    for src in articles[start:start + count]:
        shutil.copy2(src, dest / f"bbc_{src.parent.name}_{src.name}")


def serial(assistant, qs: list[str]) -> dict[str, tuple]:
    return {q: signature(assistant.ask(q)) for q in qs}


def run_phase(name, assistant, qs, sessions, other: subprocess.Popen | None) -> dict:
    latencies, errors, got_all = [], [], []
    lock = threading.Lock()

    def session(i: int) -> None:
        rounds = 0
        while rounds == 0 or (other is not None and other.poll() is None):
            for q in qs:
                t0 = time.perf_counter()
                try:
                    got = signature(assistant.ask(q))
                except Exception as error:  # what this benchmark counts
                    with lock:
                        errors.append(f"{type(error).__name__}: {str(error)[:120]}")
                    continue
                with lock:
                    latencies.append((time.perf_counter() - t0) * 1000)
                    got_all.append((q, got))
            rounds += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=session, args=(i,), name=f"session-{i}") for i in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if other is not None:
        out, err = other.communicate()
        if other.returncode != 0:
            raise SystemExit(f"{name}: the other process failed:\n{err[-2000:]}")
    return {"phase": name, "answers": len(got_all), "errors": len(errors), "got": got_all,
            "p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
            "mean": statistics.mean(latencies) if latencies else None,
            "seconds": time.perf_counter() - started, "first_errors": errors[:3]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--base-docs", type=int, default=60, help="BBC articles beside the seeds at the start")
    parser.add_argument("--new-docs", type=int, default=40, help="BBC articles the concurrent ingest adds")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench-load-"))
    try:
        corpus = root / "corpus"
        corpus.mkdir()
        for seed in sorted((ROOT / "corpus").glob("0*.txt")):
            shutil.copy2(seed, corpus / seed.name)
        copy_bbc(corpus, 0, args.base_docs)
        shutil.copy2(ROOT / "corpus" / "sources.yaml", corpus / "sources.yaml")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "CHROMA_", "OPENAI_"))}
        env.update(RAG_DATA_DIR=str(root / "data"), RAG_CORPUS_DIR=str(corpus))
        settings = rag.Settings.from_env(env)
        t0 = time.perf_counter()
        report = rag.ingest(settings)
        print(f"index: {report.documents} documents, {report.chunks} chunks ({time.perf_counter() - t0:.0f} s)")

        runtime = Runtime(settings)
        assistant = runtime.assistant()
        qs = questions(args.questions)
        before = serial(assistant, qs)
        rows = [run_phase("quiet", assistant, qs, args.sessions, None)]

        copy_bbc(corpus, args.base_docs, args.new_docs)
        ingest = subprocess.Popen([sys.executable, "-m", "rag", "ingest", "--json"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        rows.append(run_phase("during ingest", assistant, qs, args.sessions, ingest))
        time.sleep(2.1)  # the assistant looks at the index version at most every 2 s
        after_ingest = serial(assistant, qs)

        rebuild = subprocess.Popen([sys.executable, "-m", "rag", "ingest", "--rebuild", "--json"], cwd=ROOT,
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        rows.append(run_phase("during rebuild", assistant, qs, args.sessions, rebuild))
        time.sleep(2.1)
        after_rebuild = serial(assistant, qs)
        # An answer is identical when it equals the serial answer of a state the index was in meanwhile.
        states = {"quiet": [before], "during ingest": [before, after_ingest],
                  "during rebuild": [after_ingest, after_rebuild]}
        for r in rows:
            r["identical"] = sum(any(got == s[q] for s in states[r["phase"]]) for q, got in r["got"])

        changed_by_ingest = sum(before[q] != after_ingest[q] for q in qs)
        changed_by_rebuild = sum(after_ingest[q] != after_rebuild[q] for q in qs)
        print(f"\n{args.sessions} sessions x {len(qs)} questions per round, on {os.cpu_count()} CPUs; "
              f"{args.new_docs} documents added by the concurrent ingest")
        print(f"serial answers changed by the ingest: {changed_by_ingest} of {len(qs)}; by the rebuild: "
              f"{changed_by_rebuild} of {len(qs)}")
        print("| phase | answers | errors | identical to serial | p50 ms | p95 ms | wall s |")
        print("|---|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['phase']} | {r['answers']} | {r['errors']} | {r['identical']} | {r['p50']:.0f} | "
                  f"{r['p95']:.0f} | {r['seconds']:.0f} |")
            for e in r["first_errors"]:
                print(f"    error: {e}")
        print("(identical: equal to the serial answer of the index before or after that phase's other process)")
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
