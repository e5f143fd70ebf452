"""People, encoded once: ids, names, kinds, functions, tags, opt-out and the three groups.

Three rules live here and nowhere else:

* **opt-out** (:func:`is_opted_out`, :func:`opt_out_flags`): who opted out.
  Opted-out people are never recommended, never exported, and never an
  introducer, a named mutual contact or a hop of a trust path
  (:attr:`PeopleEncoding.can_introduce`); they still get answers when they ask.
* **groups** (:func:`group_code`, :func:`group_of`): which of a person's three
  groups (peers, adjacent fractionals, executives) another person is in. The
  vectorised table the candidate generator reads is built from the same rule.
  A plain ``contact`` is encoded without function or market, so in no group.
* **the encoding** (:func:`encode_people`): ``Network.people`` as arrays and 0/1
  tag matrices that every answer (meet, refer, batch, the explorer) reads.

>>> [is_opted_out(v) for v in (1, 0, "1", "yes", "no", None, float("nan"), 2, "0", True)]
[True, False, True, True, False, False, False, True, False, True]
>>> GROUPS[group_code(False, False, same_function=True, same_specialties=False, shared_market=False,
...                   shared_industry=False)]
'peers'
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from recommender.kernels import _bitmask, _ranges
from recommender.taxonomy import split_tags

if TYPE_CHECKING:  # annotations only: the rules and the facts of a fitted model need no pandas or Network
    import pandas as pd

    from recommender.network import Network
    from recommender.similarity import ProfileModel

#: The three groups, in the order of their codes 0, 1, 2 (-1: no group).
GROUPS = ("peers", "adjacent", "executives")

_YES = frozenset(("1", "true", "yes", "y", "on", "t"))


def is_opted_out(value) -> bool:
    """The one opt-out rule: a non-zero number, True, or a yes-word (``1``, ``true``, ``yes``, ``y``, ``on``).

    Empty, missing, NaN, zero and anything else read as "not opted out".
    """
    if value is None or isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str):
        s = value.strip().lower()
        if s in _YES:
            return True
        try:
            return float(s) != 0 and not np.isnan(float(s))
        except ValueError:
            return False
    try:
        f = float(value)
    except (TypeError, ValueError):
        return False
    return f != 0 and not np.isnan(f)


def opt_out_flags(column) -> np.ndarray:
    """:func:`is_opted_out` of every value of a column, as a bool array (parsed once per distinct value)."""
    import pandas as pd

    s = pd.Series(column, dtype=object) if not isinstance(column, pd.Series) else column
    codes, uniq = pd.factorize(s, use_na_sentinel=True)
    flags = np.array([is_opted_out(v) for v in uniq] + [False], dtype=bool)
    return flags[np.where(codes >= 0, codes, len(uniq))]


def group_code(me_exec: bool, other_exec: bool, *, same_function: bool, same_specialties: bool,
               shared_market: bool, shared_industry: bool) -> int:
    """The group rule: 0 peers, 1 adjacent, 2 executives, seen from ``me``.

    The groups of DESIGN.md, and a home for every other pair so that none is dropped silently
    (issue 14; the ranker's group features learn what each kind of pair is worth on the network):
    two fractionals of the same function (or both without one) are *peers*, whether or not their
    specialty sets differ; of different functions *adjacent*, with or without a shared market; a
    fractional and an executive are *executives* seen from the fractional and *adjacent* seen from
    the executive; two executives are *executives*. ``same_specialties``, ``shared_market`` and
    ``shared_industry`` no longer decide the group (the features carry them).
    """
    if not me_exec and not other_exec:
        return 0 if same_function else 1
    if other_exec:
        return 2
    return 1


def group_of(me, other) -> str | None:
    """:func:`group_code` of two people's facts (mappings with ``kind``, ``function``, ``specialties``,
    ``industries`` and ``sizes`` sets; an executive's market includes their company's), as a group name."""
    if other["kind"] == "contact":  # a plain contact is never suggested
        return None
    me_exec, other_exec = me["kind"] == "executive", other["kind"] == "executive"
    shared_ind = bool(set(me["industries"]) & set(other["industries"]))
    code = group_code(me_exec, other_exec,
                      same_function=(me["function"] or "") == (other["function"] or ""),
                      same_specialties=set(me["specialties"]) == set(other["specialties"]),
                      shared_market=shared_ind or bool(set(me["sizes"]) & set(other["sizes"])),
                      shared_industry=shared_ind)
    return GROUPS[code] if code >= 0 else None


def _tags(series: pd.Series) -> list[list[str]]:
    return [split_tags(v) if isinstance(v, str) else [] for v in series]


def _tag_lists(series: pd.Series) -> tuple[np.ndarray, list[list[str]]]:
    """``split_tags`` of a column, parsed once per distinct value: (codes per row, tags per code).

    Values that are not strings have no tags.
    """
    import pandas as pd

    try:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    except TypeError:  # unhashable values (lists): none of them is a string
        codes, uniques = pd.factorize(series.where(series.map(lambda v: isinstance(v, str)), None),
                                      use_na_sentinel=True)
    return codes, [split_tags(v) if isinstance(v, str) else [] for v in uniques]


def _indicator_from(parts: list[tuple[np.ndarray, list[list[str]]]], n: int) -> tuple[sp.csr_matrix, list[str]]:
    """0/1 matrix (n x vocabulary) of the union of several tag columns given as :func:`_tag_lists`."""
    vocab = sorted({t for _, lists in parts for tags in lists for t in tags})
    pos = {t: j for j, t in enumerate(vocab)}
    rows, cols = [], []
    for codes, lists in parts:
        lens = np.array([len(t) for t in lists] + [0], dtype=np.int64)
        flat = np.array([pos[t] for tags in lists for t in tags], dtype=np.int64)
        offs = np.r_[0, np.cumsum(lens)][:-1]
        c = np.where(codes >= 0, codes, len(lists))  # the sentinel code has no tags
        cnt = lens[c]
        rows.append(np.repeat(np.arange(n, dtype=np.int64), cnt))
        cols.append(flat[_ranges(np.r_[offs, 0][c], cnt)] if cnt.sum() else np.zeros(0, np.int64))
    r, c = np.concatenate(rows), np.concatenate(cols)
    m = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(n, len(vocab)))
    m.sum_duplicates()
    m.data[:] = 1.0
    m.sort_indices()
    return m, vocab


@dataclass(eq=False)
class PeopleColumns:
    """The people, one row each: the fields every encoding of them carries (declared once, here).

    :class:`PeopleEncoding` is these and nothing dated; a feature context
    (``meet.context.FeatureContext``) is these plus the network as of a date.
    """

    ids: np.ndarray
    names: np.ndarray
    is_exec: np.ndarray
    opt_out: np.ndarray
    function: np.ndarray
    S: sp.csr_matrix
    I: sp.csr_matrix  # noqa: E741
    Z: sp.csr_matrix
    G: sp.csr_matrix
    profile: sp.csr_matrix
    vocab: dict

    def columns(self) -> dict:
        """These fields by name (to build a richer encoding of the same people: ``Context(**enc.columns(), ...)``)."""
        return {f.name: getattr(self, f.name) for f in fields(PeopleColumns)}


@dataclass(eq=False)
class PeopleEncoding(PeopleColumns):
    """The parts of a :class:`FeatureContext` that depend only on the people table (not on a date)."""

    is_contact: np.ndarray | None = None  # plain contacts (kind "contact"): they link people, never suggested
    capacity: np.ndarray | None = None  # open slots (NaN: unknown)

    @property
    def is_fractional(self) -> np.ndarray:
        """Fractionals (neither an executive nor a plain contact): who can take on a referral."""
        return ~self.is_exec if self.is_contact is None else ~self.is_exec & ~self.is_contact

    @property
    def can_introduce(self) -> np.ndarray:
        """Who may be an introducer, a named mutual contact or a trust-path hop: everyone not opted out."""
        return ~self.opt_out

    @property
    def never_suggested(self) -> np.ndarray:
        """Who is never a candidate: people who opted out, and plain contacts."""
        return self.opt_out if self.is_contact is None else self.opt_out | self.is_contact

    @property
    def position(self) -> dict:
        """Person id -> position, built once and shared by every context of these people."""
        if "_position" not in self.__dict__:
            self._position = dict(zip(self.ids.tolist(), range(len(self.ids))))
        return self._position

    def spec_groups(self) -> tuple[np.ndarray, np.ndarray]:
        """People grouped by their set of specialties: (group per person, 0/1 matrix groups x specialties)."""
        import pandas as pd

        if "_spec_groups" not in self.__dict__:
            bits = _bitmask(self.S)
            if bits.shape[1] == 1:
                group, uniq = pd.factorize(bits[:, 0])
                first = np.zeros(len(uniq), dtype=np.int64)
                first[group] = np.arange(len(group))  # a member of each group
            else:
                _, first, group = np.unique(bits, axis=0, return_index=True, return_inverse=True)
                group = group.ravel()
            self._spec_groups = (group.astype(np.int32), self.S[first].toarray())
        return self._spec_groups


def encode_people(net: Network, profile: ProfileModel | None = None, *, company: dict | None = None) -> PeopleEncoding:
    """Encode ``net.people`` (tags, kinds, profiles) once; reusable for every date of the same people.

    ``company`` is :func:`company_values` of ``net`` when already computed (:class:`PeopleFacts` reads it too).
    """
    import pandas as pd

    people = net.people.reset_index(drop=True)
    ids = people["id"].astype(str).to_numpy()
    n = len(ids)
    kind = people["kind"].fillna("fractional").astype(str).to_numpy()
    is_exec = kind == "executive"
    contact = kind == "contact"
    if contact.any():
        # a plain contact (neither a fractional nor an executive) is in nobody's group, so never
        # suggested; they still link people and can introduce them
        people = people.copy()
        people.loc[contact, ["function", "specialties", "industries", "icp_sizes"]] = None
    opt_out = opt_out_flags(people["opt_out"])
    names = people["name"].where(people["name"].notna() & (people["name"].astype(str).str.strip() != ""),
                                 people["id"]).astype(str).to_numpy()
    func = people["function"].where(people["function"].notna(), "").astype(str).str.strip().str.lower()
    fcodes, funiq = pd.factorize(func)
    func_vocab = sorted(f for f in funiq if f)
    fpos = np.array([func_vocab.index(f) if f else -1 for f in funiq] + [-1], dtype=np.int64)
    function = fpos[np.where(fcodes >= 0, fcodes, len(funiq))]

    if company is None:
        company = _company_values(people, net.companies, ("industry", "size_band", "region"))

    def company_attr(col: str):
        if col not in company:
            return np.full(n, -1, dtype=np.int64), []
        codes, uniq = pd.factorize(company[col], use_na_sentinel=True)
        ok = np.array([isinstance(v, str) and v != "" for v in uniq] + [False], dtype=bool)
        codes = np.where(is_exec & ok[np.where(codes >= 0, codes, len(uniq))], codes, -1)
        used = np.zeros(len(uniq), dtype=bool)
        used[codes[codes >= 0]] = True  # values only non-executives have are no tags
        return codes, [[v] if u else [] for v, u in zip(uniq, used)]

    S, spec_vocab = _indicator_from([_tag_lists(people["specialties"])], n)
    I, ind_vocab = _indicator_from([_tag_lists(people["industries"]), company_attr("industry")], n)
    Z, size_vocab = _indicator_from([_tag_lists(people["icp_sizes"]), company_attr("size_band")], n)
    G, reg_vocab = _indicator_from([_tag_lists(people["regions"]), company_attr("region")], n)

    if profile is None:
        from recommender.similarity import ProfileModel

        profile = ProfileModel().fit(people)
    if len(profile.ids_) == n and np.array_equal(pd.Index(profile.ids_).astype(str).to_numpy(dtype=object), ids):
        P = profile.matrix_  # the same rows in the same order: shared, not copied
    else:
        P = _profile_rows(profile, ids)
    return PeopleEncoding(ids=ids, names=names, is_exec=is_exec, opt_out=opt_out, function=function,
                          S=S, I=I, Z=Z, G=G, profile=P,
                          vocab={"function": func_vocab, "specialty": spec_vocab, "industry": ind_vocab,
                                 "size_band": size_vocab, "region": reg_vocab},
                          is_contact=contact,
                          capacity=pd.to_numeric(people["capacity"], errors="coerce").to_numpy(dtype=float))


def _profile_rows(profile: ProfileModel, ids: np.ndarray) -> sp.csr_matrix:
    """The profile rows of ``ids`` (zero rows for ids the profile model does not know)."""
    import pandas as pd

    pos = pd.Series(np.arange(len(profile.ids_)), index=pd.Index(profile.ids_).astype(str))
    pos = pos[~pos.index.duplicated()].reindex(ids).to_numpy()
    missing = np.isnan(pos)
    P = profile.matrix_[np.where(missing, 0, pos).astype(np.int64)].tocsr()
    if missing.any():
        P = (sp.diags((~missing).astype(float)) @ P).tocsr()
    return P


def _group_table() -> np.ndarray:
    """:func:`group_code` for every combination of its six flags, indexed by their bits (for vectorised lookups)."""
    t = np.full(64, -1, dtype=np.int8)
    for code in range(64):
        ue, ve, same_func, same_specs, market, ind = ((code >> b) & 1 for b in (5, 4, 3, 2, 1, 0))
        t[code] = group_code(bool(ue), bool(ve), same_function=bool(same_func), same_specialties=bool(same_specs),
                             shared_market=bool(market), shared_industry=bool(ind))
    return t


_GROUP_TABLE = _group_table()


class PeopleFacts:
    """Per person (in ``net.people`` order): the facts reasons, notes and the explorer show.

    The one reading of a person's profile as facts: name (the id when empty),
    kind, function, title, company, tags, capacity and opt-out; an executive's
    market (industries, size bands, regions) starts with their company's.
    ``facts[i]`` is one person's dict (lists); :meth:`frame` is the table the
    explorer reads (sets).

    Built lazily: the table is kept as a few arrays and one person's dict is
    made when asked for (``facts[i]``), so fitting never loops over people.
    """

    _COLS = ("id", "name", "kind", "function", "title", "specialties", "industries", "icp_sizes", "regions", "capacity",
             "opt_out")

    def __init__(self, net: Network, *, company: dict | None = None):
        import pandas as pd

        people = net.people.reset_index(drop=True)
        self._a = {c: _objects(people[c]) for c in self._COLS}
        self._a["id"] = people["id"].astype(str).to_numpy(dtype=object)
        if company is None:
            company = company_values(net)
        for col in ("name", "industry", "size_band", "region"):
            self._a["company_" + col] = _objects(pd.Series(company.get(col, [None] * len(people)), dtype=object))

    #: The columns one person's facts read (:meth:`_facts`).
    _FACT_COLS = ("id", "name", "kind", "function", "title", "specialties", "industries", "icp_sizes", "regions",
                  "company_name", "company_industry", "company_size_band", "company_region")

    #: Dicts kept for people asked for recently (a block of lists asks for each person several times).
    _CACHE_SIZE = 4096

    def __len__(self) -> int:
        return len(self._a["id"])

    def __getstate__(self):
        return {"_a": self._a}  # the cache is rebuilt on demand

    def to_state(self) -> dict:
        """The facts table as columns (persistence contract of :mod:`recommender.meet.persistence`)."""
        return dict(self._a)

    @classmethod
    def from_state(cls, state: dict) -> "PeopleFacts":
        obj = cls.__new__(cls)
        obj._a = dict(state)
        return obj

    def __getitem__(self, i: int) -> dict:
        """Person ``i``'s facts (a shared dict: read it, do not change it)."""
        cache = self.__dict__.setdefault("_cache", {})
        hit = cache.get(i)
        if hit is None:
            if len(cache) >= self._CACHE_SIZE:
                cache.clear()
            hit = cache[i] = self._facts(i)
        return hit

    def _facts(self, i: int) -> dict:
        a = {c: self._a[c][i] for c in self._FACT_COLS}
        is_exec = a["kind"] == "executive"

        def cval(col):
            v = a["company_" + col]
            return [v] if isinstance(v, str) and v else []

        ind, sizes, regions = split_tags(a["industries"]), split_tags(a["icp_sizes"]), split_tags(a["regions"])
        if is_exec:  # an executive's market is their company's first
            ind = cval("industry") + [t for t in ind if t not in cval("industry")]
            sizes = cval("size_band") + [t for t in sizes if t not in cval("size_band")]
            regions = cval("region") + [t for t in regions if t not in cval("region")]
        return {
            "id": str(a["id"]),
            "name": str(a["name"] or a["id"]),
            "is_exec": is_exec,
            "function": a["function"],
            "title": a["title"],
            "company": a["company_name"] if isinstance(a["company_name"], str) else None,
            "specialties": split_tags(a["specialties"]),
            "industries": ind,
            "sizes": sizes,
            "regions": regions,
        }



    def frame(self) -> pd.DataFrame:
        """One row per person, indexed by id: name, kind, function, title, company, specialties,
        industries and sizes (frozensets; an executive's include their company's), capacity, opt_out."""
        import pandas as pd

        a = self._a
        rows = []
        for i in range(len(self)):
            f = self[i]
            rows.append({
                "id": f["id"], "name": f["name"], "kind": a["kind"][i] or "fractional",
                "function": f["function"] or "", "title": f["title"] or "", "company": f["company"] or "",
                "specialties": frozenset(f["specialties"]), "industries": frozenset(f["industries"]),
                "sizes": frozenset(f["sizes"]), "capacity": a["capacity"][i], "opt_out": is_opted_out(a["opt_out"][i]),
            })
        df = pd.DataFrame(rows, columns=["id", "name", "kind", "function", "title", "company", "specialties",
                                         "industries", "sizes", "capacity", "opt_out"])
        df = df.set_index("id", drop=False)
        df.index.name = None
        return df


