# Sourced by app.sh and test.sh: create .venv and install what the given profile needs (idempotent).
#   runtime  requirements.txt
#   dev      requirements-dev.txt + Debian's chromium (browser tests) + llama.cpp server (integration test)
profile="${1:-runtime}"
if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv …"
  python3 -m venv .venv
fi
stamp=".venv/.installed-$profile-$(cat requirements*.txt pyproject.toml | sha256sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "Installing Python packages ($profile) …"
  .venv/bin/pip install --quiet --upgrade pip
  # torch first, pinned, so nothing pulls a CUDA build.
  .venv/bin/pip install --quiet "torch==2.13.0"
  if [ "$profile" = dev ]; then
    .venv/bin/pip install --quiet -r requirements-dev.txt
  else
    .venv/bin/pip install --quiet -r requirements.txt
  fi
  # The project itself, editable: `import rag` and `import evals` work from any folder, no sys.path edits.
  .venv/bin/pip install --quiet --no-deps --no-build-isolation -e .
  touch "$stamp"
fi
if [ "$profile" = dev ]; then
  bash scripts/install-test-tools.sh
fi
