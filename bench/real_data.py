"""Every quality evaluation of issue 14 on the real data sets, one table per data set, from one run.

* ego-facebook-dev: ``fracnet evaluate ties --holdout 0.1 --runs 3`` with the profile tags and without them
  (bench/convert.py's mapping), and the refer cases of bench/refer_real.py;
* collegemsg: ``fracnet evaluate history`` (a tie forms on a pair's first message);
* usair, ns: ``fracnet evaluate links EDGES --splits DIR`` (the fixed SEAL/WalkPool splits).

Usage::

    python bench/real_data.py [--datasets /work/shared/datasets] [--only ego collegemsg links refer]

Each evaluation runs the CLI in a subprocess with ``--json`` and prints its table; ``--out FILE.json``
keeps everything.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from convert import convert  # noqa: E402

METRICS_TIES = ("recall@10", "recall@20", "mrr", "ndcg@10", "candidate_recall")


def fracnet(*args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "recommender", *args, "--json"], capture_output=True, text=True,
                         env=env, check=True)
    res = json.loads(out.stdout)
    res["_seconds"] = time.perf_counter() - t0
    return res


def _table(title: str, methods: dict, cols) -> None:
    print(f"\n{title}")
    print(f"  {'method':<20}" + "".join(f"{c:>17}" for c in cols))
    for name, m in methods.items():
        print(f"  {name:<20}" + "".join(f"{m[c]:>17.4f}" if isinstance(m.get(c), (int, float)) else f"{'-':>17}"
                                        for c in cols))


def _lift(methods: dict, metric: str, exclude=("fracnet", "random")) -> str:
    best = max((v[metric], n) for n, v in methods.items() if n not in exclude and v.get(metric) is not None)
    f = methods["fracnet"][metric]
    return f"fracnet {f:.4f} vs best heuristic {best[1]} {best[0]:.4f}: x{f / best[0]:.3f}" if best[0] else "-"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", default="/work/shared/datasets")
    p.add_argument("--only", nargs="+", default=["ego", "collegemsg", "links", "refer"])
    p.add_argument("--out", default=None)
    a = p.parse_args(argv)
    data = Path(a.datasets)
    results = {}
    with tempfile.TemporaryDirectory(prefix="fracnet-real-") as tmp:
        tmp = Path(tmp)
        if "ego" in a.only:
            for tags in (True, False):
                folder = tmp / f"ego-{'tags' if tags else 'notags'}"
                convert(data / "ego-facebook-dev", folder, tags=tags)
                res = fracnet("evaluate", "ties", str(folder), "--holdout", "0.1", "--runs", "3", "--seed", "0")
                key = f"ego-facebook-dev ties ({'with' if tags else 'without'} tags)"
                results[key] = res
                _table(f"{key}: fracnet evaluate ties FOLDER --holdout 0.1 --runs 3 "
                       f"({res['queries']:,} queries, {res['_seconds']:.0f} s)", res["methods"], METRICS_TIES)
                per = ", ".join(f"{r['recall@10']['fracnet']:.4f}/{max(v for n, v in r['recall@10'].items() if n not in ('fracnet', 'random')):.4f}"
                                for r in res["per_run"])
                print(f"  {_lift(res['methods'], 'recall@10')}; per run fracnet/best: {per}")
                print(f"  model: {res['model'].get('description')}")
        if "collegemsg" in a.only:
            folder = tmp / "collegemsg"
            convert(data / "collegemsg", folder)
            db = tmp / "collegemsg.db"
            env = dict(os.environ, PYTHONPATH=str(ROOT))
            subprocess.run([sys.executable, "-m", "recommender", "import", str(folder), "--db", str(db)],
                           capture_output=True, env=env, check=True)
            res = fracnet("evaluate", "history", "--db", str(db))
            results["collegemsg history"] = res
            _table(f"collegemsg: fracnet evaluate history (fit before {res['split_date']}; {res['n_queries']} people, "
                   f"{res['n_positives']} new ties; candidate recall {res['candidate_recall']:.3f}; "
                   f"{res['_seconds']:.0f} s)", res["methods"], ("recall@10", "mrr", "ndcg@10"))
            print(f"  {_lift(res['methods'], 'recall@10')}")
            print(f"  model: {res['model'].get('description')}")
        if "links" in a.only:
            for name in ("usair", "ns"):
                res = fracnet("evaluate", "links", str(data / name / "edges.csv"), "--splits", str(data / name / "splits"))
                results[f"{name} links"] = res
                _table(f"{name}: fracnet evaluate links edges.csv --splits splits ({res['_seconds']:.0f} s; "
                       f"published WalkPool {'98.68' if name == 'usair' else '98.95'})", res["methods"], ("auc", "auc_std", "ap"))
        if "refer" in a.only:
            from refer_real import METHODS, run_seed
            from convert import convert_attributed

            tables = convert_attributed(data / "ego-facebook-dev")
            rows = [run_seed(tables, s, 1000) for s in (0, 1, 2)]
            results["ego-facebook-dev refer"] = rows
            print(f"\nego-facebook-dev refer: python bench/refer_real.py (k=3, two hops, 1,000 cases per seed)")
            print(f"  {'seed':>4} {'cases':>6} {'ambig':>6}  " + "  ".join(f"{m:>26}" for m in METHODS))
            for r in rows:
                print(f"  {r['seed']:>4} {r['cases']:>6} {r['ambiguous']:>6}  "
                      + "  ".join(f"{r['hit'][m]:>12.1%} / {r['hit_ambiguous'][m]:>11.1%}" for m in METHODS))
    if a.out:
        Path(a.out).write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
