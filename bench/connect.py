"""Benchmark "give first" (``fracnet connect``) on the sample's introductions history.

For a cut date, the "who to meet" model is fitted on the network as it was
then. For every introducer who, after the cut, connected two of their
contacts (an introduction with outcome ``connected`` between two people who
were both the introducer's contacts and not tied at the cut), every untied
pair of the introducer's contacts at the cut is ranked:

* **connect**: :func:`recommender.connect.score_contact_pairs` (the meet
  model's pair features and ranker, both directions);
* **baseline**: the pairs two hops apart with the most common neighbours
  (ties broken by Adamic-Adar, then ids).

Figures: hit@k (the share of introducers with a true pair in their top k),
recall@k and MRR, for both, and the ratio connect / baseline. Also reported:
the product's list (``suggest_connections``, pairs with a checkable reason
only) hit@k.

Usage::

    python bench/connect.py [--cut 2025-09-19] [--k 10] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _metrics(ranked: list[list[tuple]], truths: list[set], k: int) -> dict:
    hits, recalls, rr = [], [], []
    for order, truth in zip(ranked, truths):
        top = order[:k]
        found = [p for p in top if p in truth]
        hits.append(1.0 if found else 0.0)
        recalls.append(len(found) / len(truth))
        first = next((i for i, p in enumerate(order) if p in truth), None)
        rr.append(1.0 / (first + 1) if first is not None else 0.0)
    return {f"hit@{k}": float(np.mean(hits)), f"recall@{k}": float(np.mean(recalls)), "mrr": float(np.mean(rr))}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cut", default=None, help="cut date (default: 70%% of the introductions before it)")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    from recommender.connect import score_contact_pairs, suggest_connections
    from recommender.network import Network
    from recommender.io.csv_folder import import_folder
    from recommender.meet import MeetModel
    from recommender.sample import SAMPLE_DIR
    from recommender.store import Store
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        with Store(Path(tmp) / "s.db") as store:
            import_folder(store, SAMPLE_DIR)
            from recommender.network import load_network

            net: Network = load_network(store)
    intros = net.introductions
    dates = sorted(d for d in intros["date"].dropna())
    cut = args.cut or dates[int(len(dates) * 0.7)]
    t = time.perf_counter()
    model = MeetModel().fit(net, as_of=cut)
    fit_s = time.perf_counter() - t
    ctx = model.context_
    A = ctx.A
    pos = ctx.position

    def tied(a, b) -> bool:
        return A[a, b] != 0

    after = intros[(intros["date"] > cut) & (intros["outcome"] == "connected")]
    truth: dict[str, set] = {}
    for intro, a, b in after[["introducer", "a", "b"]].itertuples(index=False):
        if intro not in pos or a not in pos or b not in pos:
            continue
        i, x, y = pos[intro], pos[a], pos[b]
        if tied(i, x) and tied(i, y) and not tied(x, y) and not ctx.opt_out[x] and not ctx.opt_out[y]:
            truth.setdefault(intro, set()).add((min(x, y), max(x, y)))
    deg = np.asarray(A.sum(axis=1)).ravel()
    ranked_model, ranked_base, ranked_product, truths = [], [], [], []
    n_pairs = 0
    t = time.perf_counter()
    for intro, pairs in sorted(truth.items()):
        a, b, score, X_ab, _ = score_contact_pairs(model, intro)
        if not len(a):
            continue
        n_pairs += len(a)
        ranked_model.append([(min(x, y), max(x, y)) for x, y in zip(a.tolist(), b.tolist())])
        # baseline: common neighbours (then Adamic-Adar), computed on the graph at the cut
        cn = np.asarray(A[a].multiply(A[b]).sum(axis=1)).ravel()
        inv = 1.0 / np.log(np.maximum(deg, 2))
        aa = np.asarray(A[a].multiply(A[b]).multiply(inv[None, :]).sum(axis=1)).ravel()
        order = np.lexsort((b, a, -aa, -cn))
        ranked_base.append([(min(x, y), max(x, y)) for x, y in zip(a[order].tolist(), b[order].tolist())])
        prod = suggest_connections(model, intro, k=args.k)
        ranked_product.append([tuple(sorted((pos[c.a_id], pos[c.b_id]))) for c in prod])
        truths.append(pairs)
    score_s = time.perf_counter() - t
    m = _metrics(ranked_model, truths, args.k)
    bl = _metrics(ranked_base, truths, args.k)
    pr = _metrics(ranked_product, truths, args.k)
    key = f"hit@{args.k}"
    res = {
        "cut": cut, "introducers": len(truths), "true_pairs": int(sum(len(t) for t in truths)),
        "candidate_pairs": n_pairs, "fit_s": round(fit_s, 2), "score_s": round(score_s, 2),
        "connect": m, "baseline_common_neighbours": bl, "connect_list_with_reasons": pr,
        "ratio": {k: (m[k] / bl[k] if bl[k] else float("inf")) for k in m},
    }
    if args.json:
        print(json.dumps(res, indent=2))
        return res
    print(f"cut {cut}: {res['introducers']} introducers connected {res['true_pairs']} pairs of their contacts "
          f"after it; {n_pairs} candidate pairs ranked (fit {fit_s:.1f} s, scoring {score_s:.2f} s)")
    print(f"{'':<34}{key:>9}{'recall@' + str(args.k):>11}{'MRR':>8}")
    for name, v in (("connect (meet model)", m), ("baseline (common neighbours)", bl),
                    ("connect list (with reasons)", pr)):
        print(f"  {name:<32}{v[key]:>9.3f}{v['recall@' + str(args.k)]:>11.3f}{v['mrr']:>8.3f}")
    r = res["ratio"]
    print(f"  ratio connect / baseline: hit {r[key]:.2f}x, recall {r['recall@' + str(args.k)]:.2f}x, "
          f"MRR {r['mrr']:.2f}x")
    return res


if __name__ == "__main__":
    main()
