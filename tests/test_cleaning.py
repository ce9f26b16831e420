"""Cleaning, segmentation and chunking on the five seed documents, plus sentence splitting."""

from __future__ import annotations

import re

import pytest

from helpers import CORPUS_DIR, SEED_FILES
from rag.intake.chunking import chunk_document
from rag.intake.cleaning import ARTICLE, COMMENT, OPENING_POST, clean
from rag import load_file
from rag.settings import Settings
from rag.text import count_tokens, sentences

SETTINGS = Settings()
FORUM_000 = "000_e3a53b2cbbda76ec"
FORUM_001 = "001_68ffb54545db6918"
CHROME = [
    "发表于", "显示全部楼层", "What's new", "Top Bottom", "Subscribe to our YouTube channel",
    "Leave a Comment", "Copyright", "Powered by", "Processed in", "Akismet",
]
IMAGE_LINE = re.compile(r"\.(?:jpe?g|png|gif|webp|bmp|svg|tiff?)\s*$", re.I)
DISCUZ_HEADER = re.compile(r"^(\S.{0,40}?)\s+发表于\s")


def _cleaned(doc_id: str):
    loaded = load_file(CORPUS_DIR / f"{doc_id}.txt", max_bytes=10**8)
    return loaded, clean(loaded.text, loaded.comments)


def _chunks(doc_id: str):
    _, doc = _cleaned(doc_id)
    return doc, chunk_document(doc_id, doc, SETTINGS.chunk_tokens, SETTINGS.chunk_overlap)


@pytest.fixture(scope="module", params=[p.stem for p in SEED_FILES])
def seed(request):
    loaded, doc = _cleaned(request.param)
    return request.param, loaded, doc


def test_there_are_five_seed_documents():
    assert len(SEED_FILES) == 5


# -- chrome ------------------------------------------------------------------------------
def test_no_image_file_lines_remain(seed):
    doc_id, loaded, doc = seed
    raw_images = [line for line in loaded.text.splitlines() if IMAGE_LINE.search(line.strip())]
    left = [line for line in doc.text.splitlines() if IMAGE_LINE.search(line.strip())]
    assert left == [], f"{doc_id}: image lines left: {left[:5]}"
    if doc_id in (FORUM_000, FORUM_001):
        assert raw_images, "the raw forum pages do contain image lines (test sanity)"


@pytest.mark.parametrize("chrome", CHROME)
def test_no_site_chrome_remains(seed, chrome):
    doc_id, _, doc = seed
    assert chrome.lower() not in doc.text.lower(), f"{doc_id}: chrome {chrome!r} left in the cleaned text"


def test_chrome_strings_were_present_in_raw_corpus():
    """Sanity: each chrome string the test above looks for does occur in some raw seed."""
    raw = "\n".join(p.read_text(encoding="utf-8") for p in SEED_FILES).lower()
    assert all(chrome.lower() in raw for chrome in CHROME)


# -- forum repeats (001) ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "passage",
    [
        "Bear will find comfort in Japan",
        "As an ally of US, Japan has no independent policy",
        "As they should, as they will.",
        "Policy Recommendations",
    ],
)
def test_repeated_replies_are_kept_once(passage):
    loaded, doc = _cleaned(FORUM_001)
    assert loaded.text.count(passage) >= 2, "the raw thread quotes it more than once (test sanity)"
    assert doc.text.count(passage) == 1


# -- forum posters (000) ---------------------------------------------------------------------
def _raw_posts_000() -> list[tuple[str, list[str]]]:
    """(poster, body lines) straight from the raw page, independently of rag.cleaning."""
    posts: list[tuple[str, list[str]]] = []
    for line in (CORPUS_DIR / f"{FORUM_000}.txt").read_text(encoding="utf-8").splitlines():
        match = DISCUZ_HEADER.match(line.strip())
        if match:
            posts.append((match[1].strip(), []))
        elif posts and line.strip():
            posts[-1][1].append(line.strip())
    return posts


def test_adelaide_comment_is_attributed_to_adelaide():
    _, doc = _cleaned(FORUM_000)
    sentence = "Don't worry, Putin is very shrewd."
    holders = [s for s in doc.segments if sentence in doc.text[s.start:s.end]]
    assert len(holders) == 1
    assert holders[0].speaker == "Adelaide"
    assert holders[0].kind == COMMENT
    opening = [s for s in doc.segments if s.kind == OPENING_POST]
    assert len(opening) == 1 and opening[0].speaker == "司徒凯琮"
    assert sentence not in doc.text[opening[0].start:opening[0].end]


