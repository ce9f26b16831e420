#!/usr/bin/env python
"""The import graph of the ``rag`` package, read from the source (no module is imported).

    python scripts/import_graph.py            # Mermaid (paste into a Markdown viewer)
    python scripts/import_graph.py --dot      # Graphviz: ... --dot | dot -Tsvg > imports.svg
    python scripts/import_graph.py --check    # exit 1 on a cycle or an import against the flow

Every ``import`` counts, at module level or inside a function. ``tests/test_architecture.py``
runs the same checks: no cycle, and imports only point down the pipeline (``LAYERS``).
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "rag"

# The flow, lowest first. A module may import a module of its own package or of a lower layer,
# never one of the same layer's other package (intake and answer know nothing of each other).
LAYERS = {
    "rag.errors": 0, "rag.text": 0,
    "rag.settings": 1, "rag.model": 1,
    "rag.index": 2,
    "rag.intake": 3, "rag.answer": 3,
    "rag.present": 4,
    "rag": 5, "rag.__main__": 5,
    "rag.testing": 0,  # the public test double: imports nothing of rag
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def graph() -> dict[str, set[str]]:
    """module -> the rag modules it imports."""
    known = modules()
    edges: dict[str, set[str]] = {}
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                for alias in node.names:  # "from . import documents" imports a module
                    found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
        edges[name] = {m for m in found if m in known and m != name}
    return edges


def layer(module: str) -> tuple[str, int]:
    """(the layer's package, its rank) of a module."""
    for prefix in sorted(LAYERS, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return prefix, LAYERS[prefix]
    raise KeyError(f"{module} is in no layer: add it to LAYERS")


def against_the_flow(edges: dict[str, set[str]]) -> list[str]:
    wrong = []
    for src, targets in edges.items():
        src_pkg, src_rank = layer(src)
        for dst in sorted(targets):
            dst_pkg, dst_rank = layer(dst)
            if dst_pkg != src_pkg and dst_rank >= src_rank:
                wrong.append(f"{src} imports {dst} ({dst_pkg} is not below {src_pkg})")
    return wrong


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of two or more modules (Tarjan), plus self-loops."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1 or v in edges.get(v, ()):
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def mermaid(edges: dict[str, set[str]]) -> str:
    lines = ["graph TD"]
    for src in sorted(edges):
        for dst in sorted(edges[src]):
            lines.append(f"  {src.replace('.', '_')}[{src}] --> {dst.replace('.', '_')}[{dst}]")
    return "\n".join(lines)


def dot(edges: dict[str, set[str]]) -> str:
    body = [f'  "{src}" -> "{dst}";' for src in sorted(edges) for dst in sorted(edges[src])]
    return "digraph rag {\n  rankdir=TB;\n  node [shape=box, fontname=Helvetica];\n" + "\n".join(body) + "\n}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dot", action="store_true")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    edges = graph()
    if args.check:
        problems = [f"cycle: {' <-> '.join(c)}" for c in cycles(edges)] + against_the_flow(edges)
        for problem in problems:
            print(problem)
        print(f"{len(edges)} modules, {sum(map(len, edges.values()))} imports, {len(problems)} problem(s)")
        return 1 if problems else 0
    print(dot(edges) if args.dot else mermaid(edges))
    return 0


if __name__ == "__main__":
    sys.exit(main())
