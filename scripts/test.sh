#!/usr/bin/env bash
# Install (first time) everything the tests need, run the test suite, then the answer-quality eval gate.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh dev
.venv/bin/python -m pytest "$@"
echo "Running the answer-quality evals (offline) as a regression gate …"
.venv/bin/python -m evals run --fail-under evals/baseline.json
