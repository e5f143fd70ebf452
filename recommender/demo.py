"""A realistic synthetic referral network of fractional executives, vectorised.

The generator plants the structure the recommender is meant to learn, so the
demo data is worth evaluating on:

* **People**: about 60% fractionals (a function, 1-3 specialties of that
  function, 1-3 industries, 1-2 ICP size bands, 1-2 regions, capacity) and
  40% executives (CEO, founder, president, GM) of a company.
* **Ties** with homophily: communities (region x industry clusters), same
  industry, fractional <-> executive in the fractional's ICP, same-function
  peers in a region, some random ties and triadic closure. Mean degree is about
  20 for large networks and about 9 for a few hundred people.
* **Introductions** over the last three years: an introducer introduces two of
  their contacts who are not yet tied, preferring pairs with many mutual
  contacts, complementary peers (same function, different specialty), adjacent
  fractionals (other function, same industries or size bands) and
  fractional <-> executive ICP fit. About 70% connect; each connected
  introduction is also a tie with ``source="introduction"`` and
  ``since`` = the introduction date.
* **Opportunities** brought by a person for a client company, about 80% outside
  the bringer's lane, and **referrals** to 1-3 fractionals picked by fit
  (needs coverage, industry, size band) and trust (tie strength, 2 hops
  sometimes). Winning rises with fit, a hidden skill, the track record so far
  and free capacity.

Everything is numpy-vectorised: 100,000 people take a few seconds, 1,000,000
people (about 10 million ties) take minutes. The output is deterministic for a
seed; the end date is fixed (:data:`END_DATE`).

Example
-------
>>> tables = generate_network(60, seed=3)
>>> sorted(tables)
['companies', 'introductions', 'opportunities', 'people', 'referrals', 'ties']
>>> len(tables["people"])
60
>>> list(tables["ties"].columns)
['a', 'b', 'strength', 'since', 'last_contact', 'source']
>>> bool((tables["ties"]["a"] < tables["ties"]["b"]).all())
True
"""

from __future__ import annotations

import os
import tempfile
import unicodedata
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.errors import UsageError
from recommender.store.schema import TABLES
from recommender.taxonomy import load_taxonomy

__all__ = [
    "END_DATE",
    "MIN_PEOPLE",
    "MAX_PEOPLE",
    "STAGES",
    "generate_network",
    "write_network",
    "generate_demo_data",
]

#: The last day of the generated history (fixed, so output is deterministic).
END_DATE = "2026-06-30"
MIN_PEOPLE = 10
MAX_PEOPLE = 5_000_000
#: Progress steps reported to ``progress`` (generation, then one per file written).
STAGES = (
    "people",
    "ties",
    "introductions",
    "opportunities",
    "referrals",
    "tables",
) + tuple(f"write {name}" for name in TABLES)

TABLE_NAMES = tuple(TABLES)

# -- knobs -----------------------------------------------------------------
FRACTIONAL_SHARE = 0.6
COMMUNITY_SIZE = 150
INTRO_RATE = 1.0  # introductions per person over the three years
INTRO_CHOICES = 6  # pairs of contacts an introducer considers per introduction
ORGANIC_CHOICES = 8  # group members considered per organic tie (the best-fitting one, with noise, is chosen)
FIT_SHARPNESS = 3.0  # weight of profile fit when choosing partners (vs Gumbel noise of scale 1)
_CHUNK = 1_000_000  # rows per vectorised chunk (bounds memory for large networks)
OPP_RATE = 0.5  # opportunities per person over the three years
OPT_OUT_RATE = 0.02
QUARTERS = 12
HISTORY_DAYS = 3 * 365
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

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
    "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Sandra", "Mark", "Ashley", "Steven", "Emily",
    "Andrew", "Michelle", "Kevin", "Amanda", "Brian", "Melissa", "Priya", "Wei", "Aisha", "Omar",
    "Hiroshi", "Fatima", "Carlos", "Ana", "Dmitri", "Ingrid", "Kwame", "Mei", "Rahul", "Olivia",
    "José", "Zoë", "Björn", "Søren", "Chloé", "Renée", "Łukasz", "François", "Siobhán", "Anaïs",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor",
    "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Hill", "Green", "Adams", "Baker",
    "Patel", "Chen", "Kim", "Singh", "Okafor", "Tanaka", "Rossi", "Schmidt", "Cohen", "Murphy",
    "Núñez", "Müller", "García", "Dubois", "O'Brien", "Østergaard", "Kowalczyk", "Nguyễn", "Łopez", "Sánchez",
)
#: Edge-case people planted in every network (as ordinary fractionals).
SPECIAL_NAMES = (
    ("<b>Ada</b> <script>alert(1)</script> Lovelace", "ada", "lovelace"),
    ('=HYPERLINK("https://evil.example","click") Mallory', "eve", "mallory"),
    ("José Núñez", "jose", "nunez"),
)
COMPANY_PREFIXES = (
    "Blue", "North", "Bright", "Iron", "Summit", "Cedar", "Silver", "Harbor", "Granite", "Maple",
    "Atlas", "Beacon", "Copper", "Evergreen", "Falcon", "Golden", "Juniper", "Keystone", "Lumen", "Meridian",
    "Nova", "Oak", "Pioneer", "Quarry", "Redwood", "Sterling", "True", "Vista", "Willow", "Zenith",
)
COMPANY_NOUNS = (
    "Ridge", "Peak", "River", "Field", "Stone", "Bridge", "Point", "Path", "Grove", "Harbor",
    "Forge", "Line", "Gate", "Works", "Crest", "Lake", "Spring", "Trail", "Bay", "Arc",
)
INDUSTRY_SUFFIX = {
    "saas": "Software", "fintech": "Pay", "healthtech": "Health", "healthcare-services": "Care",
    "medical-devices": "Medical", "ecommerce": "Goods", "consumer-goods": "Brands", "retail": "Stores",
    "manufacturing": "Manufacturing", "construction": "Builders", "logistics": "Logistics",
    "professional-services": "Partners", "legal-services": "Law", "real-estate": "Properties",
    "banking": "Bank", "insurance": "Insurance", "education": "Learning", "nonprofit": "Foundation",
    "hospitality": "Hospitality", "energy": "Energy", "media": "Media", "cybersecurity-industry": "Security",
}
LABELS = {
    # specialties
    "demand-gen": "demand generation", "brand": "brand strategy", "product-marketing": "product marketing",
    "content-marketing": "content marketing", "performance-marketing": "performance marketing",
    "marketing-ops": "marketing operations", "abm": "ABM", "lifecycle-marketing": "lifecycle marketing",
    "fundraising": "fundraising", "fp-and-a": "FP&A", "m-and-a": "M&A", "cash-flow": "cash flow",
    "audit-readiness": "audit readiness", "unit-economics": "unit economics",
    "process-improvement": "process improvement", "supply-chain": "supply chain", "scaling-ops": "scaling operations",
    "systems-implementation": "systems implementation", "project-management": "project management",
    "customer-success": "customer success", "talent-acquisition": "talent acquisition", "culture": "culture",
    "compensation": "compensation", "org-design": "org design", "leadership-development": "leadership development",
    "hr-compliance": "HR compliance", "sales-process": "sales process", "revops": "RevOps",
    "enterprise-sales": "enterprise sales", "channel-partnerships": "channel partnerships",
    "sales-hiring": "sales hiring", "founder-led-sales": "founder-led sales", "product-strategy": "product strategy",
    "product-discovery": "product discovery", "pricing-packaging": "pricing and packaging",
    "product-led-growth": "product-led growth", "cloud-architecture": "cloud architecture",
    "data-analytics": "data and analytics", "security": "security", "ai-strategy": "AI strategy",
    "engineering-management": "engineering management",
    # industries
    "saas": "B2B SaaS", "fintech": "fintech", "healthtech": "healthtech", "healthcare-services": "healthcare services",
    "medical-devices": "medical device", "ecommerce": "e-commerce", "consumer-goods": "consumer goods",
    "retail": "retail", "manufacturing": "manufacturing", "construction": "construction", "logistics": "logistics",
    "professional-services": "professional services", "legal-services": "legal services",
    "real-estate": "real estate", "banking": "banking", "insurance": "insurance", "education": "education",
    "nonprofit": "nonprofit", "hospitality": "hospitality", "energy": "energy", "media": "media",
    "cybersecurity-industry": "cybersecurity",
    # size bands
    "under-1m": "sub-$1M", "1-5m": "$1-5M", "5-50m": "$5-50M", "50-250m": "$50-250M", "250m-plus": "$250M+",
    # regions
    "us-northeast": "the US Northeast", "us-southeast": "the US Southeast", "us-midwest": "the US Midwest",
    "us-south": "the US South", "us-west": "the US West", "canada": "Canada", "uk": "the UK",
    "europe": "Europe", "apac": "APAC", "remote": "remote markets",
}

