"""People, encoded once: ids, names, kinds, functions, tags, opt-out and the three groups.

:func:`encode_people` turns ``Network.people`` into arrays and 0/1 tag
matrices that every answer (meet, refer, batch, the explorer) reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.kernels import _bitmask, _ranges
from recommender.network import Network
from recommender.similarity import ProfileModel
from recommender.taxonomy import split_tags

#: The three groups, in the order of their codes 0, 1, 2 (-1: no group).
GROUPS = ("peers", "adjacent", "executives")


def _tags(series: pd.Series) -> list[list[str]]:
    return [split_tags(v) if isinstance(v, str) else [] for v in series]


def _tag_lists(series: pd.Series) -> tuple[np.ndarray, list[list[str]]]:
    """``split_tags`` of a column, parsed once per distinct value: (codes per row, tags per code).

    Values that are not strings have no tags.
    """
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
class PeopleEncoding:
    """The parts of a :class:`FeatureContext` that depend only on the people table (not on a date)."""

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

    @property
    def position(self) -> dict:
        """Person id -> position, built once and shared by every context of these people."""
        if "_position" not in self.__dict__:
            self._position = dict(zip(self.ids.tolist(), range(len(self.ids))))
        return self._position

    def spec_groups(self) -> tuple[np.ndarray, np.ndarray]:
        """People grouped by their set of specialties: (group per person, 0/1 matrix groups x specialties)."""
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


def encode_people(net: Network, profile: ProfileModel | None = None) -> PeopleEncoding:
    """Encode ``net.people`` (tags, kinds, profiles) once; reusable for every date of the same people."""
    people = net.people.reset_index(drop=True)
    ids = people["id"].astype(str).to_numpy()
    n = len(ids)
    kind = people["kind"].fillna("fractional").astype(str).to_numpy()
    is_exec = kind == "executive"
    opt_out = pd.to_numeric(people["opt_out"], errors="coerce").fillna(0).astype(int).to_numpy() == 1
    names = people["name"].where(people["name"].notna(), people["id"]).astype(str).to_numpy()
    func = people["function"].where(people["function"].notna(), "").astype(str).str.strip().str.lower()
    fcodes, funiq = pd.factorize(func)
    func_vocab = sorted(f for f in funiq if f)
    fpos = np.array([func_vocab.index(f) if f else -1 for f in funiq] + [-1], dtype=np.int64)
    function = fpos[np.where(fcodes >= 0, fcodes, len(funiq))]

    comp = net.companies.drop_duplicates("id").set_index("id") if len(net.companies) else None

    def company_attr(col: str):
        if comp is None or col not in comp:
            return np.full(n, -1, dtype=np.int64), []
        vals = people["company_id"].map(comp[col])
        codes, uniq = pd.factorize(vals, use_na_sentinel=True)
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
        profile = ProfileModel().fit(people)
    if len(profile.ids_) == n and np.array_equal(pd.Index(profile.ids_).astype(str).to_numpy(dtype=object), ids):
        P = profile.matrix_  # the same rows in the same order: shared, not copied
    else:
        P = _profile_rows(profile, ids)
    return PeopleEncoding(ids=ids, names=names, is_exec=is_exec, opt_out=opt_out, function=function,
                          S=S, I=I, Z=Z, G=G, profile=P,
                          vocab={"function": func_vocab, "specialty": spec_vocab, "industry": ind_vocab,
                                 "size_band": size_vocab, "region": reg_vocab})


def _profile_rows(profile: ProfileModel, ids: np.ndarray) -> sp.csr_matrix:
    """The profile rows of ``ids`` (zero rows for ids the profile model does not know)."""
    pos = pd.Series(np.arange(len(profile.ids_)), index=pd.Index(profile.ids_).astype(str))
    pos = pos[~pos.index.duplicated()].reindex(ids).to_numpy()
    missing = np.isnan(pos)
    P = profile.matrix_[np.where(missing, 0, pos).astype(np.int64)].tocsr()
    if missing.any():
        P = (sp.diags((~missing).astype(float)) @ P).tocsr()
    return P


def _group_table() -> np.ndarray:
    t = np.full(64, -1, dtype=np.int8)
    for code in range(64):
        ue, ve, same_func, same_specs, market, ind = ((code >> b) & 1 for b in (5, 4, 3, 2, 1, 0))
        if not ue and not ve and same_func and not same_specs:
            t[code] = 0
        if not ue and not ve and not same_func and market:
            t[code] = 1
        if not ue and ve and market:
            t[code] = 2
        if ue and not ve and market:
            t[code] = 1
        if ue and ve and ind:
            t[code] = 2
    return t


_GROUP_TABLE = _group_table()
