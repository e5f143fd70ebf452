"""The routing model: how a candidate's features add up to relevance, with weights learned from referral history.

Relevance is a logistic model over the candidate's features (:data:`FEATURES`):
``logit = intercept + sum(weight[f] * x[f])``. The weights start at the prior
(:data:`PRIOR_WEIGHTS`: the needs first, then what the client asked for, then how
well the referrer knows them) and are learned from the network's own referral
history when it has one (:func:`learn_weights`): every past referral with a
known outcome is replayed on the network as it was at the start of its period
(no tie, referral or trust bonus from later), the person it went to is a
positive when they took it on or won it and a negative when they declined or
lost it, and other eligible people in the referrer's reach at that time are
negatives (the referrer did not pick them). The fit is a maximum a posteriori
logistic regression centred on the prior (an L2 penalty on ``weight - prior``),
so a short history moves the weights a little and a long one as far as its
signal goes; with fewer than ``min_positives`` positives the prior is used, and
:attr:`RoutingWeights.description` says so.

>>> w = RoutingWeights.prior("no referral history")
>>> w.learned, w.weights["coverage"] > w.weights["trust"]
(False, True)
>>> w.description
'prior weights (no referral history)'
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # annotations only: a loaded router answers without pandas or scipy.optimize
    import pandas as pd

__all__ = ["FEATURES", "PRIOR_WEIGHTS", "PRIOR_INTERCEPT", "RoutingWeights", "feature_matrix", "fit_logistic",
           "learn_weights", "period_starts"]

#: The candidate features relevance is made of, each in [0, 1].
FEATURES = ("coverage", "partial", "industry", "size", "region", "text", "trust", "direct", "path", "track",
            "capacity")

#: The prior: the needs count most (a pick who lacks a need is not preferred for a little more trust), then a
#: requested industry, region or size band (0 when not asked for, 0.5 when the person's is unknown), profile
#: similarity to the request, trust (every path of up to two ties, like resource allocation), and the flat
#: track record and open slots. ``direct`` (a tie with the referrer) is 0: trust already counts the tie;
#: a history may learn that referrers prefer their direct contacts, or do not. ``path`` (the strength of the
#: single strongest path, the product of its tie weights) is 0 too: on real friendships it carries no signal
#: beyond the mutual contacts, and a history that says otherwise teaches it.
PRIOR_WEIGHTS = {"coverage": 4.0, "partial": 1.0, "industry": 1.5, "size": 1.0, "region": 1.5, "text": 1.0,
                 "trust": 1.0, "direct": 0.0, "path": 0.0, "track": 0.5, "capacity": 0.3}
PRIOR_INTERCEPT = -4.0

#: Outcomes that make a referral a positive (taken on or won) or a negative (declined, or lost).
POSITIVE_OUTCOMES = ("accepted", "won")
NEGATIVE_OUTCOMES = ("declined", "lost")


@dataclass(frozen=True)
class RoutingWeights:
    """The weights routing uses, and what they were learned from."""

    weights: dict
    intercept: float = PRIOR_INTERCEPT
    learned: bool = False
    positives: int = 0
    negatives: int = 0
    referrals: int = 0
    periods: int = 0
    reason: str = ""
    prior_weights: dict = field(default_factory=lambda: dict(PRIOR_WEIGHTS))  # what learning started from

    @classmethod
    def prior(cls, reason: str, weights: dict | None = None, **counts) -> "RoutingWeights":
        """The prior weights (with ``weights`` overriding some), saying why they are used."""
        w = dict(PRIOR_WEIGHTS, **(weights or {}))
        return cls(w, PRIOR_INTERCEPT, False, reason=reason, prior_weights=dict(w), **counts)

    @property
    def vector(self) -> np.ndarray:
        return np.array([self.weights[f] for f in FEATURES])

    @property
    def description(self) -> str:
        """One line: learned from how many referrals, or prior weights and why."""
        if not self.learned:
            return f"prior weights ({self.reason})"
        p = self.prior_weights
        moved = sorted(FEATURES, key=lambda f: -abs(self.weights[f] - p[f]))[:3]
        shift = ", ".join(f"{f} {p[f]:g} -> {self.weights[f]:.2f}" for f in moved)
        return (f"weights learned from {self.referrals:,} past referrals ({self.positives:,} taken on or won, "
                f"{self.negatives:,} declined, lost or not picked among the people in reach), replayed over "
                f"{self.periods} {'period' if self.periods == 1 else 'periods'}; largest moves from the prior: "
                f"{shift}")

    def as_dict(self) -> dict:
        return {"learned": self.learned, "description": self.description, "weights": dict(self.weights),
                "intercept": round(self.intercept, 4), "positives": self.positives, "negatives": self.negatives,
                "referrals": self.referrals}


def feature_matrix(parts: dict) -> np.ndarray:
    """Stack the features (a dict of equal-length arrays, missing ones as 0) into (n, len(FEATURES))."""
    n = len(next(iter(parts.values())))
    return np.column_stack([np.asarray(parts.get(f, np.zeros(n)), dtype=float) for f in FEATURES])


def fit_logistic(X: np.ndarray, y: np.ndarray, prior: np.ndarray, *, strength: float = 10.0,
                 intercept: float = PRIOR_INTERCEPT) -> tuple[np.ndarray, float]:
    """Maximum a posteriori logistic regression: log-loss + ``strength / 2 * |w - prior|^2`` (intercept free).

    Returns ``(weights, intercept)``.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)

    def loss(theta):
        w, b = theta[:-1], theta[-1]
        z = X @ w + b
        # log(1 + exp(z)) - y z, stably
        ll = np.logaddexp(0.0, z) - y * z
        d = w - prior
        p = 0.5 * (1.0 + np.tanh(0.5 * z))
        g = X.T @ (p - y)
        return ll.sum() + 0.5 * strength * d @ d, np.r_[g + strength * d, (p - y).sum()]

    from scipy.optimize import minimize

    res = minimize(loss, np.r_[prior, intercept], jac=True, method="L-BFGS-B")
    return res.x[:-1], float(res.x[-1])


