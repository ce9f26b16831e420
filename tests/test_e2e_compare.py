"""The "Compare sources" page in a real browser: ``streamlit run app.py`` on a fresh data dir, headless
Chromium at 1366 and 420 px. A topic all five bundled outlets speak on gives five cards: side by side
when wide, stacked when narrow; a citation opens the document; the Markdown download has its footnotes;
a question in the chat that compares sources gets the same cards under its answer.
Screenshots go to artifacts/ (git-ignored) with the other e2e artifacts; the warm time from
submitting a topic to the cards drawn is printed and written to artifacts/e2e-compare-timings.json.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import pytest

from test_e2e_browser import ARTIFACTS, _ask, _settle, _shot

TOPIC = "Japan's sanctions on Russia"
WARM_TOPICS = ["Kuril Islands", "peace treaty", TOPIC, "Kuril Islands", TOPIC]  # five outlets each
OUTLETS = 5  # every outlet of the bundled corpus
CARD = '[class*="st-key-cmp-card-page-"]'

pytestmark = pytest.mark.slow


def _open_page(browser, server, width: int, requests: list):
    context = browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{server.url}/compare")
    page.get_by_label("Topic").wait_for(timeout=240_000)  # the first load builds the index
    _settle(page)
    return page


def _compare(page, topic: str) -> float:
    """Type a topic, press Enter; seconds until this topic's run has drawn every card."""
    box = page.get_by_label("Topic")
    box.fill(topic)
    started = time.perf_counter()
    box.press("Enter")
    page.wait_for_function(
        """t => { const s = document.querySelector('.rag-cmp-summary');
                  return !!s && s.textContent.includes('“' + t + '”')
                      && document.querySelector('[data-testid=stApp]').dataset.testScriptState !== 'running'; }""",
        arg=topic, polling="raf", timeout=60_000)
    return time.perf_counter() - started


def _boxes(page) -> list[dict]:
    cards = page.locator(CARD)
    return [cards.nth(i).bounding_box() for i in range(cards.count())]


def test_compare_page_wide_and_narrow(server, browser):
    requests: list[str] = []
    server.wait_ready()
    wide = _open_page(browser, server, 1366, requests)
    timings = {"cold_first_compare_s": round(_compare(wide, TOPIC), 3)}
    warm = [_compare(wide, t) for t in WARM_TOPICS]
    timings["warm_submit_to_cards_s"] = [round(w, 3) for w in warm]
    timings["warm_median_s"] = round(statistics.median(warm), 3)

    # Wide: five cards, three to a row, each with a badge and dated, numbered quotes.
    boxes = _boxes(wide)
    assert len(boxes) == OUTLETS, boxes
    assert len({round(b["y"]) for b in boxes[:3]}) == 1 and boxes[3]["y"] > boxes[0]["y"]  # side by side
    assert boxes[2]["x"] + boxes[2]["width"] - boxes[0]["x"] > 900, boxes  # the wide layout held through reruns
    cards = wide.locator(CARD)
    for i in range(OUTLETS):
        assert cards.nth(i).locator(".rag-badge").count() == 1
        assert cards.nth(i).locator(".rag-cmp-quote").count() >= 1
    assert wide.locator(f"{CARD} .rag-cue").count() >= 1  # loaded words marked
    _shot(wide, "e2e-compare-1366-cards", wide.locator(".rag-cmp-summary"))  # scrolled like a reader
    _shot(wide, "e2e-compare-1366-lists", wide.get_by_text("Only in partisan or unrated sources"))

    # A citation opens the document at its sentence.
    first = cards.nth(0).locator(".rag-cmp-quote").first
    quote = first.inner_text().split("”")[0].lstrip("[1] “")[:40]
    cards.nth(0).get_by_role("button", name="Open [1]").click()
    doc = wide.get_by_role("dialog").locator(".rag-doc")
    doc.wait_for()
    wide.wait_for_function("() => document.querySelector('.rag-doc[data-scrolled]') !== null", timeout=10_000)
    assert quote in doc.locator("mark.rag-hl").first.inner_text()
    wide.keyboard.press("Escape")

    # The Markdown download: footnotes, and document text that makes no link or image.
    with wide.expect_download() as info:
        wide.get_by_role("button", name="Download Markdown").click()
    markdown = Path(info.value.path()).read_text(encoding="utf-8")
    assert markdown.startswith("# Compare sources: ") and "[^1]: " in markdown
    (ARTIFACTS / "e2e-compare.md").write_text(markdown, encoding="utf-8")

    # The chat: a question that compares sources gets the same cards, two to a row, under the answer.
    wide.goto(server.url)
    wide.get_by_text("Ask the documents").wait_for()
    _ask(wide, f"How do the outlets frame {TOPIC}?")
    answer = wide.locator('[data-testid="stChatMessage"]').last
    assert answer.locator(".rag-cite").count() >= 1  # the cited answer, as ever
    answer.get_by_text("Compare sources: what each outlet says").click()
    chat_cards = answer.locator('[class*="st-key-cmp-card-t-"]')
    chat_cards.first.wait_for()
    assert chat_cards.count() == OUTLETS
    _shot(wide, "e2e-compare-1366-chat", answer.get_by_text("Compare sources: what each outlet says"))

    # Narrow: the same cards, stacked one above the other at full width.
    narrow = _open_page(browser, server, 420, requests)
    timings["warm_narrow_s"] = round(_compare(narrow, TOPIC), 3)
    boxes = _boxes(narrow)
    assert len(boxes) == OUTLETS
    assert len({round(b["x"]) for b in boxes}) == 1 and all(b["width"] > 330 for b in boxes), boxes
    assert all(b["y"] + b["height"] <= c["y"] + 1 for b, c in zip(boxes, boxes[1:])), boxes  # stacked
    for i in range(OUTLETS):
        card = narrow.locator(CARD).nth(i)
        card.scroll_into_view_if_needed()
        assert card.is_visible()
    _shot(narrow, "e2e-compare-420-cards", narrow.locator(".rag-cmp-summary"))
    _shot(narrow, "e2e-compare-420-second-card", narrow.locator(CARD).nth(1))

    remote = [u for u in requests if not u.startswith(server.url) and not u.startswith(("data:", "blob:"))]
    assert remote == [], remote
    (ARTIFACTS / "e2e-compare-timings.json").write_text(json.dumps(timings, indent=1), encoding="utf-8")
    print("\nCompare sources, browser timings:", json.dumps(timings, indent=1))
