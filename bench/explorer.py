"""Benchmark: the explorer on a big network, driven by Streamlit's AppTest (issue 17, item 1).

Builds a network with ``fracnet demo-data --people N`` and imports it (or reuses ``--db``), warms the
model cache and the whole-network insights (timed: the uncached path), then drives ``app.py`` with
``streamlit.testing.v1.AppTest`` as a user would and times, each against its target:

* the Person page's first view (< 2 s), "Add to outreach" (< 0.5 s), moving the per-group slider
  (< 0.5 s), switching person (< 0.5 s), the Insights page's first view (< 5 s);
* logging a referral and the next Person view (no target: it re-reads two tables);
* the first run on a fresh default database (a fresh process, no database yet): time until the
  first message shows (< 1 s), against the time until the page is ready.

Each figure is printed beside its target and the ratio to a baseline measured in the same run:
the per-card outreach lookup every rerun used to rebuild (``outreach_row`` without ``lookup=``, once per
card on the page) for the three interactions, the same view with every explorer cache dropped (the
model still on disk) for the first views, computing the whole-network insights for Insights.
Wall and CPU seconds are both printed (the machine is shared). Before building, the memory the
size needs is estimated against what is available, and a size that does not fit is refused.

Usage::

    python bench/explorer.py --db /tmp/ui/big.db          # reuse a database (built if missing)
    python bench/explorer.py --people 20000               # build a new one in a temp folder
    python bench/explorer.py --db D --profile /tmp/prof   # and a cProfile of each timed run
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _timing import available_memory  # bench/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGES = "recommender/ui/pages/{}.py"
TARGETS = {"person_first_view": 2.0, "add_to_outreach": 0.5, "slider": 0.5, "switch_person": 0.5,
           "insights_first_view": 5.0, "first_run_message": 1.0}
#: Peak memory per person of building (import) and of the explorer with everything loaded, measured at 100k
#: (import ~1.5 GB; the explorer ~2.3 GB), with a margin.
BYTES_PER_PERSON = 30_000


def check_memory(people: int) -> None:
    need, have = people * BYTES_PER_PERSON, available_memory()
    print(f"memory: ~{need / 2**30:.1f} GiB estimated for {people:,} people, {have / 2**30:.1f} GiB available")
    if have and need > have:
        sys.exit(f"bench/explorer.py: {people:,} people need about {need / 2**30:.1f} GiB, but only "
                 f"{have / 2**30:.1f} GiB is available; use --people {int(have / BYTES_PER_PERSON):,} or fewer")


def build(db: Path, people: int) -> None:
    check_memory(people)
    with tempfile.TemporaryDirectory(prefix="fracnet-bench-") as tmp:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for cmd in (["demo-data", "--people", str(people), "--out", tmp, "--quiet"],
                    ["import", tmp, "--db", str(db), "--quiet"]):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "recommender", *cmd], check=True, env=env, stdout=subprocess.DEVNULL)
            print(f"  fracnet {cmd[0]}: {time.perf_counter() - t:.1f} s")


_PROFILE = {}


def _profile_script_runs() -> None:
    """Profile the explorer's script runs (AppTest runs them in a thread of their own) into ``_PROFILE``."""
    import recommender.ui.main as ui_main

    render = ui_main.render

    def profiled(*a, **k):
        prof = _PROFILE.get("current")
        if prof is None:
            return render(*a, **k)
        prof.enable()
        try:
            return render(*a, **k)
        finally:
            prof.disable()
    ui_main.render = profiled


class Timer:
    """Wall and CPU seconds of a block; with ``profile``, a cProfile of the script runs in it written there."""

    def __init__(self, name: str, profile: str | None = None):
        self.name, self.profile = name, profile

    def __enter__(self):
        if self.profile:
            import cProfile

            self.prof = _PROFILE["current"] = cProfile.Profile()
        self.w, self.c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.w, time.process_time() - self.c
        if self.profile:
            import pstats

            _PROFILE.pop("current", None)
            os.makedirs(self.profile, exist_ok=True)
            with open(os.path.join(self.profile, self.name + ".txt"), "w") as fh:
                pstats.Stats(self.prof, stream=fh).sort_stats("cumulative").print_stats(40)
        return False