def period_starts(dates: pd.Series, max_periods: int = 8) -> list[pd.Timestamp]:
    """Month starts that cut the span of ``dates`` into at most ``max_periods`` periods of whole months."""
    import pandas as pd

    d = pd.to_datetime(dates, errors="coerce").dropna()
    if d.empty:
        return []
    first, last = d.min().to_period("M"), d.max().to_period("M")
    months = (last - first).n + 1
    step = max(1, int(np.ceil(months / max_periods)))
    return [(first + i).to_timestamp() for i in range(0, months, step)]


def learn_weights(router, network, *, min_positives: int = 30, negatives_per_referral: int = 20,
                  strength: float = 10.0, max_hops: int = 2, max_referrals: int = 400, seed: int = 0) -> RoutingWeights:
    """Learn routing weights from ``network``'s referral history (see the module's docstring).

    The most recent ``max_referrals`` referrals with an outcome are replayed (enough for ten weights,
    and it bounds the cost of a fit on a network with a long history).

    ``router`` is a fitted :class:`~recommender.refer.router.Router` of the same people; it replays each
    period with :meth:`Router.history_at` (cached on the router, so an evaluation that learns again at every
    date reuses the periods it already replayed).
    """
    import pandas as pd

    prior_w = dict(PRIOR_WEIGHTS, **(router.weights or {}))
    ref = network.referrals
    if ref is None or not len(ref):
        return RoutingWeights.prior("no referral history", prior_w)
    ref = ref[ref["outcome"].isin(POSITIVE_OUTCOMES + NEGATIVE_OUTCOMES)]
    dates = pd.to_datetime(ref["date"], errors="coerce")
    ref = ref[dates.notna()].assign(_day=dates[dates.notna()]).sort_values("_day", kind="stable")
    ref = ref.tail(max_referrals)
    n_pos = int(ref["outcome"].isin(POSITIVE_OUTCOMES).sum())
    if n_pos < min_positives:
        what = "referral" if n_pos == 1 else "referrals"
        return RoutingWeights.prior(f"only {n_pos} {what} taken on or won in the history; learning needs "
                                    f"{min_positives}", prior_w, positives=n_pos, referrals=len(ref))
    starts = period_starts(router.referral_dates_, 6) or period_starts(ref["_day"], 6)
    records = ref.to_dict("records")
    reqs = [router.past_request(rec, router.opportunities_.get(str(rec["opportunity_id"]))) for rec in records]
    ok = [i for i, r in enumerate(reqs) if r is not None]
    Q = router.query_vectors([reqs[i] for i in ok]) if ok else None
    qrow = {i: j for j, i in enumerate(ok)}
    X_rows, y_rows, used = [], [], 0
    cut_idx = np.searchsorted(np.array(starts, dtype="datetime64[ns]"), ref["_day"].to_numpy(), side="right") - 1
    for i, rec in enumerate(records):
        if reqs[i] is None:
            continue
        c = int(cut_idx[i])
        past = router.history_at(starts[max(c, 0)])
        key = (str(rec.get("id")), str(rec["from_id"]), str(rec["to_id"]), str(rec["opportunity_id"]))
        cache = past.__dict__.setdefault("_training_rows_", {})
        if key not in cache:  # the same referral replayed on the same period: the same rows
            rng = np.random.default_rng([seed, zlib.crc32("|".join(key).encode())])
            cache[key] = past.training_rows(rec, reqs[i], Q[qrow[i]], rng, negatives_per_referral, max_hops)
        if cache[key] is not None:
            X_rows.append(cache[key][0])
            y_rows.append(cache[key][1])
            used += 1
    if not X_rows:
        return RoutingWeights.prior("no past referral could be replayed", prior_w, positives=n_pos, referrals=len(ref))
    X, y = np.vstack(X_rows), np.concatenate(y_rows)
    n_pos = int(y.sum())
    if n_pos < min_positives:
        return RoutingWeights.prior(f"only {n_pos} replayable referrals taken on or won; learning needs "
                                    f"{min_positives}", prior_w, positives=n_pos, referrals=used)
    prior = np.array([prior_w[f] for f in FEATURES])
    w, b = fit_logistic(X, y, prior, strength=strength)
    return RoutingWeights(dict(zip(FEATURES, (round(float(v), 4) for v in w))), b, True, n_pos,
                          int(len(y) - n_pos), used, len(set(cut_idx.tolist())), prior_weights=prior_w)