def test_every_000_comment_has_the_right_poster():
    _, doc = _cleaned(FORUM_000)
    raw = _raw_posts_000()
    bodies = {}
    for name, lines in raw:
        bodies.setdefault(name, []).extend(lines)
    comments = [s for s in doc.segments if s.kind == COMMENT]
    # Genesis posted only an image (640.jpg), so that reply leaves nothing to index.
    assert [s.speaker for s in comments] == ["大舍", "Jazmine", "Adelaide", "Rida", "潘經偉", "匠心独具", "天决强风", "April"]
    for segment in comments:
        assert segment.label == f"comment by {segment.speaker}"
        for line in doc.text[segment.start:segment.end].split("\n"):
            assert line in bodies[segment.speaker], f"{line!r} is not in {segment.speaker}'s raw post"


def test_segment_texts_never_contain_poster_header_lines(seed):
    doc_id, loaded, doc = seed
    posters = {m[1].strip() for line in loaded.text.splitlines() if (m := DISCUZ_HEADER.match(line.strip()))}
    if doc_id == FORUM_001:  # XenForo profile block: name, rank, then field/value lines
        posters |= {"Aepsilons", "ELITE MEMBER", "Joined", "Messages", "Reaction score", "Country", "Location"}
    for segment in doc.segments:
        for line in doc.text[segment.start:segment.end].split("\n"):
            assert not DISCUZ_HEADER.match(line), f"{doc_id}: header line in {segment.label}: {line!r}"
            assert line.strip() not in posters, f"{doc_id}: bare poster name line in {segment.label}: {line!r}"


def test_segments_tile_the_cleaned_text(seed):
    doc_id, _, doc = seed
    assert doc.segments, doc_id
    assert doc.segments[0].start == 0 and doc.segments[-1].end == len(doc.text)
    for before, after in zip(doc.segments, doc.segments[1:]):
        assert doc.text[before.end:after.start] == "\n\n"
    kinds = {s.kind for s in doc.segments}
    if doc_id in (FORUM_000, FORUM_001):
        assert kinds == {OPENING_POST, COMMENT}
    else:
        assert kinds == {ARTICLE}


# -- chunks ----------------------------------------------------------------------------------
def test_chunk_text_is_the_slice_of_the_cleaned_text(seed):
    doc_id, _, doc = seed
    _, chunks = _chunks(doc_id)
    assert chunks
    for chunk in chunks:
        assert chunk.text == doc.text[chunk.start:chunk.end]
        assert chunk.text == chunk.text.strip() and chunk.text


def test_chunks_never_cross_segment_boundaries(seed):
    doc_id, _, doc = seed
    _, chunks = _chunks(doc_id)
    for chunk in chunks:
        inside = [s for s in doc.segments if s.start <= chunk.start and chunk.end <= s.end]
        assert inside == [chunk.segment], f"{chunk.id} spans {chunk.start}-{chunk.end}"


def test_chunks_cover_every_segment(seed):
    doc_id, _, doc = seed
    _, chunks = _chunks(doc_id)
    for segment in doc.segments:
        mine = [c for c in chunks if c.segment == segment]
        assert mine, f"{doc_id}: no chunk for {segment.label}"
        assert mine[0].start == segment.start and mine[-1].end == segment.end
        for before, after in zip(mine, mine[1:]):
            assert after.start <= before.end or doc.text[before.end:after.start].strip() == ""


def test_chunk_token_counts_stay_within_the_limit(seed):
    doc_id, _, _ = seed
    _, chunks = _chunks(doc_id)
    real = count_tokens([c.text for c in chunks])
    for chunk, tokens in zip(chunks, real):
        assert chunk.tokens <= SETTINGS.chunk_tokens, chunk.id
        assert tokens <= SETTINGS.chunk_tokens, f"{chunk.id}: {tokens} real tokens"


