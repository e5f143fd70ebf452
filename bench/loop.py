"""Benchmark the weekly loop: every pipeline command and ``fracnet week`` on a big network, model cached.

Each command is run through the CLI's ``main`` (argument parsing, opening the
database, the library call, printing) in one warm process, so the figure is
what the command costs, not Python's start-up. The model is fitted and cached
first (once); pipeline writes (``me``, ``outreach ...``) raise only the
practice revision, so the cached model stays valid through them, and
``week`` loads it from the cache. ``touch`` changes a tie (a network change)
and is timed last; it does not need the model.

Usage::

    fracnet demo-data --people 100000 --out D && fracnet import D --db big.db
    python bench/loop.py --db big.db [--repeat 3] [--json]

Without ``--db`` a network of ``--people`` (default 100,000) is generated and
imported into a temporary folder first (a few minutes).

Target: every command under 1 s (the maximum over ``--repeat`` runs is printed).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _run(argv: list[str]) -> tuple[float, int, str]:
    from recommender.cli import main

    out, err = io.StringIO(), io.StringIO()
    t = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return time.perf_counter() - t, code, out.getvalue() + err.getvalue()


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", help="an imported network (copied first; the original is not changed)")
    p.add_argument("--people", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="fracnet-loop-"))
    try:
        db = tmp / "loop.db"
        if args.db:
            shutil.copyfile(args.db, db)  # the model cache is keyed on the path: fitted once below
        else:
            from recommender.cli import main as cli

            assert cli(["demo-data", "--people", str(args.people), "--seed", "7", "--out", str(tmp / "d")]) == 0
            assert cli(["import", str(tmp / "d"), "--db", str(db), "--quiet", "--json"]) == 0
        from recommender.model_cache import meet_model
        from recommender.store import Store

        with Store(db) as store:
            people = store.counts()["people"]
            t = time.perf_counter()
            meet_model(store)  # fitted once and cached (not part of the target)
            fit_s = time.perf_counter() - t
            me = store.con.execute("SELECT a, COUNT(*) n FROM ties GROUP BY a ORDER BY n DESC LIMIT 1").fetchone()[0]
            revision = store.revision
            others = [r[0] for r in store.con.execute(
                "SELECT id FROM people WHERE id != ? AND COALESCE(opt_out, 0) = 0 AND id NOT IN "
                "(SELECT b FROM ties WHERE a = ?) AND id NOT IN (SELECT a FROM ties WHERE b = ?) LIMIT 40",
                (me, me, me))]
        d = ["--db", str(db)]
        plan = [("me --set-id", ["me", "--set-id", me, "--json"]),
                ("week (before any meet: loads the model)", ["week", "--json"])]
        for r in range(args.repeat):
            plan += [
                ("outreach add", ["outreach", "add", others[r], "--note", "met at the summit", "--follow-up", "today",
                                  "--json"]),
                ("outreach add", ["outreach", "add", others[10 + r], "--follow-up", "+3d", "--json"]),
                ("outreach list", ["outreach", "list", "--json"]),
                ("outreach set", ["outreach", "set", others[r], "asked the introducer", "--follow-up", "+7d",
                                  "--json"]),
                ("outreach list --status", ["outreach", "list", "--status", "asked_introducer", "--json"]),
                ("outreach remove", ["outreach", "remove", others[10 + r], "--json"]),
                ("week", ["week", "--json"]),
                ("export followups", ["export", "followups", "--out", str(tmp / "f.ics"), "--json"]),
            ]
        times: dict[str, list[float]] = {}
        for name, argv_ in plan:
            s, code, text = _run(argv_ + d)
            if code != 0:
                raise SystemExit(f"{name} failed ({code}): {text[-400:]}")
            times.setdefault(name, []).append(s)
        with Store(db) as store:
            kept = store.revision == revision  # pipeline writes left the model's revision alone
        s, code, text = _run(["meet", "--k", "5", "--json"] + d)  # for me: also keeps week's suggestions
        times["meet for me (loads the model; keeps week's suggestions)"] = [s]
        s, code, text = _run(["week", "--json"] + d)
        times["week after meet"] = [s]
        s, code, text = _run(["touch", others[20], "--kind", "call", "--json"] + d)
        times["touch"] = [s]
        # a touch changes the network; week then answers from the suggestions it kept, without refitting
        for _ in range(args.repeat):
            s, code, text = _run(["week", "--json"] + d)
            if code != 0:
                raise SystemExit(f"week after touch failed ({code}): {text[-400:]}")
            times.setdefault("week after a touch", []).append(s)
        res = {"people": people, "me": me, "fit_s": round(fit_s, 2), "model_revision_unchanged": kept,
               "seconds": {k: round(max(v), 3) for k, v in times.items()},
               "max_s": round(max(max(v) for k, v in times.items() if "loads the model" not in k), 3),
               "load_average": os.getloadavg()[0]}
        res["under_1s"] = res["max_s"] < 1.0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print(f"{res['people']:,} people, me = {res['me']}; model fitted and cached in {res['fit_s']} s "
              f"(not timed below); pipeline writes kept the model's revision: {res['model_revision_unchanged']}")
        print("  (seconds, the maximum over the runs)")
        for k, v in res["seconds"].items():
            print(f"  {k:<56} {v:7.3f} s")
        print(f"slowest pipeline/week command {res['max_s']:.3f} s (the week that loads the model from disk "
              f"counted apart): " + ("under 1 s" if res["under_1s"] else "OVER 1 s")
              + f"; load average {res['load_average']:.1f} on {os.cpu_count()} cores")
    return res


if __name__ == "__main__":
    os.environ.setdefault("FRACNET_QUIET", "1")
    main()
