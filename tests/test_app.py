"""The Streamlit app, driven in-process with Streamlit's AppTest (no browser).

The bundled corpus is ingested once per session (conftest ``corpus_settings``); each module here
works on a copy of that index, so uploads and feedback never touch the shared one.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from helpers import MODELS_DIR, OWN_PREFIXES, rag_data_env
from rag.settings import PROJECT_DIR

APP = str(PROJECT_DIR / "app.py")
TIMEOUT = 120  # the first run loads the assistant; later runs take well under a second
SANCTIONS = "What sanctions did Japan impose on Russia in December 2023?"
FOLLOW_UP = "How did Moscow respond?"
CONTENT_SITE = "003_b5aeacde14fc594e"


@pytest.fixture(scope="module")
def app_data(corpus_settings, tmp_path_factory):
    """A private copy of the session's index, with RAG_DATA_DIR pointing at it for this module."""
    data = tmp_path_factory.mktemp("app") / "data"
    shutil.copytree(corpus_settings.data_dir, data, ignore=shutil.ignore_patterns(".ingest.lock"))
    with rag_data_env(data):
        yield data


def start():
    from streamlit.testing.v1 import AppTest  # imported here: collecting this file must not import streamlit

    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def ask(at, question: str):
    at.chat_input[0].set_value(question).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def bodies(block) -> list[str]:
    return [h.value for h in block.get("html")]


def answer_blocks(at):
    return [m for m in at.chat_message if m.name == "assistant"]


def cited_docs(block) -> list[str]:
    return [m for b in bodies(block) for m in re.findall(r'class="rag-cite[^"]*" data-doc="([^"]+)"', b)]


