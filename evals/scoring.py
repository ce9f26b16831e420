"""Score one system's run of one case, and aggregate case scores into the reported metrics."""

from __future__ import annotations

from typing import Sequence

from rag import check_support as check
from rag import split_answer

from . import metrics as m
from .dataset import Case, CorpusDoc, case_speaker_kind
from .systems import RETRIEVAL_DEPTH, Run

# Headline metrics, in report order: name -> (label, direction). direction +1: higher is better.
METRICS = {
    "recall@6": ("Retrieval recall@6", 1),
    "recall@10": ("Retrieval recall@10", 1),
    "mrr@10": ("MRR@10", 1),
    "ndcg@10": ("nDCG@10", 1),
    "citation_validity": ("Citation validity", 1),
    "quote_fidelity": ("Quote fidelity", 1),
    "citation_support": ("Citation support (per sentence)", 1),
    "key_fact_coverage": ("Key-fact coverage", 1),
    "refusal_accuracy": ("Refusal accuracy", 1),
    "false_refusal_rate": ("False-refusal rate", -1),
    "missed_refusal_rate": ("Missed-refusal rate", -1),
    "out_of_corpus_refused": ("Out-of-corpus questions refused", 1),
    "near_miss_refused": ("Near misses refused (asked fact absent)", 1),
    "warning_precision": ("Framing-warning precision", 1),
    "warning_recall": ("Framing-warning recall", 1),
    "partisan_attribution": ("Attribution of partisan claims", 1),
    "who_said_what_accuracy": ("Who-said-what accuracy", 1),
    "who_said_what_named": ("Who-said-what: speaker named in answer", 1),
    "needle_cited": ("Evidence passage cited (answerable)", 1),
    "needle_quoted": ("Evidence sentence quoted (answerable)", 1),
    "key_facts_single": ("Key-fact coverage, single-fact questions", 1),
    "paraphrase_answered": ("Paraphrased questions answered", 1),
}


def score_case(case: Case, run: Run, all_passages_norm: Sequence[str], corpus: dict[str, CorpusDoc],
               aliases, embedder=None) -> dict:
    """Everything measured on one case for one system (deterministic; latency is kept apart)."""
    needles = case.needles
    scores: dict = {}
    problems: list[str] = []

    # Retrieval
    hits = m.needle_hits([r.text for r in run.retrieved], needles)
    if needles:
        all_hits = m.needle_hits(all_passages_norm, needles)
        scores["recall@6"] = m.recall_at_k(hits, len(needles), 6)
        scores["recall@10"] = m.recall_at_k(hits, len(needles), 10)
        scores["mrr@10"] = m.reciprocal_rank(hits, RETRIEVAL_DEPTH)
        scores["ndcg@10"] = m.ndcg_at_k(hits, all_hits, 10)
        unreachable = [i for i in range(len(needles)) if not any(i in h for h in all_hits)]
        if unreachable:
            scores["unreachable_needles"] = unreachable
            problems.append(f"{len(unreachable)} needle(s) are in no indexed passage of this system")
        if scores["recall@10"] < 1:
            problems.append(f"retrieval missed {len(needles) - round(scores['recall@10'] * len(needles))} of "
                            f"{len(needles)} evidence passage(s) in the top 10")

    answered = not run.refused
    passages = {c.n: c.text for c in run.citations}

    # Citations, quotes, support
    if answered:
        scores["citation_valid"] = m.citation_valid(run.answer, passages)
        if not scores["citation_valid"]:
            problems.append("a citation marker is missing or points at no citation")
        good, total, bad = m.quote_fidelity(run.answer, passages)
        scores["quotes"] = [good, total]
        problems += [f"quote not verbatim in its cited passage: “{q[:80]}”" for q in bad]
        context = {c.n: c.context() for c in run.citations}
        sentences = split_answer(run.answer)
        verdicts = [check(s, passages, context, aliases, embedder) for s in sentences]
        scores["support"] = [sum(v.supported for v in verdicts), len(verdicts)]
        problems += [f"unsupported sentence ({v.reasons[0]}): {s[:90]}" for s, v in zip(sentences, verdicts)
                     if not v.supported]
    else:
        sentences = []

    # The evidence itself cited (an answerable case): some citation holds a needle
    if needles and not case.expect_refusal:
        scores["needle_cited"] = answered and any(m.needle_hits([c.text for c in run.citations], needles))
        scores["needle_quoted"] = answered and m.needle_quoted(run.answer, needles)

    # Key facts
    coverage, missing = m.key_fact_coverage(run.answer if answered else "", case.key_facts)
    scores["key_fact_coverage"] = coverage
    if missing:
        problems.append("missing key fact(s): " + "; ".join(missing))

    # Refusal
    scores["refused"] = run.refused
    scores["refusal_correct"] = run.refused == case.expect_refusal
    if run.refused and not case.expect_refusal:
        found = [rank for rank, h in enumerate(hits, start=1) if h]
        problems.append("refused an answerable question" + (
            f" although retrieval ranked the evidence at {', '.join(map(str, found))} (the answerer's refusal "
            "test rejected it)" if found else " (retrieval did not find the evidence either)"))
    if not run.refused and case.expect_refusal:
        problems.append("answered a question the documents do not answer")

    # Framing warning
    warned = m.has_partisan_warning(run.warnings)
    scores["warning"] = warned
    if warned != case.expect_warning:
        problems.append("partisan-source warning missing" if case.expect_warning else "unexpected partisan-source warning")

    # Attribution of partisan claims
    partisan = {c.n: c for c in run.citations if c.partisan}
    if answered and partisan:
        citing = [s for s in sentences if set(m.cited_numbers(s)) & set(partisan)]
        if citing:
            bad_sentences = []
            for s in citing:
                names = [name for n in m.cited_numbers(s) if n in partisan
                         for name in m.source_names(partisan[n].outlet, partisan[n].author, partisan[n].speaker)]
                if not m.sentence_attributed(s, names):
                    bad_sentences.append(s)
            scores["attribution_ok"] = not bad_sentences
            problems += [f"partisan claim stated as fact: {s[:90]}" for s in bad_sentences]

    # Who said what
    if case.speaker:
        kind = case_speaker_kind(case, corpus)
        scores["speaker_kind"] = kind
        wanted = [m.norm(n) for n in needles]
        relevant = [c for c in run.citations if any(w in m.norm(c.text) for w in wanted)] if answered else []
        scores["who_ok"] = any(m.speaker_matches(kind, case.speaker, c.segment, c.segment_kind, c.speaker, c.text)
                               for c in relevant)
        voice = [name for e in case.evidence if e.doc_id in corpus
                 for name in m.source_names(corpus[e.doc_id].outlet, corpus[e.doc_id].author)]
        scores["who_named"] = answered and m.speaker_named(kind, case.speaker, run.answer, voice)
        if not relevant:
            problems.append("who-said-what: no citation contains the evidence passage")
        elif not scores["who_ok"]:
            problems.append(f"who-said-what: the cited evidence is not in the voice of {case.speaker!r} "
                            f"(segment: {relevant[0].segment})")
        if not scores["who_named"]:
            problems.append(f"who-said-what: the answer does not name {case.speaker!r}")

    return {
        "query": run.query, "answer": run.answer, "refused": run.refused, "mode": run.mode,
        "warnings": [w.text for w in run.warnings], "citations": [c.to_json() for c in run.citations],
        "retrieved": [{"rank": i, "id": r.id, "doc_id": r.doc_id, "segment": r.segment, "needles": sorted(h)}
                      for i, (r, h) in enumerate(zip(run.retrieved, hits), start=1)],
        "scores": m.rounded(scores), "case_score": round(case_score(scores, case), 4), "problems": problems,
    }


