"""``fracnet batch meet|refer``: whole-network jobs written to a CSV or Parquet file."""

from __future__ import annotations

from recommender.cli._common import add_command, add_group, check_positive, hops, open_store, positive_int, print_json


def _job(bsub, name: str, run, help: str, description: str):
    """A batch job: a command with --quiet besides --db and --json."""
    p = add_command(bsub, name, run, help, description)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def register(sub) -> None:
    bsub = add_group(sub, "batch", "whole-network jobs: everyone's who-to-meet lists, many referrals at once",
                     """Batch jobs over the whole network, written to a .csv or .parquet file (atomically: an
                     interrupted run leaves no file). Runs in-process, or on Dask with --engine dask.""",
                     dest="batch_command", metavar="JOB", code=0)

    m = _job(bsub, "meet", run_meet, "who should everyone meet next (top K per person and group)",
             """Score every person (opted-out people are never candidates and get no list) in row blocks with
             sparse products, and write the top K per person and group: person_id, rank, group, candidate_id,
             score, introducer_id, introducer_trust, top_reason. Each person's list equals `fracnet meet PERSON
             --json`.""")
    m.add_argument("--out", required=True, metavar="FILE", help="output file, .csv or .parquet")
    m.add_argument("--top-k", "--k", dest="k", type=int, default=10, metavar="K",
                   help="recommendations per person and group (default: 10)")
    m.add_argument("--group", choices=("all", "peers", "adjacent", "executives"), default="all",
                   help="one group, or all three (default: all)")
    m.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="run blocks in this process (local) or on Dask distributed (default: local)")
    m.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (default with --engine dask: "
                        "a local cluster of 2 worker processes)")
    m.add_argument("--block-size", type=int, default=None, metavar="N",
                   help="people per block; bounds memory, never changes results (default: 1024 on the "
                        "compiled path, 256 otherwise)")
    m.add_argument("--model", metavar="PATH", help="use a model saved with `fracnet meet --save-model`")

    r = _job(bsub, "refer", run_refer, "route many opportunities at once (one output row per pick)",
             """Route every opportunity of a CSV file (columns like opportunities.csv: id, brought_by, needs,
             industry, size_band, region, description) and write one row per pick: opportunity_id, brought_by,
             in_lane, lane_fit, rank, person_id, name, score, covers, partially_covers, trust_path, hops,
             capacity. Bad rows are reported (file:line: field) before any routing.""")
    r.add_argument("opportunities", metavar="OPPORTUNITIES.csv", help="the opportunities to route")
    r.add_argument("--out", required=True, metavar="FILE", help="output file, .csv or .parquet")
    r.add_argument("--k", type=positive_int, default=3, metavar="K", help="picks per opportunity (default: 3)")
    r.add_argument("--max-hops", type=hops, default=2, metavar="H",
                   help="candidates within H ties of the referrer (default: 2)")
    r.add_argument("--anyway", action="store_true",
                   help="also route rows whose status is closed (won, lost, closed); skipped by default")

    o = _job(bsub, "outreach", run_outreach, "one outreach list per person, in a folder",
             """Write every person's outreach list (as `fracnet export outreach --person ID`) to
             DIR/<person_id>.csv or .xlsx. Opted-out people get no list and appear in none.""")
    o.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    o.add_argument("--per-group", type=positive_int, default=15, metavar="N", help="people per group (default: 15)")
    o.add_argument("--format", choices=("csv", "xlsx"), default="csv", help="file format (default: csv)")


def _bar(args, total: int, desc: str, unit: str):
    from recommender.progress import progress_bar, wants_progress

    bar = progress_bar(total, desc, enabled=wants_progress(args.quiet), unit=unit)
    state = {"done": 0}

    def update(done: int, _total: int) -> None:
        bar.update(done - state["done"])
        state["done"] = done

    return bar, update