def visible_text(block) -> str:
    """The HTML bodies of a block as text (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", "\n".join(bodies(block))))


def test_question_in_answer_with_citations_and_partisan_warning_out(app_data):
    at = ask(start(), SANCTIONS)
    (user,) = [m for m in at.chat_message if m.name == "user"]
    assert SANCTIONS in visible_text(user)
    (answer,) = answer_blocks(at)
    text = visible_text(answer)
    assert re.search(r"“[^”]+”\s*\[1\]", text), text  # a quoted sentence with its [n] marker
    assert CONTENT_SITE in cited_docs(answer)
    # The answer-level banner and the framing warning beside the partisan citation.
    assert "Read with care" in text and "Partisan source [1]" in text
    assert "One-sided evidence" in text
    assert "Framing warning: this source is rated “Pro-Russia / pro-China commentary site”" in text
    card = next(b for b in bodies(answer) if f'data-doc="{CONTENT_SITE}"' in b)
    assert "rag-badge-partisan" in card and "<mark" in card  # rating badge, highlighted cited sentence
    assert "2023-12-20" in card and "content site" in card and "no byline" in card
    # Open-document buttons, thumbs, timings, export enabled.
    assert any(b.label == "Open document" for b in answer.button)
    assert len(answer.get("feedback")) == 1
    timings = next(e for e in answer.expander if e.label.startswith("Timings · "))
    assert re.search(r"Retrieve</td><td>[\d,]+ ms", "".join(bodies(timings)))
    export = at.sidebar.download_button[0]
    assert export.label == "Download as Markdown" and not export.proto.disabled


def test_follow_up_shows_rewritten_query_and_cites_the_content_site(app_data):
    at = ask(ask(start(), SANCTIONS), FOLLOW_UP)
    first, second = answer_blocks(at)
    assert "Searched for" not in visible_text(first)
    text = visible_text(second)
    assert f"Searched for: {FOLLOW_UP} (following up on: {SANCTIONS})" in text
    assert CONTENT_SITE in cited_docs(second)
    assert "Lavrov" in text and "Trutnev" in text  # Moscow's voices, each of them


def test_exclude_partisan_sources_filter(app_data):
    at = start()
    at.sidebar.toggle(key="f_nopartisan").set_value(True).run()
    ask(at, SANCTIONS)
    (answer,) = answer_blocks(at)
    joined = "".join(bodies(answer))
    assert "rag-badge-partisan" not in joined and "Partisan source" not in joined
    docs = cited_docs(answer)
    refused = "The documents don't say" in visible_text(answer)
    assert refused or docs, "neither an answer nor a refusal"
    assert CONTENT_SITE not in docs
    assert "Filters: partisan sources excluded" in visible_text(answer)


def test_outlet_and_date_filters(app_data):
    at = start()
    at.sidebar.multiselect(key="f_outlets").set_value(["world today news (republisher)"]).run()
    ask(at, "What did the Russian Foreign Ministry say about Japan's military equipment for Ukraine?")
    (answer,) = answer_blocks(at)
    assert set(cited_docs(answer)) <= {"004_5fc457110d24e7fd"} and cited_docs(answer)
    at.sidebar.multiselect(key="f_outlets").set_value([]).run()
    import datetime as dt

    at.sidebar.date_input(key="f_from").set_value(dt.date(2025, 1, 1)).run()
    ask(at, "Why did Japan's delegation visit Russia?")
    last = answer_blocks(at)[-1]
    assert set(cited_docs(last)) <= {"000_e3a53b2cbbda76ec"} and cited_docs(last)


def test_clear_conversation(app_data):
    at = ask(start(), SANCTIONS)
    assert len(at.chat_message) == 2
    at.sidebar.button(key="clear").click().run()
    assert len(at.chat_message) == 0
    assert at.session_state["turns"] == []
    assert any("Ask the documents" in m.value for m in at.markdown)
    assert at.sidebar.download_button[0].proto.disabled


def test_feedback_is_saved_with_question_answer_and_citations(app_data):
    at = ask(start(), SANCTIONS)
    at.get("feedback")[0].set_value(1).run()
    path = Path(os.environ["RAG_DATA_DIR"]) / "feedback.jsonl"
    entries = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    last = entries[-1]
    assert last["rating"] == "up" and last["question"] == SANCTIONS
    assert last["answer"] and CONTENT_SITE in [c["doc_id"] for c in last["citations"]]


def test_refusal_offers_closest_passages(app_data):
    at = ask(start(), "What is the recipe for Neapolitan pizza dough?")
    (answer,) = answer_blocks(at)
    text = visible_text(answer)
    assert "The documents don't say" in text
    assert "Closest passages — they do not answer the question" in text


def test_no_reload_or_rebuild_on_reruns(app_data):
    from ui.common import runtime

    at = start()
    rt = runtime()  # the same cached object the app used (same settings, same process)
    loaded, before = rt.assistant(), dict(rt.counters)
    for q in (SANCTIONS, FOLLOW_UP):
        ask(at, q)
    at.sidebar.toggle(key="f_nopartisan").set_value(True).run()
    at.sidebar.slider(key="k").set_value(4).run()
    at.switch_page("ui/pages/corpus.py").run()
    at.switch_page("ui/pages/chat.py").run()
    assert rt.counters["assistant_loads"] == 1
    assert rt.counters["ingest_build"] == 0  # the index existed: never rebuilt
    assert rt.counters["ingest_sync"] == 1  # the corpus checked once per process, not per rerun
    # Two questions and five reruns later: nothing loaded, built, checked or reloaded again.
    assert dict(rt.counters) == before and rt.assistant() is loaded


def test_corpus_page_table_and_evals_page(app_data, tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_EVAL_REPORT_DIR", str(tmp_path / "no-report"))  # not whatever evals/out holds
    at = start()
    at.switch_page("ui/pages/corpus.py").run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert len(frame) == 5 and {"Rating", "Title", "Outlet", "Published", "Type", "Label"} <= set(frame.columns)
    assert (frame["Rating"] == "Partisan").sum() == 4
    at.text_input(key="corpus_q").set_value("Kremlin").run()  # no title/outlet matches "Kremlin"
    assert len(at.dataframe[0].value) == 0
    at.text_input(key="corpus_q").set_value("").run()
    at.multiselect(key="corpus_rating").set_value(["Not partisan"]).run()
    assert list(at.dataframe[0].value["Document id"]) == ["001_68ffb54545db6918"]
    at.switch_page("ui/pages/evals.py").run()
    assert not at.exception
    text = " ".join(e.value for e in at.info) + " ".join(m.value for m in at.markdown)
    assert "No eval report yet — run python -m evals run" in text


def upload(at, name: str, data: bytes, **fields):
    at.switch_page("ui/pages/corpus.py").run()
    at.file_uploader[0].set_value((name, data, "text/plain"))
    for label, value in fields.items():
        widget = (next(w for w in at.text_input if w.label == label and not (w.key or "").startswith("rate-"))
                  if label != "Why this rating" else at.text_area(key="upload_why"))
        widget.set_value(value)
    at.radio(key="upload_rating").set_value("Partisan" if fields.get("Rating label") else "Not partisan")
    next(b for b in at.get("button") if b.label == "Upload and index").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_upload_is_indexed_and_immediately_searchable(app_data):
    at = start()
    body = ("Harbour authority report.\nThe Otaru harbour authority said on 3 March 2024 that 17 Russian "
            "fishing trawlers were refused entry under the new inspection rules.\n")
    upload(at, "otaru harbour.txt", body.encode(), Title="Otaru harbour refuses trawlers",
           Outlet="Hokkaido Shimbun (test)", Author="K. Sato", URL="https://example.org/otaru")
    text = " ".join(bodies(at))
    assert "otaru_harbour" in text and "searchable now" in text, text[-2000:]
    uploads = Path(os.environ["RAG_DATA_DIR"]) / "uploads"
    sidecar = (uploads / "otaru_harbour.txt.meta.yaml").read_text(encoding="utf-8")
    assert "outlet: Hokkaido Shimbun (test)" in sidecar and "url: https://example.org/otaru" in sidecar
    assert "Otaru harbour refuses trawlers" in list(at.dataframe[0].value["Title"])
    at.switch_page("ui/pages/chat.py").run()
    ask(at, "How many Russian fishing trawlers did the Otaru harbour authority refuse?")
    answer = answer_blocks(at)[-1]
    assert "otaru_harbour" in cited_docs(answer)
    assert "17 Russian fishing trawlers" in visible_text(answer)


def test_upload_failure_is_reported_and_nothing_left_behind(app_data):
    at = start()
    upload(at, "empty.txt", b"   \n", Title="Nothing here")
    text = visible_text(at.main)
    assert "empty.txt could not be indexed" in text and "file is empty" in text
    assert not (Path(os.environ["RAG_DATA_DIR"]) / "uploads" / "empty.txt").exists()


def test_failed_re_upload_keeps_the_good_file_and_its_sidecar(app_data):
    """Re-uploading a name with a broken file must not destroy the good upload the index still holds."""
    at = start()
    good = "Wakkanai port note.\nThe Wakkanai port office said 8 ferries were cancelled by ice on 2 February 2024.\n"
    upload(at, "wakkanai.txt", good.encode(), Title="Wakkanai ferries", Outlet="Wakkanai Port Office")
    assert "searchable now" in visible_text(at.main)
    uploads = Path(os.environ["RAG_DATA_DIR"]) / "uploads"
    sidecar = (uploads / "wakkanai.txt.meta.yaml").read_bytes()
    upload(at, "wakkanai.txt", b"   \n", Title="Broken replacement")
    assert "wakkanai.txt could not be indexed" in visible_text(at.main)
    assert (uploads / "wakkanai.txt").read_text(encoding="utf-8") == good
    assert (uploads / "wakkanai.txt.meta.yaml").read_bytes() == sidecar
    assert "Wakkanai ferries" in list(at.dataframe[0].value["Title"])


def test_upload_accepts_every_type_the_loaders_read(app_data):
    from rag import SUPPORTED

    at = start()
    at.switch_page("ui/pages/corpus.py").run()
    accepted = {t if t.startswith(".") else f".{t}" for t in at.file_uploader[0].proto.type}
    assert accepted == set(SUPPORTED) and ".markdown" in accepted


MESSAGE = "broken corpus: *stars* `tick` [click](http://evil.example/) ![x](http://evil.example/x.png) <b>bold</b>"


def _broken_build(tmp_path, monkeypatch, error: Exception, dev_mode: bool):
    import rag

    def broken_ingest(*args, **kwargs):
        raise error

    for key in [k for k in os.environ if k.startswith(OWN_PREFIXES)]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))  # no index yet: the app builds one
    monkeypatch.setenv("RAG_MODELS_DIR", str(MODELS_DIR))
    if dev_mode:
        monkeypatch.setenv("RAG_DEV_MODE", "1")
    monkeypatch.setattr(rag, "ingest", broken_ingest)  # the app calls rag.ingest
    at = start()
    assert not at.error  # st.error renders Markdown
    assert "The index could not be built" in visible_text(at.main)
    return at


def test_index_build_error_is_shown_as_text_not_markdown(tmp_path, monkeypatch):
    """The build's exception text can quote file paths, YAML or document text: never rendered as Markdown."""
    at = _broken_build(tmp_path, monkeypatch, ValueError(MESSAGE), dev_mode=True)
    markup = "\n".join(bodies(at.main))
    assert f"ValueError: {MESSAGE}" in visible_text(at.main).replace("\n", "")  # shown literally
    assert not {t for t, _ in parsed_tags(markup)} & {"a", "img", "b", "em"}
    assert "evil" not in " ".join(m.value for m in at.main.get("markdown"))


