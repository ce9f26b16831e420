"""Prompt templates live in ``prompts/*.md`` and use ``$name`` placeholders (string.Template),
so braces and JSON in documents never break formatting.

    >>> render("answer_user", question="Why?", passages="[1] ...").splitlines()[0]
    'Question: Why?'
"""

from __future__ import annotations

import functools
from string import Template

from .settings import PROJECT_DIR


@functools.lru_cache(maxsize=None)
def _template(name: str) -> Template:
    return Template((PROJECT_DIR / "prompts" / f"{name}.md").read_text(encoding="utf-8"))


def render(name: str, **values) -> str:
    return _template(name).substitute(**values)
