"""Referral routing: is this opportunity in my lane, and which 2-3 peers get it?

:class:`Router` is fitted once on a :class:`~recommender.network.Network` and
answers :meth:`Router.route` requests in a few milliseconds. Fitting
precomputes per-person arrays (a sparse person x specialty matrix, functions,
industries, ICP size bands, regions, capacity, TF-IDF profiles) and the trust
graph as a sparse matrix of edge costs ``-log(weight)``.

A route request runs in five steps:

1. **Request**: needs, industry, size band and region go through the
   taxonomy; an unknown tag is kept and reported with the nearest known tag.
2. **Lane check**: how well the referrer fits the need (the same fit score
   as a candidate's), in lane when ``fit >= lane_threshold``.
3. **Reach**: the strongest trust path from the referrer to everyone within
   ``max_hops`` (a hop-bounded Bellman-Ford over the sparse cost matrix; the
   product of the tie weights along the path), or to everyone (``widen``).
4. **Scoring** (vectorised over the candidates): fit (coverage of the needs,
   with partial credit for the same function; industry; size band; region;
   text similarity of profile and description), trust (the path's strength),
   track record (Beta-smoothed accept and win rates of referrals received
   before the routing date) and capacity (unknown is neutral; zero open slots
   excludes unless ``include_full``).
5. **Choice**: greedy, maximal-marginal-relevance style: each next pick
   maximises ``relevance + coverage_gain * (needs it adds) -
   redundancy * (profile similarity to the picks so far)``, so two clones of
   one specialist are not both picked when a complementary peer exists.

The answer is data (:class:`Routing`) with structured :class:`Reason` s;
:mod:`recommender.refer.text` renders it as text and JSON.

Example
-------
>>> import pandas as pd
>>> from recommender.network import Network
>>> people = pd.DataFrame({
...     "id": ["me", "ann", "bo", "cy"], "name": ["Me", "Ann", "Bo", "Cy"],
...     "kind": ["fractional"] * 4, "function": ["finance", "marketing", "marketing", "marketing"],
...     "specialties": ["fundraising", "demand-gen", "brand", "demand-gen"],
...     "industries": ["saas"] * 4, "capacity": [1, 2, 2, 0]})
>>> ties = pd.DataFrame({"a": ["me", "me", "ann"], "b": ["ann", "cy", "bo"], "strength": [0.9, 0.9, 0.8]})
>>> router = Router().fit(Network.from_frames(people=people, ties=ties))
>>> answer = router.route("me", needs=["demand gen", "brand"], industry="saas", k=2)
>>> answer.lane.in_lane
False
>>> [p.person_id for p in answer.picks]
['ann', 'bo']
>>> [pid for pid, _ in answer.picks[1].trust_path]
['me', 'ann', 'bo']
>>> answer.excluded[0]["id"], answer.excluded[0]["reason"]
('cy', 'no_capacity')
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from recommender.errors import UnknownIdError, UsageError
from recommender.network import DEFAULT_HALF_LIFE_DAYS, Network, parse_as_of, trust_weights
from recommender.ledger import OUTCOME_CODES, smoothed_rate
from recommender.similarity import ProfileModel
from recommender.taxonomy import Taxonomy, load_taxonomy, split_tags

__all__ = [
    "DEFAULT_WEIGHTS",
    "DEFAULT_FIT_WEIGHTS",
    "Reason",
    "Request",
    "LaneCheck",
    "TrackRecord",
    "Pick",
    "Routing",
    "Router",
    "route_opportunity",
]

#: How the four components add up to a candidate's relevance.
DEFAULT_WEIGHTS = {"fit": 0.5, "trust": 0.3, "track": 0.15, "capacity": 0.05}
#: How the parts of fit add up (renormalised over the parts the request has).
DEFAULT_FIT_WEIGHTS = {"coverage": 0.55, "industry": 0.15, "size": 0.10, "region": 0.05, "text": 0.15}
#: Credit for a need covered only by the same function (a sibling specialty).
PARTIAL_CREDIT = 0.35
#: Size bands in order; a neighbouring band gets half credit.
SIZE_ORDER = ("under-1m", "1-5m", "5-50m", "50-250m", "250m-plus")
#: Capacity component by open slots (0, 1, 2, 3 or more); unknown is neutral.
_CAPACITY_X, _CAPACITY_Y = (0, 1, 2, 3), (0.0, 0.6, 0.8, 1.0)
_NEUTRAL = 0.5
_EPS = 1e-9


@dataclass(frozen=True)
class Reason:
    """One structured reason: a ``code`` and the numbers behind it.

    ``contribution`` is the reason's share of the score (0 when it only
    informs). :func:`recommender.refer.text.reason_text` renders it.
    """

    code: str
    data: dict = field(default_factory=dict)
    contribution: float = 0.0


@dataclass(frozen=True)
class Request:
    """A normalised routing request."""

    from_id: str
    needs: tuple[str, ...]
    industry: str | None = None
    size_band: str | None = None
    region: str | None = None
    description: str | None = None
    date: str | None = None
    opportunity_id: str | None = None
    company: str | None = None
    warnings: tuple[dict, ...] = ()


@dataclass(frozen=True)
class LaneCheck:
    """How well the referrer fits the need."""

    person_id: str
    fit: float
    in_lane: bool
    covers: tuple[str, ...]
    partial: tuple[str, ...]
    missing: tuple[str, ...]
    reasons: tuple[Reason, ...]


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


@dataclass(frozen=True)
class Pick:
    """One recommended peer (a pick or an alternative)."""

    person_id: str
    name: str
    score: float
    components: dict
    covers: tuple[str, ...]
    partial: tuple[str, ...]
    trust_path: tuple[tuple[str, str], ...]
    track_record: TrackRecord
    capacity: int | None
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Routing:
    """The answer to "who do I refer this opportunity to?".

    ``explanation`` is set (a dict with a ``code``) when there are no picks;
    ``suggestions`` lists options that widen the search when there are no
    picks or the picks leave needs uncovered.
    """

    request: Request
    lane: LaneCheck
    picks: tuple[Pick, ...]
    alternatives: tuple[Pick, ...]
    uncovered_needs: tuple[str, ...]
    excluded: tuple[dict, ...]
    reach: dict
    explanation: dict | None = None
    suggestions: tuple[dict, ...] = ()


class Router:
    """Routes opportunities to the best 2-3 peers in a referrer's trust network.

    Parameters
    ----------
    weights : dict, optional
        Weights of ``fit``, ``trust``, ``track`` and ``capacity`` in relevance
        (default :data:`DEFAULT_WEIGHTS`).
    fit_weights : dict, optional
        Weights of ``coverage``, ``industry``, ``size``, ``region`` and
        ``text`` in fit (default :data:`DEFAULT_FIT_WEIGHTS`).
    coverage_gain : float, default 0.5
        Bonus per unit of needs a pick adds to the picks so far.
    redundancy : float, default 0.25
        Penalty per unit of profile similarity to the closest pick so far.
    prior_strength : float, default 4
        Pseudo-referrals of the Beta prior on track-record rates.
    prior_mean : tuple of float, optional
        ``(accept, win)`` prior means; default: the network's base rates.
    lane_threshold : float, default 0.6
        Fit at or above which an opportunity is in the referrer's lane.
    full_penalty : float, default 0.5
        Subtracted from the relevance of people with zero open slots when they
        are kept (``route(..., include_full=True)``).
    half_life_days : float
        Recency decay of trust (see :func:`recommender.network.trust_weights`).
    taxonomy : Taxonomy, optional
        Default: the bundled taxonomy.
    """

    def __init__(self, *, weights: dict | None = None, fit_weights: dict | None = None,
                 coverage_gain: float = 0.5, redundancy: float = 0.25, prior_strength: float = 4.0,
                 prior_mean: tuple[float, float] | None = None, lane_threshold: float = 0.6,
                 full_penalty: float = 0.5, half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
                 taxonomy: Taxonomy | None = None):
        self.weights = weights
        self.fit_weights = fit_weights
        self.coverage_gain = coverage_gain
        self.redundancy = redundancy
        self.prior_strength = prior_strength
        self.prior_mean = prior_mean
        self.lane_threshold = lane_threshold
        self.full_penalty = full_penalty
        self.half_life_days = half_life_days
        self.taxonomy = taxonomy

    # ------------------------------------------------------------------ fit
    def fit(self, network: Network) -> "Router":
        """Precompute the per-person arrays and the trust graph of ``network``.

        Returns
        -------
        self
        """
        self._validate_params()
        self.tax_ = self.taxonomy or load_taxonomy()
        self._fit_people(network.people)
        self._fit_history(network)
        return self

    def with_history(self, network: Network) -> "Router":
        """A copy sharing the fitted people arrays, with trust, referrals and
        opportunities refitted from ``network`` (the same people, e.g. an
        earlier :meth:`Network.until`). Much cheaper than :meth:`fit`."""
        self._check()
        other = object.__new__(Router)
        other.__dict__.update(self.__dict__)
        other._fit_history(network)
        return other

    def _validate_params(self) -> None:
        w = dict(DEFAULT_WEIGHTS, **(self.weights or {}))
        fw = dict(DEFAULT_FIT_WEIGHTS, **(self.fit_weights or {}))
        for name, table, ref in (("weights", w, DEFAULT_WEIGHTS), ("fit_weights", fw, DEFAULT_FIT_WEIGHTS)):
            extra = set(table) - set(ref)
            if extra:
                raise UsageError(f"unknown {name} key(s) {sorted(extra)}; expected some of {sorted(ref)}")
            if any(v < 0 for v in table.values()) or sum(table.values()) <= 0:
                raise UsageError(f"{name} must be non-negative and not all zero, got {table}")
        if self.prior_strength <= 0:
            raise UsageError(f"prior_strength must be positive, got {self.prior_strength}")
        self.weights_, self.fit_weights_ = w, fw

    def _fit_people(self, people: pd.DataFrame) -> None:
        tax = self.tax_
        ids = people["id"].astype(str).to_numpy(dtype=object)
        n = len(ids)
        self.ids_ = ids
        self.position_ = {pid: i for i, pid in enumerate(ids)}
        names = people["name"].where(people["name"].notna() & (people["name"].astype(str) != ""), people["id"])
        self.names_ = names.astype(str).to_numpy(dtype=object)
        self.is_fractional_ = (people["kind"].fillna("fractional").astype(str) == "fractional").to_numpy()
        self.opt_out_ = pd.to_numeric(people["opt_out"], errors="coerce").fillna(0).astype(int).to_numpy() != 0
        cap = pd.to_numeric(people["capacity"], errors="coerce").to_numpy(dtype=float)
        self.capacity_ = cap  # NaN: unknown

        def tag_matrix(column: str, kind: str, vocab: dict[str, int]) -> sparse.csr_matrix:
            rows, cols = [], []
            for i, val in enumerate(people[column].tolist()):
                if val is None or (isinstance(val, float) and np.isnan(val)):
                    continue
                tags, _ = tax.normalize_many(val, kind)
                for t in tags:
                    j = vocab.setdefault(t, len(vocab))
                    rows.append(i)
                    cols.append(j)
            return rows, cols

        def build(column, kind):
            vocab = {t: i for i, t in enumerate(tax.tags(kind))}
            rows, cols = tag_matrix(column, kind, vocab)
            m = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, len(vocab)))
            m.sum_duplicates()
            m.data[:] = 1.0
            return m, vocab

        self.spec_, self.spec_vocab_ = build("specialties", "specialty")
        self.ind_, self.ind_vocab_ = build("industries", "industry")
        self.size_, self.size_vocab_ = build("icp_sizes", "size_band")
        self.region_, self.region_vocab_ = build("regions", "region")
        self.has_ind_ = np.asarray(self.ind_.sum(axis=1)).ravel() > 0
        self.has_size_ = np.asarray(self.size_.sum(axis=1)).ravel() > 0
        self.has_region_ = np.asarray(self.region_.sum(axis=1)).ravel() > 0

        # functions: a person's own function, and the parents of their specialties
        functions = tax.tags("function")
        self.func_vocab_ = {f: i for i, f in enumerate(functions)}
        rows, cols = [], []
        for i, val in enumerate(people["function"].tolist()):
            if isinstance(val, str) and val.strip():
                f = tax.normalize(val, "function")
                if f.known:
                    rows.append(i)
                    cols.append(self.func_vocab_[f.tag])
        spec_parent = np.full(len(self.spec_vocab_), -1)
        for t, j in self.spec_vocab_.items():
            p = tax.parent(t, "specialty")
            if p in self.func_vocab_:
                spec_parent[j] = self.func_vocab_[p]
        coo = self.spec_.tocoo()
        has_parent = spec_parent[coo.col] >= 0
        rows = np.r_[np.asarray(rows, dtype=np.int64), coo.row[has_parent]]
        cols = np.r_[np.asarray(cols, dtype=np.int64), spec_parent[coo.col[has_parent]]]
        fm = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, len(functions)))
        fm.sum_duplicates()
        fm.data[:] = 1.0
        self.func_ = fm
        self.spec_parent_ = spec_parent

        self.profiles_ = ProfileModel().fit(people.assign(id=ids))
        self.degree_ = np.zeros(n)

    def _fit_history(self, network: Network) -> None:
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

    def _check(self) -> None:
        if not hasattr(self, "cost_"):
            from recommender.errors import NotFittedError

            raise NotFittedError("Router is not fitted; call Router().fit(network) first")

    # ------------------------------------------------------------ requests
    def person_index(self, person_id: str) -> int:
        """The row of ``person_id``; UnknownIdError with suggestions if absent."""
        self._check()
        i = self.position_.get(str(person_id))
        if i is None:
            raise UnknownIdError("person", str(person_id), self._suggest_people(str(person_id)))
        return i

    def _suggest_people(self, text: str, n: int = 3) -> list[str]:
        out = difflib.get_close_matches(text, list(self.ids_), n=n, cutoff=0.6)
        low = text.lower()
        names = {str(nm).lower(): pid for pid, nm in zip(self.ids_, self.names_)}
        for nm, pid in names.items():
            if low and low in nm and pid not in out:
                out.append(pid)
        for nm in difflib.get_close_matches(low, list(names), n=n, cutoff=0.6):
            if names[nm] not in out:
                out.append(names[nm])
        return out[:n]

    def make_request(self, from_id: str, opportunity: str | None = None, *, needs=None, industry=None,
                     size_band=None, region=None, description=None, date=None) -> Request:
        """Normalise a request; explicit arguments override the opportunity's fields.

        Raises
        ------
        UnknownIdError
            If ``from_id`` or ``opportunity`` is not in the network.
        UsageError
            If there is nothing to match (no needs and no description).
        """
        self._check()
        self.person_index(from_id)
        opp = {}
        if opportunity is not None:
            opp = self.opportunities_.get(str(opportunity))
            if opp is None:
                sugg = difflib.get_close_matches(str(opportunity), list(self.opportunities_), n=3, cutoff=0.6)
                raise UnknownIdError("opportunity", str(opportunity), sugg)
        tax = self.tax_
        warnings: list[dict] = []

        raw_needs = needs if needs is not None else opp.get("needs")
        if isinstance(raw_needs, str) or raw_needs is None:
            raw_needs = split_tags(raw_needs)
        tags: list[str] = []
        for raw in raw_needs:
            nrm = tax.normalize(raw, "specialty")
            tag = nrm.tag
            if not nrm.known:
                fn = tax.normalize(raw, "function")
                if fn.known:
                    tag = fn.tag
                else:
                    warnings.append({"field": "needs", "value": str(raw), "tag": tag, "suggestion": nrm.suggestion})
            if tag and tag not in tags:
                tags.append(tag)

        def one(value, kind: str, field_name: str) -> str | None:
            if value is None or (isinstance(value, float) and np.isnan(value)) or not str(value).strip():
                return None
            nrm = tax.normalize(str(value), kind)
            if not nrm.known:
                warnings.append({"field": field_name, "value": str(value), "tag": nrm.tag, "suggestion": nrm.suggestion})
            return nrm.tag or None

        ind = one(industry if industry is not None else opp.get("industry"), "industry", "industry")
        size = one(size_band if size_band is not None else opp.get("size_band"), "size_band", "size_band")
        reg = one(region if region is not None else opp.get("region"), "region", "region")
        desc = description if description is not None else opp.get("description")
        desc = desc.strip() if isinstance(desc, str) and desc.strip() else None
        if not tags and not desc:
            raise UsageError("nothing to match: give needs (tags) or a description",
                             hint="e.g. --needs 'demand gen;abm' --industry saas")
        day = parse_as_of(date if date is not None else opp.get("date"))
        company = self.company_names_.get(str(opp.get("company_id"))) if opp.get("company_id") else None
        return Request(str(from_id), tuple(tags), ind, size, reg, desc, day,
                       str(opportunity) if opportunity is not None else None, company, tuple(warnings))

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
    def strongest_paths(self, source: int, max_hops: int | None):
        """Strongest trust paths from ``source``: hop-bounded Bellman-Ford, or
        Dijkstra when ``max_hops`` is None.

        Returns
        -------
        dist : ndarray, shape (n,)
            Path cost ``-log(product of weights)``; ``inf`` if out of reach.
        pred : list of ndarray or ndarray
            Predecessors per level (bounded) or one predecessor array.
        """
        self._check()
        n = len(self.ids_)
        if max_hops is None:
            dist, pred = dijkstra(self.cost_, directed=False, indices=source, return_predecessors=True)
            return dist, pred
        C = self.cost_
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

    # ---------------------------------------------------------------- route
    def lane_check(self, req: Request, qvec=None) -> LaneCheck:
        """How well the referrer fits ``req``."""
        i = self.person_index(req.from_id)
        if qvec is None:
            qvec = self._query_vector(req)
        fs = self._fit_scores(np.array([i]), req, qvec)
        fit = float(fs["fit"][0])
        full, credit = fs["full"][0], fs["credit"][0]
        covers = tuple(t for t, f in zip(req.needs, full) if f >= 1)
        partial = tuple(t for t, f, c in zip(req.needs, full, credit) if f < 1 and c > 0)
        missing = tuple(t for t, c in zip(req.needs, credit) if c == 0)
        reasons = self._fit_reasons(i, req, fs, 0, covers, partial, weight=1.0)
        if missing:
            reasons.append(Reason("lane_missing", {"needs": list(missing)}))
        in_lane = bool(self.is_fractional_[i]) and fit >= self.lane_threshold
        if not self.is_fractional_[i]:
            reasons.insert(0, Reason("not_fractional", {}))
        return LaneCheck(req.from_id, round(fit, 4), in_lane, covers, partial, missing, tuple(reasons))

    def route(self, from_id: str, opportunity: str | None = None, *, needs=None, industry=None, size_band=None,
              region=None, description=None, date=None, k: int = 3, max_hops: int = 2, widen: bool = False,
              include_full: bool = False, n_alternatives: int = 3) -> Routing:
        """Route an opportunity (by id, or by its needs) from ``from_id`` to ``k`` peers.

        Parameters
        ----------
        from_id : str
            The referrer.
        opportunity : str, optional
            An opportunity id; its needs, industry, size band, region,
            description and date are used unless given explicitly.
        needs : str or list of str, optional
            Needed specialties (raw tags; ``;``-separated string accepted).
        industry, size_band, region, description : str, optional
        date : str, optional
            The routing date (default: the opportunity's date); track records
            count referrals dated before it.
        k : int, default 3
            Number of picks.
        max_hops : int, default 2
            Candidates are fractionals within this many ties of ``from_id``.
        widen : bool, default False
            Consider every fractional in the network.
        include_full : bool, default False
            Keep people with zero open slots (heavily penalised) instead of
            excluding them.
        n_alternatives : int, default 3

        Returns
        -------
        Routing

        Raises
        ------
        UnknownIdError
            Unknown ``from_id`` or ``opportunity``.
        UsageError
            Bad ``k`` / ``max_hops``, or nothing to match.
        """
        self._check()
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise UsageError(f"k must be a positive integer, got {k!r}")
        if not isinstance(max_hops, (int, np.integer)) or max_hops < 1:
            raise UsageError(f"max_hops must be a positive integer, got {max_hops!r}")
        req = self.make_request(from_id, opportunity, needs=needs, industry=industry, size_band=size_band,
                                region=region, description=description, date=date)
        src = self.person_index(req.from_id)
        qvec = self._query_vector(req)
        lane = self.lane_check(req, qvec)

        dist, pred = self.strongest_paths(src, None if widen else int(max_hops))
        reached = np.isfinite(dist)
        reached[src] = False
        pool = self.is_fractional_ & ~self.opt_out_
        pool[src] = False
        if not widen:
            pool &= reached
        full_cap = self.capacity_ == 0
        excluded: list[dict] = []
        n_opted_out = int((reached & self.opt_out_ & self.is_fractional_).sum()) if not widen else int(
            (self.opt_out_ & self.is_fractional_).sum())
        cand = np.flatnonzero(pool if include_full else pool & ~full_cap)
        reach = {"max_hops": None if widen else int(max_hops), "widened": bool(widen),
                 "people_in_reach": int(reached.sum()),
                 "fractionals_in_reach": int((reached & self.is_fractional_).sum()),
                 "candidates": int(len(cand)), "opted_out": n_opted_out,
                 "no_capacity": int((pool & full_cap).sum())}

        if len(cand) == 0:
            expl = {"code": "no_peer_in_reach", **reach, "from": req.from_id}
            sugg = [] if widen else [{"max_hops": int(max_hops) + 1}, {"widen": True}]
            if not include_full and reach["no_capacity"]:
                sugg.append({"include_full": True})
            return Routing(req, lane, (), (), tuple(req.needs), (), reach, expl, tuple(sugg))

        # -- vectorised scoring over the candidates
        fs = self._fit_scores(cand, req, qvec)
        trust = np.exp(-dist[cand])
        trust[~np.isfinite(dist[cand])] = 0.0
        tr = self.track_records(cand, as_of=req.date, exclude_opportunity=req.opportunity_id)
        track = 0.5 * tr["accept_rate"] + 0.5 * tr["win_rate"]
        capv = self.capacity_[cand]
        cap_score = np.where(np.isnan(capv), _NEUTRAL, np.interp(np.nan_to_num(capv), _CAPACITY_X, _CAPACITY_Y))
        W = self.weights_
        relevance = W["fit"] * fs["fit"] + W["trust"] * trust + W["track"] * track + W["capacity"] * cap_score
        relevance = relevance / sum(W.values())
        relevance = np.where(capv == 0, relevance - self.full_penalty, relevance)  # only with include_full

        chosen, gains = self._choose(cand, relevance, fs["full"], fs["credit"], k)
        covered = fs["full"][chosen].max(axis=0) if chosen and req.needs else np.zeros(len(req.needs))
        uncovered = tuple(t for t, c in zip(req.needs, covered) if c < 1)
        rest = [j for j in np.argsort(-relevance, kind="stable") if j not in set(chosen)][:n_alternatives]

        comps = {"fit": fs["fit"], "trust": trust, "track": track, "capacity": cap_score}

        def make(j: int, gain=None) -> Pick:
            return self._make_pick(j, cand, relevance, comps, fs, tr, dist, pred, src, req, qvec, gain)

        picks = tuple(make(j, g) for j, g in zip(chosen, gains))
        alts = tuple(make(j) for j in rest)
        if not include_full and reach["no_capacity"]:
            full_idx = np.flatnonzero(pool & full_cap)
            ffs = self._fit_scores(full_idx, req, qvec)
            floor = min(p.score for p in picks)
            ftrust = np.exp(-dist[full_idx])
            ftrust[~np.isfinite(dist[full_idx])] = 0.0
            frel = (W["fit"] * ffs["fit"] + W["trust"] * ftrust + W["track"] * _NEUTRAL) / sum(W.values())
            for j in np.argsort(-frel)[:3]:
                if frel[j] >= floor:
                    i = full_idx[j]
                    excluded.append({"id": str(self.ids_[i]), "name": str(self.names_[i]), "reason": "no_capacity",
                                     "fit": round(float(ffs["fit"][j]), 4)})
        sugg = [{"max_hops": int(max_hops) + 1}, {"widen": True}] if uncovered and not widen else []
        return Routing(req, lane, picks, alts, uncovered, tuple(excluded), reach, None, tuple(sugg))

    def _choose(self, cand: np.ndarray, relevance: np.ndarray, full: np.ndarray, credit: np.ndarray, k: int):
        """Greedy coverage + maximal marginal relevance over the top of the list.

        Each step takes the candidate maximising ``relevance + coverage_gain *
        (share of the needs it newly covers; partial credit counts a third) -
        redundancy * (max profile cosine to the picks so far)``. People who
        cover nothing of the need only fill up when too few do.
        """
        order = np.argsort(-relevance, kind="stable")
        m = credit.shape[1]
        if m:
            useful = credit[order].sum(axis=1) > 0
            if useful.sum() >= k:
                order = order[useful]
        top = order[: max(50, 10 * k)]
        prof = self.profiles_.matrix_[cand[top]]
        sim = np.asarray((prof @ prof.T).todense())
        covered = np.zeros(m)
        credited = np.zeros(m)
        chosen: list[int] = []
        gains: list[list[int]] = []
        max_sim = np.zeros(len(top))
        avail = np.ones(len(top), bool)
        for _ in range(min(k, len(top))):
            if m:
                gain = (np.clip(full[top] - covered, 0, None).sum(axis=1)
                        + np.clip(credit[top] - credited, 0, None).sum(axis=1) / 3.0) / m
            else:
                gain = np.zeros(len(top))
            obj = relevance[top] + self.coverage_gain * gain - self.redundancy * max_sim
            obj[~avail] = -np.inf
            b = int(np.argmax(obj))
            j = int(top[b])
            adds = [t for t in range(m) if full[j, t] >= 1 and covered[t] < 1] if chosen else []
            chosen.append(j)
            gains.append(adds)
            avail[b] = False
            covered = np.maximum(covered, full[j])
            credited = np.maximum(credited, credit[j])
            max_sim = np.maximum(max_sim, sim[b])
        return chosen, gains

    def _make_pick(self, j, cand, relevance, comps, fs, tr, dist, pred, src, req, qvec, gain) -> Pick:
        i = int(cand[j])
        full, credit = fs["full"][j], fs["credit"][j]
        covers = tuple(t for t, f in zip(req.needs, full) if f >= 1)
        partial = tuple(t for t, f, c in zip(req.needs, full, credit) if f < 1 and c > 0)
        W = self.weights_
        wsum = sum(W.values())
        reasons = self._fit_reasons(i, req, fs, j, covers, partial, weight=W["fit"] / wsum)
        if gain:
            reasons.append(Reason("adds_coverage", {"needs": [req.needs[t] for t in gain]}))
        if req.needs and not covers and not partial:
            reasons.insert(0, Reason("covers_none", {"needs": list(req.needs)}))
        path = self._path(i, pred) if np.isfinite(dist[i]) else []
        trust_path = tuple((str(self.ids_[p]), str(self.names_[p])) for p in path)
        t = float(comps["trust"][j])
        reasons.append(Reason("trust", {"strength": round(t, 3), "hops": max(len(path) - 1, 0),
                                        "via": [nm for _, nm in trust_path[1:-1]]}, W["trust"] / wsum * t))
        record = TrackRecord(**{k: (int(v[j]) if k not in ("accept_rate", "win_rate") else round(float(v[j]), 4))
                                for k, v in tr.items()})
        reasons.append(Reason("track_record", record.as_dict(), W["track"] / wsum * float(comps["track"][j])))
        cap = self.capacity_[i]
        capacity = None if np.isnan(cap) else int(cap)
        reasons.append(Reason("capacity", {"capacity": capacity}, W["capacity"] / wsum * float(comps["capacity"][j])))
        components = {name: round(float(v[j]), 4) for name, v in comps.items()}
        components.update({f"fit.{name}": round(float(v[j]), 4) for name, v in fs["parts"].items() if fs["active"][name]})
        return Pick(str(self.ids_[i]), str(self.names_[i]), round(float(relevance[j]), 4), components, covers,
                    partial, trust_path, record, capacity, tuple(reasons))

    def _fit_reasons(self, i: int, req: Request, fs: dict, j: int, covers, partial, weight: float) -> list[Reason]:
        fw, wsum, parts = self.fit_weights_, fs["wsum"], fs["parts"]
        share = lambda name: weight * fw[name] / wsum * float(parts[name][j])  # noqa: E731
        out: list[Reason] = []
        if covers:
            out.append(Reason("covers", {"needs": list(covers), "of": len(req.needs)}, share("coverage")))
        if partial:
            fns = sorted({self.tax_.parent(t, "specialty") or t for t in partial})
            out.append(Reason("partial", {"needs": list(partial), "functions": fns}, 0.0 if covers else share("coverage")))
        if req.industry is not None and parts["industry"][j] > 0.25:
            match = "exact" if parts["industry"][j] >= 1 else "related"
            out.append(Reason("industry", {"industry": req.industry, "match": match}, share("industry")))
        if req.size_band is not None and self.has_size_[i] and parts["size"][j] > 0:
            match = "exact" if parts["size"][j] >= 1 else "adjacent"
            out.append(Reason("size", {"size_band": req.size_band, "match": match}, share("size")))
        if req.region is not None and self.has_region_[i] and parts["region"][j] > 0:
            out.append(Reason("region", {"region": req.region}, share("region")))
        text = float(parts["text"][j])
        if text >= 0.05:
            out.append(Reason("text", {"similarity": round(text, 3), "terms": self._shared_terms(i, req)}, share("text")))
        return out

    def _shared_terms(self, i: int, req: Request, n: int = 3) -> list[str]:
        """The description words that weigh most in both the query and the profile."""
        if not req.description:
            return []
        q = self.profiles_.transform([{"description": req.description}])
        prod = q.multiply(self.profiles_.matrix_[i]).tocoo()
        if prod.nnz == 0:
            return []
        vocab = self.profiles_.vectorizer_.get_feature_names_out()
        order = np.argsort(-prod.data)[:n]
        return [str(vocab[c])[2:] for c in prod.col[order] if str(vocab[c]).startswith("w:")]


def route_opportunity(network: Network, from_id: str, opportunity: str | None = None, **kwargs) -> Routing:
    """Fit a :class:`Router` on ``network`` and route one request (see :meth:`Router.route`)."""
    return Router().fit(network).route(from_id, opportunity, **kwargs)