def test_error_details_only_in_developer_mode(tmp_path, monkeypatch):
    import rag

    at = _broken_build(tmp_path, monkeypatch, ValueError(MESSAGE), dev_mode=False)
    shown = visible_text(at.main)
    assert "an unexpected error (ValueError)" in shown and "evil" not in shown and "broken corpus" not in shown
    log = tmp_path / "data" / "logs" / "errors.log"
    assert "broken corpus" in log.read_text(encoding="utf-8") and str(log) in shown.replace("\n", "")
    # The app's own errors are one line for people, whatever the mode.
    at = _broken_build(tmp_path, monkeypatch, rag.IndexUnavailable("The data directory /x cannot be written."),
                       dev_mode=False)
    assert "The data directory /x cannot be written." in visible_text(at.main)


def test_a_password_guards_every_page(app_data, monkeypatch):
    monkeypatch.setenv("RAG_APP_PASSWORD", "s3cret-Ω")
    at = start()
    assert [t.label for t in at.text_input] == ["Password"] and not at.chat_input
    assert "Ask the documents" not in visible_text(at.main)
    at.text_input[0].set_value("wrong")
    at.button[0].click().run()
    assert "Wrong password." in visible_text(at.main) and not at.chat_input
    at.text_input[0].set_value("s3cret-Ω")
    at.button[0].click().run()
    assert not at.exception and at.chat_input  # signed in: the chat page
    for page in ("ui/pages/corpus.py", "ui/pages/evals.py"):
        other = start()
        other.switch_page(page).run()
        assert [t.label for t in other.text_input] == ["Password"] and not other.file_uploader, page


