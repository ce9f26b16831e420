"""The docstring examples in rag/ are run as doctests (``# doctest: +SKIP`` examples are skipped).

Done here rather than with ``--doctest-modules`` so that ``pytest tests`` runs them, and so a
module that imports streamlit (the UI) is never imported: it is left out by its source text.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil
import re
import subprocess
import sys

import pytest

import rag
from helpers import PROJECT_DIR, clean_environ

_UI = re.compile(r"^\s*(?:import|from)\s+streamlit\b", re.M)


def _all_modules() -> list[str]:
    """Every module of the package, subpackages included (``__main__`` runs the CLI on import)."""
    return sorted(info.name for info in pkgutil.walk_packages(rag.__path__, "rag.")
                  if not info.name.endswith("__main__"))


def _modules() -> list[str]:
    names = []
    for name in _all_modules():
        spec = importlib.util.find_spec(name)
        try:
            text = open(spec.origin, encoding="utf-8").read()
        except OSError:
            continue
        if not _UI.search(text):
            names.append(name)
    return names


MODULES = _modules()


def test_doctest_modules_found():
    assert {"rag.text", "rag.model", "rag.intake.cleaning", "rag.intake.chunking", "rag.intake.loaders",
            "rag.settings", "rag.index.records", "rag.answer.framing"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_module_doctests(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    # verbose=False: by default doctest turns verbose on when "-v" is in sys.argv (pytest -v), and its
    # "Trying:" lines would then be written into the very output an example is checked against.
    runner = doctest.DocTestRunner(verbose=False, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = finder.find(module, name)
    for test in tests:
        runner.run(test, out=lambda text: sys.stdout.write(text))
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} doctest example(s) failed in {name} (see captured stdout)"


def test_no_module_imports_streamlit():
    """Checked in a fresh interpreter: other tests (the UI's) may import streamlit into this one.

    Every module of the package is imported, not just MODULES: those leave out, by its source
    text, any module that imports streamlit, which is exactly what this test must catch.
    """
    names = _all_modules()
    code = "import sys\n" + "".join(f"import {name}\n" for name in names) + (
        "print('streamlit' in sys.modules)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_DIR, env=clean_environ(), capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_doctests_are_really_run_and_skips_honoured():
    """rag.text's example runs; the pipeline's examples are all +SKIP (they would ingest the real corpus)."""
    attempted = {}
    for name in ("rag.text", "rag.intake.cleaning", "rag.intake.pipeline", "rag.index.embeddings"):
        runner = doctest.DocTestRunner(verbose=False)
        for test in doctest.DocTestFinder().find(importlib.import_module(name), name):
            runner.run(test, out=lambda text: None)
        attempted[name] = runner.summarize(verbose=False).attempted
    assert attempted["rag.text"] >= 1 and attempted["rag.intake.cleaning"] >= 1
    assert attempted["rag.intake.pipeline"] == 0 and attempted["rag.index.embeddings"] == 0
