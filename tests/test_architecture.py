"""The shape of the code: one public API, imports that follow the pipeline, no cycles.

The shells (the Streamlit app, the evals, the benchmarks) use ``rag`` only through the names in
``rag.__all__`` (plus ``rag.testing``, the public test double), and never touch another
object's private attributes. Inside ``rag``, imports only point down the flow
intake/index -> answer -> present (``scripts/import_graph.py`` draws the graph).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import rag
from helpers import PROJECT_DIR
from scripts import import_graph

SHELLS = sorted([PROJECT_DIR / "app.py", *(PROJECT_DIR / "ui").rglob("*.py"), *(PROJECT_DIR / "evals").rglob("*.py"),
                 *(PROJECT_DIR / "benchmarks").rglob("*.py")])
PUBLIC_MODULES = {"rag", "rag.testing"}

EXPECTED_API = {
    "Assistant", "Endpoint", "Filters", "MAX_QUESTION_CHARS", "check_question",
    "Answer", "AnswerMode", "Outcome", "Citation", "Passage", "Source", "Rating", "RatingOrigin", "Warning", "WarningKind", "Cue",
    "CueKind", "Event", "EventKind", "SupportResult", "CITATION_MARKER", "cited_numbers", "find_cues",
    "loaded_words", "is_loaded", "find_instructions", "Instruction",
    "Outlets", "Outlet", "OutletMatch", "load_outlets", "rate_document",
    "check_support", "split_answer", "LLM",
    "Comparison", "OutletView", "OutletRef", "Quote", "Badge", "OnlyIn", "check_topic", "comparison_markdown",
    "is_comparison", "comparison_topic",
    "ingest", "IngestReport", "Phase", "Failure", "read_documents", "chunks_of", "load_file", "LoadedFile", "Document",
    "Segment", "SegmentKind", "Chunk", "PartialDate", "DOC_TYPES", "SUPPORTED", "doc_id_for", "safe_file_name",
    "sidecar_path", "list_documents", "documents_version", "unpack_zip", "Unpacked", "UnpackedEntry", "EntryStatus",
    "update_sidecar", "delete_document", "Deleted", "document_history", "HistoryEntry", "HistoryEvent",
    "Index", "get_embeddings", "EncodeCache", "model_loads",
    "conversation_markdown", "md_escape", "record_feedback", "load_feedback", "latest_feedback", "Progress",
    "Settings", "RagError", "SettingsError", "DateError", "MetadataError", "BadFile", "ArchiveError", "DocumentError", "QuestionError",
    "FeedbackError", "ModelFolderError", "IndexMissing", "IndexUnavailable", "IndexDamaged", "EmbeddingMismatch",
    "LLMError",
}


def test_public_api_is_exactly_what_all_lists():
    assert set(rag.__all__) == EXPECTED_API, "changed the public API? update EXPECTED_API and the README"
    assert len(rag.__all__) == len(set(rag.__all__))
    for name in rag.__all__:
        assert getattr(rag, name) is not None, name
    errors = [getattr(rag, n) for n in rag.__all__ if isinstance(getattr(rag, n), type)
              and issubclass(getattr(rag, n), Exception)]
    assert all(issubclass(e, rag.RagError) for e in errors)  # the CLI and app catch one base class


def _violations(path: Path, root: Path = PROJECT_DIR) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = path.relative_to(root)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [f"{where}:{node.lineno}: import {a.name}" for a in node.names
                    if a.name.startswith("rag.") and a.name not in PUBLIC_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "rag":
            if node.module not in PUBLIC_MODULES:
                out.append(f"{where}:{node.lineno}: from {node.module} import ...")
            elif node.module == "rag":
                out += [f"{where}:{node.lineno}: rag.{a.name} is not public" for a in node.names
                        if a.name not in rag.__all__]
        elif isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id == "rag" and node.attr not in rag.__all__ \
                    and node.attr != "testing":
                out.append(f"{where}:{node.lineno}: rag.{node.attr} is not public")
            private = node.attr.startswith("_") and not node.attr.startswith("__")
            own = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
            if private and not own:
                out.append(f"{where}:{node.lineno}: .{node.attr} is another object's private attribute")
    return out


def test_shells_use_only_the_public_api():
    assert len(SHELLS) > 20  # the app, its pages, the evals, the benchmarks
    violations = [v for path in SHELLS for v in _violations(path)]
    assert violations == [], "\n".join(violations)


def test_the_check_catches_what_it_should(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import rag\nimport rag.index\nfrom rag.answer.retrieval import Retriever\nfrom rag import Index, "
                   "_secret\nx = rag.answer\ny = assistant._index\nz = self._ok\n", encoding="utf-8")
    found = _violations(bad, root=tmp_path)
    assert [line.split(":", 2)[1] for line in found] == ["2", "3", "4", "5", "6"]


def test_no_import_cycle_and_imports_follow_the_pipeline():
    edges = import_graph.graph()
    assert {"rag.model", "rag.index.index", "rag.intake.pipeline", "rag.answer.assistant"} <= set(edges)
    assert import_graph.cycles(edges) == []
    assert import_graph.against_the_flow(edges) == []
    # The two halves of the pipeline meet only in the index: neither imports the other.
    assert not any(m.startswith("rag.answer") for src, ds in edges.items() if src.startswith("rag.intake") for m in ds)
    assert not any(m.startswith("rag.intake") for src, ds in edges.items() if src.startswith("rag.answer") for m in ds)


@pytest.mark.parametrize("edges, cyclic", [
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ({"a": {"a"}}, [["a"]]),
    ({"a": {"b"}, "b": set()}, []),
])
def test_cycle_finder(edges, cyclic):
    assert import_graph.cycles(edges) == cyclic


def test_nothing_in_rag_imports_streamlit_or_the_shells():
    for path in (PROJECT_DIR / "rag").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            assert not [n for n in names if n.split(".")[0] in ("streamlit", "ui", "evals", "benchmarks")], path


def test_every_setting_is_in_the_readme_table():
    import re

    names = set(re.findall(r'"((?:RAG|CHROMA|OPENAI)_[A-Z_]+)"', (PROJECT_DIR / "rag" / "settings.py").read_text()))
    assert {"RAG_DATA_DIR", "RAG_EMBED_BATCH", "RAG_COLLECTION", "RAG_LLM_MAX_TOKENS", "RAG_PROMPTS_DIR"} <= names
    table = [line for line in (PROJECT_DIR / "README.md").read_text().splitlines() if line.startswith("| `")]
    missing = sorted(n for n in names if not any(f"`{n}`" in line for line in table))
    assert missing == [], f"settings missing from the README's table: {missing}"
    for path in [*(PROJECT_DIR / "rag").rglob("*.py"), *(PROJECT_DIR / "ui").rglob("*.py"), PROJECT_DIR / "app.py"]:
        if path.name != "settings.py":  # one reader of the environment for the product's settings
            assert not re.search(r'environ(?:\.get)?\(?\[?"(?:RAG|CHROMA|OPENAI)_', path.read_text()), path


def test_the_fault_table_points_at_tests_that_exist():
    import re

    table = (PROJECT_DIR / "docs" / "faults.md").read_text(encoding="utf-8")
    rows = [line for line in table.splitlines() if re.match(r"\| \d+ \|", line)]
    assert len(rows) >= 30
    for row in rows:
        refs = re.findall(r"`(test_\w+\.py)::(test_\w+)(?:\[([\w-]+)\])?", row)
        assert refs, f"a fault without a test: {row[:80]}"
        for file, name, case in refs:
            source = (PROJECT_DIR / "tests" / file).read_text(encoding="utf-8")
            assert re.search(rf"^def {name}\(", source, re.M), f"{file}::{name} (in docs/faults.md) does not exist"
            assert not case or f'"{case}"' in source, f"{file}::{name}[{case}]: no such case"
