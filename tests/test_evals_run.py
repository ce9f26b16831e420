"""End to end: ``python -m evals run`` in a subprocess (real index, real model, real Chroma).

One full offline run checks the report files and results.json; a second, independent run
(--limit 30, its own freshly built index) must reproduce those 30 cases' results exactly
(determinism); the gate subcommand's exit status is checked on the full run's results; and a
short --mode llm --judge run talks to rag.testing.FakeOpenAI over real HTTP.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from evals.dataset import CATEGORIES, load_cases
from evals.scoring import METRICS, aggregate
from helpers import clean_environ
from rag.settings import PROJECT_DIR

pytestmark = pytest.mark.slow

REPORT_FILES = ("report.md", "results.json", "summary.png", "categories.png")


def run_evals(*args, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    environ = clean_environ(env)
    environ.pop("CI", None)  # the gate is asked for explicitly below
    return subprocess.run([sys.executable, "-m", "evals", *map(str, args)], cwd=PROJECT_DIR, env=environ,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("evals-full")
    proc = run_evals("run", "--out", out, "--no-progress")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, json.loads((out / "results.json").read_text(encoding="utf-8")), proc


def test_report_files_and_results(full_run):
    out, results, proc = full_run
    for name in REPORT_FILES:
        assert (out / name).stat().st_size > 0, name
    for name in ("summary.png", "categories.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(results["metrics"]) == {"assistant", "tutorial"}
    for system in ("assistant", "tutorial"):
        assert set(METRICS) <= set(results["metrics"][system])
        assert set(results["by_category"][system]) == set(CATEGORIES)
    assert results["run"]["cases"] == len(results["cases"]) == len(load_cases())
    assert all("assistant" in row and "tutorial" in row for row in results["cases"])
    a = results["metrics"]["assistant"]
    assert 0 < a["recall@10"] <= 1 and 0 <= a["key_fact_coverage"] <= 1
    assert results["metrics"]["tutorial"]["warning_recall"] == 0.0  # the tutorial pipeline never warns
    assert results["timing"]["assistant"]["p50_ms"] > 0
    report = (out / "report.md").read_text(encoding="utf-8")
    for heading in ("## Summary", "## Per category", "## Worst 10 cases", "## Timing (not deterministic)"):
        assert heading in report
    assert "Retrieval recall@6" in proc.stdout and "timing (not deterministic)" in proc.stdout


def test_results_are_deterministic(full_run, tmp_path):
    """An independent run on a freshly built index gives the same per-case results, hence the same metrics."""
    _, full, _ = full_run
    proc = run_evals("run", "--out", tmp_path / "out", "--limit", "30", "--no-progress",
                     "--data-dir", tmp_path / "index")
    assert proc.returncode == 0, proc.stderr[-3000:]
    subset = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert subset["run"]["cases"] == 30
    assert {row["category"] for row in subset["cases"]} == set(CATEGORIES)  # --limit samples every category
    # The same encoder and settings first: a difference there explains any below.
    assert subset["run"]["settings"] == full["run"]["settings"], proc.stderr[-3000:]
    by_id = {row["id"]: row for row in full["cases"]}
    for row in subset["cases"]:
        assert row == by_id[row["id"]], row["id"]
    cases = {c.id: c for c in load_cases()}
    ids = [row["id"] for row in subset["cases"]]
    for system in ("assistant", "tutorial"):
        again, _ = aggregate([cases[i] for i in ids], [by_id[i][system] for i in ids])
        assert subset["metrics"][system] == again


def test_gate_exit_status(full_run, tmp_path):
    out, results, _ = full_run
    baseline = {"mode": "offline", "k": results["run"]["k"], "tolerance": 0.02,
                "metrics": dict(results["metrics"]["assistant"])}
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(baseline))
    ok = run_evals("gate", out / "results.json", "--baseline", path)
    assert ok.returncode == 0, ok.stderr
    measured = results["metrics"]["assistant"]
    baseline["metrics"]["key_fact_coverage"] = measured["key_fact_coverage"] + 0.05
    # A lower-is-better metric stored 0.05 lower: one whose value leaves room for that.
    lower = next(m for m in ("false_refusal_rate", "missed_refusal_rate") if measured[m] >= 0.05)
    baseline["metrics"][lower] = measured[lower] - 0.05
    path.write_text(json.dumps(baseline))
    bad = run_evals("gate", out / "results.json", "--baseline", path)
    assert bad.returncode == 1
    assert "key_fact_coverage" in bad.stderr and lower in bad.stderr
    baseline["k"] = 99
    path.write_text(json.dumps(baseline))
    assert run_evals("gate", out / "results.json", "--baseline", path).returncode == 2


def test_stored_baseline_is_a_full_offline_run():
    stored = json.loads((PROJECT_DIR / "evals" / "baseline.json").read_text(encoding="utf-8"))
    assert stored["mode"] == "offline" and stored["cases"] == len(load_cases())
    assert set(METRICS) <= set(stored["metrics"])


def test_llm_mode_and_judge_with_a_fake_llm(tmp_path):
    from rag.testing import FakeOpenAI, Reply, passages_in

    def reply(messages):
        prompt = "\n".join(m.get("content", "") for m in messages)
        if "SCORE:" in prompt:  # the judge
            return "Looks right. SCORE: 4"
        if "Helpful Answer:" in prompt:  # the tutorial pipeline's prompt
            first = prompt.split("[1] ", 1)[1].split("\n")[0].strip()
            return f"The context says: “{first[:60]}” [1]"
        if "Follow-up question:" in prompt:  # the follow-up rewrite: keep the question
            return prompt.split("Follow-up question:", 1)[1].strip().splitlines()[0]
        passages = passages_in(messages)
        if not passages:
            return "The documents don't say."
        n, text = sorted(passages.items())[0]
        return f"According to the cited source, “{text.split('.')[0][:80]}” [{n}]."

    with FakeOpenAI([Reply(reply)]) as server:
        env = {"RAG_LLM_MODEL": "fake-model", "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "x",
               "RAG_DATA_DIR": tmp_path / "user-data"}
        proc = run_evals("run", "--mode", "llm", "--limit", "4", "--judge", "--out", tmp_path / "out",
                         "--no-progress", env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert results["run"]["mode"] == "llm" and results["run"]["semantic_support"] is True
    modes = {row["assistant"]["mode"] for row in results["cases"]}
    assert modes <= {"llm"}, modes
    judge = results["judge"]
    assert judge["repeats"] == 3
    for system in ("assistant", "tutorial"):
        row = judge["summary"][system]
        assert row["judged"] > 0, (system, row)  # the fake LLM answers every case: something is judged
        assert row["faithfulness"]["mean"] == 0.75 and row["faithfulness"]["spread"] == 0.0
    assert list((tmp_path / "user-data" / "cache" / "evals-judge").glob("*.json"))  # cached under the data dir
    assert "## LLM judge" in (tmp_path / "out" / "report.md").read_text(encoding="utf-8")


def test_llm_mode_without_an_llm_is_a_usage_error(tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    proc = run_evals("run", "--mode", "llm", "--out", tmp_path / "out", env={"TMPDIR": scratch})
    assert proc.returncode == 2 and "needs an LLM" in proc.stderr
    assert list(scratch.iterdir()) == []  # no temporary index folder left behind


def test_a_follow_ups_history_is_played_as_the_app_holds_it(corpus_settings):
    """Each earlier question of a follow-up is answered in turn and passed on with its answer, as
    the app and the CLI do ("What was the official purpose of his trip?" is about whom that answer
    named)."""
    from evals.systems import AssistantSystem

    case = next(c for c in load_cases() if c.id == "follow_up-002")  # after "Who led the delegation ...?"
    played = AssistantSystem(corpus_settings).conversation(case)
    assert [t["role"] for t in played] == ["user", "assistant"], played
    assert "Munenori Suzuki" in played[1]["content"], played
    as_written = AssistantSystem(corpus_settings, play_history=False).conversation(case)
    assert as_written == case.history_list