def _print_summary(args, summary, what: str) -> None:
    if args.json:
        print_json(summary.as_dict())
        return
    d = summary.as_dict()
    line = (f"wrote {d['rows']:,} rows for {d['people']:,} {what} to {d['out']} "
            f"in {d['seconds']:.1f} s (peak memory {d['peak_memory_mb']:,.0f} MiB")
    if "fit_seconds" in d:
        line += f"; model fit {d['fit_seconds']:.1f} s"
    if "path" in d:
        line += f"; scored on the {d['path']} path"
    line += ")"
    print(line)
    if d.get("skipped_closed"):
        print(f"note: skipped {d['skipped_closed']} of {d['opportunities']} opportunities that are closed "
              "(won, lost, closed); --anyway routes them too")
    if d.get("without_picks"):
        print(f"note: {d['without_picks']} of {d['opportunities']} opportunities had no picks "
              "(nobody in reach covers their needs)")


def run_meet(args) -> int:
    import time

    from recommender.batch.meet import batch_meet
    from recommender.batch.writer import check_output
    from recommender.errors import UsageError
    from recommender.meet.model import MeetModel

    check_positive(args.k, "--top-k")  # checked here, not by the parser: one line on stderr, exit 2, no usage text
    if args.block_size is not None:
        check_positive(args.block_size, "--block-size")
    if args.scheduler and args.engine != "dask":
        raise UsageError("--scheduler needs --engine dask")
    check_output(args.out)  # before any work
    from contextlib import nullcontext

    from recommender.batch.engines import _dask_client

    # connect to the cluster before fitting, so an unreachable scheduler fails in seconds
    with (_dask_client(args.scheduler) if args.engine == "dask" else nullcontext()) as client:
        t0 = time.perf_counter()
        if args.model:
            model = MeetModel.load(args.model)
        else:
            from recommender.model_cache import meet_model

            with open_store(args) as store:
                model = meet_model(store)  # reads the network only when no model is cached for this revision
        fit_seconds = time.perf_counter() - t0
        bar, update = _bar(args, len(model.context_), "batch meet", "people")
        try:
            summary = batch_meet(model, args.out, k=args.k, group=args.group,
                                 block_size=args.block_size, engine=args.engine,
                                 scheduler=args.scheduler, client=client, progress=update)
        finally:
            bar.close()
    summary.extra["fit_seconds"] = round(fit_seconds, 3)
    _print_summary(args, summary, "people")
    return 0


def run_refer(args) -> int:
    from recommender.batch.refer import batch_refer, read_opportunities
    from recommender.batch.writer import check_output
    from recommender.model_cache import router

    check_output(args.out)
    with open_store(args) as store:
        # the file is checked first: a refused file leaves the database (and its model cache) as it was
        n = len(read_opportunities(args.opportunities, sorted(store.ids("people"))))
        fitted = router(store)  # the router cached for this revision (as `fracnet refer`'s), fitted only when none is
    bar, update = _bar(args, n, "batch refer", "opportunities")
    try:
        summary = batch_refer(None, args.opportunities, args.out, k=args.k, max_hops=args.max_hops,
                              router=fitted, progress=update, anyway=args.anyway)
    finally:
        bar.close()
    _print_summary(args, summary, "referrers")
    return 0


def run_outreach(args) -> int:
    import time

    from recommender.model_cache import meet_model
    from recommender.network import load_network
    from recommender.outreach import write_outreach_lists

    t0 = time.perf_counter()
    with open_store(args) as store:
        network = load_network(store)
        model = meet_model(store, network=network)
    bar, update = _bar(args, len(network.people), "outreach lists", "people")
    try:
        result = write_outreach_lists(model, network, args.out, per_group=args.per_group, fmt=args.format,
                                      progress=update)
    finally:
        bar.close()
    result["seconds"] = round(time.perf_counter() - t0, 3)
    if args.json:
        print_json(result)
    else:
        print(f"wrote {result['files']:,} outreach lists ({result['rows']:,} rows) to {result['dir']}/ "
              f"in {result['seconds']:.1f} s; {result['skipped_opted_out']} opted-out people get none")
    return 0
