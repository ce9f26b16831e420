#!/usr/bin/env bash
# Install (first time) and start the app on the bundled corpus. The index is built on first run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh runtime
exec .venv/bin/streamlit run app.py --server.headless true --browser.gatherUsageStats false "$@"
