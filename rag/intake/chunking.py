"""Sentence-aligned, token-bounded chunks that never cross a segment.

    >>> from rag.intake.cleaning import clean
    >>> doc = clean("One short sentence. Another one here. A third sentence ends it.")
    >>> [c.text for c in chunk_document("d", doc, max_tokens=10, overlap=4)]
    ['One short sentence. Another one here.', 'Another one here. A third sentence ends it.']

A chunk never mixes two voices (an article and a comment), its offsets point into
the cleaned document text, and its id is derived from its content, so re-ingesting
an unchanged document yields the same ids.
"""

from __future__ import annotations

import hashlib

from ..model import Chunk, Segment
from ..text import count_tokens, encoding, sentences
from .cleaning import CleanDocument


def chunk_document(doc_id: str, doc: CleanDocument, max_tokens: int, overlap: int) -> list[Chunk]:
    chunks: list[Chunk] = []
    seen_ids: dict[str, int] = {}
    for segment in doc.segments:
        spans = _sentence_spans(doc.text, segment, max_tokens)
        for start, end, tokens in _pack(spans, max_tokens, overlap):
            text = doc.text[start:end]
            chunk_id = _chunk_id(doc_id, segment.label, text, seen_ids)
            chunks.append(Chunk(chunk_id, doc_id, len(chunks), segment, start, end, text, tokens))
    return chunks


def _sentence_spans(text: str, segment: Segment, max_tokens: int) -> list[tuple[int, int, int]]:
    """(start, end, tokens) per sentence; sentences longer than max_tokens are cut at spaces."""
    found = sentences(text[segment.start:segment.end], offset=segment.start)
    counts = count_tokens([s for _, _, s in found])
    spans = []
    for (start, end, sentence), tokens in zip(found, counts):
        if tokens <= max_tokens:
            spans.append((start, end, tokens))
        else:
            spans.extend(_split_long(text, start, end, max_tokens))
    return spans


def _split_long(text: str, start: int, end: int, max_tokens: int):
    """Cut an over-long sentence into word runs of at most max_tokens tokens."""
    words, pos = [], start
    for piece in text[start:end].split(" "):
        if piece:
            words.extend(_cut_word(text, pos, pos + len(piece), max_tokens))
        pos += len(piece) + 1
    counts = count_tokens([" " + text[a:b] for a, b in words])
    run_start, run_tokens, last_end = None, 0, None
    for (a, b), tokens in zip(words, counts):
        if run_start is not None and run_tokens + tokens > max_tokens:
            yield (run_start, last_end, run_tokens)
            run_start, run_tokens = None, 0
        if run_start is None:
            run_start = a
        run_tokens += tokens
        last_end = b
    if run_start is not None:
        yield (run_start, last_end, run_tokens)


def _cut_word(text: str, start: int, end: int, max_tokens: int) -> list[tuple[int, int]]:
    """A "word" with no spaces (Chinese text, a long URL) longer than max_tokens, cut into pieces that fit."""
    if count_tokens([text[start:end]])[0] <= max_tokens - 1:
        return [(start, end)]
    pieces, a = [], start
    while a < end:
        # Grow the piece by characters while it fits; tokens never straddle because we re-count each piece.
        b = min(end, a + max_tokens)  # a token is at least one character, so this many characters may fit
        while b > a + 1 and len(encoding().encode_ordinary(" " + text[a:b])) > max_tokens:
            b = a + (b - a) * 3 // 4
        pieces.append((a, b))
        a = b
    return pieces


def _pack(spans, max_tokens: int, overlap: int):
    """Greedy packing; each new chunk starts with the previous chunk's last sentences (<= overlap tokens)."""
    i = 0
    while i < len(spans):
        j, total = i, 0
        while j < len(spans) and (j == i or total + spans[j][2] <= max_tokens):
            total += spans[j][2]
            j += 1
        yield spans[i][0], spans[j - 1][1], total
        if j >= len(spans):
            return
        # Step back over trailing sentences that fit in the overlap, leaving room for the next
        # sentence so every chunk adds something new.
        back, carried = j, 0
        while (
            back - 1 > i
            and carried + spans[back - 1][2] <= overlap
            and carried + spans[back - 1][2] + spans[j][2] <= max_tokens
        ):
            back -= 1
            carried += spans[back][2]
        i = back


def _chunk_id(doc_id: str, label: str, text: str, seen: dict[str, int]) -> str:
    digest = hashlib.sha256(f"{doc_id}\x00{label}\x00{text}".encode()).hexdigest()[:20]
    n = seen.get(digest, 0)
    seen[digest] = n + 1
    return f"{doc_id}:{digest}" if n == 0 else f"{doc_id}:{digest}-{n}"
