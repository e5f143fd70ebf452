"""What the demo network is made of: its rates, functions, industries, regions, size bands, names and their weights.
"""

from __future__ import annotations

import unicodedata
from types import SimpleNamespace

import numpy as np

from recommender.errors import UsageError
from recommender.taxonomy import load_taxonomy

INTRO_RATE = 1.0  # introductions per person over the three years


INTRO_CHOICES = 6  # pairs of contacts an introducer considers per introduction


ORGANIC_CHOICES = 8  # group members considered per organic tie (the best-fitting one, with noise, is chosen)


FIT_SHARPNESS = 3.0  # weight of profile fit when choosing partners (vs Gumbel noise of scale 1)


_CHUNK = 1_000_000  # rows per vectorised chunk (bounds memory for large networks)


OPP_RATE = 0.5  # opportunities per person over the three years


QUARTERS = 12


TIE_DAYS = 5 * 365


FUNCTION_WEIGHTS = {
    "marketing": 0.27,
    "finance": 0.25,
    "operations": 0.14,
    "sales": 0.13,
    "people": 0.09,
    "product": 0.06,
    "technology": 0.06,
}


ROLE = {
    "marketing": "CMO",
    "finance": "CFO",
    "operations": "COO",
    "people": "CHRO",
    "sales": "CRO",
    "product": "CPO",
    "technology": "CTO",
}


INDUSTRY_WEIGHTS = {
    "saas": 3.0,
    "professional-services": 2.0,
    "healthcare-services": 1.5,
    "manufacturing": 1.5,
    "ecommerce": 1.5,
    "fintech": 1.2,
    "healthtech": 1.2,
    "consumer-goods": 1.0,
    "real-estate": 1.0,
    "construction": 1.0,
    "logistics": 1.0,
}


REGION_WEIGHTS = {
    "us-northeast": 2.0,
    "us-west": 2.0,
    "us-south": 1.5,
    "us-southeast": 1.2,
    "us-midwest": 1.2,
    "uk": 0.9,
    "canada": 0.7,
    "europe": 0.7,
    "apac": 0.5,
    "remote": 0.5,
}


FRACTIONAL_SIZE_WEIGHTS = {"under-1m": 0.08, "1-5m": 0.3, "5-50m": 0.42, "50-250m": 0.15, "250m-plus": 0.05}


COMPANY_SIZE_WEIGHTS = {"under-1m": 0.12, "1-5m": 0.27, "5-50m": 0.35, "50-250m": 0.18, "250m-plus": 0.08}


EXEC_TITLES = ("CEO", "Founder & CEO", "President", "General Manager")


EXEC_TITLE_WEIGHTS = (0.4, 0.25, 0.15, 0.2)


# tie modes: how a tie came to be (drives source and strength)
_COMMUNITY, _INDUSTRY, _ICP, _PEER, _RANDOM, _CLOSURE, _INTRO = range(7)
_MODE_P = (0.45, 0.12, 0.18, 0.10, 0.15)


_MODE_STRENGTH = np.array([0.45, 0.35, 0.40, 0.40, 0.20, 0.35, 0.40])


_MODE_SOURCES = (
    (("colleague", "event", "linkedin"), (0.4, 0.35, 0.25)),
    (("event", "linkedin", "colleague"), (0.45, 0.4, 0.15)),
    (("client", "linkedin", "event"), (0.5, 0.3, 0.2)),
    (("colleague", "event", "linkedin"), (0.35, 0.4, 0.25)),
    (("linkedin", "event"), (0.75, 0.25)),
    (("event", "colleague", "linkedin"), (0.45, 0.3, 0.25)),
    (("introduction",), (1.0,)),
)


SOURCES = ("colleague", "event", "linkedin", "client", "introduction")


FIRST_NAMES = tuple("""
    James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard
    Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony Sandra Mark
    Ashley Steven Emily Andrew Michelle Kevin Amanda Brian Melissa Priya Wei Aisha Omar Hiroshi
    Fatima Carlos Ana Dmitri Ingrid Kwame Mei Rahul Olivia José Zoë Björn Søren Chloé Renée Łukasz
    François Siobhán Anaïs
""".split())


LAST_NAMES = tuple("""
    Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Martin
    Jackson Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Hill
    Green Adams Baker Patel Chen Kim Singh Okafor Tanaka Rossi Schmidt Cohen Murphy Núñez Müller
    García Dubois O'Brien Østergaard Kowalczyk Nguyễn Łopez Sánchez
""".split())


#: Edge-case people planted in every network (as ordinary fractionals). (Names that
#: test escaping, such as HTML or spreadsheet formulas, live in the test fixtures,
#: not in a network a user sees.)
SPECIAL_NAMES = (
    ("José Núñez", "jose", "nunez"),
)


COMPANY_PREFIXES = tuple("""
    Blue North Bright Iron Summit Cedar Silver Harbor Granite Maple Atlas Beacon Copper Evergreen
    Falcon Golden Juniper Keystone Lumen Meridian Nova Oak Pioneer Quarry Redwood Sterling True
    Vista Willow Zenith
""".split())


COMPANY_NOUNS = tuple("""
    Ridge Peak River Field Stone Bridge Point Path Grove Harbor Forge Line Gate Works Crest Lake
    Spring Trail Bay Arc
""".split())