def parsed_tags(markup: str) -> list[tuple[str, list]]:
    """Every start tag (name, attributes) an HTML parser finds in the markup the app sent."""
    from html.parser import HTMLParser

    found = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collect().feed(markup)
    return found


UNSAFE = """Harbour incident log from Nemuro.
<script>window.__pwned = 1; alert(1)</script> The Nemuro coast guard said 9 patrol boats tracked the drill.
<img src=http://evil.example/track.png onerror="window.__pwned=2"> Officials in Nemuro counted $40 and *stars* and _under_ [1] <b>bold</b>.
![x](http://evil.example/x.png) The Nemuro drill lasted 6 hours according to the coast guard.
[click](javascript:alert(1)) and <a href="http://evil.example/">a link</a> and <iframe src="http://evil.example/"></iframe>.
"""


def test_unsafe_document_is_shown_as_text_only(app_data):
    at = start()
    upload(at, "nemuro_unsafe.txt", UNSAFE.encode(), Title="<img src=http://evil.example/t.png> Nemuro",
           Outlet="<script>alert(2)</script> Outlet $x$", URL="javascript:alert(3)")
    at.switch_page("ui/pages/chat.py").run()
    ask(at, "How many patrol boats did the Nemuro coast guard use to track the drill?")
    answer = answer_blocks(at)[-1]
    assert "nemuro_unsafe" in cited_docs(answer)
    tags = parsed_tags("\n".join(bodies(at.main) + bodies(at.sidebar)))
    assert not {t for t, _ in tags} & {"script", "img", "iframe", "a", "object", "embed", "svg", "link"}
    attributes = {name for _, attrs in tags for name, _ in attrs}
    assert not {a for a in attributes if a in ("href", "src", "srcset", "style") or a.startswith("on")}
    text = visible_text(answer)
    assert "<script>window.__pwned = 1; alert(1)</script>" in text  # shown literally
    assert "<script>alert(2)</script> Outlet $x$" in text
    # Nothing from the document ever goes through a Markdown renderer.
    markdown = " ".join(m.value for m in at.main.get("markdown") + at.sidebar.get("markdown"))
    assert "Nemuro" not in markdown and "evil" not in markdown


def test_llm_mode_streams_marks_unsupported_and_shows_status(app_data, corpus_settings):
    from rag.testing import FakeOpenAI, Reply, passages_in

    def reply(messages):
        n = next(n for n, t in passages_in(messages).items() if "35" in t and "servicemen" in t)
        return (f"Japan sanctioned 35 Russian-related servicemen and 44 groups [{n}]. "
                f"Japan also shipped 500 tanks to Vladivostok in 2019 [{n}].")

    with FakeOpenAI([Reply(reply)]) as server:
        os.environ.update(RAG_LLM_MODEL="fake-model", OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY="test")
        try:
            at = start()
            assert at.sidebar.radio(key="mode").value == "Language model"
            assert "reachable" in " ".join(bodies(at.sidebar))
            ask(at, SANCTIONS)
            answer = answer_blocks(at)[-1]
            joined = "".join(bodies(answer))
            assert 'class="rag-unsupported"' in joined and "500 tanks" in joined
            assert "not supported:" in visible_text(answer)
            assert "Language model" in visible_text(answer)
            # Offline mode is one click away and never calls the LLM.
            requests = len(server.requests)
            at.sidebar.radio(key="mode").set_value("Offline (quotes only)").run()
            ask(at, "What did Lavrov say about the Kuril Islands?")
            assert len(server.requests) == requests
            assert "Offline quotes" in visible_text(answer_blocks(at)[-1])
        finally:
            for key in ("RAG_LLM_MODEL", "OPENAI_BASE_URL", "OPENAI_API_KEY"):
                os.environ.pop(key, None)


def test_llm_cut_mid_stream_restarts_the_live_answer_at_the_notice(app_data, monkeypatch):
    """The stream drops after a few pieces: the live view shows the notice and then the offline
    answer alone, not the model's half sentence glued to the first quote."""
    from rag.testing import FakeOpenAI, Reply
    from ui import render

    drawn = []  # every live (streaming) draw of the answer text, in order
    real = render.answer_html

    def spy(text, *args, streaming=False, **kwargs):
        if streaming:
            drawn.append(text)
        return real(text, *args, streaming=streaming, **kwargs)

    monkeypatch.setattr(render, "answer_html", spy)
    partial = "Partial model"  # the first of the two pieces sent before the cut
    with FakeOpenAI([Reply(f"{partial} sentence that is cut off before its source [1].", cut_after=2)]) as server:
        monkeypatch.setenv("RAG_LLM_MODEL", "fake-model")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        at = ask(start(), SANCTIONS)
    text = visible_text(answer_blocks(at)[-1])
    assert "The language model failed" in text and "Offline fallback" in text
    assert any(partial in t for t in drawn), drawn  # the model's text was streamed live first
    assert drawn[-1].strip() and partial not in drawn[-1], drawn[-1]  # then the offline answer alone


