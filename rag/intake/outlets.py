"""The outlet registry: ratings for outlets nobody rated by hand, matched at ingest.

``corpus/outlets.yaml`` (``RAG_OUTLETS_FILE``) lists outlets with their names, aliases, web
domains, ownership (with sources) and a rating that says who rated it and when. At ingest a
document without a rating of its own is matched by, in this order:

1. its outlet name (from the corpus registry, a sidecar, front matter or the page's site name);
2. its URL's web domain;
3. the title's last part ("… | RT") and the text's dateline or credit: "(Xinhua)", "/TASS/",
   "© Reuters", "Source: Sputnik" near its start or end.

    >>> registry = Outlets([Outlet("tass", "TASS", ("ITAR-TASS",), ("tass.com", "tass.ru"), "RU",
    ...                     "state news agency", "Owned by the Russian state.", (), True,
    ...                     "Russian state news agency", "State-owned.", "high", "registry", "2026-12-04")])
    >>> m = registry.match(Source("d1", url="https://en.tass.ru/politics/1"), "Text.")
    >>> m.outlet.id, m.evidence
    ('tass', 'web domain tass.ru in the URL')
    >>> registry.match(Source("d2"), "MOSCOW, December 3. /TASS/. Lavrov said ...").evidence
    'the credit “/TASS/” in the text'
    >>> apply(Source("d2"), m).rating_text()
    'partisan source, rated “Russian state news agency” (outlet registry)'

A rating given by the journalist (corpus registry, sidecar, front matter, upload form) always
wins: ``apply`` is only called for documents without one. Matching looks at nothing but the
document itself, so it never changes when other documents are added.
"""

from __future__ import annotations

import functools
import re
import urllib.parse
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from ..errors import SettingsError
from ..model import RatingOrigin, Source

KINDS = ("state news agency", "state broadcaster", "state newspaper", "state-affiliated outlet",
         "government-funded international broadcaster", "public broadcaster", "wire service", "national newspaper",
         "private broadcaster", "magazine", "online outlet", "aggregator or republisher")
_FIELDS = ("id", "name", "aliases", "domains", "country", "kind", "ownership", "sources", "partisan", "label",
           "rationale", "confidence", "rated_by", "rated_on")


@dataclass(frozen=True)
class Outlet:
    id: str
    name: str
    aliases: tuple[str, ...]
    domains: tuple[str, ...]
    country: str
    kind: str
    ownership: str  # who owns, funds or controls it: a public fact
    sources: tuple[str, ...]  # where that fact can be checked
    partisan: bool
    label: str
    rationale: str
    confidence: str
    rated_by: str
    rated_on: str

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class OutletMatch:
    outlet: Outlet
    evidence: str  # what matched, in words: "web domain rt.com in the URL"


class Outlets:
    """The registry, with one compiled pattern per kind of evidence."""

    def __init__(self, outlets: list[Outlet]):
        self.outlets = outlets
        self._by_name = {_norm(n): o for o in reversed(outlets) for n in o.names}
        self._by_domain = {d.lower().removeprefix("www."): o for o in reversed(outlets) for d in o.domains}
        names = sorted({n for o in outlets for n in o.names if len(n) >= 2}, key=len, reverse=True)
        alternation = "|".join(re.escape(n) for n in names) or r"(?!x)x"
        self._credit = re.compile(  # case as written: "(AP)" is the wire, "(ap)" is not
            rf"\((?P<a>{alternation})\)|/(?P<b>{alternation})/|(?:©|\(c\)|Copyright)\s*(?:\d{{4}}\s*)?(?P<c>{alternation})\b|"
            rf"\b(?:Source|Sources|Credit|Via)\s*:\s*(?P<d>{alternation})\b")
        self._title_tail = re.compile(rf"\s[|–—-]\s*(?P<a>{alternation})\s*$")

    def __len__(self) -> int:
        return len(self.outlets)

    def match(self, source: Source, text: str) -> OutletMatch | None:
        outlet = self._by_name.get(_norm(source.outlet))
        if outlet is not None:
            return OutletMatch(outlet, f"outlet name “{source.outlet}”")
        host = _host(source.url)
        for domain, outlet in self._by_domain.items():
            if host and (host == domain or host.endswith("." + domain)):
                return OutletMatch(outlet, f"web domain {domain} in the URL")
        tail = self._title_tail.search(source.title or "")
        if tail:
            return OutletMatch(self._by_name[_norm(tail["a"])], f"the title's last part “{tail.group().strip()}”")
        for part in (text[:600], text[-400:]):
            credit = self._credit.search(part)
            if credit:
                name = next(g for g in credit.groups() if g)
                return OutletMatch(self._by_name[_norm(name)], f"the credit “{credit.group()}” in the text")
        return None


