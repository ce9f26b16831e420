#!/usr/bin/env python
"""How often the outlet registry rates a document, and how often it is wrong; prompt-injection marks.

    python benchmarks/bench_registry.py                       # the bundled seeds and the BBC articles
    python benchmarks/bench_registry.py --pages DIR           # plus saved web pages (*.html)

For saved pages named after their site (``theguardian.com.academics.html``, as in trafilatura's
test cache of real pages), the site in the file name says which outlet the page is from. A page
of a registry outlet should match that outlet (a hit); a page of any other site should match
nothing (otherwise a false match). The matcher never sees the file name: only the page's own
metadata (site name, canonical URL, title) and text, as at ingest.

For plain-text folders (the seeds, the BBC articles) it counts matches and what matched, and the
sentences ``find_instructions`` marks as addressed to a model (there should be none in news).
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

from rag import Settings, Source, find_instructions, load_file, load_outlets

PROJECT_DIR = Path(__file__).resolve().parent.parent
BBC = PROJECT_DIR.parent / "shared" / "data" / "news_distractors" / "bbc_news" / "bbc"


def _source(loaded) -> Source:
    meta = {k: v for k, v in loaded.meta.items() if k in ("title", "outlet", "url")}
    return Source.from_mapping(loaded.doc_id, meta)


def pages(folder: Path, registry) -> None:
    by_domain = {d: o for o in registry.outlets for d in o.domains}
    rows = collections.Counter()
    examples = []
    for path in sorted(folder.glob("*.html")):
        site = path.name.lower()
        expected = next((o for d, o in by_domain.items() if site.startswith(d + ".") or f".{d}." in f".{site}"), None)
        try:
            loaded = load_file(path)
        except Exception as error:  # a page the loader refuses is reported, not fatal
            rows["unreadable"] += 1
            examples.append(f"  {path.name}: unreadable ({error})")
            continue
        match = registry.match(_source(loaded), loaded.text)
        if expected is not None:
            ok = match is not None and match.outlet.id == expected.id
            rows["registry outlet: matched" if ok else "registry outlet: missed"] += 1
            examples.append(f"  {path.name}: expected {expected.name}; "
                            + (f"matched by {match.evidence}" if ok else f"got {match.outlet.name if match else None}"))
        else:
            rows["other site: false match" if match else "other site: no match"] += 1
            if match:
                examples.append(f"  {path.name}: FALSE match {match.outlet.name} by {match.evidence}")
    hits, misses = rows["registry outlet: matched"], rows["registry outlet: missed"]
    false, clean = rows["other site: false match"], rows["other site: no match"]
    print(f"saved pages in {folder}: {sum(rows.values())}")
    print(f"  pages of registry outlets: {hits + misses}, matched {hits} ({hits / max(1, hits + misses):.0%})")
    print(f"  pages of other sites:      {false + clean}, falsely matched {false} ({false / max(1, false + clean):.1%})")
    if rows["unreadable"]:
        print(f"  unreadable: {rows['unreadable']}")
    print("\n".join(examples))


def texts(name: str, files: list[Path], registry) -> None:
    started = time.perf_counter()
    matched, evidence, marked, marks = 0, collections.Counter(), 0, []
    for path in files:
        loaded = load_file(path)
        match = registry.match(_source(loaded), loaded.text)
        if match:
            matched += 1
            evidence[f"{match.outlet.name} by {match.evidence}"] += 1
        found = find_instructions(loaded.text)
        if found:
            marked += 1
            marks += [f"  {path.name}: “{loaded.text[m.start:m.end][:100]}” ({m.why})" for m in found[:2]]
    print(f"{name}: {len(files)} documents, {matched} matched the registry, {marked} with a sentence marked as "
          f"addressed to a model ({time.perf_counter() - started:.1f} s)")
    for what, n in evidence.most_common(10):
        print(f"  {n} × {what}")
    print("\n".join(marks[:10]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, help="a folder of saved web pages named after their site")
    parser.add_argument("--limit", type=int, default=0, help="at most this many BBC articles (0: all)")
    args = parser.parse_args(argv)
    registry = load_outlets(Settings.from_env().outlets_file)
    kinds = collections.Counter(o.kind for o in registry.outlets)
    print(f"registry: {len(registry)} outlets, {sum(o.partisan for o in registry.outlets)} rated partisan; "
          + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))
    texts("seeds", sorted((PROJECT_DIR / "corpus").glob("0*.txt")), registry)
    if BBC.is_dir():
        files = sorted(BBC.glob("*/*.txt"))
        texts("BBC articles", files[:args.limit] if args.limit else files, registry)
    if args.pages:
        pages(args.pages, registry)
    return 0


if __name__ == "__main__":
    sys.exit(main())
