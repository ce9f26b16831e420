"""Framing: the source's rating, loaded words found in the passage, and the warnings they call for.

    >>> [(c.text, c.kind.value) for c in find_cues("Aid to the Kiev regime and neo-Nazi fighters is absurd.")]
    [('Kiev regime', 'name_calling'), ('neo-Nazi fighters', 'name_calling'), ('absurd', 'loaded_language')]

Cues come from two places: an editable lexicon of phrases, ``corpus/framing_cues.yaml`` by
default (``RAG_CUES_FILE`` points elsewhere), and a general detector for unseen text
(``rag.answer.loaded``). Cue offsets are into the text given. Warnings carry a ``WarningKind`` and the
citation numbers they are about; their wording is for people only.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml

from ..errors import SettingsError
from ..model import Citation, Cue, CueKind, Document, Passage, Rating, Warning, WarningKind
from ..settings import Settings
from .injection import instructions
from .loaded import loaded_words


@functools.lru_cache(maxsize=4)
def _patterns(path: str) -> list[tuple[re.Pattern, CueKind]]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    compiled = []
    for kind, patterns in data.items():
        if kind not in CueKind.__members__.values():
            known = ", ".join(k.value for k in CueKind)
            raise SettingsError(f"{path}: unknown cue kind {kind!r} (known: {known}); fix it or RAG_CUES_FILE")
        for pattern in patterns or []:
            compiled.append((re.compile(rf"(?<![\w-])(?:{pattern})(?![\w-])", re.I), CueKind(kind)))
    return compiled


def find_cues(text: str, lexicon: Path | None = None, general: bool = True) -> list[Cue]:
    """All cue matches, longest first where they overlap, in text order: the editable lexicon's
    phrases (they win: an editor wrote them), then, unless ``general`` is False, the general
    detector's words (``loaded_words``)."""
    patterns = _patterns(str(lexicon or Settings().cues_file))
    found = [Cue(m.group(), m.start(), m.end(), kind) for pattern, kind in patterns for m in pattern.finditer(text)]
    found.sort(key=lambda c: (c.start, -(c.end - c.start)))
    if general:
        found += loaded_words(text)  # after the lexicon's: a stable sort keeps an editor's phrase first
    found.sort(key=lambda c: c.start)
    kept: list[Cue] = []
    for cue in found:
        if kept and cue.start < kept[-1].end:
            continue  # overlaps a longer/earlier match
        kept.append(cue)
    return kept


def cite(n: int, passage: Passage, doc: Document | None, lexicon: Path | None = None) -> Citation:
    """Citation ``n`` of a passage, with its document's full source record and the cues in it
    (loaded words, and whole sentences that address the reader or a model)."""
    cues = find_cues(passage.text, lexicon)
    marks = [Cue(passage.text[m.start:m.end], m.start, m.end, CueKind.INSTRUCTION) for m in instructions(passage.text)]
    if marks:
        cues = sorted([c for c in cues if not any(c.start < m.end and m.start < c.end for m in marks)] + marks,
                      key=lambda c: c.start)
    return Citation(n, passage, doc.source if doc else passage.source, cues=cues)


def injection_warnings(citations: list[Citation]) -> list[Warning]:
    """One warning for the citations holding sentences addressed to an AI model or the reader."""
    numbers = tuple(c.n for c in citations if any(cue.kind is CueKind.INSTRUCTION for cue in c.cues))
    if not numbers:
        return []
    refs = ", ".join(f"[{n}]" for n in numbers)
    return [Warning(WarningKind.PROMPT_INJECTION, f"Possible prompt injection in {refs}: the passage holds text "
                    "addressed to an AI model or to the reader, not reporting. It is shown as data and never "
                    "used as evidence for the answer.", numbers)]


def framing_warnings(citations: list[Citation]) -> list[Warning]:
    """One warning per partisan source, a note per cited comment, and one-sided-evidence notices."""
    warnings = []
    by_doc: dict[str, list[Citation]] = {}
    for c in citations:
        by_doc.setdefault(c.doc_id, []).append(c)
    for cites in by_doc.values():
        s = cites[0].source
        if s.partisan:
            numbers = tuple(c.n for c in cites)
            refs = ", ".join(f"[{n}]" for n in numbers)
            warnings.append(Warning(WarningKind.PARTISAN_SOURCE, f"Partisan source {refs}: {s.outlet} is rated "
                                    f"“{s.label}”. Treat its claims as that outlet's framing, not as established "
                                    "fact.", numbers))
    for c in citations:
        if c.is_comment:
            who = c.speaker or "an unnamed poster"
            warnings.append(Warning(WarningKind.COMMENT, f"[{c.n}] is a comment by {who} ({c.segment}), "
                                    "not the outlet's own text.", (c.n,)))
    return injection_warnings(citations) + warnings + one_sided_notices(citations)


def one_sided_notices(citations: list[Citation]) -> list[Warning]:
    """Every citation from one outlet; every one from a partisan source; or none from a source
    rated independent (unrated sources are unverified)."""
    if not citations:
        return []
    outlets = {c.source.outlet if c.source.outlet != "unknown outlet" else c.doc_id for c in citations}
    numbers = tuple(c.n for c in citations)
    notices = []
    if len(outlets) == 1:
        notices.append(Warning(WarningKind.ONE_SIDED, "One-sided evidence: every citation comes from a single "
                               f"outlet ({next(iter(outlets))}).", numbers))
    partisan = sum(c.source.partisan for c in citations)
    if partisan == len(citations):
        if len(outlets) > 1 or not notices:  # one partisan outlet: the notice above says it already
            notices.append(Warning(WarningKind.ONE_SIDED, "One-sided evidence: every cited source is rated "
                                   "partisan; look for independent confirmation.", numbers))
    elif all(c.source.rating is not Rating.NOT_PARTISAN for c in citations):
        unrated = sum(c.source.rating is Rating.UNRATED for c in citations)
        notices.append(Warning(WarningKind.ONE_SIDED, "Unverified evidence: no cited source is rated independent "
                               f"({unrated} unrated, {partisan} partisan); look for confirmation from a source you "
                               "trust.", numbers))
    return notices