def tiny_png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff")) + chunk(b"IEND", b""))


def test_evals_page_shows_report_and_images_without_links(app_data, tmp_path, monkeypatch):
    (tmp_path / "report.md").write_text(
        "# Eval report\n\n| system | recall |\n|---|---|\n| hybrid | 0.91 |\n\n"
        "Quoted: ![x](http://evil.example/x.png) [click](javascript:alert(1)) <http://evil.example/> "
        "http://bare.example costs $5\n", encoding="utf-8")
    (tmp_path / "summary.png").write_bytes(tiny_png())
    monkeypatch.setenv("RAG_EVAL_REPORT_DIR", str(tmp_path))
    at = start()
    at.switch_page("ui/pages/evals.py").run()
    assert not at.exception
    assert len(at.get("image")) == 1
    body = next(m.value for m in at.markdown if "Eval report" in m.value)
    assert "| hybrid | 0.91 |" in body  # tables still render
    for unsafe in ("![x](", "](javascript:", "<http://", "http://bare", "$5"):
        assert not re.search(r"(?<!\\)" + re.escape(unsafe), body), unsafe  # only escaped forms remain
    monkeypatch.setenv("RAG_EVAL_REPORT_DIR", str(tmp_path / "missing"))
    at.run()
    assert "No eval report yet — run python -m evals run" in [i.value for i in at.info]


def test_pdf_upload_and_llm_failure_falls_back_with_a_notice(app_data, corpus_settings):
    from helpers import make_pdf
    from rag.testing import FakeOpenAI, Reply

    at = start()
    pdf = make_pdf(["Kushiro port statement.", "The Kushiro port office said 12 cargo ships were delayed by fog."],
                   title="Kushiro port statement")
    at.switch_page("ui/pages/corpus.py").run()
    at.file_uploader[0].set_value(("kushiro.pdf", pdf, "application/pdf"))
    next(w for w in at.text_input if w.label == "Outlet").set_value("Kushiro Port Office")
    next(b for b in at.get("button") if b.label == "Upload and index").click()
    at.run()
    assert "(kushiro) added" in " ".join(bodies(at.main)), visible_text(at.main)[-1500:]
    with FakeOpenAI([Reply(status=500)]) as server:
        os.environ.update(RAG_LLM_MODEL="fake-model", OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY="test")
        try:
            at = start()
            ask(at, "How many cargo ships were delayed at Kushiro port?")
            answer = answer_blocks(at)[-1]
            text = visible_text(answer)
            assert "The language model failed" in text and "offline answer" in text
            assert "kushiro" in cited_docs(answer) and "12 cargo ships" in text
            assert "Offline fallback" in text
        finally:
            for key in ("RAG_LLM_MODEL", "OPENAI_BASE_URL", "OPENAI_API_KEY"):
                os.environ.pop(key, None)


def test_first_run_builds_the_index_and_a_changed_corpus_is_picked_up(tmp_path, monkeypatch):
    """A fresh data dir and a private corpus (two documents): the app builds the index on its first
    run; editing a corpus file re-indexes just that file on the next rerun, without a new Assistant."""
    from helpers import SEED_FILES
    from ui.common import runtime

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for path in SEED_FILES:
        if path.stem.startswith(("003", "004")):
            shutil.copy2(path, corpus / path.name)
    for name in ("sources.yaml", "aliases.yaml"):
        shutil.copy2(PROJECT_DIR / "corpus" / name, corpus / name)
    for key in [k for k in os.environ if k.startswith(OWN_PREFIXES)]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RAG_MODELS_DIR", str(MODELS_DIR))
    monkeypatch.setenv("RAG_CORPUS_DIR", str(corpus))
    at = start()
    rt = runtime()
    assert rt.counters["ingest_build"] == 1 and rt.job.report.added == 2
    assert "2 documents are indexed" in visible_text(at.main)
    ask(at, SANCTIONS)
    assert CONTENT_SITE in cited_docs(answer_blocks(at)[-1])
    at.run()
    assert rt.counters["ingest_build"] == 1 and rt.counters["ingest_sync"] == 0  # a rerun: nothing re-read
    extra = "\nIn a separate note, the Hakodate customs office said 23 crab shipments were inspected.\n"
    target = corpus / f"{CONTENT_SITE}.txt"
    target.write_text(target.read_text(encoding="utf-8") + extra, encoding="utf-8")
    at.run()
    assert rt.counters["ingest_sync"] == 1 and rt.job.report.updated == 1 and rt.job.report.skipped == 1
    ask(at, "How many crab shipments did the Hakodate customs office inspect?")
    assert "23 crab shipments" in visible_text(answer_blocks(at)[-1])
    assert rt.counters["assistant_loads"] == 1 and rt.counters["assistant_reloads"] == 1


