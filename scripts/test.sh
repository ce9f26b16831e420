#!/usr/bin/env bash
# Install (first time) everything the tests need, run the test suite, then the answer-quality eval gates:
#   1. the bundled cases on the bundled corpus (evals/baseline.json);
#   2. the same cases with the 2,225 BBC articles of ../shared indexed beside them, as distractors
#      (evals/baseline_distractors.json);
#   3. the held-out BBC cases (evals/cases_bbc.jsonl, never tuned on) on the BBC articles
#      (evals/baseline_bbc.json);
#   4. the BBC development cases (evals/cases_bbc_dev.jsonl, other articles, tuned on) on the same index
#      (evals/baseline_bbc_dev.json);
#   5. the second to sixth BBC development sets (evals/cases_bbc_dev2.jsonl, cases_bbc_dev3.jsonl,
#      cases_bbc_dev4.jsonl, cases_bbc_dev5.jsonl, cases_bbc_dev6.jsonl: fresh articles, first runs untuned)
#      (evals/baseline_bbc_dev2.json, baseline_bbc_dev3.json, baseline_bbc_dev4.json, baseline_bbc_dev5.json,
#      baseline_bbc_dev6.json);
#   6. the seed development set (evals/cases_seed_dev.jsonl: near-miss questions about the bundled corpus,
#      written blind) on the bundled corpus (evals/baseline_seed_dev.json).
# Extra arguments go to pytest; EVAL_GATES=bundled runs only the first gate (a quick local check).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh dev
.venv/bin/python -m pytest "$@"
echo "Running the answer-quality evals (offline) as regression gates …"
.venv/bin/python -m evals run --fail-under evals/baseline.json
.venv/bin/python -m evals run --no-tutorial --no-progress --cases evals/cases_seed_dev.jsonl \
  --data-dir .evals-index/seed_dev --keep-index --out evals/out/seed_dev --fail-under evals/baseline_seed_dev.json
if [ "${EVAL_GATES:-all}" = bundled ]; then
  exit 0
fi
BBC=../shared/data/news_distractors/bbc_news/bbc
if [ ! -d "$BBC" ]; then
  echo "error: $BBC is missing: the distractor and held-out gates need ../shared beside the clone" >&2
  exit 2
fi
# Each gate indexes in its own folder, kept between runs (only changes are re-indexed).
.venv/bin/python -m evals run --no-tutorial --no-progress --distractors "$BBC" --data-dir .evals-index/distractors \
  --keep-index --out evals/out/distractors --fail-under evals/baseline_distractors.json
.venv/bin/python -m evals run --no-tutorial --no-progress --cases evals/cases_bbc.jsonl --corpus "$BBC" \
  --data-dir .evals-index/bbc --keep-index --out evals/out/bbc --fail-under evals/baseline_bbc.json
.venv/bin/python -m evals run --no-tutorial --no-progress --cases evals/cases_bbc_dev.jsonl --corpus "$BBC" \
  --data-dir .evals-index/bbc --keep-index --out evals/out/bbc_dev --fail-under evals/baseline_bbc_dev.json
.venv/bin/python -m evals run --no-tutorial --no-progress --cases evals/cases_bbc_dev2.jsonl --corpus "$BBC" \
  --data-dir .evals-index/bbc --keep-index --out evals/out/bbc_dev2 --fail-under evals/baseline_bbc_dev2.json
.venv/bin/python -m evals run --no-tutorial --no-progress --cases evals/cases_bbc_dev3.jsonl --corpus "$BBC" \
  --data-dir .evals-index/bbc --keep-index --out evals/out/bbc_dev3 --fail-under evals/baseline_bbc_dev3.json
.venv/bin/python -m evals run --no-tutorial --no-progress --cases evals/cases_bbc_dev4.jsonl --corpus "$BBC" \
  --data-dir .evals-index/bbc --keep-index --out evals/out/bbc_dev4 --fail-under evals/baseline_bbc_dev4.json
.venv/bin/python -m evals run --no-tutorial --no-progress --cases evals/cases_bbc_dev5.jsonl --corpus "$BBC" \
  --data-dir .evals-index/bbc --keep-index --out evals/out/bbc_dev5 --fail-under evals/baseline_bbc_dev5.json
.venv/bin/python -m evals run --no-tutorial --no-progress --cases evals/cases_bbc_dev6.jsonl --corpus "$BBC" \
  --data-dir .evals-index/bbc --keep-index --out evals/out/bbc_dev6 --fail-under evals/baseline_bbc_dev6.json
