"""End to end in a real browser: ``streamlit run app.py`` on a fresh data dir, driven by headless Chromium.

The app builds its index on first load (this measures cold start), then the test asks questions,
opens the document view, downloads the export, uploads documents on the Corpus page (one of them
planted with script, remote images and javascript: links) and checks what the browser rendered.
Screenshots at 1366x900 and 420x900 go to artifacts/ (git-ignored); timings are printed and
written to artifacts/e2e-timings.json.

Needs Debian's chromium at /usr/bin/chromium (``apt-get install -y chromium``); without it the
test fails with that message rather than skipping.
"""

from __future__ import annotations

import json
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from helpers import clean_environ
from rag.settings import PROJECT_DIR

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = PROJECT_DIR / "artifacts"
SANCTIONS = "What sanctions did Japan impose on Russia in December 2023?"
CONTENT_SITE = "003_b5aeacde14fc594e"
WARM_QUESTIONS = [
    "What did Lavrov say about the Kuril Islands?",
    "Why did Russia halt peace treaty negotiations with Japan?",
    "What military equipment did Japan send to Ukraine?",
]
OTARU = ("Harbour authority report.\nThe Otaru harbour authority said on 3 March 2024 that 17 Russian fishing "
         "trawlers were refused entry under the new inspection rules.\nThe rules apply to every port in Hokkaido.\n")
UNSAFE = """Harbour incident log from Nemuro.
<script>window.__pwned = 1; alert('script ran')</script> The Nemuro coast guard said 9 patrol boats tracked the drill.
<img src=http://evil.example/track.png onerror="window.__pwned = 2"> Officials in Nemuro counted $40 and *stars* and _under_.
![x](http://evil.example/x.png) The Nemuro drill lasted 6 hours according to the coast guard.
[click](javascript:alert(1)) and <a href="http://evil.example/">a link</a> <iframe src="http://evil.example/f"></iframe>
"""

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _chromium() -> str:
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not path:
        pytest.fail(f"Chromium is not installed ({CHROMIUM} missing). The browser test needs Debian's chromium: "
                    "apt-get update && apt-get install -y chromium")
    return path


class Server:
    """``streamlit run app.py`` on a free port with its own data dir; log kept for assertions."""

    def __init__(self, data_dir: Path, log_path: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=PROJECT_DIR, stdout=self.log, stderr=subprocess.STDOUT,
            env=clean_environ({"RAG_DATA_DIR": data_dir}),
        )

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"streamlit exited {self.proc.returncode}:\n{self.text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"streamlit did not start in {timeout} s:\n{self.text()[-3000:]}")

    def text(self) -> str:
        self.log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def _page(browser, width: int, watch: dict):
    context = browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.on("dialog", lambda d: (watch["dialogs"].append(d.message), d.dismiss()))
    page.on("request", lambda r: watch["requests"].append(r.url))
    page.on("pageerror", lambda e: watch["errors"].append(str(e)))
    return page


def _settle(page) -> None:
    """Wait until the app's script run is over and the page has stopped changing."""
    page.wait_for_function("() => document.querySelector('[data-testid=stApp]')?.dataset.testScriptState"
                           " !== 'running'", timeout=60_000)
    page.wait_for_timeout(400)


def _shot(page, name: str, locator=None) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    _settle(page)
    if locator is not None:
        # Scroll like a reader (mouse wheel): the chat sticks to the bottom after programmatic scrolls.
        size = page.viewport_size
        page.mouse.move(size["width"] * 0.6, size["height"] * 0.5)
        for _ in range(6):
            box = locator.first.bounding_box()
            if box is None or abs(box["y"] - 70) < 30:
                break
            page.mouse.wheel(0, box["y"] - 70)
            page.wait_for_timeout(350)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _ask(page, question: str) -> float:
    """Type a question, press Enter; seconds until the whole answer (sources, thumbs) is drawn."""
    _settle(page)  # count the turns on a page that has finished drawing
    turns = page.locator('[data-testid="stChatMessage"]').count() // 2 + 1
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    started = time.perf_counter()
    box.press("Enter")
    # Done when the newest assistant message has its thumbs (drawn after the answer and its sources).
    page.wait_for_function(
        """n => { const m = document.querySelectorAll('[data-testid=stChatMessage]');
                  return m.length >= 2 * n && !!m[m.length - 1].querySelector('[data-testid=stFeedback]'); }""",
        arg=turns, polling="raf", timeout=60_000,
    )
    elapsed = time.perf_counter() - started
    page.wait_for_function("() => document.querySelector('[data-testid=stApp]').dataset.testScriptState !== 'running'")
    return elapsed