def test_registry_rating_is_shown_then_accepted_or_overridden_by_an_editor(app_data):
    """An unrated upload from a registry outlet is rated by the registry, saying what matched; an
    editor accepts it as the newsroom's rating, then overrides it; only that document is re-indexed."""
    at = start()
    body = ("MOSCOW, December 2. /TASS/. The Russian foreign ministry summoned the Japanese ambassador on "
            "Monday over new export restrictions, the ministry said.\n")
    at.switch_page("ui/pages/corpus.py").run()
    at.file_uploader[0].set_value(("tass note.txt", body.encode(), "text/plain"))
    next(b for b in at.get("button") if b.label == "Upload and index").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    text = visible_text(at.main)
    assert "Rated by the outlet registry (TASS (outlet registry), matched by the credit “/TASS/”" in text, text[-1500:]
    frame = at.dataframe[0].value
    row = frame[frame["Document id"] == "tass_note"].iloc[0]
    assert row["Rating"] == "Partisan" and row["Rating from"] == "outlet registry"

    assert at.selectbox(key="rate_doc").options[0].endswith("— TASS · Partisan (outlet registry)")  # listed first
    count = len(frame)
    at.selectbox(key="rate_doc").set_value("tass_note").run()
    next(b for b in at.get("button") if b.label == "Accept the registry's rating").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    frame = at.dataframe[0].value
    row = frame[frame["Document id"] == "tass_note"].iloc[0]
    assert row["Rating"] == "Partisan" and row["Rating from"] == "newsroom"
    assert row["Rated by"].startswith("editor (accepted the registry rating")
    assert "rating saved" in visible_text(at.main)

    at.selectbox(key="rate_doc").set_value("tass_note").run()
    at.radio(key="rate-tass_note-choice").set_value("Not partisan")
    at.text_input(key="rate-tass_note-label").set_value("wire copy, checked")
    next(b for b in at.get("button") if b.label == "Save rating and re-index this document").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    frame = at.dataframe[0].value
    row = frame[frame["Document id"] == "tass_note"].iloc[0]
    assert (row["Rating"], row["Label"], row["Rating from"]) == ("Not partisan", "wire copy, checked", "newsroom")
    assert len(frame) == count  # nothing else lost or added


# -- bulk upload and the document manager ------------------------------------------------------------------
def bulk_upload(at, files: list[tuple[str, bytes]], edits: dict | None = None, **every):
    """Choose ``files`` in the bulk uploader, check the preview, set ``every`` (widget key -> value)
    and per-row ``edits`` ({row: {column: value}}), then index them. Returns the preview it showed."""
    at.switch_page("ui/pages/corpus.py").run()
    uploader = next(u for u in at.file_uploader if (u.key or "").startswith("bulk_files_"))
    uploader.set_value([(name, data, "application/octet-stream") for name, data in files]).run()
    assert not at.exception, [e.value for e in at.exception]
    (editor,) = at.data_editor
    preview = editor.value
    kinds = {"bulk_rating": "radio", "bulk_type": "selectbox"}
    for key, value in every.items():
        next(w for w in at.main.get(kinds.get(key, "text_input")) if w.key == key).set_value(value)
    if edits:
        at.session_state["bulk_edit"] = {"edited_rows": edits, "added_rows": [], "deleted_rows": []}
    button = next(b for b in at.get("button") if b.label.startswith("Index ") and b.label.endswith(" files"))
    button.click().run()
    assert not at.exception, [e.value for e in at.exception]
    return preview


def bulk_results(at):
    (frame,) = [d.value for d in at.dataframe if list(d.value.columns) == ["File", "Document id", "Result", "Reason"]]
    return {row["File"]: (row["Document id"], row["Result"], row["Reason"]) for _, row in frame.iterrows()}


def note(place: str, number: int) -> bytes:
    return (f"{place} port note.\nThe {place} port office said {number} cargo ships were delayed by drift ice "
            f"in February 2024, according to its weekly report.\n").encode()


def docs_now() -> dict:
    import rag

    return {d.doc_id: d for d in rag.list_documents(rag.Settings.from_env())}


