"""The eval cases (evals/cases.jsonl) and the checks every case must pass.

One JSON object per line::

    {"id": "single_fact-001", "category": "single_fact", "question": "...", "history": [],
     "evidence": [{"doc_id": "001_68ffb54545db6918", "needle": "verbatim text"}],
     "key_facts": ["$32 billion", "5.3 percent|5.3%"], "expect_warning": false,
     "expect_refusal": false, "speaker": null, "notes": "..."}

``validate`` returns human-readable problems (an empty list means the dataset is sound);
the runner refuses to run on a broken dataset and tests/test_evals_dataset.py runs it too.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import rag

from .metrics import norm

EVALS_DIR = Path(__file__).resolve().parent
CASES_PATH = EVALS_DIR / "cases.jsonl"

CATEGORIES = (
    "single_fact", "multi_source", "comparative", "follow_up", "paraphrase", "name_variant",
    "who_said_what", "unanswerable", "framing",
)
FIELDS = ("id", "category", "question", "history", "evidence", "key_facts", "expect_warning",
          "expect_refusal", "speaker", "notes")
OPTIONAL_FIELDS = ("absent",)
# What an unanswerable case's documents lack: "subject", what the question is about (a name, place,
# event or year no document mentions: out of corpus); "fact", only the fact asked for (a near miss:
# the documents cover the subject).
ABSENT = ("subject", "fact")
ARTICLE_VOICE = "article"  # the outlet's/author's own text (article body, or a forum's opening post)
ANONYMOUS_REPLY = "anonymous reply"  # a reply whose poster the page does not show ("post #N (poster not shown)")


@dataclass(frozen=True)
class Evidence:
    doc_id: str
    needle: str


@dataclass(frozen=True)
class Case:
    id: str
    category: str
    question: str
    history: tuple = ()
    evidence: tuple[Evidence, ...] = ()
    key_facts: tuple[str, ...] = ()
    expect_warning: bool = False
    expect_refusal: bool = False
    speaker: str | None = None
    notes: str = ""
    absent: str | None = None  # unanswerable cases: "subject" (out of corpus) or "fact" (a near miss)
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def tuning_half(self) -> bool:
        """Whether this case is in the half of cases.jsonl the answerer may be tuned on. Decided by
        the id's hash, once, before any tuning; the other half is held out. Cases of any other
        file are all held out."""
        return int(hashlib.sha256(self.id.encode()).hexdigest()[:8], 16) % 2 == 0

    @property
    def needles(self) -> list[str]:
        return [e.needle for e in self.evidence]

    @property
    def history_list(self) -> list[dict]:
        return [dict(turn) for turn in self.history]

    @classmethod
    def from_json(cls, data: dict) -> "Case":
        return cls(
            id=data["id"], category=data["category"], question=data["question"],
            history=tuple(data.get("history") or ()),
            evidence=tuple(Evidence(e["doc_id"], e["needle"]) for e in data.get("evidence") or ()),
            key_facts=tuple(data.get("key_facts") or ()),
            expect_warning=bool(data.get("expect_warning")), expect_refusal=bool(data.get("expect_refusal")),
            speaker=data.get("speaker"), notes=data.get("notes") or "", absent=data.get("absent"), raw=data,
        )


def read_raw(path: Path = CASES_PATH) -> list[dict]:
    rows = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{number}: not valid JSON ({error})") from None
    return rows


def load_cases(path: Path = CASES_PATH) -> list[Case]:
    return [Case.from_json(row) for row in read_raw(path)]


def fingerprint(path: Path = CASES_PATH) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def interleave(cases: list[Case]) -> list[Case]:
    """Cases in round-robin category order (category order as in CATEGORIES, file order inside one),
    so that ``--limit N`` takes a small sample of every category."""
    by_category: dict[str, list[Case]] = {}
    for case in cases:
        by_category.setdefault(case.category, []).append(case)
    order = [c for c in CATEGORIES if c in by_category] + sorted(set(by_category) - set(CATEGORIES))
    out: list[Case] = []
    depth = 0
    while len(out) < len(cases):
        for category in order:
            if depth < len(by_category[category]):
                out.append(by_category[category][depth])
        depth += 1
    return out


# -- the corpus as the checks see it -------------------------------------------------------
@dataclass
class CorpusDoc:
    doc_id: str
    raw: str  # the file's text as read, before cleaning
    clean_text: str  # what the index holds
    segments: list[rag.Segment]
    partisan: bool
    outlet: str
    author: str | None
    file_name: str

    @property
    def posters(self) -> set[str]:
        return {s.speaker for s in self.segments if s.speaker}


@functools.lru_cache(maxsize=4)
def _load_corpus(corpus_dir: str) -> dict[str, CorpusDoc]:
    """The corpus read by the product's own ingest path (every format, registry, sidecars, front matter)."""
    documents, _failed = rag.read_documents(rag.Settings(corpus_dir=Path(corpus_dir)))
    docs = {}
    for d in documents:
        s = d.source
        docs[d.doc_id] = CorpusDoc(d.doc_id, rag.load_file(Path(d.path)).text, d.text, d.segments, s.partisan,
                                   s.outlet, s.author, Path(d.path).name)
    return docs


