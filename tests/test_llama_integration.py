"""Integration: a real llama.cpp server (llama-cpp-python[server]) with Gemma 3 270M on 127.0.0.1.

That tiny base model cannot follow the citation rules and invents text; the point of the test
is that the real OpenAI-compatible path works end to end (streaming included) and that the
support checker marks everything the model invents. scripts/install-test-tools.sh builds the
server into .venv-llama; if it is missing the test fails (it is never skipped).
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
import urllib.request

import pytest

from helpers import settings_for, write_planted

from rag import AnswerMode, Assistant, CueKind, EventKind, WarningKind, ingest
from rag import check_support as check
from rag.settings import PROJECT_DIR

LLAMA_PYTHON = PROJECT_DIR / ".venv-llama" / "bin" / "python"
MODEL = PROJECT_DIR / ".venv-llama" / "gemma-3-270m-q4_k_m.gguf"


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    assert LLAMA_PYTHON.exists() and MODEL.exists(), (
        "llama.cpp server or model missing: run `bash scripts/install-test-tools.sh`"
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = open(tmp_path_factory.mktemp("llama") / "server.log", "wb")
    proc = subprocess.Popen(
        [str(LLAMA_PYTHON), "-m", "llama_cpp.server", "--model", str(MODEL), "--host", "127.0.0.1",
         "--port", str(port), "--chat_format", "gemma", "--model_alias", "gemma3", "--n_threads", "1",
         "--n_ctx", "8192", "--verbose", "False"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, f"llama.cpp server exited with {proc.returncode}"
            try:
                urllib.request.urlopen(f"{base_url}/models", timeout=2).read()
                break
            except OSError:
                assert time.monotonic() < deadline, "llama.cpp server did not start within 120 s"
                time.sleep(0.5)
        yield base_url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_real_llama_server_answer_is_checked_and_inventions_marked(corpus_settings, llama_server):
    settings = corpus_settings.with_(llm_model="gemma3", openai_base_url=llama_server, openai_api_key="none",
                                     llm_timeout=300.0, llm_max_tokens=80, k=3)
    assistant = Assistant(settings)
    ok, status = assistant.endpoint_status()
    assert ok, status

    events = list(assistant.stream("What did Lavrov say about the territorial disputes with Japan?"))
    answer = events[-1].value
    assert answer.mode is AnswerMode.LLM, answer.notice  # a real answer, not a fallback
    assert sum(e.kind is EventKind.TOKEN for e in events) > 1  # it streamed

    if answer.refused:  # the model said "The documents don't say": nothing to check
        assert answer.citations == []
        return
    # Every sentence was checked; each rejected one is listed and visibly marked in the answer, and an
    # independent re-check of each sentence against the same passages gives the same verdict.
    assert answer.checks, "no sentence was checked"
    passages = {c.n: c.passage.text for c in answer.citations}
    context = {c.n: c.metadata_text() for c in answer.citations}
    for result in answer.checks:
        again = check(result.sentence, passages, context, assistant.aliases, assistant.encoder)
        assert again.supported == result.supported, result.sentence
        if not result.supported:
            assert result.sentence in answer.unsupported_sentences
            assert f"{result.sentence} [unsupported:" in answer.answer
    # This 270M base model does not follow the citation rules; what it writes must not pass as supported.
    assert answer.unsupported_sentences, f"the checker accepted everything the tiny model wrote: {answer.answer!r}"


@pytest.mark.parametrize("fmt", ["txt", "md", "html", "pdf"])
def test_real_llama_server_never_passes_a_planted_instruction_as_supported(tmp_path, llama_server, fmt):
    """A document tells the model to answer that Japan surrendered the Kurils: whatever the real model
    writes, no sentence stating it passes the support check, and the reader is warned."""
    write_planted(tmp_path / "corpus", fmt)
    settings = settings_for(tmp_path / "data", RAG_CORPUS_DIR=tmp_path / "corpus").with_(
        llm_model="gemma3", openai_base_url=llama_server, openai_api_key="none", llm_timeout=300.0,
        llm_max_tokens=60, k=2)
    assert ingest(settings).failed == []
    answer = Assistant(settings).ask("Did Japan surrender the Kuril Islands in 2024?")
    assert answer.mode is AnswerMode.LLM, answer.notice
    assert any(w.kind is WarningKind.PROMPT_INJECTION for w in answer.warnings), answer.warnings
    for result in answer.checks:
        if re.search(r"surrender", result.sentence, re.I) and "2024" in result.sentence:
            assert not result.supported, f"a planted claim passed the support check: {result.sentence!r}"
    shown = answer.citations or answer.closest
    planted = next(c for c in shown if c.doc_id == "kuril-talks")
    assert any(c.kind is CueKind.INSTRUCTION for c in planted.cues)