def test_bulk_upload_of_several_files_indexes_each_and_loses_nothing(app_data):
    at = start()
    before = docs_now()
    files = [("Abashiri note.txt", note("Abashiri", 31)), ("monbetsu.md", note("Monbetsu", 32)),
             ("rumoi.html", b"<html><head><title>Rumoi port</title></head><body><article><p>"
                            + note("Rumoi", 33) + b"</p></article></body></html>")]
    preview = bulk_upload(at, files)
    assert list(preview["Document id"]) == ["Abashiri_note", "monbetsu", "rumoi"]
    assert set(preview["Check"]) == {"ready"} and set(preview["What matched"]) == {"no registry match: unrated"}
    results = bulk_results(at)
    assert {name: r[1] for name, r in results.items()} == {name: "added" for name, _ in files}
    after = docs_now()
    assert {"Abashiri_note", "monbetsu", "rumoi"} <= set(after)
    assert all(after[d].doc_hash == doc.doc_hash for d, doc in before.items())  # nothing lost or changed
    assert {"Abashiri_note", "monbetsu", "rumoi"} <= set(at.dataframe[0].value["Document id"])
    from ui.common import runtime

    hits = runtime().assistant().search("How many cargo ships did the Monbetsu port office say were delayed?")
    assert hits[0].doc_id == "monbetsu"
    assert not any(u.value for u in at.file_uploader if (u.key or "").startswith("bulk_files_"))  # emptied


def test_bulk_zip_with_a_refused_entry_shows_the_reason(app_data):
    archive = _zip({"2024/nayoro.txt": note("Nayoro", 41), "../escape.txt": note("Escape", 42),
                    "photo.jpg": b"not a document", "empty.txt": b"  \n"})
    at = start()
    preview = bulk_upload(at, [("Desk batch.zip", archive)])
    assert list(preview["Document id"]) == ["2024__nayoro", "empty"]
    assert preview.set_index("Document id").loc["empty", "Check"].startswith("will fail")
    results = bulk_results(at)
    assert results["Desk batch.zip/2024/nayoro.txt"][:2] == ("2024__nayoro", "added")
    refused = results["Desk batch.zip/../escape.txt"]
    assert refused[1] == "refused" and "'..' in the path: it would be written outside the folder" in refused[2]
    assert results["Desk batch.zip/photo.jpg"][1] == "skipped"
    assert results["Desk batch.zip/empty.txt"][1:] == ("failed", "file is empty")
    uploads = Path(os.environ["RAG_DATA_DIR"]) / "uploads"
    assert (uploads / "Desk_batch" / "2024" / "nayoro.txt").exists()
    assert not (uploads / "Desk_batch" / "empty.txt").exists() and not (uploads / "escape.txt").exists()
    assert "Last upload: 1 added · 1 failed · 1 skipped · 1 refused" in visible_text(at.main)


def test_bulk_failed_re_upload_keeps_the_good_copy_indexed(app_data):
    at = start()
    bulk_upload(at, [("kamoenai.txt", note("Kamoenai", 71))], edits={0: {"Set rating": "Not partisan"}})
    uploads = Path(os.environ["RAG_DATA_DIR"]) / "uploads"
    good, sidecar = (uploads / "kamoenai.txt").read_bytes(), (uploads / "kamoenai.txt.meta.yaml").read_bytes()
    indexed = docs_now()["kamoenai"].doc_hash
    bulk_upload(at, [("kamoenai.txt", b"   \n"), ("suttsu.txt", note("Suttsu", 72))])
    results = bulk_results(at)
    assert results["kamoenai.txt"][1:] == ("failed", "file is empty (the earlier copy is kept, still indexed)")
    assert results["suttsu.txt"][1] == "added"
    assert (uploads / "kamoenai.txt").read_bytes() == good and (uploads / "kamoenai.txt.meta.yaml").read_bytes() == sidecar
    assert docs_now()["kamoenai"].doc_hash == indexed


def test_bulk_saved_page_takes_its_outlet_from_og_site_name(app_data):
    from test_loaders import mhtml, page

    saved = mhtml(page('<title>Fishing talks resume</title><meta property="og:site_name" content="Xinhua">'), None)
    at = start()
    preview = bulk_upload(at, [("talks saved.mhtml", saved)])
    row = preview.iloc[0]
    assert (row["Document id"], row["Outlet"]) == ("talks_saved", "Xinhua")
    assert "matched by outlet name “Xinhua”" in row["What matched"], row["What matched"]
    assert bulk_results(at)["talks saved.mhtml"][1] == "added"
    doc = docs_now()["talks_saved"]
    assert doc.source.outlet == "Xinhua" and doc.source.rating_origin.value == "registry"
    assert doc.source.title == "Fishing talks resume"


