"""Optional LLM judge (``--judge``): faithfulness and answer relevance, informational only.

Each judgement is asked ``REPEATS`` times at temperature 0 (rag.LLM always sends 0) and
cached on disk under ``<data dir>/cache/evals-judge/<sha256>.json``, keyed by the model, the
prompt and the repeat number, so a re-run costs nothing and the spread between repeats shows how
stable the judge is. Scores 1-5 are scaled to 0-1; summaries are mean ± mean spread (max - min
between the repeats of one answer). The judge never gates a run.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from .dataset import EVALS_DIR
from .metrics import mean

PROMPT_PATH = EVALS_DIR / "judge_prompt.md"
REPEATS = 3
CRITERIA = ("faithfulness", "relevance")
_SCORE = re.compile(r"SCORE:\s*([1-5])\b", re.I)


def load_prompts(path: Path = PROMPT_PATH) -> dict[str, str]:
    """The '## faithfulness' and '## relevance' sections of judge_prompt.md."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        heading = re.fullmatch(r"##\s+(\w+)\s*", line)
        if heading:
            current = heading.group(1).lower()
            sections[current] = []
        elif current:
            sections[current].append(line)
    prompts = {k: "\n".join(v).strip() for k, v in sections.items()}
    missing = [c for c in CRITERIA if c not in prompts]
    if missing:
        raise ValueError(f"{path}: missing section(s) {', '.join('## ' + m for m in missing)}")
    return prompts


def parse_score(reply: str) -> int | None:
    found = _SCORE.findall(reply or "")
    return int(found[-1]) if found else None


class Judge:
    def __init__(self, llm, model: str, cache_dir: Path, prompts: dict[str, str] | None = None,
                 repeats: int = REPEATS):
        self.llm = llm
        self.model = model
        self.cache_dir = Path(cache_dir)
        self.prompts = prompts or load_prompts()
        self.repeats = repeats

    def _ask(self, prompt: str, repeat: int) -> int | None:
        key = hashlib.sha256(f"{self.model}\0{prompt}\0{repeat}".encode()).hexdigest()
        path = self.cache_dir / f"{key}.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))["score"]
        except (OSError, ValueError, KeyError):
            pass
        from rag import LLMError

        try:
            reply = self.llm.complete([{"role": "user", "content": prompt}], max_tokens=200)
        except LLMError:
            return None  # not cached: a later run tries again
        score = parse_score(reply)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"model": self.model, "repeat": repeat, "reply": reply, "score": score},
                                   ensure_ascii=False), encoding="utf-8")
        return score

    def judge(self, criterion: str, question: str, answer: str, passages: str) -> list[float | None]:
        prompt = self.prompts[criterion].format(question=question, answer=answer, passages=passages)
        return [None if s is None else (s - 1) / 4 for s in (self._ask(prompt, r) for r in range(self.repeats))]


def summarise(judgements: list[list[float | None]]) -> dict:
    """mean of per-answer means ± mean per-answer spread (max - min over the repeats)."""
    per_answer = [[x for x in j if x is not None] for j in judgements]
    per_answer = [j for j in per_answer if j]
    return {
        "mean": None if not per_answer else round(mean(mean(j) for j in per_answer), 4),
        "spread": None if not per_answer else round(mean(max(j) - min(j) for j in per_answer), 4),
        "n": len(per_answer),
    }


def judge_run(llm, settings, per_case: list[dict], system_keys: list[str], log, cache_root: Path,
              limit: int | None = None) -> dict:
    from tqdm import tqdm

    judge = Judge(llm, settings.llm_model, cache_root / "cache" / "evals-judge")
    rows = per_case[:limit] if limit else per_case
    summary, details = {}, {}
    for key in system_keys:
        scores = {c: [] for c in CRITERIA}
        details[key] = {}
        for row in tqdm(rows, desc=f"Judging ({key})", unit="case", file=log, disable=None):
            r = row[key]
            if r["refused"]:
                continue
            passages = "\n\n".join(f"[{c['n']}] ({c['outlet']}; {c['segment'] or 'chunk'}) {c['text']}"
                                   for c in r["citations"])
            case_scores = {c: judge.judge(c, row["question"], r["answer"], passages) for c in CRITERIA}
            for c in CRITERIA:
                scores[c].append(case_scores[c])
            details[key][row["id"]] = case_scores
        summary[key] = {c: summarise(scores[c]) for c in CRITERIA}
        summary[key]["judged"] = len(details[key])
    return {"model": settings.llm_model, "repeats": judge.repeats, "cache_dir": str(judge.cache_dir),
            "limit": limit, "summary": summary, "per_case": details}
