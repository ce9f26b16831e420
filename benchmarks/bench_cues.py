#!/usr/bin/env python
"""Loaded-language detection on BABE: the general detector (``loaded_words``), the seed cue lexicon
alone (``find_cues(general=False)``), and both together as answers use them (``find_cues``).

    python benchmarks/bench_cues.py

Data: BABE SG2 (``../shared/data/babe/final_labels_SG2.csv`` from the project root; AGPL-3.0, see
SOURCE.txt there). It is only measured on here: nothing read from it goes into the product.
Sentences labelled "No agreement" are dropped. The split is fixed, not chosen: a sentence is in the
tuning part when the first hex digit of sha256(text) is 0-7, held out otherwise; the detector's
thresholds were chosen on the tuning part only, so the held-out row is the honest number.

Sentence level: a sentence is predicted biased when ``is_loaded`` (for the seed lexicon: when
``find_cues`` finds anything), against label_bias. Word level: a mark is correct when its text
equals one of the sentence's biased_words case-insensitively; recall is over every labelled
biased word. Also prints how many sentences of the five bundled seed documents are marked, five
example marks and the time per 500-character passage. Exits 0 with one line when the data is missing.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import re
import sys
import time
from pathlib import Path

from rag import find_cues, is_loaded, loaded_words

PROJECT_DIR = Path(__file__).resolve().parent.parent

_SENTENCE = re.compile(r"[^\n.!?。！？]+(?:[.!?。！？]+[\"'”’)\]]*|$)", re.M)  # rough: for counting only

BABE = PROJECT_DIR.parent / "shared" / "data" / "babe" / "final_labels_SG2.csv"
TARGET_PRECISION, TARGET_RECALL = 0.55, 0.35  # sentence level, held out


def load() -> dict[str, list[tuple[str, bool, list[str]]]]:
    """{"tuning": [...], "held-out": [...]} of (text, biased, biased words in lower case)."""
    parts: dict[str, list] = {"tuning": [], "held-out": []}
    with BABE.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f, delimiter=";"):
            if row["label_bias"] == "No agreement":
                continue
            text = row["text"]
            words = [w.lower() for w in ast.literal_eval(row["biased_words"] or "[]")]
            part = "tuning" if hashlib.sha256(text.encode("utf-8")).hexdigest()[0] in "01234567" else "held-out"
            parts[part].append((text, row["label_bias"] == "Biased", words))
    return parts


def _prf(tp: int, n_pred: int, n_true: int) -> tuple[float, float, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_true if n_true else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def measure(rows, marks, flags) -> tuple[tuple[float, float, float], tuple[float, float, float], int]:
    """(sentence P/R/F1, word P/R/F1, marks made): ``marks`` text -> list[Cue], ``flags`` text -> bool."""
    s_tp = s_pred = s_true = 0
    w_correct = w_pred = w_found = w_true = 0
    for text, biased, words in rows:
        cues = marks(text)
        predicted = flags(text)
        s_tp += predicted and biased
        s_pred += predicted
        s_true += biased
        marked = [c.text.lower() for c in cues]
        labelled = set(words)
        w_pred += len(marked)
        w_correct += sum(m in labelled for m in marked)
        w_true += len(words)
        w_found += sum(w in set(marked) for w in words)
    sentence = _prf(s_tp, s_pred, s_true)
    wp = w_correct / w_pred if w_pred else 0.0
    wr = w_found / w_true if w_true else 0.0
    return sentence, (wp, wr, 2 * wp * wr / (wp + wr) if wp + wr else 0.0), w_pred


def main() -> int:
    if not BABE.exists():
        print(f"bench_cues: BABE data not found at {BABE}; nothing measured.")
        return 0
    started = time.perf_counter()
    parts = load()
    loaded_words("warm up")  # the lexicons load once; not part of the per-passage time
    detectors = {"loaded_words (new)": (loaded_words, is_loaded),
                 "seed lexicon only": (lambda text: find_cues(text, general=False),
                                       lambda text: bool(find_cues(text, general=False))),
                 "find_cues (both)": (find_cues, lambda text: bool(find_cues(text)))}

    counts = {k: f"{len(v)} sentences, {sum(b for _, b, _ in v)} biased, {sum(len(w) for _, _, w in v)} biased words"
              for k, v in parts.items()}
    print(f"BABE SG2: tuning {counts['tuning']}; held-out {counts['held-out']}")
    print()
    header = f"{'detector':20s} {'part':9s} | {'sent P':>6s} {'sent R':>6s} {'sent F1':>7s} | " \
             f"{'word P':>6s} {'word R':>6s} {'word F1':>7s} | {'marks':>5s}"
    print(header)
    print("-" * len(header))
    held_out = None
    for name, (fn, flags) in detectors.items():
        for part in ("tuning", "held-out"):
            (sp, sr, sf), (wp, wr, wf), n = measure(parts[part], fn, flags)
            print(f"{name:20s} {part:9s} | {sp:6.3f} {sr:6.3f} {sf:7.3f} | {wp:6.3f} {wr:6.3f} {wf:7.3f} | {n:5d}")
            if fn is loaded_words and part == "held-out":
                held_out = (sp, sr)
    base = sum(b for _, b, _ in parts["held-out"]) / len(parts["held-out"])
    met = held_out[0] >= TARGET_PRECISION and held_out[1] >= TARGET_RECALL
    print(f"\nheld-out target (sentence P >= {TARGET_PRECISION} at R >= {TARGET_RECALL}): "
          f"{'met' if met else 'NOT met'} (P {held_out[0]:.3f}, R {held_out[1]:.3f}; "
          f"calling every sentence biased gives P {base:.3f})")

    # The bundled seed documents: how much of them gets marked, and what.
    print()
    n_sent = n_marked = 0
    examples = []
    for path in sorted((PROJECT_DIR / "corpus").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        for sentence in (m.group().strip() for m in _SENTENCE.finditer(text)):
            if not any(ch.isalpha() for ch in sentence):
                continue
            n_sent += 1
            cues = loaded_words(sentence)
            n_marked += bool(cues)
            if cues and len(examples) < 5 and (not examples or examples[-1][0] != path.name):
                c = cues[0]
                examples.append((path.name, c, sentence[max(0, c.start - 40):c.end + 40].replace("\n", " ")))
    print(f"seed documents: {n_marked} of {n_sent} sentences marked ({n_marked / max(n_sent, 1):.0%})")
    for name, c, context in examples:
        print(f"  {name}: {c.text!r} ({c.kind.value}) in “…{context}…”")
    # The seed phrase list was written by hand from these documents: as a reference, how many of its
    # phrases the general detector (which never saw them) also marks, at least in part.
    hand = found = 0
    for path in sorted((PROJECT_DIR / "corpus").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        marks = loaded_words(text)
        for phrase in find_cues(text, general=False):
            hand += 1
            found += any(m.start < phrase.end and phrase.start < m.end for m in marks)
    print(f"seed phrases marked by hand (corpus/framing_cues.yaml): {hand}; the general detector marks "
          f"{found} of them ({found / max(hand, 1):.0%})")

    # Speed: 500-character passages of the seed documents.
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted((PROJECT_DIR / "corpus").glob("*.txt")))
    passages = [text[i:i + 500] for i in range(0, len(text) - 500, 500)]
    t0 = time.perf_counter()
    for _ in range(5):
        for passage in passages:
            loaded_words(passage)
    per = (time.perf_counter() - t0) / (5 * len(passages))
    print(f"\nspeed: {per * 1e3:.3f} ms per 500-character passage (lexicons loaded); "
          f"whole benchmark {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