def _server_timings(page) -> dict:
    """The last answer's Timings expander (retrieve / generate / total / shown), in ms."""
    table = _last_answer(page).locator(".rag-timings").first
    rows = table.evaluate("t => [...t.rows].map(r => [r.cells[0].textContent, r.cells[1].textContent])")
    return {k.lower(): float(v.replace(",", "").replace(" ms", "")) for k, v in rows if v}


def _last_answer(page):
    return page.locator('[data-testid="stChatMessage"]').last


def _cited(message) -> list[str]:
    return message.locator(".rag-cite").evaluate_all("els => els.map(e => e.dataset.doc)")


def _nav(page, name: str, width: int) -> None:
    """Go to a page through the app's own navigation (keeps the browser session and conversation)."""
    link = page.get_by_role("link", name=name, exact=True)
    if width < 640:  # narrow: the navigation sits in the collapsed sidebar
        page.get_by_test_id("stExpandSidebarButton").click()
        link.first.wait_for(state="visible")
        page.wait_for_timeout(400)  # the sidebar slides in
    link.first.click()
    page.wait_for_url(f"**/{'' if name == 'Chat' else name.lower()}")
    page.wait_for_timeout(300)  # let the new page's script run start
    _settle(page)
    collapse = page.get_by_test_id("stSidebarCollapseButton")
    if width < 640 and collapse.count() and collapse.first.is_visible():
        button = collapse.first.locator("button")
        (button.first if button.count() else collapse.first).click()
        page.wait_for_timeout(400)


def _upload(page, name: str, body: str, tmp: Path, **fields) -> None:
    path = tmp / name
    path.write_text(body, encoding="utf-8")
    page.get_by_text("Add a document").wait_for()
    form = page.get_by_test_id("stForm").filter(has=page.get_by_role("button", name="Upload and index"))
    form.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    form.get_by_text(name).first.wait_for()
    for label, value in fields.items():
        form.get_by_label(label, exact=True).fill(value)
    form.get_by_text("Partisan", exact=True).click()
    form.get_by_role("button", name="Upload and index").click()
    doc_id = Path(name).stem
    page.locator(".rag-upload-ok").filter(has_text=f"({doc_id})").wait_for(timeout=120_000)


def _safety_report(page) -> dict:
    return page.evaluate("""() => ({
        pwned: window.__pwned === undefined ? null : window.__pwned,
        remoteImages: [...document.images].map(i => i.getAttribute('src') || '')
            .filter(s => /^(https?:)?\\/\\//i.test(s) && !s.startsWith(location.origin)),
        badAnchors: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))
            .filter(h => /evil|javascript:/i.test(h)),
        badScripts: [...document.querySelectorAll('script')].map(s => s.textContent)
            .filter(t => /pwned|script ran/.test(t)),
        iframes: [...document.querySelectorAll('iframe')].map(f => f.getAttribute('src') || '')
            .filter(s => /evil/.test(s)),
        handlers: [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(
            a => a.name.startsWith('on') && /pwned/.test(a.value))).length,
    })""")


@pytest.fixture
def failure_shots(request):
    """Pages registered here are photographed if the test fails (artifacts/e2e-failure-*.png)."""
    pages = []
    yield pages
    report = getattr(request.node, "rep_call", None)  # set by conftest's pytest_runtest_makereport
    if report is not None and report.failed:
        for i, page in enumerate(pages):
            try:
                _shot(page, f"e2e-failure-{i}")
            except Exception:  # a screenshot must not hide the failure it documents
                pass


