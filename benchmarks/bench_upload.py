"""One document uploaded in the app into a big index, timed in a browser until it is searchable.

    python benchmarks/bench_scale.py --encoders onnx-int8 --keep /tmp/b40k      # build a 40k-chunk index
    python benchmarks/bench_upload.py --data-dir /tmp/b40k/embedded/data-onnx-int8 --corpus /tmp/b40k/corpus

Starts ``streamlit run app.py`` on that index (its corpus folder as ``RAG_CORPUS_DIR``, so the
start-up sync finds nothing to do), opens the Corpus page in headless Chromium, uploads a short
note through "Add a document", and times the click on "Upload and index" until the app says the
document is searchable. Then it asks about the note on the Chat page and checks the note is cited.
The upload also appears in the server log, with the ingest's own time. Repeats ``--runs`` times
with a new note each time (each is removed afterwards with ``rag.delete_document``, so the index
is as it was). Target (issue 11): searchable in <= 2 s at 40k chunks. Prints figures; asserts nothing
but that the note was found.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_app import CHROMIUM, ROOT, ask, free_port, wait_healthy

import rag


def settle(page) -> None:
    page.wait_for_function("() => document.querySelector('[data-testid=stApp]').dataset.testScriptState !== 'running'",
                           timeout=300_000)


def upload(page, path: Path) -> float:
    """Seconds from the click on "Upload and index" until the app says the document is searchable."""
    page.get_by_text("Add a document").wait_for(timeout=300_000)
    form = page.get_by_test_id("stForm").filter(has=page.get_by_role("button", name="Upload and index"))
    form.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    form.get_by_text(path.name).first.wait_for()
    form.get_by_label("Outlet", exact=True).fill("Hakodate Shimbun")
    settle(page)
    page.wait_for_timeout(2000)  # a person takes longer to fill the form: the page has finished drawing
    started = time.perf_counter()
    form.get_by_role("button", name="Upload and index").click()
    page.locator(".rag-upload-ok").filter(has_text=f"({path.stem})").wait_for(timeout=300_000)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="RAG_DATA_DIR of a built index")
    parser.add_argument("--corpus", type=Path, required=True, help="the folder it was built from")
    parser.add_argument("--encoder", default="onnx-int8", help="RAG_ENCODER it was built with")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_", "CHROMA_"))}
    env.update(RAG_DATA_DIR=str(args.data_dir), RAG_CORPUS_DIR=str(args.corpus), RAG_ENCODER=args.encoder,
               RAG_MODELS_DIR=str(args.data_dir.parent / "models"))
    settings = rag.Settings.from_env(env)
    documents = len(rag.list_documents(settings))
    work = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    log_path = work / "streamlit.log"
    port = free_port()
    figures: list[dict] = []
    with open(log_path, "wb") as log, sync_playwright() as p:
        started = time.perf_counter()
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        browser = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else None)
        try:
            wait_healthy(server, port, log_path, timeout=300)
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(f"http://127.0.0.1:{port}")
            page.get_by_text("Ask the documents").wait_for(timeout=600_000)
            ready = time.perf_counter() - started
            print(f"{documents:,} documents; app ready in {ready:.1f} s", flush=True)
            for run in range(args.runs):
                note = work / f"hk_note_{run}.txt"  # (a long name is shortened on screen)
                number = 23 + run
                note.write_text(f"Hakodate customs log {run}\nCustoms officers in Hakodate inspected {number} crab "
                                f"shipments from Sakhalin in March, the port's weekly log says.\n", encoding="utf-8")
                page.goto(f"http://127.0.0.1:{port}/corpus")
                settle(page)
                opened = time.perf_counter()
                try:
                    seconds = upload(page, note)
                except Exception:
                    page.get_by_text("Add a document").scroll_into_view_if_needed()
                    page.screenshot(path=str(work / "failed.png"))
                    print(f"screenshot: {work / 'failed.png'}", flush=True)
                    raise
                page_s = time.perf_counter() - opened  # the Corpus page opened, the form filled, the upload done
                page.goto(f"http://127.0.0.1:{port}")
                page.get_by_text("Ask the documents").wait_for(timeout=300_000)
                answer_s = ask(page, f"How many crab shipments from Sakhalin did Hakodate customs inspect in log {run}?", 1)
                cited = note.stem in page.content()
                done = [float(m) for m in re.findall(r"ingest \(upload\) done in ([\d.]+) s",
                                                     log_path.read_text(errors="replace"))]
                figures.append({"click_to_searchable_s": round(seconds, 2), "ingest_s": done[-1] if done else None,
                                "corpus_page_to_upload_done_s": round(page_s, 2),
                                "answer_s": round(answer_s, 2), "cited": cited})
                print(f"run {run + 1}: {json.dumps(figures[-1])}", flush=True)
                if not cited:
                    raise SystemExit(f"the uploaded note {note.stem} was not cited in the answer")
                rag.delete_document(settings, note.stem)
        finally:
            browser.close()
            server.terminate()
            server.wait(timeout=60)
    clicks = [f["click_to_searchable_s"] for f in figures]
    print(f"\nupload of one file into {documents:,} documents, click to searchable: median {statistics.median(clicks):.2f} s, "
          f"max {max(clicks):.2f} s over {len(clicks)} runs (target 2 s at 40k)")


if __name__ == "__main__":
    main()
