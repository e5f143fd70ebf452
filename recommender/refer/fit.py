"""What routing knows about people and history: the fitted arrays, fit scores, track records and trust paths.

Fitting (:meth:`FitScores._fit_people`, :meth:`FitScores._fit_history`) reads
a Network with pandas; everything else answers from the fitted arrays with
numpy and scipy.sparse, so a router loaded from its state routes without
pandas or scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from recommender.dates import parse_as_of
from recommender.ledger import OUTCOME_CODES, smoothed_rate
from recommender.refer.request import Request

if TYPE_CHECKING:  # annotations only
    import pandas as pd

    from recommender.network import Network

#: Credit for a need covered only by the same function (a sibling specialty).
PARTIAL_CREDIT = 0.35


#: Size bands in order; a neighbouring band gets half credit.
SIZE_ORDER = ("under-1m", "1-5m", "5-50m", "50-250m", "250m-plus")


#: Capacity component by open slots (0, 1, 2, 3 or more); unknown is neutral.
_CAPACITY_X, _CAPACITY_Y = (0, 1, 2, 3), (0.0, 0.6, 0.8, 1.0)


_NEUTRAL = 0.5


_EPS = 1e-9


@dataclass(frozen=True)
class TrackRecord:
    """Referrals received (before the routing date) and smoothed rates.

    ``accept_rate`` is P(accepted | decided) and ``win_rate`` is
    P(won | resolved), each Beta-smoothed toward the network's base rate.
    """

    received: int
    accepted: int
    declined: int
    won: int
    lost: int
    pending: int
    accept_rate: float
    win_rate: float

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class FitScores:
    """The fitted per-person arrays and the parts of a candidate's score (a part of :class:`Router`)."""

    def _fit_people(self, network: Network) -> None:
        """The per-person arrays, read from the one people encoding (:func:`recommender.people.encode_people`:
        ids, names, kinds, opt-out, capacity, tag matrices), with the tag columns mapped through the taxonomy
        to canonical tags (synonyms merged; tags the taxonomy does not know kept as they are)."""
        from recommender.people import encode_people
        from recommender.similarity import ProfileModel

        tax = self.tax_
        people = network.people.reset_index(drop=True)
        self.profiles_ = ProfileModel().fit(people.assign(id=people["id"].astype(str)))
        enc = encode_people(network, self.profiles_)
        self.people_ = enc
        self.ids_ = enc.ids.astype(object)
        self.position_ = enc.position
        self.names_ = enc.names.astype(object)
        self.is_fractional_ = enc.is_fractional
        self.opt_out_ = enc.opt_out
        self.capacity_ = enc.capacity  # NaN: unknown

        self.spec_, self.spec_vocab_ = _canonical(enc.S, enc.vocab["specialty"], "specialty", tax)
        self.ind_, self.ind_vocab_ = _canonical(enc.I, enc.vocab["industry"], "industry", tax)
        self.size_, self.size_vocab_ = _canonical(enc.Z, enc.vocab["size_band"], "size_band", tax)
        self.region_, self.region_vocab_ = _canonical(enc.G, enc.vocab["region"], "region", tax)
        known = set(tax.tags("specialty"))
        self.held_specialties_ = frozenset(t for t in self.spec_vocab_ if t not in known)
        self.has_ind_ = np.diff(self.ind_.indptr) > 0
        self.has_size_ = np.diff(self.size_.indptr) > 0
        self.has_region_ = np.diff(self.region_.indptr) > 0

        # functions: a person's own function (when the taxonomy knows it), and the parents of their specialties
        functions = tax.tags("function")
        self.func_vocab_ = {f: i for i, f in enumerate(functions)}
        own = np.array([self.func_vocab_.get(tax.normalize(f, "function").tag, -1) for f in enc.vocab["function"]]
                       + [-1], dtype=np.int64)[enc.function]
        spec_parent = np.full(len(self.spec_vocab_), -1)
        for t, j in self.spec_vocab_.items():
            p = tax.parent(t, "specialty")
            if p in self.func_vocab_:
                spec_parent[j] = self.func_vocab_[p]
        coo = self.spec_.tocoo()
        has_parent = spec_parent[coo.col] >= 0
        rows = np.r_[np.flatnonzero(own >= 0), coo.row[has_parent]].astype(np.int64)
        cols = np.r_[own[own >= 0], spec_parent[coo.col[has_parent]]].astype(np.int64)
        self.func_ = _binary(rows, cols, (len(self.ids_), len(functions)))
        self.spec_parent_ = spec_parent
        self.degree_ = np.zeros(len(self.ids_))

    def _fit_history(self, network: Network) -> None:
        import pandas as pd

        from recommender.trust import trust_weights

        n = len(self.ids_)
        pos = pd.Index(self.ids_)
        w = trust_weights(network, self.half_life_days)
        ia, ib = pos.get_indexer(w["a"].astype(str)), pos.get_indexer(w["b"].astype(str))
        weight = w["weight"].to_numpy(dtype=float)
        keep = (ia >= 0) & (ib >= 0) & (ia != ib)
        ia, ib, weight = ia[keep], ib[keep], np.clip(weight[keep], _EPS, 1.0)
        # strongest tie per pair, then cost = -log(weight) (+eps so no explicit zeros vanish)
        cost = -np.log(weight) + _EPS
        m = sparse.coo_matrix((np.r_[cost, cost], (np.r_[ia, ib], np.r_[ib, ia])), shape=(n, n)).tocsr()
        m.sum_duplicates()  # duplicate ties add costs; rare, and only weakens them
        self.cost_ = m
        self.degree_ = np.diff(m.indptr).astype(float)
        self.hop_cost_ = _without_rows(m, self.opt_out_)  # opted-out people are never a hop of a trust path
        tw = m.copy()
        tw.data = np.exp(-(tw.data - _EPS))  # the tie's trust weight (strength, recency, referral history)
        self.trust_w_ = tw
        inv = np.divide(1.0, self.degree_, out=np.zeros(n), where=self.degree_ > 0)
        # row w: weight(w, v) / deg(w); an opted-out person is never counted as a mutual contact
        self.trust_ra_ = _without_rows((sparse.diags(inv) @ tw).tocsr(), self.opt_out_)

        ref = network.referrals
        self.ref_to_ = pos.get_indexer(ref["to_id"].astype(str))
        self.ref_from_ = pos.get_indexer(ref["from_id"].astype(str))
        self.ref_code_ = ref["outcome"].map(OUTCOME_CODES).fillna(OUTCOME_CODES["pending"]).astype(int).to_numpy()
        self.ref_date_ = pd.to_datetime(ref["date"], errors="coerce").to_numpy(dtype="datetime64[D]")
        self.ref_opp_ = ref["opportunity_id"].astype(str).to_numpy(dtype=object)
        self.reference_date_ = network.reference_date

        opps = network.opportunities
        self.opportunities_ = {str(r["id"]): r for r in opps.where(opps.notna(), None).to_dict("records")}
        comps = network.companies
        self.company_names_ = dict(zip(comps["id"].astype(str), comps["name"].fillna(comps["id"]).astype(str)))

    # ------------------------------------------------------------- scoring
    def _need_coverage(self, rows: np.ndarray, needs: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Full (0/1) and credited (with partial credit) coverage, shape (len(rows), len(needs))."""
        full = np.zeros((len(rows), len(needs)))
        credit = np.zeros((len(rows), len(needs)))
        if not len(needs) or not len(rows):
            return full, credit
        spec = self.spec_[rows]
        func = self.func_[rows]
        for t, need in enumerate(needs):
            if need in self.func_vocab_:  # a whole function was asked for
                col = func[:, self.func_vocab_[need]].toarray().ravel()
                full[:, t] = col
                credit[:, t] = col
                continue
            j = self.spec_vocab_.get(need)
            if j is not None:
                full[:, t] = spec[:, j].toarray().ravel()
            fj = self.func_vocab_.get(self.tax_.parent(need, "specialty") or "")
            partial = func[:, fj].toarray().ravel() * PARTIAL_CREDIT if fj is not None else 0.0
            credit[:, t] = np.maximum(full[:, t], partial)
        return full, credit

    def _industry_fit(self, rows: np.ndarray, industry: str | None) -> np.ndarray:
        if industry is None:
            return np.zeros(len(rows))
        ind = self.ind_[rows]
        exact = np.zeros(len(rows))
        j = self.ind_vocab_.get(industry)
        if j is not None:
            exact = ind[:, j].toarray().ravel()
        parent = self.tax_.parent(industry, "industry") or industry
        related = [self.ind_vocab_[t] for t in self.ind_vocab_
                   if t != industry and (t == parent or self.tax_.parent(t, "industry") == parent)]
        rel = np.asarray(ind[:, related].sum(axis=1)).ravel() > 0 if related else np.zeros(len(rows), bool)
        out = np.maximum(exact, 0.5 * rel)
        return np.where(self.has_ind_[rows], out, 0.25)

    def _size_fit(self, rows: np.ndarray, size_band: str | None) -> np.ndarray:
        if size_band is None:
            return np.zeros(len(rows))
        sz = self.size_[rows]
        j = self.size_vocab_.get(size_band)
        exact = sz[:, j].toarray().ravel() if j is not None else np.zeros(len(rows))
        near = np.zeros(len(rows))
        if size_band in SIZE_ORDER:
            k = SIZE_ORDER.index(size_band)
            cols = [self.size_vocab_[SIZE_ORDER[x]] for x in (k - 1, k + 1) if 0 <= x < len(SIZE_ORDER)]
            near = (np.asarray(sz[:, cols].sum(axis=1)).ravel() > 0) * 0.5
        return np.where(self.has_size_[rows], np.maximum(exact, near), _NEUTRAL)

    def _region_fit(self, rows: np.ndarray, region: str | None) -> np.ndarray:
        if region is None:
            return np.zeros(len(rows))
        rg = self.region_[rows]
        cols = [self.region_vocab_[t] for t in (region, "remote") if t in self.region_vocab_]
        hit = (np.asarray(rg[:, cols].sum(axis=1)).ravel() > 0).astype(float) if cols else np.zeros(len(rows))
        return np.where(self.has_region_[rows], hit, _NEUTRAL)

    def _query_vector(self, req: Request) -> sparse.csr_matrix:
        rec = {"specialties": list(req.needs), "industries": [req.industry] if req.industry else [],
               "description": req.description}
        return self.profiles_.transform([rec])

    def _fit_scores(self, rows: np.ndarray, req: Request, qvec) -> dict:
        full, credit = self._need_coverage(rows, req.needs)
        parts = {
            "coverage": credit.mean(axis=1) if req.needs else np.zeros(len(rows)),
            "industry": self._industry_fit(rows, req.industry),
            "size": self._size_fit(rows, req.size_band),
            "region": self._region_fit(rows, req.region),
            "text": np.clip(np.asarray((self.profiles_.matrix_[rows] @ qvec.T).todense()).ravel(), 0, 1)
            if len(rows) else np.zeros(0),
        }
        active = {"coverage": bool(req.needs), "industry": req.industry is not None,
                  "size": req.size_band is not None, "region": req.region is not None, "text": True}
        wsum = sum(w for k, w in self.fit_weights_.items() if active[k]) or 1.0
        fit = sum(self.fit_weights_[k] * parts[k] for k in parts if active[k]) / wsum
        return {"fit": fit, "full": full, "credit": credit, "parts": parts, "active": active, "wsum": wsum}

    def track_records(self, rows: np.ndarray | None = None, as_of=None, exclude_opportunity: str | None = None):
        """Referral counts received and smoothed rates per person, before ``as_of``.

        Returns
        -------
        dict of str to ndarray
            ``received, accepted, declined, won, lost, pending, accept_rate,
            win_rate``, each shape (len(rows),) (all people if ``rows`` is None).
        """
        self._check()
        n = len(self.ids_)
        mask = self.ref_to_ >= 0
        day = parse_as_of(as_of)
        if day is not None:
            mask &= ~(self.ref_date_ >= np.datetime64(day, "D"))
        if exclude_opportunity is not None:
            mask &= self.ref_opp_ != exclude_opportunity
        to, code = self.ref_to_[mask], self.ref_code_[mask]
        counts = {name: np.bincount(to[code == c], minlength=n) for name, c in OUTCOME_CODES.items()}
        took = counts["accepted"] + counts["won"] + counts["lost"]
        decided = took + counts["declined"]
        resolved = counts["won"] + counts["lost"] + counts["declined"]
        if self.prior_mean is not None:
            p_acc, p_win = self.prior_mean
        else:
            p_acc = (took.sum() + 1.0) / (decided.sum() + 2.0)
            p_win = (counts["won"].sum() + 1.0) / (resolved.sum() + 2.0)
        out = {
            "received": took + counts["declined"] + counts["pending"],
            "accepted": took, "declined": counts["declined"], "won": counts["won"], "lost": counts["lost"],
            "pending": counts["pending"],
            "accept_rate": smoothed_rate(took, decided, p_acc, self.prior_strength),
            "win_rate": smoothed_rate(counts["won"], resolved, p_win, self.prior_strength),
        }
        if rows is not None:
            out = {k: v[rows] for k, v in out.items()}
        return out

    # ---------------------------------------------------------------- reach
    def trust_scores(self, source: int, rows: np.ndarray, *, with_direct: bool = False):
        """How well ``source`` knows each of ``rows``, counting every path up to two ties, in [0, 1].

        Resource allocation over the referrer's contacts: the sum over mutual contacts ``w`` of
        ``weight(source, w) * weight(w, v) / degree(w)``, plus the direct tie as one more such path,
        ``weight(source, v) / degree(source)`` (tie weights carry strength, recency and referral history;
        :func:`recommender.trust.trust_weights`), divided by the largest value among ``rows``. Someone who
        shares many mutual contacts with the referrer is trusted more than someone reached through one,
        however strong that one path is, and a direct tie counts as much as one well-placed mutual contact,
        not as everything (on real friendships, a tie and the mutual contacts are both evidence of knowing
        someone well). With ``with_direct``, also the direct tie's weight per row (0 without a tie).
        """
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return (np.zeros(0), np.zeros(0)) if with_direct else np.zeros(0)
        first = self.trust_w_[source]
        direct = np.asarray(first[:, rows].todense()).ravel()
        deg = max(self.degree_[source], 1.0)
        raw = direct / deg + np.asarray((first @ self.trust_ra_)[:, rows].todense()).ravel()
        top = raw.max()
        trust = raw / top if top > 0 else raw
        return (trust, direct) if with_direct else trust

    def strongest_paths(self, source: int, max_hops: int | None, *, through_opted_out: bool = False):
        """Strongest trust paths from ``source``: hop-bounded Bellman-Ford, or
        Dijkstra when ``max_hops`` is None.

        Opted-out people end a path: they are reached (and left out of the
        picks) but never a hop between the source and someone else
        (``through_opted_out=True`` lifts that, only for the evaluation to count
        whom the rule puts out of reach).

        Returns
        -------
        dist : ndarray, shape (n,)
            Path cost ``-log(product of weights)``; ``inf`` if out of reach.
        pred : list of ndarray or ndarray
            Predecessors per level (bounded) or one predecessor array.
        """
        self._check()
        n = len(self.ids_)
        # paths leave only from people who may introduce (the source always may): opted-out people are
        # reached, never passed through
        C = self.cost_ if through_opted_out else self.hop_cost_  # through_opted_out: only to count what the rule hides
        if self.opt_out_[source] and not through_opted_out:
            mask = self.opt_out_.copy()
            mask[source] = False
            C = _without_rows(self.cost_, mask)
        if max_hops is None:
            from scipy.sparse.csgraph import dijkstra

            dist, pred = dijkstra(C, directed=True, indices=source, return_predecessors=True)
            return dist, pred
        dist = np.full(n, np.inf)
        dist[source] = 0.0
        pred = np.full(n, -1, dtype=np.int64)
        levels = [pred]
        reached = np.array([source])
        for _ in range(max_hops):
            sub = C[reached]
            if sub.nnz == 0:
                levels.append(levels[-1])
                continue
            rows = np.repeat(reached, np.diff(sub.indptr))
            cols, cand = sub.indices, dist[rows] + sub.data
            order = np.lexsort((cand, cols))
            cols_s = cols[order]
            first = np.r_[True, cols_s[1:] != cols_s[:-1]]
            bc, bd, bu = cols_s[first], cand[order][first], rows[order][first]
            better = bd < dist[bc] - 1e-12
            dist = dist.copy()
            pred = levels[-1].copy()
            dist[bc[better]] = bd[better]
            pred[bc[better]] = bu[better]
            levels.append(pred)
            reached = np.flatnonzero(np.isfinite(dist))
        return dist, levels

    def _path(self, target: int, pred) -> list[int]:
        path = [target]
        if isinstance(pred, list):
            level, v = len(pred) - 1, target
            while level > 0 and pred[level][v] >= 0:
                v = int(pred[level][v])
                path.append(v)
                level -= 1
        else:
            v = target
            while pred[v] >= 0:
                v = int(pred[v])
                path.append(v)
        return path[::-1]


def _binary(rows, cols, shape) -> sparse.csr_matrix:
    m = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


def _canonical(M: sparse.csr_matrix, vocab: list[str], kind: str, tax) -> tuple[sparse.csr_matrix, dict]:
    """A 0/1 people x tag matrix with its columns mapped to canonical tags: the taxonomy's tags of ``kind``
    first (in file order), then the tags it does not know (as slugs, in the order of ``vocab``)."""
    canon = {t: i for i, t in enumerate(tax.tags(kind))}
    target = []
    for t in vocab:
        c = tax.normalize(t, kind).tag
        target.append(canon.setdefault(c, len(canon)) if c else -1)
    target = np.asarray(target, dtype=np.int64)
    coo = M.tocoo()
    ok = target[coo.col] >= 0 if len(target) else np.zeros(0, bool)
    return _binary(coo.row[ok], target[coo.col[ok]], (M.shape[0], len(canon))), canon


def _without_rows(C: sparse.csr_matrix, drop: np.ndarray) -> sparse.csr_matrix:
    """``C`` with the rows of ``drop`` emptied (their columns kept): no path leaves those people."""
    lens = np.diff(C.indptr)
    keep = np.repeat(~drop, lens)
    indptr = np.r_[0, np.cumsum(np.where(drop, 0, lens))].astype(C.indptr.dtype)
    return sparse.csr_matrix((C.data[keep], C.indices[keep], indptr), shape=C.shape)