def test_browser_end_to_end(server, browser, tmp_path, failure_shots):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    timings: dict = {}
    watch = {"dialogs": [], "requests": [], "errors": []}
    page = _page(browser, 1366, watch)
    failure_shots.append(page)
    server.wait_ready()
    page.goto(server.url)

    # -- cold start: the app builds the index itself, with a progress bar -----------------------------
    # The build may finish before the page is drawn, so not seeing the bar is allowed; whether it was
    # seen goes into the timings, and the server log proves the build ran (below; counted at the end).
    try:
        page.get_by_text("Building the search index").wait_for(timeout=60_000)
        page.get_by_test_id("stProgress").first.wait_for(timeout=10_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "e2e-1366-00-building-index.png"))
        timings["build_progress_seen"] = True
    except PlaywrightTimeout:
        timings["build_progress_seen"] = False
    page.get_by_text("Ask the documents").wait_for(timeout=180_000)
    page.get_by_role("button", name=SANCTIONS).wait_for()
    assert "] ingest (build) done" in server.text(), server.text()[-3000:]  # the app built the index
    timings["ready_s"] = round(time.perf_counter() - server.started, 2)
    _shot(page, "e2e-1366-01-welcome")
    first = _ask(page, SANCTIONS)
    timings["cold_start_to_first_answer_s"] = round(time.perf_counter() - server.started, 2)
    timings["first_answer_s"] = round(first, 3)
    answer = _last_answer(page)
    assert CONTENT_SITE in _cited(answer)
    assert answer.locator(".rag-answer .rag-ref").first.is_visible()  # [n] markers
    assert "Partisan source [1]" in answer.locator(".rag-banner").inner_text()
    card = answer.locator(f'.rag-cite[data-doc="{CONTENT_SITE}"]')
    assert card.locator(".rag-framing").inner_text().startswith("⚠ Framing warning")
    assert card.locator("mark.rag-hl").count() >= 1
    _shot(page, "e2e-1366-02-answer", answer.locator(".rag-banner"))
    _shot(page, "e2e-1366-03-sources", card)

    # -- follow-up: rewritten query shown, the content site cited -------------------------------------
    _ask(page, "How did Moscow respond?")
    answer = _last_answer(page)
    assert "following up on:" in answer.locator(".rag-searched").inner_text()
    assert CONTENT_SITE in _cited(answer)
    _shot(page, "e2e-1366-03b-follow-up", answer.locator(".rag-searched"))

    # -- warm answers (offline): measured from Enter to the whole answer drawn --------------------------
    warm, server_side = [], []
    for q in WARM_QUESTIONS:
        warm.append(_ask(page, q))
        server_side.append(_server_timings(page))
    timings["warm_answers_s"] = [round(w, 3) for w in warm]
    timings["warm_answers_server_ms"] = server_side
    timings["warm_answer_median_s"] = round(statistics.median(warm), 3)

    # -- open document: the whole text, passage highlighted and scrolled into view ----------------------
    cards = answer.locator(".rag-cite")
    target = cards.count() - 1
    answer.get_by_role("button", name="Open document").nth(target).click()
    dialog = page.get_by_role("dialog")
    doc = dialog.locator(".rag-doc")
    doc.wait_for()
    page.wait_for_function("() => document.querySelector('.rag-doc[data-scrolled]') !== null", timeout=10_000)
    page.wait_for_timeout(400)
    inside = doc.evaluate("""box => { const t = box.querySelector('mark.rag-hl') || box.querySelector('.rag-psg');
        const a = box.getBoundingClientRect(), b = t.getBoundingClientRect();
        return {visible: b.top >= a.top - 2 && b.top <= a.bottom, scrolled: box.scrollTop,
                whole: box.scrollHeight > box.clientHeight}; }""")
    assert inside["visible"], inside
    _shot(page, "e2e-1366-04-document")
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")

    # -- export: Markdown with footnotes ---------------------------------------------------------------
    with page.expect_download() as info:
        page.get_by_role("button", name="Download as Markdown").click()
    exported = Path(info.value.path()).read_text(encoding="utf-8")
    assert exported.startswith("# Conversation with the newsroom retrieval assistant")
    assert f"## 1. {SANCTIONS}" in exported and "[^1-1]" in exported
    assert "\n[^1-1]: Unnamed Chinese content site" in exported and "Label: partisan source" in exported
    (ARTIFACTS / "e2e-export.md").write_text(exported, encoding="utf-8")

    # -- upload a document with metadata; it is searchable at once -------------------------------------
    _nav(page, "Corpus", 1366)
    page.get_by_test_id("stDataFrame").first.wait_for()
    _shot(page, "e2e-1366-05-corpus")
    _upload(page, "otaru_harbour.txt", OTARU, tmp_path, Title="Otaru harbour refuses trawlers",
            Outlet="Hokkaido Shimbun (test)", Author="K. Sato", URL="https://example.org/otaru",
            **{"Rating label": "Test advocacy label"})
    _shot(page, "e2e-1366-06-uploaded", page.get_by_text("searchable now"))
    _nav(page, "Chat", 1366)
    upload_answer = _ask(page, "How many Russian fishing trawlers did the Otaru harbour authority refuse?")
    timings["answer_after_upload_s"] = round(upload_answer, 3)
    answer = _last_answer(page)
    assert "otaru_harbour" in _cited(answer)
    assert "17 Russian fishing trawlers" in answer.locator(".rag-answer").inner_text()

    # -- plant an unsafe document: everything in it shows as text ---------------------------------------
    _nav(page, "Corpus", 1366)
    _upload(page, "nemuro_unsafe.txt", UNSAFE, tmp_path, Title="<img src=http://evil.example/t.png> Nemuro log",
            Outlet="<script>window.__pwned=3</script> Outlet $x$", URL="javascript:alert(1)")
    _nav(page, "Chat", 1366)
    _ask(page, "How many patrol boats did the Nemuro coast guard use to track the drill?")
    answer = _last_answer(page)
    assert "nemuro_unsafe" in _cited(answer)
    card = answer.locator('.rag-cite[data-doc="nemuro_unsafe"]').first
    more = card.locator("summary").filter(has_text="Show the whole passage")
    if more.count():
        more.first.click()
    text = card.inner_text()
    assert "<script>window.__pwned = 1; alert('script ran')</script>" in text
    assert "<script>window.__pwned=3</script> Outlet $x$" in text
    assert "![x](http://evil.example/x.png)" in text and "$40 and *stars* and _under_" in text
    _shot(page, "e2e-1366-07-unsafe-answer", card)
    answer.get_by_role("button", name="Open document").first.click()
    page.get_by_role("dialog").locator(".rag-doc").wait_for()
    page.wait_for_timeout(800)
    doc_text = page.get_by_role("dialog").locator(".rag-doc").inner_text()
    assert "[click](javascript:alert(1)) and <a href=\"http://evil.example/\">a link</a>" in doc_text
    _shot(page, "e2e-1366-08-unsafe-document")
    report = _safety_report(page)
    assert report == {"pwned": None, "remoteImages": [], "badAnchors": [], "badScripts": [], "iframes": [],
                      "handlers": 0}, report
    page.keyboard.press("Escape")
    _nav(page, "Corpus", 1366)
    page.get_by_test_id("stDataFrame").first.wait_for()
    page.wait_for_timeout(500)
    assert _safety_report(page)["pwned"] is None

    # -- narrow viewport (a phone-sized window on the same, warm server) --------------------------------
    narrow = _page(browser, 420, watch)
    failure_shots.append(narrow)
    narrow.goto(server.url)
    narrow.get_by_text("Ask the documents").wait_for(timeout=60_000)
    narrow.get_by_role("button", name=SANCTIONS).wait_for()
    _shot(narrow, "e2e-420-01-welcome")
    timings["warm_answer_narrow_s"] = round(_ask(narrow, SANCTIONS), 3)
    answer = _last_answer(narrow)
    _shot(narrow, "e2e-420-02-answer", answer.locator(".rag-banner"))
    _shot(narrow, "e2e-420-03-sources", answer.locator(".rag-cite").first)
    answer.get_by_role("button", name="Open document").first.click()
    narrow.get_by_role("dialog").locator(".rag-doc").wait_for()
    narrow.wait_for_timeout(700)
    _shot(narrow, "e2e-420-04-document")
    narrow.keyboard.press("Escape")
    _nav(narrow, "Corpus", 420)
    narrow.get_by_test_id("stDataFrame").first.wait_for()
    narrow.wait_for_timeout(500)
    _shot(narrow, "e2e-420-05-corpus")
    _shot(narrow, "e2e-420-06-upload-form", narrow.get_by_text("Add a document"))

    # -- nothing remote, no script ran, nothing loaded or built twice -----------------------------------
    remote = [u for u in watch["requests"] if not u.startswith(server.url) and not u.startswith(("data:", "blob:"))]
    assert remote == [], remote
    assert watch["dialogs"] == [], watch["dialogs"]
    log = server.text()
    counts = {
        "index_builds": log.count("] ingest (build)") // 2,  # one "started" and one "done" line each
        "assistant_loads": log.count("] assistant loaded"),
        "uploads": log.count("] ingest (upload) done"),
    }
    timings["server_log_counts"] = counts
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "e2e-timings.json").write_text(json.dumps(timings, indent=1), encoding="utf-8")
    print("\nE2E timings:", json.dumps(timings, indent=1))
    assert counts == {"index_builds": 1, "assistant_loads": 1, "uploads": 2}, (counts, log[-3000:])


