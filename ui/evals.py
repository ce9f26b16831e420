"""The evals page: the latest report written by ``python -m evals run``, if there is one."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import streamlit as st

from ui import common

IMAGES = [("summary.png", "Summary"), ("categories.png", "By category")]


def report_dir() -> Path:
    """evals/out/latest, or RAG_EVAL_REPORT_DIR (tests point it at a folder of their own)."""
    return common.settings().eval_report_dir


def safe_markdown(text: str) -> str:
    """Report Markdown without anything that loads or links: images and links become plain text.

    The report quotes questions and answers (document text), so ``![x](http://…)`` or a
    ``javascript:`` link in a passage must not turn into an image or a link here. Raw HTML
    is already shown as text by st.markdown; dollar signs are escaped so they are not maths.
    """
    text = re.sub(r"!\[", r"!\\[", text)  # no images
    text = re.sub(r"\]\(", r"\\](", text)  # no inline links
    text = re.sub(r"^(\s*\[[^\]]+\]):", r"\\\1:", text, flags=re.M)  # no reference definitions
    text = re.sub(r"<((?:https?|javascript|data|file|mailto):[^>]*)>", r"\\<\1\\>", text, flags=re.I)  # autolinks
    text = re.sub(r"(?i)\b(https?|ftp|javascript|data|file):(?=//|\S)", r"\1\\:", text)  # bare URLs stay text
    text = re.sub(r"(?i)\bwww\.", r"www\\.", text)
    return text.replace("$", "\\$")


def page() -> None:
    st.set_page_config(layout="centered")
    st.markdown("## Evaluation report")
    folder = report_dir()
    report = folder / "report.md"
    if not report.exists():
        st.info("No eval report yet — run python -m evals run", icon=":material/info:")
        st.code("python -m evals run", language="bash")
        return
    written = dt.datetime.fromtimestamp(report.stat().st_mtime)
    here = Path.cwd()
    shown = report.relative_to(here) if report.is_relative_to(here) else report
    st.caption(f"{shown} · written {written:%Y-%m-%d %H:%M}")
    for name, caption in IMAGES:
        path = folder / name
        if path.exists():
            st.image(str(path), caption=caption)
    st.markdown(safe_markdown(report.read_text(encoding="utf-8", errors="replace")))
