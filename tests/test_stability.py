"""Answers hold when unrelated documents are added: the bundled corpus alone, and again with 200
BBC articles that mention none of its subjects. At least 95% of the eval cases get the same answer
text and the same cited documents, and no answerable case turns into a refusal.

"Unrelated" is checked, not assumed: BBC business stories about Yukos or the yen do mention Putin
and Japan, and a question about Putin may rightly be answered from them. (With all 2,225 BBC
articles, related ones included, the evals' distractor gate measures the rest.)

Real parts: two embedded Chroma indexes, the real model, every case of evals/cases.jsonl, a
follow-up's earlier questions answered first as in the app.
"""

from __future__ import annotations

import re
import shutil

import pytest

import rag
from evals.dataset import load_cases
from evals.systems import AssistantSystem
from helpers import SHARED_DIR, copy_seeds, settings_for

N_DISTRACTORS = 200
BBC = SHARED_DIR / "data" / "news_distractors" / "bbc_news" / "bbc"
# The bundled corpus's subjects: an article naming any of them is not unrelated.
SUBJECTS = re.compile(r"japan|russia|moscow|kremlin|tokyo|putin|lavrov|kishida|ukrain|kiev|kyiv|china|chinese|korea|"
                      r"kuril|soviet|sanction|yasukuni|crimea", re.I)


def _unrelated(n: int, dest) -> int:
    dest.mkdir(parents=True)
    copied = 0
    for path in sorted(BBC.glob("*/*.txt")):
        if copied == n:
            break
        if not SUBJECTS.search(path.read_text(encoding="utf-8", errors="replace")):
            shutil.copy2(path, dest / f"{path.parent.name}_{path.name}")
            copied += 1
    assert copied == n, f"needs {n} unrelated BBC articles under {BBC} (../shared beside the clone)"
    return copied


def _answers(settings) -> dict[str, rag.Answer]:
    """Each case's answer, a follow-up's history played as the app holds it (each earlier question
    answered in turn, ``AssistantSystem.conversation``): an added document may change an earlier
    answer, and with it what "he" is."""
    system = AssistantSystem(settings)
    return {case.id: system.assistant.ask(case.question, history=system.conversation(case) or None)
            for case in load_cases()}


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_unrelated_documents_do_not_change_answers(corpus_settings, tmp_path):
    folder = copy_seeds(tmp_path / "corpus")
    _unrelated(N_DISTRACTORS, folder / "bbc")
    grown = settings_for(tmp_path / "data", RAG_CORPUS_DIR=corpus_settings.corpus_dir)
    report = rag.ingest(grown, [folder])
    assert report.failed == [] and report.documents == 5 + N_DISTRACTORS

    alone, with_more = _answers(corpus_settings), _answers(grown)
    signature = {cid: (a.answer, [c.doc_id for c in a.citations]) for cid, a in alone.items()}
    changed = [cid for cid, a in with_more.items() if (a.answer, [c.doc_id for c in a.citations]) != signature[cid]]
    lost = [cid for cid, a in with_more.items() if a.refused and not alone[cid].refused]
    share = 1 - len(changed) / len(alone)
    citing = [cid for cid, a in with_more.items() if any(c.doc_id.startswith("bbc__") for c in a.citations)]
    print(f"stability: {len(alone) - len(changed)}/{len(alone)} identical ({share:.3f}); changed: {changed}; "
          f"citing an unrelated article: {citing}")
    assert share >= 0.95, f"{len(changed)} of {len(alone)} answers changed: {changed}"
    assert lost == [], f"answered alone, refused with unrelated documents added: {lost}"