def warm(db: Path) -> dict:
    """The model from its disk cache (fitted if missing) and the whole-network insights (computed: timed)."""
    from recommender import result_cache
    from recommender.explore import INSIGHTS_CACHE, TrustAdjacency, insights_cache_key, whole_network_insights
    from recommender.model_cache import meet_model
    from recommender.network import load_network
    from recommender.store.db import Store
    from recommender.ui import views

    out = {}
    with Store(db) as store:
        with Timer("model") as t:
            meet_model(store)
        out["model"] = (t.wall, t.cpu)
        with Timer("network") as t:
            fx = views.people_facts(load_network(store))
            adj = TrustAdjacency.from_model(meet_model(store))  # as the explorer builds it
        out["network"] = (t.wall, t.cpu)
        with Timer("insights") as t:
            res = whole_network_insights(adj, fx)
        result_cache.save(store, INSIGHTS_CACHE, insights_cache_key(store), res)
        out["insights"] = (t.wall, t.cpu)
        out["people"], out["ties"] = len(adj), adj.edges
    return out


def working_copy(db: Path, folder: Path) -> Path:
    """A consistent copy of ``db`` with its model cache folder (the same identity and revision: the same keys)."""
    import shutil

    from recommender.model_cache import cache_dir
    from recommender.store.db import Store

    work = folder / "explore.db"
    with Store(db) as s:
        s.backup(work)
        models = cache_dir(s)
    with Store(work) as w:
        if models.is_dir():
            shutil.copytree(models, cache_dir(w))
    return work


def _old_lookups(at, pid: str, cards: int) -> tuple[float, float]:
    """What each rerun of the old Person page spent on outreach rows: one people lookup per card."""
    from recommender.outreach import outreach_row
    from recommender.ui import state

    recs = state.recommendations(pid, 5)[:cards]
    model, net = state.meet_model(), state.network()
    with Timer("old_lookups") as t:
        for rec in recs:
            outreach_row(rec, net, model.person(pid), model.person(rec.candidate_id))
    return t.wall, t.cpu


def drive(db: Path, profile: str | None) -> dict:
    """The user's path through the explorer under AppTest; every figure (wall, cpu)."""
    from streamlit.testing.v1 import AppTest

    os.environ["FRACNET_DB"] = str(db)
    from recommender.store.db import Store

    with Store(db) as s:
        people = s.read_table("people", "kind = 'fractional' AND (opt_out IS NULL OR opt_out = 0)")["id"].tolist()
    first, second = people[41], people[4242 % len(people)]
    if profile:
        _profile_script_runs()
    at = AppTest.from_file(APP, default_timeout=1800)
    out = {}

    def choose(pid):
        """Pick ``pid`` in the sidebar as a user does: type the id in the search box, then choose the match."""
        search = at.sidebar.text_input(key="person_search")
        if search.value != pid:
            search.input(pid).run()
        at.sidebar.selectbox(key="person").set_value(pid)

    def timed(name, step):
        with Timer(name, profile) as t:
            step()
            at.run()
        assert not at.exception, (name, at.exception)
        out[name] = (t.wall, t.cpu)

    timed("first_run", lambda: None)
    choose(first)
    at.run()
    timed("person_first_view", lambda: at.switch_page(PAGES.format("person")))
    adds = [b for b in at.button if b.key.startswith("add_") and not b.disabled]
    cards = len([b for b in at.button if b.key.startswith("add_")])
    out["cards"] = cards
    timed("add_to_outreach", lambda: adds[0].click())
    timed("slider", lambda: at.slider(key="meet_k").set_value(8))
    at.slider(key="meet_k").set_value(5).run()

    with Timer("search", profile) as t:
        at.sidebar.text_input(key="person_search").input(second).run()
    out["search"] = (t.wall, t.cpu)
    timed("switch_person", lambda: at.sidebar.selectbox(key="person").set_value(second))
    out["old_lookups"] = _old_lookups(at, second, cards)
    timed("insights_first_view", lambda: at.switch_page(PAGES.format("insights")))
    out["insights_whole_cached"] = not any("being computed" in i.value for i in at.info)

    # logging a referral re-reads the referral history only
    from recommender.ledger import log_routed_referral
    from recommender.store.db import Store as S
    with S(db) as s:
        log_routed_referral(s, second, first, needs=["fundraising"], description="bench referral")
    timed("person_after_referral", lambda: at.switch_page(PAGES.format("person")))
    # the uncached path: every explorer cache dropped (the model and insights stay on disk)
    from recommender.ui import state
    state.clear_caches()
    timed("person_cold", lambda: None)
    state.clear_caches()
    timed("insights_cold", lambda: at.switch_page(PAGES.format("insights")))
    out["rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return out


_FIRST_RUN_CHILD = r"""
import json, sys, time
from streamlit.elements import alert
import recommender.ui as ui
import recommender.ui.start as start
seen = {}
orig, run = alert.AlertMixin.info, ui.run
def info(self, body, *a, **k):
    if body == start.STARTING and "message" not in seen:
        seen["message"] = time.perf_counter() - seen["start"]
    return orig(self, body, *a, **k)
def timed_run():  # the script's start (app.py calls it first thing)
    seen.setdefault("start", time.perf_counter())
    run()
alert.AlertMixin.info, ui.run = info, timed_run
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=600)
at.run()
ready = time.perf_counter() - seen["start"]
print(json.dumps({"message": seen.get("message"), "ready": ready, "exception": bool(at.exception),
                  "titles": [t.value for t in at.title]}))
"""


def first_run() -> dict:
    """A fresh process on a fresh default database (a temp HOME): when the first message shows, when ready."""
    with tempfile.TemporaryDirectory(prefix="fracnet-home-") as home:
        env = {k: v for k, v in os.environ.items() if k != "FRACNET_DB"}
        env.update(HOME=home, PYTHONPATH=str(ROOT))
        t = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", _FIRST_RUN_CHILD, APP], env=env, capture_output=True,
                              text=True, check=True, cwd=str(ROOT))
        res = json.loads(done.stdout.strip().splitlines()[-1])
        res["process"] = time.perf_counter() - t
        res["db_created"] = (Path(home) / ".fracnet" / "fracnet.db").exists()
    return res


