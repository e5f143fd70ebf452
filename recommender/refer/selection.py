"""Choosing the 2-3 picks together: greedy maximal marginal relevance over coverage, and each pick's reasons.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recommender.refer.fit import TrackRecord
from recommender.refer.request import Reason, Request


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


class Selection:
    """The greedy choice of picks and their reasons (a part of :class:`Router`)."""

    def _choose(self, cand: np.ndarray, relevance: np.ndarray, full: np.ndarray, credit: np.ndarray, k: int):
        """Greedy coverage + maximal marginal relevance over the top of the list.

        Each step takes the candidate maximising ``relevance + coverage_gain *
        (share of the needs it newly covers) - redundancy * (max profile cosine
        to the picks so far)``. Only people listed for at least one need are
        picked: fewer than ``k`` (or none) when too few are, never a slot filled
        with someone who covers none of the needs (someone who only shares the
        function is "nearby", not a pick).
        """
        order = np.argsort(-relevance, kind="stable")
        m = credit.shape[1]
        if m:  # a pick covers a need; nobody is picked only to fill a slot
            order = order[full[order].sum(axis=1) > 0]
        top = order[: max(50, 10 * k)]
        if not len(top):
            return [], []
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
                gain = np.clip(full[top] - covered, 0, None).sum(axis=1) / m
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
        W = self.weights_.weights
        reasons = self._fit_reasons(i, req, fs, j, covers, partial, weight=1.0)
        if gain:
            reasons.append(Reason("adds_coverage", {"needs": [req.needs[t] for t in gain]}))
        missing = [t for t in req.needs if t not in covers]
        if covers and missing:  # a partial fit: say what it does not cover (once)
            reasons = [r for r in reasons if r.code != "partial"]
            reasons.insert(1, Reason("not_covered", {"needs": missing}))
        if req.needs and not covers and not partial:
            reasons.insert(0, Reason("covers_none", {"needs": list(req.needs)}))
        elif req.needs and not covers:  # nearby (same function): say so first, with what it does not cover
            fns = sorted({self.tax_.parent(t, "specialty") or t for t in partial})
            reasons = [r for r in reasons if r.code != "partial"]
            reasons.insert(0, Reason("partial_fit", {"needs": list(partial), "functions": fns,
                                                     "specialties": self._specialties_of(i, fns)}))
        path = self._path(i, pred) if np.isfinite(dist[i]) else []
        trust_path = tuple((str(self.ids_[p]), str(self.names_[p])) for p in path)
        t = float(comps["trust"][j])
        reasons.append(Reason("trust", {"strength": round(t, 3), "hops": max(len(path) - 1, 0),
                                        "via": [nm for _, nm in trust_path[1:-1]]}, W["trust"] * t))
        record = TrackRecord(**{k: (int(v[j]) if k not in ("accept_rate", "win_rate") else round(float(v[j]), 4))
                                for k, v in tr.items()})
        reasons.append(Reason("track_record", record.as_dict(), W["track"] * float(comps["track"][j])))
        cap = self.capacity_[i]
        capacity = None if np.isnan(cap) else int(cap)
        reasons.append(Reason("capacity", {"capacity": capacity}, W["capacity"] * float(comps["capacity"][j])))
        components = {name: round(float(v[j]), 4) for name, v in comps.items()}
        components.update({f"fit.{name}": round(float(v[j]), 4) for name, v in fs["parts"].items() if fs["active"][name]})
        score = 1.0 / (1.0 + np.exp(-float(relevance[j])))  # the routing model's probability, for ordering
        return Pick(str(self.ids_[i]), str(self.names_[i]), round(score, 4), components, covers,
                    partial, trust_path, record, capacity, tuple(reasons))

    def _specialties_of(self, i: int, functions) -> list[str]:
        """Person ``i``'s specialties within ``functions`` (what makes them a partial fit)."""
        vocab = {j: t for t, j in self.spec_vocab_.items()}
        row = self.spec_[i]
        return [vocab[j] for j in row.indices if self.tax_.parent(vocab[j], "specialty") in functions]

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
        cache = self.__dict__.setdefault("_description_vectors_", {})
        q = cache.get(req.description)
        if q is None:  # one transform per description, not one per pick
            if len(cache) > 1024:
                cache.clear()
            q = cache[req.description] = self.profiles_.transform([{"description": req.description}])
        prod = q.multiply(self.profiles_.matrix_[i]).tocoo()
        if prod.nnz == 0:
            return []
        vocab = self.profiles_.terms_
        order = np.argsort(-prod.data)[:n]
        return [str(vocab[c])[2:] for c in prod.col[order] if str(vocab[c]).startswith("w:")]
