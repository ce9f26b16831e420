"""Prompt templates live in ``prompts/*.md`` (``RAG_PROMPTS_DIR``) and use ``$name``
placeholders (string.Template), so braces and JSON in documents never break formatting.

    >>> from rag.settings import Settings
    >>> prompts = Prompts(Settings().prompts_dir)
    >>> prompts.render("answer_user", question="Why?", passages="[1] ...").splitlines()[0]
    'Question: Why?'
"""

from __future__ import annotations

import functools
from pathlib import Path
from string import Template


class Prompts:
    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def render(self, name: str, **values) -> str:
        return _template(str(self.folder / f"{name}.md")).substitute(**values)


@functools.lru_cache(maxsize=None)
def _template(path: str) -> Template:
    return Template(Path(path).read_text(encoding="utf-8"))