def apply(source: Source, match: OutletMatch) -> Source:
    """The source with the registry's rating, saying what matched (the outlet's name if it had none)."""
    o = match.outlet
    return replace(
        source, partisan=o.partisan, label=o.label, rationale=f"{o.rationale} Ownership: {o.ownership}",
        confidence=o.confidence, rated_by=o.rated_by, rated_on=o.rated_on, rating_origin=RatingOrigin.REGISTRY,
        registry_match=f"{o.name} (outlet registry), matched by {match.evidence}",
        outlet=o.name if source.outlet == "unknown outlet" else source.outlet,
    )


def load(path: Path) -> Outlets:
    """The registry at ``path`` (empty when the file does not exist); SettingsError names a bad entry."""
    path = Path(path)
    try:
        stamp = path.stat().st_mtime_ns
    except FileNotFoundError:
        return Outlets([])
    return _load(str(path), stamp)


@functools.lru_cache(maxsize=4)
def _load(path: str, stamp: int) -> Outlets:
    fix = "fix it or point RAG_OUTLETS_FILE elsewhere"
    try:
        # libyaml's safe loader when PyYAML has it: the registry parses in 0.1 s instead of 1.3 s
        # (every CLI call and ingest reads it once)
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=loader) or {}
    except yaml.YAMLError as error:
        raise SettingsError(f"{path}: not valid YAML ({str(error).splitlines()[0]}); {fix}") from None
    entries = data.get("outlets") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise SettingsError(f"{path}: must hold 'outlets:', a list of outlets; {fix}")
    outlets, seen = [], set()
    for i, entry in enumerate(entries, start=1):
        where = f"{path}: outlet #{i} ({entry.get('id') if isinstance(entry, dict) else entry!r})"
        if not isinstance(entry, dict):
            raise SettingsError(f"{where} must be a mapping; {fix}")
        missing = [f for f in _FIELDS if entry.get(f) in (None, "") and f not in ("aliases", "domains", "sources")]
        if missing:
            raise SettingsError(f"{where} lacks {', '.join(missing)}; {fix}")
        if entry["kind"] not in KINDS:
            raise SettingsError(f"{where}: unknown kind {entry['kind']!r} (known: {', '.join(KINDS)}); {fix}")
        if entry["id"] in seen:
            raise SettingsError(f"{where}: the id is used twice; {fix}")
        seen.add(entry["id"])
        values = {f: entry.get(f) for f in _FIELDS}
        for f in ("aliases", "domains", "sources"):
            values[f] = tuple(str(v) for v in values[f] or ())
        values["partisan"] = bool(values["partisan"])
        values["rated_on"] = str(values["rated_on"])
        outlets.append(Outlet(**{k: (str(v).strip() if isinstance(v, str) else v) for k, v in values.items()}))
    return Outlets(outlets)


def _norm(name: str | None) -> str:
    name = re.sub(r"[^\w]+", " ", (name or "").casefold()).strip()
    return name.removeprefix("the ")


def _host(url: str | None) -> str:
    if not url:
        return ""
    try:
        host = urllib.parse.urlsplit(url if "//" in url else f"//{url}").hostname or ""
    except ValueError:
        return ""
    return host.lower().removeprefix("www.")
