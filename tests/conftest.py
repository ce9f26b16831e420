"""Shared fixtures: temp data dirs, settings, one session-wide index of the bundled corpus,
a CLI runner (``python -m rag ...`` in a subprocess) and a real Chroma server.

Everything is real: embedded or server Chroma, the bundled MiniLM model, real files on disk.
The model loads once per process, so in-process ``rag.ingest`` calls are cheap after
the first; the CLI is run as a subprocess only where the CLI itself is under test.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.settings import Settings

from helpers import MODELS_DIR, OWN_PREFIXES, SEED_IDS, clean_environ, run_cli, settings_for

os.environ["RAG_MODELS_DIR"] = str(MODELS_DIR)  # in-process settings share the one ONNX export too


# -- hooks ---------------------------------------------------------------------------------
@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item (``item.rep_call``...), so a fixture's teardown
    can tell whether the test failed (the browser test's failure screenshots). Hooks only work
    in a conftest or plugin: pytest never registers one defined in a test module."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)


# -- fixtures ------------------------------------------------------------------------------
@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """A fresh RAG_DATA_DIR for one test; other project variables are cleared."""
    for key in list(os.environ):
        if key.startswith(OWN_PREFIXES):
            monkeypatch.delenv(key)
    path = tmp_path / "data"
    monkeypatch.setenv("RAG_DATA_DIR", str(path))
    monkeypatch.setenv("RAG_MODELS_DIR", str(MODELS_DIR))
    return path


@pytest.fixture
def settings(data_dir) -> Settings:
    return Settings.from_env()


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory) -> Settings:
    """The bundled corpus ingested once (in-process) into a session temp dir. Treat it as read-only."""
    from rag import ingest

    settings = settings_for(tmp_path_factory.mktemp("corpus-index") / "data")
    report = ingest(settings)
    assert report.failed == [], report.failed
    assert report.added == len(SEED_IDS), report.to_json()
    return settings


@pytest.fixture(scope="session")
def cli():
    """The CLI runner, as a fixture for tests that prefer injection over importing conftest."""
    return run_cli


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real ``chroma run`` server on a free local port; yields (host, port)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    exe = Path(sys.executable).parent / "chroma"
    if not exe.exists():
        found = shutil.which("chroma")
        if not found:
            pytest.fail("the chroma CLI is not installed (pip install -r requirements-dev.txt)")
        exe = Path(found)
    root = tmp_path_factory.mktemp("chroma-server")
    host, port = "127.0.0.1", _free_port()
    log = open(root / "server.log", "wb")
    proc = subprocess.Popen(
        [str(exe), "run", "--path", str(root / "db"), "--host", host, "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=clean_environ(),
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"chroma run exited {proc.returncode}:\n{(root / 'server.log').read_text()[-3000:]}")
            try:
                chromadb.HttpClient(host=host, port=port, settings=ChromaSettings(anonymized_telemetry=False)).heartbeat()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise RuntimeError("chroma server did not answer within 60 s") from None
                time.sleep(0.25)
        yield host, port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


# -- the browser tests' app server and Chromium (one of each per test module) -----------------------
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from test_e2e_browser import Server

    root = tmp_path_factory.mktemp("e2e")
    srv = Server(root / "data", root / "streamlit.log")
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    from test_e2e_browser import CHROMIUM_ARGS, _chromium

    executable = _chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()