def report(w: dict, d: dict, f: dict) -> list[str]:
    lines = [f"network: {w['people']:,} people, {w['ties']:,} ties; model from cache {w['model'][0]:.1f} s; "
             f"whole-network insights computed in {w['insights'][0]:.1f} s wall ({w['insights'][1]:.1f} s CPU)",
             f"explorer first run (network read, facts, sidebar): {d['first_run'][0]:.1f} s wall "
             f"({d['first_run'][1]:.1f} s CPU); peak RSS {d['rss_gib']:.2f} GiB; {d['cards']} cards on the Person page"]
    old = d["old_lookups"]

    def line(name, label, base, base_label):
        wall, cpu = d[name] if name in d else (f[name], None)
        target = TARGETS.get(name)
        verdict = "" if target is None else ("MET" if wall < target else "MISSED")
        tgt = f"target < {target:g} s" if target is not None else "no target"
        ratio = f"{base / wall:,.1f}x faster than {base_label} ({base:.2f} s)" if base else ""
        cpu_s = f" ({cpu:.2f} s CPU)" if cpu is not None else ""
        lines.append(f"{label:<34} {wall:7.2f} s{cpu_s:<16} {tgt:<15} {verdict:<7} {ratio}")

    line("person_first_view", "Person first view", d["person_cold"][0], "cold, caches dropped")
    line("add_to_outreach", "Add to outreach", old[0], "the old per-card lookups")
    line("slider", "Per-group slider", old[0], "the old per-card lookups")
    line("switch_person", "Switching person", old[0], "the old per-card lookups")
    line("insights_first_view", "Insights first view", w["insights"][0] + d["insights_cold"][0],
         "computing whole-network insights, cold")
    line("person_after_referral", "Person view after a referral", d["person_cold"][0], "cold, caches dropped")
    lines.append(f"{'First run: message shown':<34} {f['message']:7.2f} s{'':<16} target < 1 s    "
                 f"{'MET' if f['message'] < 1 else 'MISSED':<7} page ready at {f['ready']:.1f} s "
                 f"({f['ready'] / f['message']:.0f}x later); sample database created: {f['db_created']}")
    if not d["insights_whole_cached"]:
        lines.append("note: the whole-network insights were not read from the disk cache")
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, help="a database to reuse (built with --people if missing)")
    ap.add_argument("--people", type=int, default=100_000, help="size to build (default 100,000)")
    ap.add_argument("--profile", help="write a cProfile of each timed run into this folder")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    tmp = None
    db = args.db
    if db is None:
        tmp = tempfile.TemporaryDirectory(prefix="fracnet-bench-")
        db = Path(tmp.name) / "big.db"
    if not db.exists():
        print(f"building {args.people:,} people into {db}")
        build(db, args.people)
    else:  # the explorer holds the whole network: check it fits before loading it
        from recommender.store.db import Store

        with Store(db, create=False) as s:
            check_memory(s.counts()["people"])
    w = warm(db)
    with tempfile.TemporaryDirectory(prefix="fracnet-bench-work-") as work_dir:
        work = working_copy(db, Path(work_dir))  # the run writes (outreach, a referral): never into --db
        d = drive(work, args.profile)
    f = first_run()
    if args.json:
        print(json.dumps({"warm": w, "drive": d, "first_run": f}, indent=1))
    else:
        print("\n".join(report(w, d, f)))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