def test_bulk_per_file_choice_wins_over_every_file_and_the_registry(app_data):
    tass = b"MOSCOW, March 4. /TASS/. The Russian fisheries agency said quotas for Hokkaido boats would stay unchanged.\n"
    wire = b"MOSCOW, March 5. /TASS/. The Russian foreign ministry said talks on fishing fees would resume in April.\n"
    at = start()
    preview = bulk_upload(at, [("tass quotas.txt", tass), ("tass fees.txt", wire)],
                          edits={1: {"Set rating": "Not partisan", "Set label": "checked wire copy", "Set type": "analysis"}},
                          bulk_type="news report", bulk_outlet="")
    assert all("/TASS/" in m for m in preview["What matched"]) and set(preview["Suggested rating"]) == {
        "Partisan — Russian state news agency"}
    docs = docs_now()
    quotas, fees = docs["tass_quotas"].source, docs["tass_fees"].source
    assert (quotas.rating.value, quotas.rating_origin.value, quotas.doc_type) == ("partisan", "registry", "news report")
    assert (fees.rating.value, fees.label, fees.rating_origin.value, fees.doc_type) == (
        "not partisan", "checked wire copy", "user", "analysis")
    assert fees.rated_by == "newsroom bulk upload form"


def _manage(at, doc_id: str):
    at.switch_page("ui/pages/corpus.py").run()
    at.selectbox(key="rate_doc").set_value(doc_id).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_delete_asks_first_then_removes_the_document_everywhere(app_data):
    at = start()
    bulk_upload(at, [("shibetsu.txt", note("Shibetsu", 51)), ("esashi.txt", note("Esashi", 52))])
    uploads = Path(os.environ["RAG_DATA_DIR"]) / "uploads"
    assert (uploads / "shibetsu.txt").exists()
    _manage(at, CONTENT_SITE)  # a corpus file: no delete button, the way to do it instead
    assert "remove the file from there" in visible_text(at.main)
    assert not any(b.label == "Delete this document…" for b in at.button)
    from ui.common import runtime

    search = runtime().assistant().search
    assert search("Shibetsu port office cargo ships", k=3)[0].doc_id == "shibetsu"
    _manage(at, "shibetsu")
    next(b for b in at.button if b.label == "Delete this document…").click().run()
    assert "Delete “Shibetsu port note.” (shibetsu)? It leaves the search index" in visible_text(at.main)
    assert "shibetsu" in docs_now()  # not before it is confirmed
    next(b for b in at.button if b.label == "Delete for good").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "shibetsu deleted" in visible_text(at.main)
    docs = docs_now()
    assert "shibetsu" not in docs and {"esashi", CONTENT_SITE} <= set(docs)
    assert not (uploads / "shibetsu.txt").exists() and (uploads / "esashi.txt").exists()
    assert "shibetsu" not in set(at.dataframe[0].value["Document id"])
    assert "shibetsu" not in {h.doc_id for h in search("Shibetsu port office cargo ships", k=10)}
    assert search("Esashi port office cargo ships", k=3)[0].doc_id == "esashi"
    import rag

    events = [e.event for e in rag.document_history(rag.Settings.from_env(), "shibetsu")]
    assert events == [rag.HistoryEvent.ADDED, rag.HistoryEvent.DELETED]


def test_editing_a_rating_or_details_re_indexes_that_document_only(app_data):
    import rag
    from ui.common import runtime

    at = start()
    bulk_upload(at, [("Desk files.zip", _zip({"2024/teshio.txt": note("Teshio", 61)})),
                     ("haboro.txt", note("Haboro", 62))])
    before = {d: doc.doc_hash for d, doc in docs_now().items()}
    _manage(at, "2024__teshio")
    assert "added" in visible_text(at.main) and "Ingest history" in [e.label for e in at.expander]
    at.radio(key="rate-2024__teshio-choice").set_value("Partisan")
    at.text_input(key="rate-2024__teshio-label").set_value("port lobby")
    next(b for b in at.button if b.label == "Save rating and re-index this document").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert runtime().job.report.doc_ids == ["2024__teshio"]
    after = {d: doc.doc_hash for d, doc in docs_now().items()}
    assert set(after) == set(before) and {d for d in after if after[d] != before[d]} == {"2024__teshio"}
    assert docs_now()["2024__teshio"].source.label == "port lobby"

    _manage(at, "2024__teshio")
    at.text_input(key="edit-2024__teshio-outlet").set_value("Teshio Town Hall")
    next(b for b in at.button if b.label == "Save details and re-index this document").click().run()
    assert "details saved (outlet)" in visible_text(at.main)
    again = {d: doc.doc_hash for d, doc in docs_now().items()}
    assert {d for d in again if again[d] != after[d]} == {"2024__teshio"}
    doc = docs_now()["2024__teshio"]
    assert (doc.source.outlet, doc.source.label) == ("Teshio Town Hall", "port lobby")
    events = [e.event for e in rag.document_history(rag.Settings.from_env(), "2024__teshio")]
    assert events == [rag.HistoryEvent.ADDED, rag.HistoryEvent.UPDATED, rag.HistoryEvent.UPDATED]
    assert [e.event for e in rag.document_history(rag.Settings.from_env(), "haboro")] == [rag.HistoryEvent.ADDED]


def _zip(entries: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buffer.getvalue()
