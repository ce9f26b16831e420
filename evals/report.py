"""Write a run's results: results.json, report.md, summary.png, categories.png (stable names:
the Streamlit app shows evals/out/latest/report.md and its PNGs)."""

from __future__ import annotations

import json
from pathlib import Path

from .dataset import CATEGORIES
from .scoring import METRICS

REPORT_FILES = ("report.md", "results.json", "summary.png", "categories.png")
SYSTEM_ORDER = ("assistant", "tutorial")


def write_all(results: dict, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    summary_chart(results, out_dir / "summary.png")
    categories_chart(results, out_dir / "categories.png")
    (out_dir / "report.md").write_text(markdown(results), encoding="utf-8")
    return [out_dir / name for name in REPORT_FILES]


def fmt(value, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(results: dict) -> str:
    run, systems, metrics = results["run"], results["systems"], results["metrics"]
    order = [k for k in SYSTEM_ORDER if k in metrics]
    stored = (results.get("stored_baseline") or {}).get("metrics") or {}
    gate = results.get("gate")
    lines = [f"# Answer-quality evals ({run['mode']} mode)", ""]
    scope = f"{run['cases']} cases"
    if run.get("limit"):
        scope += f" (subset: --limit {run['limit']})"
    if run.get("categories"):
        scope += f" (categories: {', '.join(run['categories'])})"
    lines += [
        f"{scope}; the assistant answers from k={run['k']} passages; retrieval is scored on the top 10. "
        f"cases.jsonl `{run['cases_sha']}`, corpus `{run['corpus_sha']}`, "
        f"support check {'with' if run['semantic_support'] else 'without'} the embedding-similarity test. "
        f"Generated {results['timing']['generated_at']}. Metric definitions: evals/README.md.",
        "",
    ]
    if gate:
        if gate["passed"]:
            lines.append(f"**Regression gate: passed** (no gated metric worse than {gate['baseline']} by more than "
                         f"{gate['tolerance']}).")
        else:
            lines.append(f"**Regression gate: FAILED** (tolerance {gate['tolerance']}):")
            lines += [f"- {METRICS[f['metric']][0]}: {fmt(f['stored'])} stored → {fmt(f['now'])} now"
                      for f in gate["failures"]]
        lines += [f"- note: {n}" for n in gate.get("notes", [])]
        lines.append("")

    # Summary table
    stored_name = f"stored baseline ({results['stored_baseline']['path']})" if results.get("stored_baseline") else "stored baseline"
    splits = (results.get("by_split") or {}).get("assistant") or {}
    split_names = [n for n in ("tuning", "held-out") if n in splits] if len(splits) > 1 else []
    header = (["Metric", systems["assistant"]] + [f"{n} half (n={splits[n]['n']})" for n in split_names]
              + [systems[k] for k in order[1:]] + [stored_name, "Δ vs stored"])
    lines += ["## Summary", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, (label, direction) in METRICS.items():
        now = metrics["assistant"].get(name)
        before = stored.get(name)
        delta = "" if now is None or before is None else f"{now - before:+.3f}"
        arrow = " (lower is better)" if direction < 0 else ""
        cells = [fmt(metrics["assistant"].get(name))] + [fmt(splits[n].get(name)) for n in split_names]
        cells += [fmt(metrics[k].get(name)) for k in order[1:]]
        lines.append(f"| {label}{arrow} | " + " | ".join(cells) + f" | {fmt(before)} | {delta} |")
    c_a = results["counts"]["assistant"]
    c_t = results["counts"].get("tutorial")
    lines += [
        "",
        f"Assistant: {c_a['answered']} answered, {c_a['refused']} refused, {c_a['sentences']} answer sentences, "
        f"{c_a['quotes']} quotes, {c_a['partisan_citing_answers']} answers citing a partisan source. "
        + (f"Tutorial: {c_t['answered']} answered, {c_t['sentences']} sentences, {c_t['quotes']} quotes, "
           f"{c_t['partisan_citing_answers']} answers citing a partisan source. " if c_t else "")
        + "n/a: the metric has nothing to measure (e.g. precision when no warning is ever shown).",
        "",
        "![Metric comparison](summary.png)",
        "",
    ]

    # Per category
    cat_metrics = ["recall@6", "key_fact_coverage", "citation_support", "quote_fidelity", "refusal_accuracy",
                   "warning_recall", "partisan_attribution", "who_said_what_accuracy"]
    by_t = results["by_category"].get("tutorial")
    header = ["Category", "n"] + [METRICS[k][0] for k in cat_metrics] + (["Key facts (tutorial)"] if by_t else [])
    lines += ["## Per category (rag assistant)", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    by_a = results["by_category"]["assistant"]
    for category in _categories(by_a):
        row = by_a[category]
        lines.append(f"| {category} | {row['n']} | " + " | ".join(fmt(row.get(k)) for k in cat_metrics)
                     + (f" | {fmt(by_t[category].get('key_fact_coverage'))} |" if by_t else " |"))
    lines += ["", "![Per-category key-fact coverage](categories.png)", ""]

    # Worst cases
    lines += ["## Worst 10 cases (rag assistant)", "",
              "Ranked by the case score: the mean of the case's applicable checks (recall@6, key facts, citation "
              "validity, quote fidelity, sentence support, refusal, framing warning, attribution, who-said-what).", ""]
    worst = sorted(results["cases"], key=lambda r: (r["assistant"]["case_score"], r["id"]))[:10]
    for rank, row in enumerate(worst, start=1):
        a = row["assistant"]
        lines += [f"### {rank}. {row['id']} ({row['category']}), score {fmt(a['case_score'], 2)}", "",
                  f"**Question:** {row['question']}"]
        if row["history"]:
            lines.append(f"**Earlier questions:** {' / '.join(row['history'])}")
        if a["query"] != row["question"]:
            lines.append(f"**Searched for:** {a['query']}")
        lines += ["", "**Answer:**", ""] + [f"> {line}" if line.strip() else ">" for line in a["answer"].split("\n")]
        lines.append("")
        if a["citations"]:
            lines.append("**Citations:**")
            for c in a["citations"]:
                snippet = c["text"].replace("\n", " ")
                snippet = snippet[:220] + ("…" if len(snippet) > 220 else "")
                lines.append(f"- [{c['n']}] `{c['doc_id']}`, {c['segment'] or 'raw chunk'}"
                             f"{' (partisan source)' if c['partisan'] else ''}: {snippet}")
            lines.append("")
        if a["warnings"]:
            lines += ["**Warnings:**"] + [f"- {w}" for w in a["warnings"]] + [""]
        if row["key_facts"]:
            lines.append(f"**Key facts expected:** {'; '.join(row['key_facts'])}")
        lines += ["**What went wrong:**"] + [f"- {p}" for p in a["problems"] or ["(nothing flagged)"]] + [""]

    # Failures by check
    lines += ["## Failures by check (rag assistant)", ""]
    for label, ids in failure_lists(results["cases"]):
        lines.append(f"- **{label}** ({len(ids)}): {', '.join(ids) if ids else 'none'}")
    lines.append("")

    if results.get("judge"):
        lines += judge_section(results["judge"], systems)

    # Timing
    t = results["timing"]
    lines += ["## Timing (not deterministic)", "",
              "| System | p50 latency (ms) | p95 latency (ms) |", "|---|---|---|"]
    for key in order:
        lines.append(f"| {systems[key]} | {fmt(t[key]['p50_ms'], 1)} | {fmt(t[key]['p95_ms'], 1)} |")
    lines += ["", f"Index build {t['index_s']} s (tutorial baseline {t['tutorial_index_s']} s); whole run {t['wall_s']} s. "
              "Latency is the assistant's own timings_ms.total (retrieval + answer) per question.", ""]
    return "\n".join(lines)


def _categories(by_category: dict) -> list[str]:
    return [c for c in CATEGORIES if c in by_category] + sorted(set(by_category) - set(CATEGORIES))


def failure_lists(cases: list[dict], system: str = "assistant") -> list[tuple[str, list[str]]]:
    def ids(pred):
        return [r["id"] for r in cases if pred(r, r[system]["scores"])]

    return [
        ("Refused an answerable question", ids(lambda r, s: s["refused"] and not r["expect_refusal"])),
        ("Answered an unanswerable question", ids(lambda r, s: not s["refused"] and r["expect_refusal"])),
        ("Evidence not in the top 10", ids(lambda r, s: s.get("recall@10") is not None and s["recall@10"] < 1)),
        ("Missing key facts", ids(lambda r, s: s.get("key_fact_coverage") is not None and s["key_fact_coverage"] < 1)),
        ("Invalid citations", ids(lambda r, s: s.get("citation_valid") is False)),
        ("Quotes not verbatim", ids(lambda r, s: "quotes" in s and s["quotes"][0] < s["quotes"][1])),
        ("Unsupported sentences", ids(lambda r, s: "support" in s and s["support"][0] < s["support"][1])),
        ("Partisan warning missing", ids(lambda r, s: r["expect_warning"] and not s["warning"])),
        ("Unexpected partisan warning", ids(lambda r, s: s["warning"] and not r["expect_warning"])),
        ("Partisan claim stated as fact", ids(lambda r, s: s.get("attribution_ok") is False)),
        ("Who-said-what: wrong or missing voice", ids(lambda r, s: s.get("who_ok") is False)),
        ("Who-said-what: speaker not named", ids(lambda r, s: s.get("who_named") is False)),
    ]


def judge_section(judge: dict, systems: dict) -> list[str]:
    lines = ["## LLM judge (informational, never gating)", "",
             f"Model `{judge['model']}`, {judge['repeats']} judgements per question at temperature 0 "
             f"(cached under {judge['cache_dir']}). Scores 1–5 scaled to 0–1; ± is the mean spread "
             "(max − min) between the repeated judgements of one answer.", "",
             "| System | Faithfulness | Answer relevance | Answers judged |", "|---|---|---|---|"]
    for key, row in judge["summary"].items():
        f, r = row["faithfulness"], row["relevance"]
        lines.append(f"| {systems.get(key, key)} | {fmt(f['mean'])} ± {fmt(f['spread'])} | "
                     f"{fmt(r['mean'])} ± {fmt(r['spread'])} | {row['judged']} |")
    return lines + [""]


# -- charts -------------------------------------------------------------------------------------------
def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def summary_chart(results: dict, path: Path) -> None:
    plt = _plt()
    names = list(METRICS)
    labels = [METRICS[n][0] + (" ↓" if METRICS[n][1] < 0 else "") for n in names]
    series = [(results["systems"][k], [results["metrics"][k].get(n) for n in names]) for k in SYSTEM_ORDER
              if k in results["metrics"]]
    stored = (results.get("stored_baseline") or {}).get("metrics")
    if stored:
        series.append(("stored baseline", [stored.get(n) for n in names]))
    fig, ax = plt.subplots(figsize=(9, 0.42 * len(names) * len(series) / 2 + 1.6))
    height = 0.8 / len(series)
    colors = ["#1f77b4", "#ff7f0e", "#9e9e9e"]
    for i, (label, values) in enumerate(series):
        ys = [j + (i - (len(series) - 1) / 2) * height for j in range(len(names))]
        ax.barh(ys, [v if v is not None else 0 for v in values], height=height, label=label, color=colors[i % 3])
        for y, v in zip(ys, values):
            ax.text((v or 0) + 0.01, y, "n/a" if v is None else f"{v:.2f}", va="center", fontsize=6)
    ax.set_yticks(range(len(names)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.12)
    ax.set_xlabel("score (↓: lower is better)")
    ax.set_title(f"Answer-quality evals ({results['run']['mode']}, {results['run']['cases']} cases)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.045 * 16 / len(names)), ncol=len(series), fontsize=8,
              frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def categories_chart(results: dict, path: Path) -> None:
    plt = _plt()
    by = results["by_category"]
    categories = _categories(by["assistant"])
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), sharey=True)
    for ax, metric in zip(axes, ("key_fact_coverage", "recall@6")):
        width = 0.38
        for i, key in enumerate(k for k in SYSTEM_ORDER if k in by):
            values = [by[key][c].get(metric) for c in categories]
            xs = [j + (i - 0.5) * width for j in range(len(categories))]
            ax.bar(xs, [v if v is not None else 0 for v in values], width=width, label=results["systems"][key],
                   color=["#1f77b4", "#ff7f0e"][i])
            for x, v in zip(xs, values):
                ax.text(x, (v or 0) + 0.01, "n/a" if v is None else f"{v:.2f}", ha="center", fontsize=6)
        ax.set_xticks(range(len(categories)), categories, rotation=35, ha="right", fontsize=8)
        ax.set_ylim(0, 1.1)
        ax.set_title(METRICS[metric][0] + " by category")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