def load_corpus(corpus_dir: Path) -> dict[str, CorpusDoc]:
    return _load_corpus(str(Path(corpus_dir).resolve()))


def speaker_kind(speaker: str | None, doc_posters: set[str]) -> str | None:
    """How a case's ``speaker`` is checked: 'article', 'anonymous', 'poster' or 'quoted'."""
    if not speaker:
        return None
    if speaker == ARTICLE_VOICE:
        return "article"
    if speaker == ANONYMOUS_REPLY:
        return "anonymous"
    return "poster" if speaker in doc_posters else "quoted"


def case_speaker_kind(case: Case, corpus: dict[str, CorpusDoc]) -> str | None:
    posters = set().union(*(corpus[e.doc_id].posters for e in case.evidence if e.doc_id in corpus)) if case.evidence else set()
    return speaker_kind(case.speaker, posters)


# -- validation ------------------------------------------------------------------------------
def validate(rows: list[dict], corpus_dir: Path, min_cases: int = 150, min_per_category: int = 10) -> list[str]:
    """Every problem with the dataset, one line each (empty: all good)."""
    problems: list[str] = []
    corpus = load_corpus(corpus_dir)
    if len(rows) < min_cases:
        problems.append(f"only {len(rows)} cases (at least {min_cases} expected)")
    ids = Counter(row.get("id") for row in rows)
    problems += [f"duplicate id {i!r} ({n} times)" for i, n in ids.items() if n > 1]
    counts = Counter(row.get("category") for row in rows)
    problems += [f"category {c!r} has {counts.get(c, 0)} cases (at least {min_per_category} expected)"
                 for c in CATEGORIES if counts.get(c, 0) < min_per_category]
    for row in rows:
        problems += [f"{row.get('id', '?')}: {p}" for p in _case_problems(row, corpus)]
    return problems


