"""The app's cold start and warm answers, measured the way a journalist meets them: in a browser.

    python benchmarks/bench_app.py [--runs 3]

Each run starts ``streamlit run app.py`` with an empty data directory, opens it in headless
Chromium (Debian's ``chromium``, driven by Playwright) as soon as the server answers, waits
while the app builds its index, asks one question and waits until the whole answer (sources
and thumbs included) is drawn; then asks two more. Targets (issue 4): cold start to first
answer <= 20 s, index build included; warm answer fully shown <= 1 s. Prints figures; asserts
nothing. The phases come from the browser (page ready) and the server log (index build).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
FIRST = "What sanctions did Japan impose on Russia in December 2023?"
WARM = ["Who said Japan's sanctions were unfriendly?", "What did Japan give to Ukraine in May?"]
ANSWER_DRAWN = """n => { const m = document.querySelectorAll('[data-testid=stChatMessage]');
                         return m.length >= 2 * n && !!m[m.length - 1].querySelector('[data-testid=stFeedback]'); }"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ask(page, question: str, turn: int) -> float:
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    started = time.perf_counter()
    box.press("Enter")
    page.wait_for_function(ANSWER_DRAWN, arg=turn, polling="raf", timeout=60_000)
    elapsed = time.perf_counter() - started
    page.wait_for_function("() => document.querySelector('[data-testid=stApp]').dataset.testScriptState !== 'running'")
    return elapsed


def wait_healthy(server: subprocess.Popen, port: int, log_path: Path, timeout: float = 120) -> None:
    """Until the server answers its health check; a server that died or never answers is an error."""
    deadline = time.monotonic() + timeout
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited {server.returncode}:\n{_tail(log_path)}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not answer within {timeout:.0f} s:\n{_tail(log_path)}") from None
            time.sleep(0.05)


def _tail(log_path: Path, chars: int = 3000) -> str:
    return log_path.read_text(errors="replace")[-chars:]


def one_run(browser) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-app-"))
    log_path = data_dir.parent / f"{data_dir.name}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_", "CHROMA_"))}
    env["RAG_DATA_DIR"] = str(data_dir)
    port = free_port()
    with open(log_path, "wb") as log:
        started = time.perf_counter()
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            wait_healthy(server, port, log_path)
            figures = {"server_up_s": time.perf_counter() - started}
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(f"http://127.0.0.1:{port}")
            page.get_by_text("Ask the documents").wait_for(timeout=180_000)
            figures["page_ready_s"] = time.perf_counter() - started
            figures["first_answer_s"] = ask(page, FIRST, 1)
            figures["cold_start_to_first_answer_s"] = time.perf_counter() - started
            figures["warm_answers_s"] = [ask(page, q, i + 2) for i, q in enumerate(WARM)]
            page.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    build = re.search(r"ingest \(build\) done in ([\d.]+) s", log_path.read_text(errors="replace"))
    figures["index_build_s"] = float(build.group(1)) if build else None
    shutil.rmtree(data_dir, ignore_errors=True)
    log_path.unlink()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    runs = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else None)
        for i in range(args.runs):
            figures = one_run(browser)
            runs.append(figures)
            print(f"run {i + 1}: server up {figures['server_up_s']:.1f} s, index built in {figures['index_build_s']} s, "
                  f"page ready {figures['page_ready_s']:.1f} s, first answer shown at "
                  f"{figures['cold_start_to_first_answer_s']:.1f} s (answer itself {figures['first_answer_s']:.2f} s), "
                  f"warm answers {', '.join(f'{w:.2f}' for w in figures['warm_answers_s'])} s", flush=True)
        browser.close()
    cold = [r["cold_start_to_first_answer_s"] for r in runs]
    warm = [w for r in runs for w in r["warm_answers_s"]]
    print(f"\ncold start to first answer: median {statistics.median(cold):.1f} s, max {max(cold):.1f} s "
          f"over {len(cold)} runs (target 20 s)")
    print(f"warm answer fully shown: median {statistics.median(warm):.2f} s, max {max(warm):.2f} s "
          f"over {len(warm)} answers (target 1 s)")


if __name__ == "__main__":
    main()