INDUSTRY_SUFFIX = {
    "saas": "Software", "fintech": "Pay", "healthtech": "Health", "healthcare-services": "Care",
    "medical-devices": "Medical", "ecommerce": "Goods", "consumer-goods": "Brands", "retail": "Stores",
    "manufacturing": "Manufacturing", "construction": "Builders", "logistics": "Logistics",
    "professional-services": "Partners", "legal-services": "Law", "real-estate": "Properties",
    "banking": "Bank", "insurance": "Insurance", "education": "Learning", "nonprofit": "Foundation",
    "hospitality": "Hospitality", "energy": "Energy", "media": "Media", "cybersecurity-industry": "Security",
}


#: The specialties and industries the generator draws from (a fixed part of the
#: taxonomy, so a seed gives the same network whatever the taxonomy grows to).
DEMO_SPECIALTIES = (
    "demand-gen", "brand", "product-marketing", "content-marketing", "performance-marketing", "marketing-ops",
    "abm", "lifecycle-marketing", "fundraising", "fp-and-a", "m-and-a", "cash-flow", "audit-readiness",
    "unit-economics", "process-improvement", "supply-chain", "scaling-ops", "systems-implementation",
    "project-management", "customer-success", "talent-acquisition", "culture", "compensation", "org-design",
    "leadership-development", "hr-compliance", "sales-process", "revops", "enterprise-sales",
    "channel-partnerships", "sales-hiring", "founder-led-sales", "product-strategy", "product-discovery",
    "pricing-packaging", "product-led-growth", "cloud-architecture", "data-analytics", "security", "ai-strategy",
    "engineering-management",
)
DEMO_INDUSTRIES = (
    "saas", "fintech", "healthtech", "healthcare-services", "medical-devices", "ecommerce", "consumer-goods",
    "retail", "manufacturing", "construction", "logistics", "professional-services", "legal-services",
    "real-estate", "banking", "insurance", "education", "nonprofit", "hospitality", "energy", "media",
    "cybersecurity-industry",
)
DEMO_SIZES = ("under-1m", "1-5m", "5-50m", "50-250m", "250m-plus")
DEMO_REGIONS = ("us-northeast", "us-southeast", "us-midwest", "us-south", "us-west", "canada", "uk", "europe",
                "apac", "remote")
#: How a few tags read inside a generated bio, where the taxonomy's display label reads oddly.
_BIO_WORDS = {
    "medical-devices": "medical device",
    "us-northeast": "the US Northeast", "us-southeast": "the US Southeast", "us-midwest": "the US Midwest",
    "us-south": "the US South", "us-west": "the US West", "uk": "the UK", "remote": "remote markets",
}


def _label(tag: str) -> str:
    """A tag as it reads in a generated bio or description: the taxonomy's display label."""
    return _BIO_WORDS.get(tag) or load_taxonomy().label(tag)


def _ascii_slug(text: str) -> str:
    text = text.replace("ø", "o").replace("Ø", "O").replace("ł", "l").replace("Ł", "L")
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _list_phrase(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _vocab() -> SimpleNamespace:
    tax = load_taxonomy()
    functions = [f for f in FUNCTION_WEIGHTS if tax.is_known(f, "function")]
    if not functions:
        raise UsageError("the taxonomy has none of the functions the demo generator uses")
    specs = [s for s in tax.tags("specialty") if s in DEMO_SPECIALTIES and tax.function_of(s) in functions][:64]
    spec_func = np.array([functions.index(tax.function_of(s)) for s in specs], dtype=np.int16)
    fn = len(functions)
    func_nspec = np.bincount(spec_func, minlength=fn).astype(np.int64)
    if (func_nspec == 0).any():
        raise UsageError("every function needs at least one specialty in the taxonomy")
    func_specs = np.full((fn, int(func_nspec.max())), -1, dtype=np.int64)
    for f in range(fn):
        members = np.flatnonzero(spec_func == f)
        func_specs[f, : len(members)] = members
    industries = ([t for t in tax.tags("industry") if t in DEMO_INDUSTRIES and tax.parent(t, "industry")]
                  or tax.tags("industry"))
    parents = [tax.parent(t, "industry") or t for t in industries]
    same_sector = np.array([[p == q for q in parents] for p in parents], dtype=bool)
    sizes = [t for t in tax.tags("size_band") if t in DEMO_SIZES] or tax.tags("size_band")
    regions = [t for t in tax.tags("region") if t in DEMO_REGIONS] or tax.tags("region")

    def weights(tags, table, default):
        w = np.array([table.get(t, default) for t in tags], dtype=float)
        return w / w.sum()

    return SimpleNamespace(
        functions=functions,
        func_w=weights(functions, FUNCTION_WEIGHTS, 0.05),
        specs=specs,
        spec_func=spec_func,
        func_specs=func_specs,
        func_nspec=func_nspec,
        industries=industries,
        ind_w=weights(industries, INDUSTRY_WEIGHTS, 0.6),
        same_sector=same_sector,
        sizes=sizes,
        frac_size_w=weights(sizes, FRACTIONAL_SIZE_WEIGHTS, 0.1),
        company_size_w=weights(sizes, COMPANY_SIZE_WEIGHTS, 0.1),
        regions=regions,
        region_w=weights(regions, REGION_WEIGHTS, 0.5),
        remote=regions.index("remote") if "remote" in regions else -1,
    )