def case_score(scores: dict, case: Case) -> float:
    """One number per case for ranking the worst cases: the mean of its applicable parts."""
    parts = []
    for key in ("recall@6", "key_fact_coverage"):
        if scores.get(key) is not None:
            parts.append(scores[key])
    for key in ("citation_valid", "refusal_correct", "attribution_ok", "who_ok"):
        if key in scores:
            parts.append(float(scores[key]))
    for key in ("quotes", "support"):
        if key in scores and scores[key][1]:
            parts.append(scores[key][0] / scores[key][1])
    parts.append(float(scores["warning"] == case.expect_warning))
    return sum(parts) / len(parts)


def aggregate(cases: Sequence[Case], records: Sequence[dict]) -> tuple[dict, dict]:
    """(metrics, counts) over the given cases; ``records[i]`` is the scored run of ``cases[i]``."""
    s = [r["scores"] for r in records]
    answered = [x for x in s if not x["refused"]]
    quotes = [x["quotes"] for x in answered if "quotes" in x]
    support = [x["support"] for x in answered if "support" in x]
    precision, recall = m.precision_recall([(c.expect_warning, x["warning"]) for c, x in zip(cases, s)])
    who = [x for x in s if "who_ok" in x]
    attribution = [x["attribution_ok"] for x in s if "attribution_ok" in x]
    metrics = {
        "recall@6": m.mean(x.get("recall@6") for x in s),
        "recall@10": m.mean(x.get("recall@10") for x in s),
        "mrr@10": m.mean(x.get("mrr@10") for x in s),
        "ndcg@10": m.mean(x.get("ndcg@10") for x in s),
        "citation_validity": m.mean(float(x["citation_valid"]) for x in answered if "citation_valid" in x),
        "quote_fidelity": m.ratio(sum(q[0] for q in quotes), sum(q[1] for q in quotes)),
        "citation_support": m.ratio(sum(q[0] for q in support), sum(q[1] for q in support)),
        "key_fact_coverage": m.mean(x.get("key_fact_coverage") for x in s),
        **m.refusal_metrics([(c.expect_refusal, x["refused"]) for c, x in zip(cases, s)]),
        "out_of_corpus_refused": m.mean(float(x["refused"]) for c, x in zip(cases, s) if c.absent == "subject"),
        "near_miss_refused": m.mean(float(x["refused"]) for c, x in zip(cases, s) if c.absent == "fact"),
        "warning_precision": precision,
        "warning_recall": recall,
        "partisan_attribution": m.mean(float(a) for a in attribution),
        "who_said_what_accuracy": m.mean(float(x["who_ok"]) for x in who),
        "who_said_what_named": m.mean(float(x["who_named"]) for x in who),
        "needle_cited": m.mean(float(x["needle_cited"]) for x in s if "needle_cited" in x),
        "needle_quoted": m.mean(float(x["needle_quoted"]) for x in s if "needle_quoted" in x),
        "key_facts_single": m.mean(x.get("key_fact_coverage") for c, x in zip(cases, s) if c.category == "single_fact"),
        "paraphrase_answered": m.mean(float(not x["refused"]) for c, x in zip(cases, s) if c.category == "paraphrase"),
    }
    counts = {
        "cases": len(cases), "answered": len(answered), "refused": len(s) - len(answered),
        "with_evidence": sum(1 for c in cases if c.evidence), "quotes": sum(q[1] for q in quotes),
        "sentences": sum(q[1] for q in support), "partisan_citing_answers": len(attribution),
        "who_said_what_cases": len(who), "warnings_shown": sum(1 for x in s if x["warning"]),
    }
    return m.rounded(metrics), counts