Progress = Callable[[str], None]


def _label(tag: str) -> str:
    return LABELS.get(tag, tag.replace("-", " "))


def _ascii_slug(text: str) -> str:
    text = text.replace("ø", "o").replace("Ø", "O").replace("ł", "l").replace("Ł", "L")
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _list_phrase(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


# -- vocabulary from the taxonomy -------------------------------------------


def _vocab() -> SimpleNamespace:
    tax = load_taxonomy()
    functions = [f for f in FUNCTION_WEIGHTS if tax.is_known(f, "function")]
    if not functions:
        raise UsageError("the taxonomy has none of the functions the demo generator uses")
    specs = [s for s in tax.tags("specialty") if tax.function_of(s) in functions][:64]
    spec_func = np.array([functions.index(tax.function_of(s)) for s in specs], dtype=np.int16)
    fn = len(functions)
    func_nspec = np.bincount(spec_func, minlength=fn).astype(np.int64)
    if (func_nspec == 0).any():
        raise UsageError("every function needs at least one specialty in the taxonomy")
    func_specs = np.full((fn, int(func_nspec.max())), -1, dtype=np.int64)
    for f in range(fn):
        members = np.flatnonzero(spec_func == f)
        func_specs[f, : len(members)] = members
    industries = [t for t in tax.tags("industry") if tax.parent(t, "industry")] or tax.tags("industry")
    parents = [tax.parent(t, "industry") or t for t in industries]
    same_sector = np.array([[p == q for q in parents] for p in parents], dtype=bool)
    sizes = tax.tags("size_band")
    regions = tax.tags("region")

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


# -- small vectorised helpers -------------------------------------------------

_ONE = np.uint64(1)


def _bits(idx: np.ndarray) -> np.ndarray:
    """``1 << idx`` as uint64 (idx >= 0)."""
    return np.left_shift(_ONE, idx.astype(np.uint64))


def _mask_of(lists: np.ndarray) -> np.ndarray:
    """Bit masks of -1-padded index rows."""
    out = np.zeros(lists.shape[0], dtype=np.uint64)
    for j in range(lists.shape[1]):
        col = lists[:, j]
        sel = col >= 0
        out[sel] |= _bits(col[sel])
    return out


def _has(mask: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Whether bit ``idx`` is set in ``mask`` (idx < 0 gives False)."""
    ok = idx >= 0
    safe = np.where(ok, idx, 0).astype(np.uint64)
    return ok & ((np.right_shift(mask, safe) & _ONE) == _ONE)


def _popcount(mask: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(mask).astype(np.int64)
    m = mask.copy()
    c = np.zeros(m.shape, dtype=np.int64)
    while m.any():
        c += (m & _ONE).astype(np.int64)
        m >>= _ONE
    return c


def _mask_strings(mask: np.ndarray, tags: list[str], sep: str = ";", labels: bool = False) -> np.ndarray:
    """Each mask as a string of its tags in taxonomy order (computed once per distinct mask)."""
    uniq, inv = np.unique(mask, return_inverse=True)
    out = []
    for m in uniq.tolist():
        words = [tags[b] for b in range(len(tags)) if (m >> b) & 1]
        out.append(_list_phrase([_label(w) for w in words]) if labels else sep.join(words))
    return np.array(out, dtype=object)[inv.reshape(-1)]


def _pick_rows(rng, choices: np.ndarray, nchoices: np.ndarray, k: np.ndarray, kmax: int) -> np.ndarray:
    """Per row, ``k`` distinct entries of ``choices[:nchoices]``, -1 padded to ``kmax`` columns."""
    n, m = choices.shape
    col = np.arange(m)
    keys = rng.random((n, m), dtype=np.float32)
    keys[col[None, :] >= nchoices[:, None]] = 2.0
    order = np.argsort(keys, axis=1)[:, :kmax]
    picked = np.take_along_axis(choices, order, axis=1)
    if picked.shape[1] < kmax:
        picked = np.pad(picked, ((0, 0), (0, kmax - picked.shape[1])), constant_values=-1)
    picked[np.arange(kmax)[None, :] >= k[:, None]] = -1
    return picked


def _pick_random_entry(rng, lists: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """A random entry of each -1-padded row (rows with count 0 give -1)."""
    pos = (rng.random(len(counts)) * np.maximum(counts, 1)).astype(np.int64)
    out = lists[np.arange(len(counts)), np.minimum(pos, lists.shape[1] - 1)]
    return np.where(counts > 0, out, -1)


class _Groups:
    """Uniform sampling of a random member of a group, for many queries at once."""

    def __init__(self, keys: np.ndarray):
        idx = np.flatnonzero(keys >= 0)
        self.order = idx[np.argsort(keys[idx], kind="stable")]
        self.keys = keys[self.order]

    def sample(self, rng, query: np.ndarray) -> np.ndarray:
        if len(self.order) == 0:
            return np.full(len(query), -1, dtype=np.int64)
        lo = np.searchsorted(self.keys, query, "left")
        hi = np.searchsorted(self.keys, query, "right")
        cnt = hi - lo
        pos = np.minimum(lo + (rng.random(len(query)) * cnt).astype(np.int64), len(self.order) - 1)
        return np.where((cnt > 0) & (query >= 0), self.order[pos], -1)


def _pair_keys(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    lo = np.minimum(a, b).astype(np.int64)
    hi = np.maximum(a, b).astype(np.int64)
    return lo * n + hi


def _weighted_draw(rng, weights: np.ndarray, size: int) -> np.ndarray:
    cum = np.cumsum(weights, dtype=float)
    if size == 0 or cum[-1] <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.minimum(np.searchsorted(cum, rng.random(size) * cum[-1], "right"), len(weights) - 1)


def _gumbel(rng, shape) -> np.ndarray:
    return -np.log(-np.log(rng.random(shape) * (1 - 1e-12) + 1e-12))


def _csr(rows: np.ndarray, cols: np.ndarray, n: int, *data: np.ndarray, order_by: np.ndarray | None = None):
    """indptr, cols, data... of entries sorted by row (then by ``order_by``)."""
    order = np.argsort(rows, kind="stable") if order_by is None else np.lexsort((order_by, rows))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return (indptr, cols[order]) + tuple(d[order] for d in data)


def _expand(indptr: np.ndarray, rows: np.ndarray):
    """For each query row, all its entry positions: (query index, entry position)."""
    deg = indptr[rows + 1] - indptr[rows]
    total = int(deg.sum())
    q = np.repeat(np.arange(len(rows)), deg)
    starts = np.repeat(indptr[rows] - (np.cumsum(deg) - deg), deg)
    return q, starts + np.arange(total)


def _target_degree(n: int) -> float:
    """Mean degree: ~9 for a few hundred people, 20 from ~10,000 people on."""
    return 8.0 + 12.0 * float(np.clip(np.log10(n / 300.0) / np.log10(30.0), 0.0, 1.0))


def _check_n(n_people) -> int:
    try:
        n = int(n_people)
    except (TypeError, ValueError):
        raise UsageError(f"the number of people must be an integer, got {n_people!r}") from None
    if n != n_people or n < MIN_PEOPLE or n > MAX_PEOPLE:
        raise UsageError(f"the number of people must be between {MIN_PEOPLE} and {MAX_PEOPLE:,}, got {n_people!r}")
    return n


# -- the generator stages ------------------------------------------------------


def _make_people(rng, n: int, V) -> SimpleNamespace:
    F, I, S, R = len(V.functions), len(V.industries), len(V.sizes), len(V.regions)
    n_frac = min(n - 1, max(3, int(round(FRACTIONAL_SHARE * n))))
    is_frac = np.zeros(n, dtype=bool)
    is_frac[:n_frac] = True
    rng.shuffle(is_frac)

    # communities: region x industry clusters of varying size
    k = max(2, int(round(n / COMMUNITY_SIZE)))
    cw = rng.lognormal(0.0, 0.5, k)
    cw /= cw.sum()
    comm = rng.choice(k, n, p=cw)
    comm_region = rng.choice(R, k, p=V.region_w)
    comm_ind = rng.choice(I, k, p=V.ind_w)
    region = np.where(rng.random(n) < 0.85, comm_region[comm], rng.choice(R, n, p=V.region_w))
    industry = np.where(rng.random(n) < 0.6, comm_ind[comm], rng.choice(I, n, p=V.ind_w))

    # companies: one per executive (85%), the others join one; plus client-only companies
    execs = np.flatnonzero(~is_frac)
    n_own = max(1, int(round(len(execs) * 0.85)))
    own, joiners = execs[:n_own], execs[n_own:]
    n_extra = max(2, len(execs) // 2)
    n_comp = n_own + n_extra
    comp_size = rng.choice(S, n_comp, p=V.company_size_w)
    ec = rng.choice(k, n_extra, p=cw)
    comp_ind = np.concatenate([industry[own], np.where(rng.random(n_extra) < 0.6, comm_ind[ec], rng.choice(I, n_extra, p=V.ind_w))])
    comp_region = np.concatenate([region[own], np.where(rng.random(n_extra) < 0.85, comm_region[ec], rng.choice(R, n_extra, p=V.region_w))])
    comp_comm = np.concatenate([comm[own], ec])
    company = np.full(n, -1, dtype=np.int64)
    company[own] = np.arange(n_own)
    company[joiners] = rng.integers(0, n_own, len(joiners))
    industry[joiners] = comp_ind[company[joiners]]
    region[joiners] = comp_region[company[joiners]]

    # function and specialties (fractionals)
    func = np.full(n, -1, dtype=np.int64)
    func[is_frac] = rng.choice(F, n_frac, p=V.func_w)
    fsafe = np.maximum(func, 0)
    nspec = np.where(is_frac, rng.choice([1, 2, 3], n, p=[0.3, 0.45, 0.25]), 0)
    nspec = np.minimum(nspec, V.func_nspec[fsafe])
    spec_list = _pick_rows(rng, V.func_specs[fsafe], V.func_nspec[fsafe], nspec, 3)

    # industries: the primary one, then 0-2 more (same sector preferred)
    nind = np.where(is_frac, rng.choice([1, 2, 3], n, p=[0.35, 0.4, 0.25]), 1)
    race = rng.exponential(size=(n, I)).astype(np.float32)
    race /= (V.ind_w[None, :] * (1.0 + 2.0 * V.same_sector[industry])).astype(np.float32)
    race[np.arange(n), industry] = np.inf
    extra = np.argsort(race, axis=1)[:, :2]
    ind_list = np.column_stack([industry, extra]).astype(np.int64)
    ind_list[np.arange(3)[None, :] >= nind[:, None]] = -1

    # ICP size bands: fractionals 1-2 adjacent bands; executives their company's band
    size1 = np.where(is_frac, rng.choice(S, n, p=V.frac_size_w), comp_size[np.maximum(company, 0)])
    step = np.where(rng.random(n) < 0.5, -1, 1)
    size2 = size1 + step
    size2 = np.where((size2 < 0) | (size2 >= S), size1 - step, size2)
    size2 = np.where(is_frac & (rng.random(n) < 0.45) & (size2 >= 0) & (size2 < S), size2, -1)
    size_list = np.column_stack([size1, size2]).astype(np.int64)

    # regions: the primary one; some fractionals also work remote or in a second region
    r = rng.random(n)
    other = rng.choice(R, n, p=V.region_w)
    region2 = np.full(n, -1, dtype=np.int64)
    if V.remote >= 0:
        region2 = np.where(is_frac & (r < 0.2) & (region != V.remote), V.remote, region2)
    region2 = np.where(is_frac & (r >= 0.2) & (r < 0.32) & (other != region), other, region2)
    region_list = np.column_stack([region, region2]).astype(np.int64)

    capacity = np.where(is_frac, rng.choice(4, n, p=[0.2, 0.35, 0.3, 0.15]), -1)
    capacity = np.where(is_frac & (rng.random(n) < 0.1), -1, capacity)
    opt_out = rng.random(n) < OPT_OUT_RATE
    activity = rng.lognormal(0.0, 0.6, n) * np.where(is_frac, 1.15, 1.0)
    skill = rng.normal(0.0, 1.0, n)
    first = rng.integers(0, len(FIRST_NAMES), n)
    last = rng.integers(0, len(LAST_NAMES), n)
    exec_title = rng.choice(len(EXEC_TITLES), n, p=EXEC_TITLE_WEIGHTS)

    special = np.flatnonzero(is_frac & ~opt_out)[: len(SPECIAL_NAMES)]

    return SimpleNamespace(
        n=n, is_frac=is_frac, comm=comm, region=region, industry=industry, company=company,
        func=func, spec_list=spec_list, spec_mask=_mask_of(spec_list), nspec=nspec,
        ind_list=ind_list, ind_mask=_mask_of(ind_list), nind=nind,
        size_list=size_list, size_mask=_mask_of(size_list), nsize=(size_list >= 0).sum(axis=1),
        region_list=region_list, region_mask=_mask_of(region_list), nregion=(region_list >= 0).sum(axis=1),
        capacity=capacity, opt_out=opt_out, activity=activity, skill=skill,
        first=first, last=last, exec_title=exec_title, special=special,
        comp=SimpleNamespace(n=n_comp, industry=comp_ind, region=comp_region, size=comp_size, comm=comp_comm),
    )


def _make_base_ties(rng, P, V, m_target: int, t0: int, h0: int, end: int) -> SimpleNamespace:
    """Homophilous ties plus triadic closure; sorted by pair key, a < b."""
    n, S, R = P.n, len(V.sizes), len(V.regions)
    m_closure = int(round(0.15 * m_target))
    m_direct = m_target - m_closure
    m_gen = int(m_direct * 1.12) + 16
    u = _weighted_draw(rng, P.activity, m_gen)
    mode = rng.choice(5, m_gen, p=_MODE_P)
    K = ORGANIC_CHOICES
    cand = np.full((m_gen, K), -1, dtype=np.int64)

    def fill(sel, groups, query):
        # K members of the group per tie; the best fit among them is chosen below
        idx = np.flatnonzero(sel)
        cand[idx] = groups.sample(rng, np.repeat(query(u[idx]), K)).reshape(-1, K)

    frac_u = P.is_frac[u]
    fill(mode == _COMMUNITY, _Groups(P.comm), lambda x: P.comm[x])
    fill(mode == _INDUSTRY, _Groups(P.industry), lambda x: _pick_random_entry(rng, P.ind_list[x], P.nind[x]))
    exec_key = np.where(~P.is_frac, P.industry * S + P.size_list[:, 0], -1)
    fill((mode == _ICP) & frac_u, _Groups(exec_key),
         lambda x: _pick_random_entry(rng, P.ind_list[x], P.nind[x]) * S + _pick_random_entry(rng, P.size_list[x], P.nsize[x]))
    frac_key = np.where(P.is_frac, P.industry * S + P.size_list[:, 0], -1)
    fill((mode == _ICP) & ~frac_u, _Groups(frac_key), lambda x: P.industry[x] * S + P.size_list[x, 0])
    peer_key = np.where(P.is_frac, P.func * R + P.region, -1)
    fill((mode == _PEER) & frac_u, _Groups(peer_key), lambda x: P.func[x] * R + P.region[x])
    # organic partners: within the group, with probability ~ exp(fit of the pair)
    v = np.full(m_gen, -1, dtype=np.int64)
    for c0 in range(0, m_gen, _CHUNK):
        cu = np.repeat(u[c0:c0 + _CHUNK], K)
        cv = cand[c0:c0 + _CHUNK].ravel()
        ok = (cv >= 0) & (cv != cu)
        safe = np.where(ok, cv, 0)
        noisy = np.where(ok, _pair_score(P, cu, safe, np.zeros(len(cu)), FIT_SHARPNESS) + _gumbel(rng, len(cu)), -np.inf)
        noisy = noisy.reshape(-1, K)
        best = np.argmax(noisy, axis=1)
        v[c0:c0 + _CHUNK] = cand[c0:c0 + _CHUNK][np.arange(len(best)), best]
    cand = None  # free it (the closure above is done with it)
    rand = (mode == _RANDOM) | (v < 0)  # random ties, and the fallback for empty groups
    v[rand] = rng.integers(0, n, int(rand.sum()))
    mode[rand] = _RANDOM

    ok = v != u
    u, v, mode = u[ok], v[ok], mode[ok]
    keys = _pair_keys(u, v, n)
    keys, first = np.unique(keys, return_index=True)
    mode = mode[first]
    if len(keys) > m_direct:
        keep = np.sort(rng.choice(len(keys), m_direct, replace=False))
        keys, mode = keys[keep], mode[keep]
    a, b = keys // n, keys % n
    since = np.where(
        rng.random(len(keys)) < 0.62,
        rng.integers(t0, h0, len(keys)),
        rng.integers(h0, end + 1, len(keys)),
    )

    # triadic closure: close random wedges (centre chosen proportional to degree)
    rows = np.concatenate([a, b])
    cols = np.concatenate([b, a])
    ssince = np.concatenate([since, since])
    indptr, ccols, csince = _csr(rows, cols, n, ssince)
    nnz = len(ccols)
    if nnz and m_closure:
        w = int(m_closure * 1.4) + 16
        e1 = rng.integers(0, nnz, w)
        centre = np.searchsorted(indptr, e1, "right") - 1
        deg = indptr[centre + 1] - indptr[centre]
        e2 = indptr[centre] + (rng.random(w) * deg).astype(np.int64)
        x, y = ccols[e1], ccols[e2]
        base_since = np.maximum(csince[e1], csince[e2])
        ok = x != y
        ck = _pair_keys(x[ok], y[ok], n)
        base_since = base_since[ok]
        ck, cfirst = np.unique(ck, return_index=True)
        base_since = base_since[cfirst]
        new = ~np.isin(ck, keys, assume_unique=True)
        ck, base_since = ck[new], base_since[new]
        if len(ck) > m_closure:
            keep = np.sort(rng.choice(len(ck), m_closure, replace=False))
            ck, base_since = ck[keep], base_since[keep]
        csince_new = base_since + (rng.random(len(ck)) * 0.5 * (end - base_since)).astype(np.int64)
        keys = np.concatenate([keys, ck])
        mode = np.concatenate([mode, np.full(len(ck), _CLOSURE)])
        since = np.concatenate([since, csince_new])
        order = np.argsort(keys)
        keys, mode, since = keys[order], mode[order], since[order]
    return SimpleNamespace(key=keys, a=keys // n, b=keys % n, since=since.astype(np.int64), mode=mode.astype(np.int8))


def _pair_score(P, v: np.ndarray, w: np.ndarray, cn: np.ndarray, fit_weight: float = 1.0) -> np.ndarray:
    """How good an introduction (or a tie) of v and w is: the planted preference.

    ``0.8 log(1 + cn)`` for mutual contacts plus ``fit_weight`` times the fit of
    the two profiles (complementary peers, adjacent fractionals sharing a market,
    fractional <-> executive ICP fit).
    """
    fv, fw = P.is_frac[v], P.is_frac[w]
    both = fv & fw
    same_func = both & (P.func[v] == P.func[w])
    spec_overlap = _popcount(P.spec_mask[v] & P.spec_mask[w])
    ind_overlap = _popcount(P.ind_mask[v] & P.ind_mask[w]) > 0
    size_overlap = _popcount(P.size_mask[v] & P.size_mask[w]) > 0
    complementary = same_func & (spec_overlap == 0)
    adjacent = both & ~same_func
    fr = np.where(fv, v, w)
    ex = np.where(fv, w, v)
    icp = (fv ^ fw) & _has(P.ind_mask[fr], P.industry[ex])
    icp_size = (fv ^ fw) & (_popcount(P.size_mask[fr] & P.size_mask[ex]) > 0)
    execs = ~fv & ~fw
    return 0.8 * np.log1p(cn) + fit_weight * (
        1.6 * complementary
        + 0.2 * (same_func & ~complementary)
        + adjacent * (0.7 * ind_overlap + 0.5 * size_overlap)
        + 1.2 * icp
        + 0.6 * icp_size
        + 0.3 * (execs & (P.industry[v] == P.industry[w]))
        - 0.3 * execs
    )


def _make_introductions(rng, P, base, qbounds: np.ndarray, end: int, progress: Progress):
    n = P.n
    rows = np.concatenate([base.a, base.b])
    cols = np.concatenate([base.b, base.a])
    since2 = np.concatenate([base.since, base.since])
    indptr, ccols, csince = _csr(rows, cols, n, since2, order_by=since2)
    crow = np.repeat(np.arange(n), np.diff(indptr))
    ones = np.ones(len(ccols), dtype=np.float32)
    n_total = int(round(INTRO_RATE * n))
    growth = 1.0 + 0.06 * np.arange(QUARTERS)
    per_q = np.floor(n_total * growth / growth.sum() + rng.random(QUARTERS)).astype(np.int64)
    K = INTRO_CHOICES
    introduced = np.zeros(0, dtype=np.int64)
    out = []
    for q in range(QUARTERS):
        t, t_next = int(qbounds[q]), int(qbounds[q + 1])
        valid = csince < t
        cnt = np.bincount(crow[valid], minlength=n)
        m = int(per_q[q])
        wts = P.activity * ((cnt >= 2) & ~P.opt_out)
        if m == 0 or wts.sum() == 0:
            continue
        intro = _weighted_draw(rng, wts, m)
        c = cnt[intro][:, None]
        # matchmaking: the introducer thinks of one contact, then of whom among their other
        # contacts that person should meet (K candidates; the best fit, with noise, wins)
        p1 = np.repeat((rng.random((m, 1)) * c).astype(np.int64), K, axis=1)
        p2 = (rng.random((m, K)) * (c - 1)).astype(np.int64)
        p2 += p2 >= p1
        base_pos = indptr[intro][:, None]
        v = ccols[base_pos + p1].ravel()
        w = ccols[base_pos + p2].ravel()
        date = np.repeat(t + (rng.random(m) * (t_next - t)).astype(np.int64), K)
        keys = _pair_keys(v, w, n)
        # not yet tied at the introduction date, never introduced before, nobody opted out
        pos = np.minimum(np.searchsorted(base.key, keys), len(base.key) - 1)
        tied = (base.key[pos] == keys) & (base.since[pos] < date)
        bad = tied | P.opt_out[v] | P.opt_out[w] | np.isin(keys, introduced)
        # mutual contacts at the quarter start
        A = sp.csr_matrix((ones[valid], ccols[valid], np.concatenate([[0], np.cumsum(cnt)])), shape=(n, n))
        cn = np.asarray(A[v].multiply(A[w]).sum(axis=1)).ravel()
        score = _pair_score(P, v, w, cn)
        pick = _pair_score(P, v, w, cn, FIT_SHARPNESS)
        noisy = np.where(bad, -np.inf, pick + _gumbel(rng, len(score))).reshape(m, K)
        best = np.argmax(noisy, axis=1)
        sel = np.arange(m) * K + best
        sel = sel[np.isfinite(noisy[np.arange(m), best])]
        sk, first = np.unique(keys[sel], return_index=True)
        sel = np.sort(sel[first])
        introduced = np.union1d(introduced, keys[sel])
        p_conn = np.clip(0.57 + 0.12 * score[sel], 0.3, 0.95)
        r = rng.random(len(sel))
        outcome = np.where(r < p_conn, 0, np.where(rng.random(len(sel)) < 0.4, 1, 2))  # connected, declined, no_response
        recent = (date[sel] > end - 21) & (rng.random(len(sel)) < 0.6)
        outcome = np.where(recent, 3, outcome)  # pending
        out.append((date[sel], intro[sel // K], np.minimum(v[sel], w[sel]), np.maximum(v[sel], w[sel]), outcome, score[sel]))
        progress(f"introductions {q + 1}/{QUARTERS}")
    if not out:
        z = np.zeros(0, dtype=np.int64)
        return SimpleNamespace(date=z, introducer=z, a=z, b=z, outcome=z, score=z.astype(float))
    cat = [np.concatenate(x) for x in zip(*out)]
    order = np.lexsort((cat[2], cat[0]))
    date, introducer, a, b, outcome, score = (x[order] for x in cat)
    return SimpleNamespace(date=date, introducer=introducer, a=a, b=b, outcome=outcome, score=score)


def _finish_ties(rng, P, base, intros, end: int) -> SimpleNamespace:
    n = P.n
    conn = intros.outcome == 0
    ik = _pair_keys(intros.a[conn], intros.b[conn], n)
    keep = ~np.isin(base.key, ik)  # an introduction made these ties; the later organic tie is the same one
    keys = np.concatenate([base.key[keep], ik])
    since = np.concatenate([base.since[keep], intros.date[conn]])
    mode = np.concatenate([base.mode[keep], np.full(len(ik), _INTRO, dtype=np.int8)])
    order = np.argsort(keys)
    keys, since, mode = keys[order], since[order], mode[order]
    m = len(keys)
    last = since + ((end - since) * rng.random(m) ** 0.4).astype(np.int64)
    recency = 1.0 - (end - last) / float(TIE_DAYS)
    strength = _MODE_STRENGTH[mode] + 0.35 * rng.beta(2.0, 2.0, m) - 0.15 + 0.25 * recency
    strength = np.clip(np.round(strength, 2), 0.01, 1.0)
    source = np.zeros(m, dtype=np.int8)
    r = rng.random(m)
    for md, (names, probs) in enumerate(_MODE_SOURCES):
        sel = mode == md
        cum = np.cumsum(probs)
        idx = np.minimum(np.searchsorted(cum, r[sel], "right"), len(names) - 1)
        source[sel] = np.array([SOURCES.index(s) for s in names], dtype=np.int8)[idx]
    return SimpleNamespace(key=keys, a=keys // n, b=keys % n, since=since, last=last, strength=strength, source=source, mode=mode)


def _make_opportunities(rng, P, V, ties, qbounds: np.ndarray, h0: int, end: int) -> SimpleNamespace:
    n, S, F = P.n, len(V.sizes), len(V.functions)
    C = P.comp
    n_total = int(round(OPP_RATE * n))
    growth = 1.0 + 0.06 * np.arange(QUARTERS)
    per_q = np.floor(n_total * growth / growth.sum() + rng.random(QUARTERS)).astype(np.int64)
    quarter = np.repeat(np.arange(QUARTERS), per_q)
    m = len(quarter)
    date = qbounds[quarter] + (rng.random(m) * (qbounds[quarter + 1] - qbounds[quarter])).astype(np.int64)
    order = np.argsort(date, kind="stable")
    date = date[order]
    deg = np.bincount(np.concatenate([ties.a, ties.b]), minlength=n)
    wts = P.activity * np.where(P.is_frac, 1.3, 1.0) * ((deg > 0) & ~P.opt_out)
    if wts.sum() == 0:
        wts = P.activity * ~P.opt_out
    bringer = _weighted_draw(rng, wts, m)
    frac = P.is_frac[bringer]
    in_lane = frac & (rng.random(m) < 0.2)

    # the client company: fits the bringer's industries (and ICP size if possible); execs often bring their own
    comp_by_ind_size = _Groups(C.industry * S + C.size)
    comp_by_ind = _Groups(C.industry)
    ind_q = _pick_random_entry(rng, P.ind_list[bringer], P.nind[bringer])
    size_q = _pick_random_entry(rng, P.size_list[bringer], P.nsize[bringer])
    company = comp_by_ind_size.sample(rng, np.where(frac, ind_q * S + size_q, -1))
    company = np.where(company < 0, comp_by_ind.sample(rng, ind_q), company)
    own = ~frac & (rng.random(m) < 0.35)
    company = np.where(own, P.company[bringer], company)
    rand = (company < 0) | (rng.random(m) < 0.15)
    company = np.where(rand, rng.integers(0, C.n, m), company)

    # needs: one function (the bringer's own when in lane), sometimes a second one. Out of
    # lane, people hear of needs their network can serve: the needed specialties are held
    # by fractionals with open capacity within two hops of the bringer (ties formed before
    # the quarter began), whenever the bringer's reach has any.
    own_f = np.where(frac, P.func[bringer], -1)
    func_mask = _mask_of(V.func_specs)
    reach = _open_reach(P, ties, qbounds)[quarter, bringer]
    reach &= ~np.where(own_f >= 0, func_mask[np.maximum(own_f, 0)], np.uint64(0))
    func_ok = (reach[:, None] & func_mask[None, :]) != 0  # (m, F): functions servable in reach
    served = ~in_lane & func_ok.any(axis=1)
    wf = np.where(served[:, None], func_ok, np.arange(F)[None, :] != own_f[:, None]) * V.func_w[None, :]
    avail = np.where(served, reach, ~np.uint64(0))  # specialties a need may be drawn from
    need_f = np.where(in_lane, own_f, _choice_rows(rng, wf))
    choices = V.func_specs[need_f]
    ok = (choices >= 0) & _has(avail[:, None], choices)
    k = np.minimum(rng.choice([1, 2, 3], m, p=[0.45, 0.4, 0.15]), ok.sum(axis=1))
    picks = _pick_rows(rng, np.where(ok, choices, -1)[np.arange(m)[:, None], np.argsort(~ok, axis=1, kind="stable")],
                       ok.sum(axis=1), k, 3)
    wf2 = wf * (np.arange(F)[None, :] != need_f[:, None])
    has2 = wf2.sum(axis=1) > 0
    f2 = np.where(has2, _choice_rows(rng, np.where(has2[:, None], wf2, 1.0)), need_f)
    ch2 = V.func_specs[f2]
    ok2 = (ch2 >= 0) & _has(avail[:, None], ch2)
    spec2 = _pick_rows(rng, np.where(ok2, ch2, -1)[np.arange(m)[:, None], np.argsort(~ok2, axis=1, kind="stable")],
                       ok2.sum(axis=1), np.ones(m, dtype=np.int64), 1)[:, 0]
    second = ~in_lane & has2 & (k >= 2) & (rng.random(m) < 0.2) & (f2 != need_f) & (spec2 >= 0)
    picks[np.arange(m), np.maximum(k - 1, 0)] = np.where(second, spec2, picks[np.arange(m), np.maximum(k - 1, 0)])
    needs = _mask_of(picks)
    need_funcs = _bits(need_f) | np.where(second, _bits(f2), np.uint64(0))
    return SimpleNamespace(
        m=m, date=date, quarter=quarter, bringer=bringer, company=company, in_lane=in_lane, needs=needs,
        need_funcs=need_funcs, industry=C.industry[company], size=C.size[company], region=C.region[company],
    )


def _or_by_row(rows: np.ndarray, vals: np.ndarray, n: int) -> np.ndarray:
    """Bitwise OR of ``vals`` per row (``rows`` sorted); rows without entries give 0."""
    out = np.zeros(n, dtype=np.uint64)
    if len(rows):
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        out[rows[starts]] = np.bitwise_or.reduceat(vals, starts)
    return out


def _open_reach(P, ties, qbounds: np.ndarray) -> np.ndarray:
    """Per quarter and person, the specialties held by open fractionals (capacity > 0,
    not opted out) within two hops, over ties formed before the quarter began: shape (Q, n)."""
    n = P.n
    rows = np.concatenate([ties.a, ties.b])
    cols = np.concatenate([ties.b, ties.a])
    since = np.concatenate([ties.since, ties.since])
    order = np.argsort(rows, kind="stable")
    rows, cols, since = rows[order], cols[order], since[order]
    open_spec = np.where(P.is_frac & ~P.opt_out & (P.capacity > 0), P.spec_mask, np.uint64(0))
    out = np.zeros((QUARTERS, n), dtype=np.uint64)
    for q in range(QUARTERS):
        valid = since < qbounds[q]
        r, c = rows[valid], cols[valid]
        one = _or_by_row(r, open_spec[c], n)
        out[q] = _or_by_row(r, (open_spec | one)[c], n)
    return out


def _choice_rows(rng, w: np.ndarray) -> np.ndarray:
    """One index per row of the weight matrix ``w`` (rows must have a positive sum)."""
    cum = np.cumsum(w, axis=1)
    r = rng.random(len(w)) * cum[:, -1]
    return np.minimum((cum <= r[:, None]).sum(axis=1), w.shape[1] - 1)


def _make_referrals(rng, P, V, ties, O, qbounds: np.ndarray, end: int) -> SimpleNamespace:
    """Referrals quarter by quarter, so the track record (past wins) feeds the next quarter."""
    n = P.n
    rows = np.concatenate([ties.a, ties.b])
    cols = np.concatenate([ties.b, ties.a])
    indptr, ccols, csince, cstr = _csr(rows, cols, n, np.concatenate([ties.since, ties.since]),
                                       np.concatenate([ties.strength, ties.strength]))
    deg = np.diff(indptr)
    past_wins = np.zeros(n, dtype=np.int64)
    status = np.full(O.m, -1, dtype=np.int64)  # index into OPPORTUNITY_STATUSES
    out = []
    H = 30  # two-hop samples per opportunity
    for q in range(QUARTERS):
        oq = np.flatnonzero(O.quarter == q)
        # in-lane: the bringer takes it on; out-of-lane: refer it
        lane = oq[O.in_lane[oq]]
        recent = O.date[lane] > end - 45
        r = rng.random(len(lane))
        p_win = 1.0 / (1.0 + np.exp(-(0.2 * P.skill[O.bringer[lane]] - 0.2)))
        st = np.where(r < p_win, 2, np.where(rng.random(len(lane)) < 0.55, 3, 4))
        status[lane] = np.where(recent, 0, st)
        np.add.at(past_wins, O.bringer[lane][(~recent) & (st == 2)], 1)

        ref = oq[~O.in_lane[oq]]
        if len(ref) == 0:
            continue
        b = O.bringer[ref]
        odate = O.date[ref]
        # one hop: every contact of the bringer known by the opportunity date
        qi, e = _expand(indptr, b)
        c1, t1, ok1 = ccols[e], cstr[e], csince[e] < odate[qi]
        # two hops: random contact of a random contact
        qi2 = np.repeat(np.arange(len(ref)), H)
        bb = b[qi2]
        has = deg[bb] > 0
        e1 = indptr[bb] + (rng.random(len(qi2)) * deg[bb]).astype(np.int64)
        e1 = np.minimum(e1, len(ccols) - 1)
        mid = ccols[e1]
        e2 = np.minimum(indptr[mid] + (rng.random(len(qi2)) * deg[mid]).astype(np.int64), len(ccols) - 1)
        c2 = ccols[e2]
        ok2 = has & (csince[e1] < odate[qi2]) & (csince[e2] < odate[qi2])
        t2 = 0.6 * cstr[e1] * cstr[e2]
        qa = np.concatenate([qi, qi2])
        ca = np.concatenate([c1, c2])
        ta = np.concatenate([t1, t2])
        ok = np.concatenate([ok1, ok2]) & P.is_frac[ca] & ~P.opt_out[ca] & (ca != b[qa])
        qa, ca, ta = qa[ok], ca[ok], ta[ok]
        # one row per (opportunity, candidate), keeping the strongest trust path
        o = np.lexsort((-ta, ca, qa))
        qa, ca, ta = qa[o], ca[o], ta[o]
        first = np.ones(len(qa), dtype=bool)
        first[1:] = (qa[1:] != qa[:-1]) | (ca[1:] != ca[:-1])
        qa, ca, ta = qa[first], ca[first], ta[first]
        opp = ref[qa]
        need = O.needs[opp]
        cov = _popcount(P.spec_mask[ca] & need) / np.maximum(_popcount(need), 1)
        fmatch = _has(O.need_funcs[opp], P.func[ca])
        ind = _has(P.ind_mask[ca], O.industry[opp])
        size = _has(P.size_mask[ca], O.size[opp])
        reg = _has(P.region_mask[ca], O.region[opp]) | (_has(P.region_mask[ca], np.full(len(ca), V.remote)))
        cap = P.capacity[ca]
        track = np.log1p(past_wins[ca])
        elig = (cov > 0) | fmatch
        qa, ca, ta, opp = qa[elig], ca[elig], ta[elig], opp[elig]
        cov, ind, size, reg, cap, track = cov[elig], ind[elig], size[elig], reg[elig], cap[elig], track[elig]
        sel_score = (3.0 * cov + 0.8 * ind + 0.4 * size + 0.2 * reg + 1.5 * ta + 0.4 * track
                     + 0.3 * (cap > 0) - 0.8 * (cap == 0) + 0.6 * _gumbel(rng, len(qa)))
        k = rng.choice([1, 2, 3], len(ref), p=[0.3, 0.45, 0.25])
        o = np.lexsort((-sel_score, qa))
        qa, ca, opp, cov, ind, size, cap, track = (x[o] for x in (qa, ca, opp, cov, ind, size, cap, track))
        starts = np.flatnonzero(np.r_[True, qa[1:] != qa[:-1]])
        rank = np.arange(len(qa)) - np.repeat(starts, np.diff(np.r_[starts, len(qa)]))
        keep = rank < k[qa]
        qa, ca, opp, cov, ind, size, cap, track, rank = (x[keep] for x in (qa, ca, opp, cov, ind, size, cap, track, rank))
        rdate = np.minimum(O.date[opp] + np.minimum(rng.geometric(0.3, len(qa)) - 1, 20), end)
        p_decl = np.where(cap == 0, 0.45, 0.1)
        logit = -1.3 + 2.2 * cov + 0.5 * ind + 0.3 * size + 0.7 * P.skill[ca] + 0.4 * track - 1.0 * (cap == 0)
        p_win = 1.0 / (1.0 + np.exp(-logit))
        r1, r2 = rng.random(len(qa)), rng.random(len(qa))
        # outcome codes: 0 pending, 1 accepted, 2 declined, 3 won, 4 lost
        outcome = np.where(r1 < p_decl, 2, np.where(r2 < p_win, 3, 4))
        recent = rdate > end - 45
        outcome = np.where(recent, np.where(rng.random(len(qa)) < 0.55, 0, 1), outcome)
        # the client hires one fractional at most: the first winner in pick order
        won = outcome == 3
        won_opp = opp[won]
        first_win = np.ones(len(won_opp), dtype=bool)
        first_win[1:] = won_opp[1:] != won_opp[:-1]
        outcome[np.flatnonzero(won)[~first_win]] = 4
        np.add.at(past_wins, ca[outcome == 3], 1)
        # the opportunity's status follows its referrals
        prio = np.array([2, 2, 0, 3, 1])[outcome]  # won 3 > pending/accepted 2 > lost 1 > declined 0
        best = np.full(O.m, -1, dtype=np.int64)
        np.maximum.at(best, opp, prio)
        st_of_prio = np.array([4, 3, 1, 2])  # closed, lost, referred, won
        has_ref = best[ref] >= 0
        status[ref] = np.where(has_ref, st_of_prio[np.maximum(best[ref], 0)], np.where(O.date[ref] > end - 45, 0, 4))
        out.append((opp, O.bringer[opp], ca, rdate, outcome))
    if out:
        opp, frm, to, rdate, outcome = (np.concatenate(x) for x in zip(*out))
    else:
        opp = frm = to = rdate = outcome = np.zeros(0, dtype=np.int64)
    order = np.lexsort((to, opp, rdate))
    return SimpleNamespace(opp=opp[order], frm=frm[order], to=to[order], date=rdate[order], outcome=outcome[order]), status


# -- turning arrays into tables ---------------------------------------------------


def _ids(prefix: str, n: int) -> np.ndarray:
    width = max(4, len(str(n)))
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def _date_strings(days: np.ndarray, lo: int, hi: int) -> np.ndarray:
    table = np.arange(lo, hi + 1).astype("datetime64[D]").astype(str).astype(object)
    return table[days - lo]


def _people_table(P, V, pid: np.ndarray, cid: np.ndarray, comp_names: np.ndarray) -> pd.DataFrame:
    n = P.n
    funcs = np.array(V.functions + [""], dtype=object)
    func_str = funcs[np.where(P.func >= 0, P.func, len(V.functions))]
    roles = np.array([ROLE.get(f, f.title()) for f in V.functions] + [""], dtype=object)
    role = roles[np.where(P.func >= 0, P.func, len(V.functions))]
    exec_titles = np.array(EXEC_TITLES, dtype=object)[P.exec_title]
    title = np.where(P.is_frac, "Fractional " + role, exec_titles)

    firsts = np.array(FIRST_NAMES, dtype=object)
    lasts = np.array(LAST_NAMES, dtype=object)
    first_slug = np.array([_ascii_slug(x) for x in FIRST_NAMES], dtype=object)
    last_slug = np.array([_ascii_slug(x) for x in LAST_NAMES], dtype=object)
    name = firsts[P.first] + " " + lasts[P.last]
    fs, ls = first_slug[P.first], last_slug[P.last]
    for idx, (special, f, l) in zip(P.special, SPECIAL_NAMES):
        name[idx], fs[idx], ls[idx] = special, f, l
    num = np.arange(1, n + 1).astype(str).astype(object)
    email = fs + "." + ls + num + "@example.com"
    url = "https://www.linkedin.com/in/" + fs + "-" + ls + "-" + num

    spec_str = _mask_strings(P.spec_mask, V.specs)
    ind_str = _mask_strings(P.ind_mask, V.industries)
    size_str = _mask_strings(P.size_mask, V.sizes)
    region_str = _mask_strings(P.region_mask, V.regions)

    # bios from the tags
    ind_label = np.array([_label(t) for t in V.industries], dtype=object)[P.industry]
    size_label = np.array([_label(t) for t in V.sizes], dtype=object)[P.size_list[:, 0]]
    region_label = np.array([_label(t) for t in V.regions], dtype=object)[P.region]
    spec_label = _mask_strings(P.spec_mask, V.specs, labels=True)
    frac_bio = title + " helping " + ind_label + " companies in the " + size_label + " band with " + spec_label + "."
    company_name = comp_names[np.maximum(P.company, 0)]
    exec_bio = (title + " of " + company_name + ", a " + size_label + " " + ind_label + " company in "
                + region_label + ".")
    bio = np.where(P.is_frac, frac_bio, exec_bio)

    cap = pd.array(np.where(P.capacity >= 0, P.capacity, 0), dtype="Int64")
    cap[P.capacity < 0] = pd.NA
    return pd.DataFrame({
        "id": pid,
        "name": name,
        "kind": np.where(P.is_frac, "fractional", "executive").astype(object),
        "function": func_str,
        "title": title,
        "company_id": np.where(P.company >= 0, cid[np.maximum(P.company, 0)], ""),
        "specialties": spec_str,
        "industries": ind_str,
        "icp_sizes": size_str,
        "regions": region_str,
        "capacity": cap,
        "email": email,
        "profile_url": url,
        "bio": bio,
        "opt_out": P.opt_out.astype(np.int64),
    })


def _company_names(rng, C, V) -> np.ndarray:
    pre = np.array(COMPANY_PREFIXES, dtype=object)[rng.integers(0, len(COMPANY_PREFIXES), C.n)]
    noun = np.array(COMPANY_NOUNS, dtype=object)[rng.integers(0, len(COMPANY_NOUNS), C.n)]
    suffix = np.array([INDUSTRY_SUFFIX.get(t, "Group") for t in V.industries], dtype=object)[C.industry]
    return pre + " " + noun + " " + suffix


def generate_network(n_people: int, seed: int = 0, *, progress: Progress | None = None) -> dict[str, pd.DataFrame]:
    """Generate a synthetic referral network.

    Parameters
    ----------
    n_people : int
        Number of people, between :data:`MIN_PEOPLE` and :data:`MAX_PEOPLE`.
    seed : int
        Random seed; the same seed gives the same tables.
    progress : callable, optional
        Called with a stage name after each stage (see :data:`STAGES`).

    Returns
    -------
    dict of str to pandas.DataFrame
        ``people``, ``companies``, ``ties``, ``introductions``,
        ``opportunities`` and ``referrals``, with exactly the columns of
        :mod:`recommender.store.schema`.

    Raises
    ------
    UsageError
        If ``n_people`` is out of range.
    """
    n = _check_n(n_people)
    step = progress or (lambda name: None)
    rng = np.random.default_rng(seed)
    V = _vocab()
    end = int(np.datetime64(END_DATE, "D").astype(np.int64))
    h0 = end - HISTORY_DAYS + 1
    t0 = end - TIE_DAYS + 1
    qbounds = np.linspace(h0, end + 1, QUARTERS + 1).round().astype(np.int64)

    P = _make_people(rng, n, V)
    step("people")
    m_target = max(n, int(round(n * _target_degree(n) / 2 - 0.7 * INTRO_RATE * n)))
    base = _make_base_ties(rng, P, V, m_target, t0, h0, end)
    step("ties")
    intros = _make_introductions(rng, P, base, qbounds, end, lambda s: None)
    ties = _finish_ties(rng, P, base, intros, end)
    del base
    step("introductions")
    O = _make_opportunities(rng, P, V, ties, qbounds, h0, end)
    step("opportunities")
    R, status = _make_referrals(rng, P, V, ties, O, qbounds, end)
    step("referrals")

    pid = _ids("p", n)
    cid = _ids("c", P.comp.n)
    comp_names = _company_names(rng, P.comp, V)
    dates = lambda d: _date_strings(d, t0 - 1, end)  # noqa: E731
    sizes = np.array(V.sizes, dtype=object)
    regions = np.array(V.regions, dtype=object)
    industries = np.array(V.industries, dtype=object)
    tables: dict[str, pd.DataFrame] = {}
    tables["people"] = _people_table(P, V, pid, cid, comp_names)
    tables["companies"] = pd.DataFrame({
        "id": cid, "name": comp_names, "industry": industries[P.comp.industry],
        "size_band": sizes[P.comp.size], "region": regions[P.comp.region],
    })
    tables["ties"] = pd.DataFrame({
        "a": pid[ties.a], "b": pid[ties.b], "strength": ties.strength,
        "since": dates(ties.since), "last_contact": dates(ties.last),
        "source": np.array(SOURCES, dtype=object)[ties.source],
    })
    tables["introductions"] = pd.DataFrame({
        "id": _ids("i", len(intros.a)), "date": dates(intros.date), "introducer": pid[intros.introducer],
        "a": pid[intros.a], "b": pid[intros.b],
        "outcome": np.array(["connected", "declined", "no_response", "pending"], dtype=object)[intros.outcome],
    })
    needs_str = _mask_strings(O.needs, V.specs)
    needs_label = _mask_strings(O.needs, V.specs, labels=True)
    size_label = np.array([_label(t) for t in V.sizes], dtype=object)[O.size]
    ind_label = np.array([_label(t) for t in V.industries], dtype=object)[O.industry]
    region_label = np.array([_label(t) for t in V.regions], dtype=object)[O.region]
    description = ("Looking for help with " + needs_label + " at a " + size_label + " " + ind_label
                   + " company in " + region_label + ".")
    from recommender.store.schema import OPPORTUNITY_STATUSES, REFERRAL_OUTCOMES

    tables["opportunities"] = pd.DataFrame({
        "id": _ids("o", O.m), "date": dates(O.date), "brought_by": pid[O.bringer], "company_id": cid[O.company],
        "needs": needs_str, "industry": industries[O.industry], "size_band": sizes[O.size],
        "region": regions[O.region], "description": description,
        "status": np.array(OPPORTUNITY_STATUSES, dtype=object)[status],
    })
    oid = tables["opportunities"]["id"].to_numpy(dtype=object)
    tables["referrals"] = pd.DataFrame({
        "id": _ids("r", len(R.opp)), "opportunity_id": oid[R.opp], "from_id": pid[R.frm], "to_id": pid[R.to],
        "date": dates(R.date), "outcome": np.array(REFERRAL_OUTCOMES, dtype=object)[R.outcome],
    })
    for name, df in tables.items():
        assert list(df.columns) == TABLES[name].column_names, name
    step("tables")
    return tables


# -- writing -----------------------------------------------------------------------


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_network(tables: dict[str, pd.DataFrame], out_dir: str | os.PathLike, *, progress: Progress | None = None) -> dict[str, int]:
    """Write tables as CSV files into ``out_dir``, atomically.

    Every file is first written to a temporary file in ``out_dir``; only when all
    are complete are they renamed into place, so an interrupted run leaves the
    folder as it was.

    Returns
    -------
    dict of str to int
        Rows written per table.

    Raises
    ------
    UsageError
        If ``out_dir`` cannot be created or written.
    """
    step = progress or (lambda name: None)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create output folder {str(out)!r}: {exc.strerror or exc}") from None
    if not out.is_dir():
        raise UsageError(f"output path {str(out)!r} is not a folder")
    temps: list[tuple[str, Path]] = []
    counts: dict[str, int] = {}
    try:
        for name, df in tables.items():
            if name not in TABLES:
                raise UsageError(f"unknown table {name!r}; expected one of {', '.join(TABLES)}")
            table = TABLES[name]
            frame = df.reindex(columns=table.column_names)
            try:
                fd, tmp = tempfile.mkstemp(prefix=f".{table.file}.", suffix=".tmp", dir=out)
            except OSError as exc:
                raise UsageError(f"cannot write to output folder {str(out)!r}: {exc.strerror or exc}") from None
            temps.append((table.file, Path(tmp)))
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; use the usual mode
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                frame.to_csv(fh, index=False, lineterminator="\n", chunksize=200_000)
            counts[name] = len(frame)
            step(f"write {name}")
        for file, tmp in temps:
            os.replace(tmp, out / file)
        temps.clear()
    finally:
        for _, tmp in temps:
            try:
                tmp.unlink()
            except OSError:
                pass
    return counts


def generate_demo_data(n_people: int, seed: int, out_dir: str | os.PathLike, progress: Progress | None = None) -> dict[str, int]:
    """Generate a network and write it as a CSV folder; return the rows written per table.

    The output folder is checked before the (possibly long) generation starts.
    """
    _check_n(n_people)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".probe.", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise UsageError(f"cannot write to output folder {str(out)!r}: {exc.strerror or exc}") from None
    tables = generate_network(n_people, seed, progress=progress)
    return write_network(tables, out, progress=progress)
