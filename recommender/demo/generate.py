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
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

import numpy as np
import pandas as pd

from recommender.demo.draws import _mask_of, _mask_strings, _pick_rows
from recommender.demo.history import (
    _finish_ties,
    _make_base_ties,
    _make_introductions,
    _make_opportunities,
    _make_referrals,
)
from recommender.demo.vocab import (
    COMPANY_NOUNS,
    COMPANY_PREFIXES,
    EXEC_TITLE_WEIGHTS,
    EXEC_TITLES,
    FIRST_NAMES,
    INDUSTRY_SUFFIX,
    INTRO_RATE,
    LAST_NAMES,
    QUARTERS,
    ROLE,
    SOURCES,
    SPECIAL_NAMES,
    TIE_DAYS,
    _ascii_slug,
    _label,
    _vocab,
)
from recommender.errors import UsageError
from recommender.io.atomic import atomic_write_many
from recommender.store.schema import TABLES

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


OPT_OUT_RATE = 0.02


HISTORY_DAYS = 3 * 365




Progress = Callable[[str], None]


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


def write_network(tables: dict[str, pd.DataFrame], out_dir: str | os.PathLike, *, progress: Progress | None = None) -> dict[str, int]:
    """Write tables as CSV files into ``out_dir``, all or none (:func:`recommender.io.atomic.atomic_write_many`).

    An interrupted or failed run leaves the folder as it was.

    Returns
    -------
    dict of str to int
        Rows written per table.

    Raises
    ------
    UsageError
        If ``out_dir`` cannot be created or is not a folder.
    FileAccessError
        If a file cannot be written (disk full, permissions); nothing is replaced then.
    """
    step = progress or (lambda name: None)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create output folder {str(out)!r}: {exc.strerror or exc}") from None
    if not out.is_dir():
        raise UsageError(f"output path {str(out)!r} is not a folder")
    counts: dict[str, int] = {}
    staged = []
    for name, df in tables.items():
        if name not in TABLES:
            raise UsageError(f"unknown table {name!r}; expected one of {', '.join(TABLES)}")
        frame = df.reindex(columns=TABLES[name].column_names)
        counts[name] = len(frame)

        def write(fh, frame=frame, name=name):
            frame.to_csv(fh, index=False, encoding="utf-8", lineterminator="\n", chunksize=200_000)
            step(f"write {name}")

        staged.append((out / TABLES[name].file, write))
    atomic_write_many(staged)  # every file, or none (the folder as it was)
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
