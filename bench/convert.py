"""Convert the non-fracnet data sets in ../shared/datasets into fracnet CSV folders.

Two input formats are understood (the format is detected from the files in the folder):

``events.csv`` -- a dated message log (``src,dst,time``; time in Unix seconds, UTC), e.g. CollegeMsg.
    * every sender/recipient becomes a person (``people.csv``: id = the log's id, name ``user <id>``,
      kind ``fractional``, no function or tags: the log has none);
    * a tie forms on a pair's **first** message, in either direction (``ties.csv``: ``a,b,since``; ``since``
      is the UTC day of that message). Later messages are *not* written by default: a ``last_contact``
      or a message-count strength would tell a replay cut in the middle of the log about messages after
      the cut. ``--contact`` adds them (``last_contact`` = day of the last message, ``strength`` =
      ``min(1, 0.3 + 0.1 * log2(messages))``) for uses that never replay the past.
    * self messages are dropped.

``nodes.csv`` + ``edges.csv`` -- an attributed, undated graph (``nodes.csv``: ``id,tags`` with
    ``;``-separated ``<category>:<value id>``; ``edges.csv``: ``u,v``), e.g. ego-Facebook. The mapping of
    attributes to fracnet fields:

    =========================== ==================== ============================================
    source category             fracnet field         tag written
    =========================== ==================== ============================================
    ``work.employer``           ``specialties``       ``employer-<K>``
    ``education.school``        ``specialties``       ``school-<K>``
    ``work.position``           ``specialties``       ``position-<K>``
    ``education.concentration`` ``specialties``       ``concentration-<K>``
    ``location``                ``regions``           ``place-<K>``
    ``hometown``                ``regions``           ``place-<K>``
    ``work.location``           ``regions``           ``place-<K>``
    ``education.degree``,       ``bio`` (free text)   ``degree<K> ...`` words (TF-IDF reads bios)
    ``languages``, ``locale``
    everything else (dates,     dropped               (not profile facts a referral engine holds)
    years, classes, types, ...)
    =========================== ==================== ============================================

    Location ids are shared across categories in the source (a city is one id whether it is a
    current location, a hometown or a work location), so they share the ``place-`` prefix. Every
    person is ``kind=fractional`` with no function (the data has no job function); ties have no
    dates and the default strength. With ``--no-tags`` the people get no specialties, regions or bio
    (the structure-only variant).

Held-out ties (``--holdout F --seed S``): a random share F of the ties is removed from ``ties.csv``
and written to ``heldout.csv`` in the same folder (same columns; fracnet's importer only reads the
files it knows, so the folder still imports as is). With ``events.csv`` input the held-out share is
of the pairs, not of the messages.

Usage::

    python bench/convert.py ../shared/datasets/collegemsg /tmp/collegemsg
    python bench/convert.py ../shared/datasets/ego-facebook-dev /tmp/egofb [--no-tags] [--holdout 0.1 --seed 0]
    fracnet import /tmp/egofb --db /tmp/egofb.db

The functions :func:`convert_events` and :func:`convert_attributed` return the tables as DataFrames
for use from other benches.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

#: source category -> (fracnet field, tag prefix)
TAG_MAP = {
    "work.employer": ("specialties", "employer"),
    "education.school": ("specialties", "school"),
    "work.position": ("specialties", "position"),
    "education.concentration": ("specialties", "concentration"),
    "location": ("regions", "place"),
    "hometown": ("regions", "place"),
    "work.location": ("regions", "place"),
}
#: source categories written as words of the bio
BIO_CATEGORIES = {"education.degree": "degree", "languages": "language", "locale": "locale"}


def detect_format(folder: str | Path) -> str:
    """``"events"``, ``"attributed"`` or ``"fracnet"``; ValueError naming what was expected otherwise."""
    folder = Path(folder)
    if (folder / "people.csv").is_file():
        return "fracnet"
    if (folder / "events.csv").is_file():
        return "events"
    if (folder / "nodes.csv").is_file() and (folder / "edges.csv").is_file():
        return "attributed"
    raise ValueError(f"{folder}: unknown format; expected events.csv (src,dst,time), nodes.csv + edges.csv "
                     f"(id,tags / u,v), or a fracnet folder with people.csv")


def _split_holdout(ties: pd.DataFrame, holdout: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    if not holdout:
        return ties.reset_index(drop=True), ties.iloc[:0].copy()
    if not 0 < holdout < 1:
        raise ValueError(f"--holdout must be between 0 and 1, got {holdout}")
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(ties), dtype=bool)
    mask[rng.choice(len(ties), int(round(holdout * len(ties))), replace=False)] = True
    return ties[~mask].reset_index(drop=True), ties[mask].reset_index(drop=True)


def convert_events(folder: str | Path, *, contact: bool = False) -> dict[str, pd.DataFrame]:
    """``events.csv`` -> ``{"people": ..., "ties": ...}`` (a tie per pair, ``since`` = first message day)."""
    ev = pd.read_csv(Path(folder) / "events.csv", dtype={"src": str, "dst": str})
    ev = ev[ev["src"] != ev["dst"]]
    a = np.where(ev["src"] < ev["dst"], ev["src"], ev["dst"])
    b = np.where(ev["src"] < ev["dst"], ev["dst"], ev["src"])
    day = pd.to_datetime(ev["time"].astype("int64"), unit="s", utc=True).dt.strftime("%Y-%m-%d")
    df = pd.DataFrame({"a": a, "b": b, "day": day.to_numpy(), "t": ev["time"].to_numpy()})
    g = df.groupby(["a", "b"], sort=False)
    ties = g.agg(since=("day", "min"), last_contact=("day", "max"), n=("t", "size"), t0=("t", "min")).reset_index()
    ties = ties.sort_values(["t0", "a", "b"], kind="stable").reset_index(drop=True)
    if contact:
        ties["strength"] = np.minimum(1.0, 0.3 + 0.1 * np.log2(ties["n"].to_numpy()))
        ties = ties[["a", "b", "strength", "since", "last_contact"]]
    else:
        ties = ties[["a", "b", "since"]]
    ids = pd.unique(np.r_[ev["src"].to_numpy(), ev["dst"].to_numpy()])
    ids = sorted(ids, key=lambda s: (len(s), s))
    people = pd.DataFrame({"id": ids, "name": [f"user {i}" for i in ids], "kind": "fractional"})
    return {"people": people, "ties": ties}


def person_fields(tags: str) -> dict[str, str]:
    """One ``nodes.csv`` tag string -> the fracnet fields ``specialties``, ``regions``, ``bio``."""
    spec: list[str] = []
    reg: list[str] = []
    bio: list[str] = []
    for tok in (tags or "").split(";"):
        if ":" not in tok:
            continue
        cat, val = tok.rsplit(":", 1)
        if cat in TAG_MAP:
            field, prefix = TAG_MAP[cat]
            (spec if field == "specialties" else reg).append(f"{prefix}-{val}")
        elif cat in BIO_CATEGORIES:
            bio.append(f"{BIO_CATEGORIES[cat]}{val}")
    uniq = lambda xs: ";".join(dict.fromkeys(xs))  # noqa: E731 - keep the first-seen order
    return {"specialties": uniq(spec), "regions": uniq(reg), "bio": " ".join(dict.fromkeys(bio))}


def convert_attributed(folder: str | Path, *, tags: bool = True) -> dict[str, pd.DataFrame]:
    """``nodes.csv`` + ``edges.csv`` -> ``{"people": ..., "ties": ...}`` (see the module's mapping)."""
    folder = Path(folder)
    nodes = pd.read_csv(folder / "nodes.csv", dtype=str, keep_default_na=False)
    edges = pd.read_csv(folder / "edges.csv", dtype=str)
    people = pd.DataFrame({"id": nodes["id"], "name": "person " + nodes["id"], "kind": "fractional"})
    if tags:
        f = pd.DataFrame([person_fields(t) for t in nodes["tags"]])
        people = pd.concat([people, f], axis=1)
    known = set(people["id"])
    extra = sorted((set(edges["u"]) | set(edges["v"])) - known, key=lambda s: (len(s), s))
    if extra:  # people who appear only in edges
        people = pd.concat([people, pd.DataFrame({"id": extra, "name": [f"person {i}" for i in extra],
                                                  "kind": "fractional"})], ignore_index=True)
    e = edges[edges["u"] != edges["v"]]
    a = np.where(e["u"] < e["v"], e["u"], e["v"])
    b = np.where(e["u"] < e["v"], e["v"], e["u"])
    ties = pd.DataFrame({"a": a, "b": b}).drop_duplicates().reset_index(drop=True)
    return {"people": people.fillna(""), "ties": ties}


def convert(src: str | Path, out: str | Path, *, holdout: float = 0.0, seed: int = 0, tags: bool = True,
            contact: bool = False) -> dict[str, int]:
    """Convert ``src`` into the fracnet folder ``out``; returns counts written."""
    fmt = detect_format(src)
    if fmt == "fracnet":
        raise ValueError(f"{src} is already a fracnet folder (it has people.csv); import it as is")
    tables = convert_events(src, contact=contact) if fmt == "events" else convert_attributed(src, tags=tags)
    ties, held = _split_holdout(tables["ties"], holdout, seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tables["people"].to_csv(out / "people.csv", index=False)
    ties.to_csv(out / "ties.csv", index=False)
    if len(held):
        held.to_csv(out / "heldout.csv", index=False)
    elif (out / "heldout.csv").exists():
        (out / "heldout.csv").unlink()
    return {"format": fmt, "people": len(tables["people"]), "ties": len(ties), "heldout": len(held)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("src", help="a folder with events.csv, or with nodes.csv and edges.csv")
    p.add_argument("out", help="the fracnet folder to write (people.csv, ties.csv[, heldout.csv])")
    p.add_argument("--holdout", type=float, default=0.0, help="share of ties written to heldout.csv instead")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-tags", action="store_true", help="attributed graphs: people without tags")
    p.add_argument("--contact", action="store_true", help="message logs: also last_contact and strength")
    a = p.parse_args(argv)
    try:
        counts = convert(a.src, a.out, holdout=a.holdout, seed=a.seed, tags=not a.no_tags, contact=a.contact)
    except (ValueError, OSError) as exc:
        print(f"convert: error: {exc}", file=sys.stderr)
        return 2
    print(f"{a.src} ({counts['format']}) -> {a.out}: {counts['people']:,} people, {counts['ties']:,} ties"
          + (f", {counts['heldout']:,} held out in heldout.csv" if counts["heldout"] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
