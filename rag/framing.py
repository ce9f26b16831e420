"""Framing: the source's rating plus loaded words found in the passage itself.

    >>> [(c.text, c.kind) for c in find_cues("Aid to the Kiev regime and neo-Nazi fighters is absurd.")]
    [('Kiev regime', 'name_calling'), ('neo-Nazi fighters', 'name_calling'), ('absurd', 'loaded_language')]

The lexicon is ``corpus/framing_cues.yaml`` (editable). Offsets are into the text given.
"""

from __future__ import annotations

import functools
import re
from dataclasses import asdict, dataclass

import yaml

from .settings import PROJECT_DIR


@dataclass(frozen=True)
class Cue:
    text: str
    start: int
    end: int
    kind: str

    def to_json(self) -> dict:
        return asdict(self)


LEXICON = PROJECT_DIR / "corpus" / "framing_cues.yaml"


@functools.lru_cache(maxsize=1)
def _patterns() -> list[tuple[re.Pattern, str]]:
    data = yaml.safe_load(LEXICON.read_text(encoding="utf-8")) or {}
    compiled = []
    for kind, patterns in data.items():
        for pattern in patterns or []:
            compiled.append((re.compile(rf"(?<![\w-])(?:{pattern})(?![\w-])", re.I), kind))
    return compiled


def find_cues(text: str) -> list[Cue]:
    """All cue matches, longest first where they overlap, in text order."""
    found = [
        Cue(m.group(), m.start(), m.end(), kind)
        for pattern, kind in _patterns()
        for m in pattern.finditer(text)
    ]
    found.sort(key=lambda c: (c.start, -(c.end - c.start)))
    kept: list[Cue] = []
    for cue in found:
        if kept and cue.start < kept[-1].end:
            continue  # overlaps a longer/earlier match
        kept.append(cue)
    return kept


def partisan_warning(n_list: list[int], outlet: str, label: str) -> str:
    refs = ", ".join(f"[{n}]" for n in n_list)
    return f"Partisan source {refs}: {outlet} is rated “{label}”. Treat its claims as that outlet's framing, not as established fact."


def one_sided_notices(cited: list[dict]) -> list[str]:
    """``cited``: one dict per citation with outlet and partisan."""
    if not cited:
        return []
    outlets = {c["outlet"] for c in cited}
    notices = []
    if len(outlets) == 1:
        notices.append(f"One-sided evidence: every citation comes from a single outlet ({next(iter(outlets))}).")
    if all(c["partisan"] for c in cited) and (len(outlets) > 1 or not notices):
        notices.append("One-sided evidence: every cited source is rated partisan; look for independent confirmation.")
    return notices