def test_chunk_ids_are_stable_and_unique(seed):
    doc_id, _, _ = seed
    _, first = _chunks(doc_id)
    _, second = _chunks(doc_id)
    assert [c.id for c in first] == [c.id for c in second]
    assert len({c.id for c in first}) == len(first)
    assert all(c.id.startswith(f"{doc_id}:") for c in first)
    assert [c.index for c in first] == list(range(len(first)))


def test_chunks_without_spaces_stay_within_the_limit():
    text = "日本政府宣布对俄罗斯实施新一轮制裁，涉及三十五名军人和四十四个团体。" * 30
    chunks = chunk_document("zh", clean(text), max_tokens=180, overlap=30)
    assert chunks and max(count_tokens([c.text for c in chunks])) <= 180


# -- sentences -------------------------------------------------------------------------------
def _texts(text, offset=0):
    return [t for _, _, t in sentences(text, offset)]


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "On January 24, the U.S. Department of Defense announced it. Germany followed.",
            ["On January 24, the U.S. Department of Defense announced it.", "Germany followed."],
        ),
        (
            "Deputy Foreign Minister A. Yu. Rudenko summoned the ambassador. He protested.",
            ["Deputy Foreign Minister A. Yu. Rudenko summoned the ambassador.", "He protested."],
        ),
        (
            "Lavrov spoke on Dec. 18. He said: no. A. Yu. Rudenko agreed.",
            ["Lavrov spoke on Dec. 18.", "He said: no.", "A. Yu. Rudenko agreed."],
        ),
        (
            "The U.K. and the U.S. agreed. Mr. Smith met Dr. Jones e.g. in Oslo. It ended.",
            ["The U.K. and the U.S. agreed.", "Mr. Smith met Dr. Jones e.g. in Oslo.", "It ended."],
        ),
        ("He said “no.” Then he left. Really? Yes!", ["He said “no.”", "Then he left.", "Really?", "Yes!"]),
        ("Line one\nLine two. Three.\n\nFour", ["Line one", "Line two.", "Three.", "Four"]),
        ("It cost $1.13bn. Profits rose 2.5% in Q3.", ["It cost $1.13bn.", "Profits rose 2.5% in Q3."]),
        ("He wrote... and then stopped. Next.", ["He wrote... and then stopped.", "Next."]),
        ("", []),
        ("   \n  ", []),
    ],
)
def test_sentences_split_and_abbreviations(text, expected):
    assert _texts(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "  Leading spaces. Then more!  Trailing  ",
        "Lavrov spoke on Dec. 18. He said: no. A. Yu. Rudenko agreed.",
        "He said “no.” Then he left.\n\n  Really? Yes!\n",
    ],
)
@pytest.mark.parametrize("offset", [0, 7, 1000])
def test_sentence_offsets_are_exact(text, offset):
    padded = "x" * offset + text
    spans = sentences(text, offset=offset)
    assert spans
    for start, end, sentence in spans:
        assert padded[start:end] == sentence
        assert sentence == sentence.strip()
    starts = [s for s, _, _ in spans]
    assert starts == sorted(starts)


def test_sentence_offsets_on_the_seed_documents(seed):
    doc_id, _, doc = seed
    spans = sentences(doc.text)
    assert len(spans) > 5
    for start, end, sentence in spans:
        assert doc.text[start:end] == sentence
    # Sentences never swallow a line break: every cleaned line is a paragraph.
    assert all("\n" not in sentence for _, _, sentence in spans)


# -- known misattributions (rag/cleaning.py heuristics) ----------------------------------------
def test_comment_kicker_above_an_article_is_not_a_comment_section():
    doc = clean("Comment\nJapan must break with Moscow now, the editors argue.\nThe sanctions are overdue.\n")
    assert [s.kind for s in doc.segments] == [ARTICLE]


def test_sentence_starting_report_by_is_kept():
    doc = clean("Report by the UN commission found no breach.\nOther text here.")
    assert "Report by the UN commission found no breach." in doc.text


def test_html_character_references_are_the_characters_they_stand_for():
    """Text copied out of web pages keeps "&#233;" and "&#163;": the index, the answer and the
    money it quotes read "communiqué" and "£5m". Nothing else with an ampersand changes."""
    doc = clean("G7 backs debt plan\nThe G7 communiqu&#233; pledged &#163;5m &amp; more; AT&T and R&D were not named.\n")
    assert "The G7 communiqué pledged £5m & more; AT&T and R&D were not named." in doc.text
