#!/usr/bin/env python
"""A newsroom-sized index: ingest speed per encoder, memory, small updates, cold and warm answers.

    python benchmarks/bench_scale.py --limit 500                  # quick: 500 documents (fits in CI)
    python benchmarks/bench_scale.py                              # BBC + Reuters bodies: ~40k chunks
    python benchmarks/bench_scale.py --ag-news --chunk-tokens 64  # + AG News rows, smaller chunks: ~100k chunks
    python benchmarks/bench_scale.py --limit 500 --server         # the same against a `chroma run` server
    python benchmarks/bench_scale.py --server-only --keep /tmp/b  # only the server; keep corpus and indexes

The documents come from ``../shared/data/news_distractors`` (research-use terms: written to a
temporary folder, never into the repository): the five seeds, the BBC articles, the bodies of
the Reuters-21578 articles (one file each, title first) and, with ``--ag-news``, each AG News
test row as a short document. The shared set holds about 40k chunks at the default chunk size;
``--chunk-tokens 64`` cuts the same text into ~100k.

For each encoder (``--encoders``, default ``onnx-int8,torch``), in a fresh data folder:

  0. load the encoder in this process (``model_s``: the one-time ONNX export included);
  1. ``python -m rag ingest`` of the whole folder in a subprocess: wall time, chunks/s and the
     process's peak RSS (from ``wait4``);
  2. a no-op re-ingest (nothing changed), in a subprocess;
  3. adding one two-line document (in this process, model loaded: the index update itself),
     and the same again through the CLI (process start included);
  4. the first answer in a fresh process (``python -m rag ask --json``, model load included);
  5. warm answers: p50/p95 over the bundled eval questions, in this process.

Prints one table per store. Asserts nothing: a benchmark, not a timed test.
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import rag

PROJECT_DIR = Path(__file__).resolve().parent.parent
SHARED = PROJECT_DIR.parent / "shared" / "data" / "news_distractors"
OWN_PREFIXES = ("RAG_", "CHROMA_", "OPENAI_")
QUESTION = "What sanctions did Japan impose on Russia in December 2023?"


def build_corpus(dest: Path, limit: int | None, ag_news: bool) -> int:
    """Write the documents as files under ``dest``; returns how many."""
    dest.mkdir(parents=True)
    for seed in sorted((PROJECT_DIR / "corpus").glob("0*.txt")):
        shutil.copy2(seed, dest / seed.name)
    n = 5
    bodies = []
    for path in sorted((SHARED / "bbc_news" / "bbc").glob("*/*.txt")):
        bodies.append((f"bbc_{path.parent.name}_{path.stem}", path.read_text(encoding="utf-8", errors="replace")))
    for path in sorted((SHARED / "reuters21578").glob("reut2-*.sgm")):
        raw = path.read_text(encoding="latin-1")
        for number, article in enumerate(re.findall(r"<REUTERS(.*?)</REUTERS>", raw, re.S)):
            body = re.search(r"<BODY>(.*?)</BODY>", article, re.S)
            title = re.search(r"<TITLE>(.*?)</TITLE>", article, re.S)
            if body:
                text = html.unescape(body.group(1)).replace("\x03", "").strip()
                bodies.append((f"reuters_{path.stem[-3:]}_{number:04d}",
                               f"{html.unescape(title.group(1)) if title else ''}\n\n{text}"))
    if ag_news:
        with open(SHARED / "ag_news_test" / "test.csv", encoding="utf-8") as fh:
            for number, row in enumerate(csv.reader(fh)):
                bodies.append((f"agnews_{number:05d}", f"{row[1]}\n\n{row[2].replace(chr(92), ' ')}"))
    for name, text in bodies[:None if limit is None else max(0, limit - n)]:
        (dest / f"{name}.txt").write_text(text, encoding="utf-8")
        n += 1
    return n


def environment(data_dir: Path, encoder: str, chunk_tokens: int, models: Path, server: tuple | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_PREFIXES)}
    env.update(RAG_DATA_DIR=str(data_dir), RAG_ENCODER=encoder, RAG_MODELS_DIR=str(models),
               RAG_CHUNK_TOKENS=str(chunk_tokens), RAG_CHUNK_OVERLAP=str(min(30, chunk_tokens // 4)))
    if server:
        env.update(CHROMA_HOST=server[0], CHROMA_PORT=str(server[1]), RAG_COLLECTION=f"bench-{encoder}")
    return env


def timed_cli(args: list[str], env: dict) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of ``python -m rag ARGS``.

    The peak is the child's own high-water mark (``VmHWM``), read every 50 ms until it exits. Not
    ``wait4``'s ru_maxrss: Linux keeps that across fork and exec, so a child of this process (which
    holds a model and a big index by then) would report this process's size, not its own."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "rag", *args], cwd=PROJECT_DIR, env=env, text=True,
                                stdout=out, stderr=err)
        peak_kb = 0
        while True:
            peak_kb = max(peak_kb, _high_water_kb(proc.pid))
            pid, status = os.waitpid(proc.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"python -m rag {' '.join(args)} failed:\n{err.read()[-2000:]}")
        return wall, peak_kb / 1024, out.read()


def _high_water_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            return next((int(line.split()[1]) for line in status if line.startswith("VmHWM:")), 0)
    except OSError:  # gone meanwhile
        return 0


def questions() -> list[str]:
    cases = [json.loads(line) for line in open(PROJECT_DIR / "evals" / "cases.jsonl", encoding="utf-8")]
    return [c["question"] for c in cases if not c.get("history")]


def run_encoder(encoder: str, corpus: Path, root: Path, args, server: tuple | None) -> dict:
    data = root / f"data-{encoder}"
    env = environment(data, encoder, args.chunk_tokens, root / "models", server)
    row = {"encoder": encoder}
    settings = rag.Settings.from_env(env)
    start = time.perf_counter()
    rag.get_embeddings(settings).encode(["warm up"])  # an ONNX encoder is exported here, once, not in the ingest
    row["model_s"] = time.perf_counter() - start
    print(f"[{encoder}] ingesting {corpus} …", file=sys.stderr, flush=True)
    wall, peak, out = timed_cli(["ingest", "--json", str(corpus)], env)
    report = json.loads(out.splitlines()[-1])
    row.update(chunks=report["chunks"], ingest_s=wall, chunks_per_s=report["chunks"] / wall, peak_mb=peak)
    row["noop_s"], _, _ = timed_cli(["ingest", "--json", str(corpus)], env)

    extra = root / f"extra-{encoder}"
    extra.mkdir()
    note = extra / "note.txt"
    note.write_text("Customs in Hakodate inspected 23 crab shipments in March.\nNone was refused.\n", encoding="utf-8")
    rag.Index.open(settings).version()  # chromadb imported and the index open: time the update itself
    start = time.perf_counter()
    added = rag.ingest(settings, [note])
    row["add_one_s"] = time.perf_counter() - start
    assert added.added == 1, added
    note.write_text("Customs in Hakodate inspected 24 crab shipments in April.\nNone was refused.\n", encoding="utf-8")
    row["add_one_cli_s"], _, _ = timed_cli(["ingest", "--json", str(note)], env)

    row["first_answer_s"], row["ask_peak_mb"], _ = timed_cli(["ask", QUESTION, "--json"], env)
    assistant = rag.Assistant(settings)
    assistant.ask(QUESTION)
    times = []
    for question in questions()[:args.questions]:
        start = time.perf_counter()
        assistant.ask(question)
        times.append(1000 * (time.perf_counter() - start))
    row["warm_p50_ms"] = statistics.median(times)
    row["warm_p95_ms"] = statistics.quantiles(times, n=20)[18] if len(times) >= 20 else max(times)
    return row


def chroma_server(path: Path) -> tuple[subprocess.Popen, tuple]:
    chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, ("127.0.0.1", port)
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the chroma server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="documents to index (default: all)")
    parser.add_argument("--ag-news", action="store_true", help="add the AG News rows as short documents")
    parser.add_argument("--chunk-tokens", type=int, default=180, help="RAG_CHUNK_TOKENS (64 gives ~100k chunks)")
    parser.add_argument("--encoders", default="onnx-int8,torch", help="comma-separated RAG_ENCODER values")
    parser.add_argument("--server", action="store_true", help="also run against a `chroma run` server")
    parser.add_argument("--server-only", action="store_true", help="only against a `chroma run` server")
    parser.add_argument("--keep", type=Path, default=None,
                        help="work in this (new) folder and keep it: the corpus and each index, for more checks")
    parser.add_argument("--questions", type=int, default=60, help="eval questions for the warm p50/p95")
    args = parser.parse_args()
    if not SHARED.is_dir():
        raise SystemExit(f"{SHARED} is missing: the benchmark needs ../shared beside the clone")

    if args.keep is not None and args.keep.exists():
        raise SystemExit(f"{args.keep} already exists: --keep wants a new folder")
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        corpus = root / "corpus"
        n = build_corpus(corpus, args.limit, args.ag_news)
        print(f"{n} documents in {corpus}", file=sys.stderr)
        stores = ([] if args.server_only else [("embedded", None)]) + \
            ([("server", "server")] if args.server or args.server_only else [])
        for store, kind in stores:
            proc, server = chroma_server(root / "chroma-server") if kind else (None, None)
            try:
                rows = [run_encoder(e, corpus, root / store, args, server) for e in args.encoders.split(",")]
            finally:
                if proc:
                    proc.terminate()
                    proc.wait(timeout=30)
            print(f"\n{store} Chroma, {n} documents, chunk tokens {args.chunk_tokens}")
            columns = ["encoder", "model_s", "chunks", "ingest_s", "chunks_per_s", "peak_mb", "noop_s", "add_one_s",
                       "add_one_cli_s", "first_answer_s", "ask_peak_mb", "warm_p50_ms", "warm_p95_ms"]
            print("| " + " | ".join(columns) + " |\n|" + "---|" * len(columns))
            for row in rows:
                print("| " + " | ".join(f"{row[c]:.1f}" if isinstance(row[c], float) else str(row[c])
                                        for c in columns) + " |")
            reference = next((r for r in rows if r["encoder"] == "torch"), rows[-1])
            for row in rows:
                if row is not reference:
                    print(f"{row['encoder']}: {row['chunks_per_s'] / reference['chunks_per_s']:.2f}x the chunks/s "
                          f"of {reference['encoder']}")
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