BULK_FILES = 200


def _peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident memory (VmHWM), in MB; None where /proc does not say."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def test_browser_bulk_upload_of_200_files(browser, tmp_path_factory, tmp_path, failure_shots):
    """200 small files chosen at once in the browser: every one is indexed, nothing indexed before is lost.
    Its own server (a fresh data dir), so the peak memory printed is this scenario's."""
    import rag
    from helpers import settings_for

    root = tmp_path_factory.mktemp("e2e-bulk")
    srv = Server(root / "data", root / "streamlit.log")
    watch = {"dialogs": [], "requests": [], "errors": []}
    try:
        srv.wait_ready()
        page = _page(browser, 1366, watch)
        failure_shots.append(page)
        page.goto(srv.url)
        page.get_by_text("Ask the documents").wait_for(timeout=180_000)  # the app built its index
        settings = settings_for(root / "data")
        before = {d.doc_id: d.doc_hash for d in rag.list_documents(settings)}
        assert len(before) == 5, sorted(before)
        _nav(page, "Corpus", 1366)
        folder = tmp_path / "bulk"
        folder.mkdir()
        paths = []
        for n in range(BULK_FILES):
            path = folder / f"port_note_{n:03d}.txt"
            path.write_text(f"Port note {n}.\nThe harbour office of port {n} said {n + 3} fishing boats were "
                            f"inspected on day {n % 28 + 1} of March 2024, its weekly report says.\n", encoding="utf-8")
            paths.append(str(path))
        uploader = page.get_by_test_id("stFileUploader").filter(has_text="Files, ZIP archives or saved web pages")
        started = time.perf_counter()
        uploader.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(paths)
        button = page.get_by_role("button", name=f"Index {BULK_FILES} files")
        button.wait_for(timeout=300_000)
        previewed = time.perf_counter() - started
        _settle(page)
        _shot(page, "e2e-bulk-01-preview", page.get_by_text("Set something for"))
        button.click()
        page.get_by_text(f"Last upload: {BULK_FILES} added.").wait_for(timeout=600_000)
        elapsed = time.perf_counter() - started
        _shot(page, "e2e-bulk-02-results", page.get_by_text("Last upload:"))

        after = {d.doc_id: d.doc_hash for d in rag.list_documents(settings)}
        wanted = {f"port_note_{n:03d}" for n in range(BULK_FILES)}
        assert wanted <= set(after), sorted(wanted - set(after))[:10]
        assert {d: after.get(d) for d in before} == before  # nothing indexed before was lost or changed
        index = rag.Index.open(settings)
        assert {p.doc_id for p in index.search_lexical("port 137 fishing boats inspected", 3, rag.Filters())} & {
            "port_note_137"}
        figures = {"files": BULK_FILES, "choose_to_preview_s": round(previewed, 1),
                   "choose_to_all_indexed_s": round(elapsed, 1), "app_peak_rss_mb": _peak_rss_mb(srv.proc.pid)}
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "e2e-bulk-figures.json").write_text(json.dumps(figures, indent=1), encoding="utf-8")
        print("\nBulk upload in the browser:", json.dumps(figures))
        assert watch["errors"] == [], watch["errors"]
    finally:
        srv.stop()