def company_values(net: Network) -> dict:
    """Each person's company's name, industry, size band and region (what :func:`encode_people` and
    :class:`PeopleFacts` read), found once for both (:func:`_company_values`)."""
    return _company_values(net.people.reset_index(drop=True), net.companies, ("name", "industry", "size_band", "region"))


def _company_values(people: pd.DataFrame, companies: pd.DataFrame, cols) -> dict:
    """Each person's company's ``cols`` (those the table has), as object arrays (None: no such company or value).

    What ``people["company_id"].map(companies.set_index("id")[col])`` gives (the first row of a repeated
    id), with one id lookup for all the columns.
    """
    import pandas as pd

    if not len(companies):
        return {}
    comp = companies.drop_duplicates("id")
    at = pd.Index(comp["id"]).get_indexer(people["company_id"])
    out = {}
    for col in cols:
        if col in comp:
            vals = np.empty(len(comp) + 1, dtype=object)
            vals[:-1] = _objects(comp[col])
            vals[-1] = None  # -1: no such company
            out[col] = vals[at]
    return out


def _objects(series: pd.Series) -> np.ndarray:
    """A column as an object array with missing values as None.

    Equal values share one Python object (the column is factorised first): most columns repeat a few
    values (kinds, functions, tags, company fields), so at 1M people the facts hold a few thousand
    strings per column instead of a million (1.3 GB of them before).
    """
    import pandas as pd

    try:
        codes, uniq = pd.factorize(series, use_na_sentinel=True)
    except TypeError:  # unhashable values (lists): one object each, as they are
        arr = np.array(series.to_numpy(dtype=object), dtype=object, copy=True)
        arr[np.asarray(pd.isna(series), dtype=bool)] = None
        return arr
    table = np.empty(len(uniq) + 1, dtype=object)
    table[:-1] = np.asarray(uniq, dtype=object)
    table[-1] = None  # code -1: missing
    return table[codes]
