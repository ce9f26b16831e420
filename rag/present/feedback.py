"""Thumbs up / down on answers, appended as JSON lines to ``settings.feedback_path``.

    >>> import tempfile, pathlib
    >>> from rag.model import Answer, AnswerMode
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "feedback.jsonl"
    >>> entry = record(path, Answer("Q?", "Q?", "A [1]", False, AnswerMode.OFFLINE, []), "up", answer_id="a1")
    >>> [(e["rating"], e["question"]) for e in load(path)]
    [('up', 'Q?')]

One line per click: a changed mind is a new line with the same ``answer_id`` (``latest``
keeps the last one per answer). Writes hold an exclusive lock, so several app sessions
(or processes) can record at once without interleaving lines.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from pathlib import Path

from ..errors import FeedbackError
from ..model import Answer

RATINGS = {"up": "up", "down": "down", 1: "up", 0: "down", "+1": "up", "-1": "down"}  # True == 1, False == 0


def normalise_rating(rating) -> str:
    key = rating.strip().lower() if isinstance(rating, str) else rating
    try:
        return RATINGS[key]
    except (KeyError, TypeError):
        raise FeedbackError(f"rating must be 'up' or 'down' (or 1/0), got {rating!r}") from None


def entry_for(answer: Answer, rating, *, answer_id: str | None = None, session_id: str | None = None,
              comment: str | None = None, now: dt.datetime | None = None) -> dict:
    when = (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds")
    return {
        "at": when,
        "rating": normalise_rating(rating),
        "answer_id": answer_id,
        "session_id": session_id,
        "question": answer.question,
        "standalone_query": answer.standalone_query,
        "answer": answer.answer,
        "mode": answer.mode.value,
        "refused": answer.refused,
        "citations": [c.to_json() for c in answer.citations],
        "warnings": [w.text for w in answer.warnings],
        "unsupported_sentences": list(answer.unsupported_sentences),
        "comment": (comment or "").strip() or None,
    }


def record(path: Path | str, answer: Answer, rating, **kwargs) -> dict:
    """Append one feedback entry; returns it."""
    entry = entry_for(answer, rating, **kwargs)
    line = json.dumps(entry, ensure_ascii=False) + "\n"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    return entry


def load(path: Path | str) -> list[dict]:
    """Every entry in file order; unreadable lines (a torn write, hand edits) are skipped."""
    path = Path(path)
    if not path.exists():
        return []
    entries = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                data = json.loads(line)
            except ValueError:
                continue
            if isinstance(data, dict):
                entries.append(data)
    return entries


def latest(entries: list[dict]) -> list[dict]:
    """The last entry per answer_id (entries without an id are all kept), in first-seen order."""
    by_id: dict = {}
    for i, entry in enumerate(entries):
        key = entry.get("answer_id") or ("#", i)
        by_id[key] = entry
    return list(by_id.values())


__all__ = ["record", "load", "latest", "entry_for", "FeedbackError", "normalise_rating"]