def _case_problems(row: dict, corpus: dict[str, CorpusDoc]) -> list[str]:
    out: list[str] = []
    missing = [f for f in FIELDS if f not in row]
    extra = sorted(set(row) - set(FIELDS) - set(OPTIONAL_FIELDS))
    if missing:
        return [f"missing field(s) {', '.join(missing)}"]
    if extra:
        out.append(f"unknown field(s) {', '.join(extra)}")
    if not isinstance(row["id"], str) or not row["id"].startswith(f"{row['category']}-"):
        out.append("id must be '<category>-NNN'")
    if row["category"] not in CATEGORIES:
        out.append(f"unknown category {row['category']!r}")
    if not isinstance(row["question"], str) or not row["question"].strip():
        out.append("empty question")
    for name in ("expect_warning", "expect_refusal"):
        if not isinstance(row[name], bool):
            out.append(f"{name} must be true/false")
    if not isinstance(row["notes"], str):
        out.append("notes must be a string")
    if not isinstance(row["history"], list) or any(
        not isinstance(t, dict) or t.get("role") not in ("user", "assistant") or not isinstance(t.get("content"), str)
        or not t["content"].strip() for t in row["history"]
    ):
        out.append("history must be a list of {role: user|assistant, content: text}")
    if row["category"] == "follow_up" and not row["history"]:
        out.append("a follow_up case needs a history")
    if not isinstance(row["key_facts"], list) or any(not isinstance(k, str) or not k.strip("| ") for k in row["key_facts"]):
        out.append("key_facts must be a list of non-empty strings")
    if not isinstance(row["evidence"], list):
        return out + ["evidence must be a list"]

    # Answerable or not
    if row["expect_refusal"]:
        if row["evidence"] or row["key_facts"]:
            out.append("a case that expects a refusal has no evidence and no key facts")
        if row["expect_warning"]:
            out.append("a case that expects a refusal cannot expect a framing warning")
    else:
        if not row["evidence"]:
            out.append("an answerable case needs evidence")
        if not row["key_facts"]:
            out.append("an answerable case needs key facts")
    if (row["category"] == "unanswerable") != bool(row["expect_refusal"]):
        out.append("expect_refusal must be true exactly for the unanswerable category")
    if "absent" in row and (row["absent"] not in ABSENT or not row["expect_refusal"]):
        out.append(f"absent is for unanswerable cases only, one of {', '.join(ABSENT)}")

    # Evidence: verbatim in the raw file and in the cleaned text the index holds
    docs = []
    for ev in row["evidence"]:
        if not isinstance(ev, dict) or set(ev) != {"doc_id", "needle"}:
            out.append("evidence entries are {doc_id, needle}")
            continue
        doc = corpus.get(ev["doc_id"])
        if doc is None:
            out.append(f"no corpus file for doc_id {ev['doc_id']!r}")
            continue
        docs.append(doc)
        needle = ev["needle"]
        if len(needle.strip()) < 10:
            out.append(f"needle {needle!r} is too short to be unambiguous")
        if needle not in doc.raw:
            out.append(f"needle not verbatim in {doc.file_name}: {needle[:70]!r}")
        if norm(needle) not in norm(doc.clean_text):
            out.append(f"needle not in the cleaned text of {doc.doc_id} (dropped as chrome or a repeat?): {needle[:70]!r}")

    # Key facts must be findable in the evidence documents (some alternative of each)
    texts = [d.clean_text.casefold() for d in docs]
    for fact in row["key_facts"] if isinstance(row["key_facts"], list) else []:
        alternatives = [a.strip() for a in str(fact).split("|") if a.strip()]
        if docs and not any(norm(a).casefold() in norm(t) for a in alternatives for t in texts):
            out.append(f"key fact {fact!r} is not in any evidence document")

    # A framing warning is expected exactly when some evidence comes from a source rated partisan
    if docs and row["expect_warning"] != any(d.partisan for d in docs):
        out.append(f"expect_warning={row['expect_warning']} but the evidence's partisan ratings say "
                   f"{any(d.partisan for d in docs)} (corpus/sources.yaml)")

    # Speaker: how the index segments the document must agree
    speaker = row["speaker"]
    if row["category"] == "who_said_what" and not speaker:
        out.append("a who_said_what case needs a speaker")
    if speaker and docs:
        out += _speaker_problems(speaker, row["evidence"], corpus)
    return out


def _speaker_problems(speaker: str, evidence: list[dict], corpus: dict[str, CorpusDoc]) -> list[str]:
    out = []
    for ev in evidence:
        doc = corpus.get(ev["doc_id"])
        if doc is None:
            continue
        segment = _segment_at(doc, ev["needle"])
        if segment is None:
            continue
        kind = speaker_kind(speaker, doc.posters)
        label = segment.label
        if kind == "article" and segment.kind not in (rag.SegmentKind.ARTICLE, rag.SegmentKind.OPENING_POST):
            out.append(f"speaker 'article' but the needle is in '{label}'")
        elif kind == "anonymous" and (segment.kind is not rag.SegmentKind.COMMENT or segment.speaker):
            out.append(f"speaker 'anonymous reply' but the needle is in '{label}'")
        elif kind == "poster" and segment.speaker != speaker:
            out.append(f"speaker {speaker!r} is a poster in {doc.doc_id} but the needle is in '{label}'")
        elif kind == "quoted":
            seg_text = doc.clean_text[segment.start:segment.end]
            if speaker.casefold() not in seg_text.casefold():
                out.append(f"speaker {speaker!r} is neither a poster of {doc.doc_id} nor named in '{label}'")
    return out


def _segment_at(doc: CorpusDoc, needle: str):
    """The segment holding the needle (None when the cleaned text lacks it verbatim)."""
    i = doc.clean_text.find(needle)
    if i < 0:
        return None
    return next((s for s in doc.segments if s.start <= i < s.end), None)
