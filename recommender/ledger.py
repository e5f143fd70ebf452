"""The referral ledger: logging referrals and outcomes, the go-giver balance,
and track records.

Writes (:func:`log_referral`, :func:`record_outcome`) are one store
transaction each and refuse what makes no sense, with the reason, writing
nothing. An outcome moves only along::

    pending -> accepted | declined
    accepted -> won | lost
    declined, won, lost: final

Reads (:func:`referral_ledger`, :func:`track_record`) work on a
:class:`~recommender.network.Network`, so they can be replayed ``as of`` a date.

Example
-------
>>> smoothed_rate(3, 4, prior_mean=0.5, prior_strength=2)
0.6666666666666666
>>> allowed_outcomes("pending")
('accepted', 'declined')
"""

from __future__ import annotations

from datetime import date as _date

from typing import TYPE_CHECKING

import numpy as np

from recommender.errors import UnknownIdError, UsageError
from recommender.store.schema import REFERRAL_OUTCOMES

if TYPE_CHECKING:  # annotations only: the outcome codes and rates are read by routing without pandas
    import pandas as pd

__all__ = [
    "OUTCOME_CODES",
    "TRANSITIONS",
    "allowed_outcomes",
    "smoothed_rate",
    "log_referral",
    "record_outcome",
    "referral_ledger",
    "track_record",
]

#: Integer codes of referral outcomes (array work).
OUTCOME_CODES = {name: i for i, name in enumerate(REFERRAL_OUTCOMES)}
#: Allowed outcome changes; outcomes not listed as keys' values are final.
TRANSITIONS = {
    "pending": ("accepted", "declined"),
    "accepted": ("won", "lost"),
    "declined": (),
    "won": (),
    "lost": (),
}
#: Outcomes that mean the referred person took the work on.
TOOK = ("accepted", "won", "lost")


def allowed_outcomes(current: str) -> tuple[str, ...]:
    """The outcomes a referral in state ``current`` may move to."""
    return TRANSITIONS.get(current or "pending", ())


def smoothed_rate(successes, trials, prior_mean: float, prior_strength: float):
    """Beta-smoothed rate ``(successes + m p) / (trials + m)``.

    A Beta(``m p``, ``m (1 - p)``) prior with mean ``p = prior_mean`` and
    ``m = prior_strength`` pseudo-trials; with no trials it is the prior mean.
    Works on scalars and arrays.
    """
    s = np.asarray(successes, dtype=float)
    t = np.asarray(trials, dtype=float)
    out = (s + prior_strength * prior_mean) / (t + prior_strength)
    return float(out) if out.ndim == 0 else out


def _check_person(con, person_id: str, store, role: str) -> dict:
    row = con.execute("SELECT id, name, kind, opt_out FROM people WHERE id = ?", (person_id,)).fetchone()
    if row is None:
        raise UnknownIdError("person", person_id, store.suggest_ids("people", person_id))
    return {"id": row[0], "name": row[1] or row[0], "kind": row[2], "opt_out": bool(row[3] or 0), "role": role}


def log_referral(store, opportunity_id: str | None, to_id: str, *, from_id: str | None = None, date=None,
                 new_opportunity: dict | None = None, anyway: bool = False) -> dict:
    """Record that ``from_id`` referred opportunity ``opportunity_id`` to ``to_id``.

    One transaction: the referral (outcome ``pending``, id ``r<N>``) is
    inserted and an ``open`` opportunity becomes ``referred``. With
    ``new_opportunity`` (a dict of opportunity columns: needs, industry,
    size_band, region, description) and ``opportunity_id=None``, the
    opportunity is recorded in the same transaction (brought by ``from_id``),
    so a refused referral leaves nothing behind.

    Parameters
    ----------
    store : Store
    opportunity_id, to_id : str
    from_id : str, optional
        Default: the opportunity's ``brought_by``.
    date : str, optional
        ``YYYY-MM-DD``; default today.
    anyway : bool, default False
        Log a referral on a closed (won, lost, closed) opportunity, or one
        brought by someone other than ``from_id``; refused otherwise
        (:func:`recommender.refer.request.check_opportunity`).

    Returns
    -------
    dict
        The referral's columns plus ``opportunity_status`` (after the write).

    Raises
    ------
    UnknownIdError
        Unknown opportunity or person (with suggestions).
    UsageError
        Referring to oneself or to someone who opted out, a duplicate, or no
        referrer known.
    """
    from recommender.network import parse_as_of

    day = parse_as_of(date) or _date.today().isoformat()
    if new_opportunity is not None and (opportunity_id or not from_id):
        raise UsageError("new_opportunity needs from_id and no opportunity_id")
    with store.transaction() as con:
        if new_opportunity is not None:
            opportunity_id = store.next_id("opportunities", "o")
            needs = new_opportunity.get("needs") or ()
            con.execute("INSERT INTO opportunities (id, date, brought_by, needs, industry, size_band, region, "
                        "description, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open')",
                        (opportunity_id, day, from_id, needs if isinstance(needs, str) else ";".join(needs),
                         new_opportunity.get("industry") or None, new_opportunity.get("size_band") or None,
                         new_opportunity.get("region") or None, new_opportunity.get("description") or None))
        opp = con.execute("SELECT id, brought_by, status FROM opportunities WHERE id = ?", (opportunity_id,)).fetchone()
        if opp is None:
            raise UnknownIdError("opportunity", opportunity_id, store.suggest_ids("opportunities", opportunity_id))
        frm = from_id or opp[1]
        if not frm:
            raise UsageError(f"opportunity {opportunity_id!r} has no brought_by; say who refers it",
                             hint="pass --from PERSON")
        giver = _check_person(con, frm, store, "from")
        taker = _check_person(con, to_id, store, "to")
        if giver["id"] == taker["id"]:
            raise UsageError(f"cannot refer an opportunity from {frm!r} to themselves; nothing was written")
        from recommender.refer.request import check_opportunity

        def name_of(pid):
            row = con.execute("SELECT name FROM people WHERE id = ?", (pid,)).fetchone()
            return (row[0] if row else None) or pid

        # a closed opportunity, or someone else's: refused unless asked (the one request check)
        check_opportunity({"id": opp[0], "brought_by": opp[1], "status": opp[2]}, frm,
                          anyway=anyway, action="written", name_of=name_of)
        if taker["opt_out"]:
            raise UsageError(f"{taker['name']} ({to_id}) opted out of referrals; nothing was written")
        dup = con.execute("SELECT id, outcome FROM referrals WHERE opportunity_id = ? AND from_id = ? AND to_id = ?",
                          (opportunity_id, frm, to_id)).fetchone()
        if dup is not None:
            raise UsageError(f"{frm} already referred {opportunity_id} to {to_id} as {dup[0]} ({dup[1]}); "
                             "nothing was written",
                             hint=f"record its outcome with 'fracnet referral outcome {dup[0]} ...'")
        rid = store.next_id("referrals", "r")
        row = {"id": rid, "opportunity_id": opportunity_id, "from_id": frm, "to_id": to_id, "date": day,
               "outcome": "pending"}
        con.execute("INSERT INTO referrals (id, opportunity_id, from_id, to_id, date, outcome) VALUES (?, ?, ?, ?, ?, ?)",
                    tuple(row.values()))
        status = opp[2] or "open"
        if status == "open":
            status = "referred"
            con.execute("UPDATE opportunities SET status = ? WHERE id = ?", (status, opportunity_id))
    return {**row, "opportunity_status": status}


def record_outcome(store, referral_id: str, outcome: str) -> dict:
    """Move referral ``referral_id`` to ``outcome`` (one transaction).

    A ``won`` referral also marks its opportunity ``won``. Recording the
    outcome a referral already has changes nothing (``changed`` is False).

    Returns
    -------
    dict
        ``id, previous, outcome, changed, opportunity_id, opportunity_status``.

    Raises
    ------
    UnknownIdError
        Unknown referral id (with suggestions).
    UsageError
        An unknown outcome, or a transition that makes no sense (e.g. won
        after declined); nothing is written.
    """
    if outcome not in OUTCOME_CODES:
        raise UsageError(f"unknown outcome {outcome!r}; expected one of {', '.join(REFERRAL_OUTCOMES)}")
    with store.transaction() as con:
        row = con.execute("SELECT id, opportunity_id, outcome FROM referrals WHERE id = ?", (referral_id,)).fetchone()
        if row is None:
            raise UnknownIdError("referral", referral_id, store.suggest_ids("referrals", referral_id))
        current = row[2] or "pending"
        opp_status = con.execute("SELECT status FROM opportunities WHERE id = ?", (row[1],)).fetchone()
        opp_status = opp_status[0] if opp_status else None
        if outcome == current:
            return {"id": row[0], "previous": current, "outcome": outcome, "changed": False,
                    "opportunity_id": row[1], "opportunity_status": opp_status}
        allowed = allowed_outcomes(current)
        if outcome not in allowed:
            if allowed:
                why = f"a {current} referral can only become {' or '.join(allowed)}"
            else:
                why = f"{current} is final"
            hint = "record 'accepted' first" if current == "pending" and outcome in ("won", "lost") else None
            raise UsageError(f"cannot mark referral {referral_id} {outcome}: {why}; nothing was written", hint=hint)
        con.execute("UPDATE referrals SET outcome = ? WHERE id = ?", (outcome, referral_id))
        if outcome == "won" and opp_status != "won":
            con.execute("UPDATE opportunities SET status = 'won' WHERE id = ?", (row[1],))
            opp_status = "won"
    return {"id": row[0], "previous": current, "outcome": outcome, "changed": True,
            "opportunity_id": row[1], "opportunity_status": opp_status}


# ---------------------------------------------------------------------------
# Reading the ledger
# ---------------------------------------------------------------------------


def _period(dates: pd.Series, by: str) -> pd.Series:
    import pandas as pd

    d = pd.to_datetime(dates, errors="coerce")
    if by == "year":
        out = d.dt.year.astype("Int64").astype(str)
    else:
        out = d.dt.year.astype("Int64").astype(str) + "-Q" + d.dt.quarter.astype("Int64").astype(str)
    return out.where(d.notna(), "undated")


def _outcome_counts(df: pd.DataFrame) -> dict:
    vc = df["outcome"].fillna("pending").value_counts()
    return {o: int(vc.get(o, 0)) for o in REFERRAL_OUTCOMES}


def track_record(network, person_id: str, *, as_of=None, prior_mean: tuple[float, float] | None = None,
                 prior_strength: float = 4.0) -> dict:
    """Referrals ``person_id`` received (dated before ``as_of``) with smoothed rates.

    ``prior_mean`` is ``(accept, win)``; default: the network's base rates
    (Laplace-smoothed), as :class:`recommender.refer.router.Router` uses.

    Returns
    -------
    dict
        ``received, accepted, declined, won, lost, pending, accept_rate,
        win_rate``; ``accepted`` counts every referral taken on (accepted,
        won or lost); ``accept_rate`` is over decided referrals and
        ``win_rate`` over resolved ones (won, lost, declined).
    """
    from recommender.network import parse_as_of

    ref = network.referrals
    day = parse_as_of(as_of)
    if day is not None:
        ref = ref[ref["date"].isna() | (ref["date"] < day)]
    if prior_mean is None:
        allc = _outcome_counts(ref)
        a_took = allc["accepted"] + allc["won"] + allc["lost"]
        prior_mean = ((a_took + 1.0) / (a_took + allc["declined"] + 2.0),
                      (allc["won"] + 1.0) / (allc["won"] + allc["lost"] + allc["declined"] + 2.0))
    ref = ref[ref["to_id"] == person_id]
    c = _outcome_counts(ref)
    took = c["accepted"] + c["won"] + c["lost"]
    decided = took + c["declined"]
    resolved = c["won"] + c["lost"] + c["declined"]
    return {"received": int(len(ref)), "accepted": took, "declined": c["declined"], "won": c["won"], "lost": c["lost"],
            "pending": c["pending"],
            "accept_rate": round(smoothed_rate(took, decided, prior_mean[0], prior_strength), 4),
            "win_rate": round(smoothed_rate(c["won"], resolved, prior_mean[1], prior_strength), 4)}


def referral_ledger(network, person_id: str, *, by: str = "quarter") -> dict:
    """Referrals given and received by ``person_id``, per peer and per period.

    Parameters
    ----------
    network : Network
    person_id : str
    by : {"quarter", "year"}

    Returns
    -------
    dict
        ``person`` ({id, name}); ``given`` and ``received`` (total and counts
        by outcome); ``balance`` (given, received, net = given - received,
        won_given, won_received, won_net); ``peers`` (one row per peer:
        given, received, won_given, won_received, net, last date, most
        active first); ``periods`` (one row per period: given, received,
        won_given, won_received).

    Raises
    ------
    UnknownIdError
        Unknown ``person_id``.
    UsageError
        ``by`` is not quarter or year.
    """
    import pandas as pd

    if by not in ("quarter", "year"):
        raise UsageError(f"by must be 'quarter' or 'year', got {by!r}")
    people = network.people
    names = dict(zip(people["id"].astype(str), people["name"].where(people["name"].notna(), people["id"]).astype(str)))
    if person_id not in names:
        import difflib

        raise UnknownIdError("person", person_id, difflib.get_close_matches(person_id, list(names), n=3, cutoff=0.6))
    ref = network.referrals
    given = ref[ref["from_id"] == person_id]
    received = ref[ref["to_id"] == person_id]
    won_g = int((given["outcome"] == "won").sum())
    won_r = int((received["outcome"] == "won").sum())

    g = pd.DataFrame({"peer": given["to_id"], "date": given["date"], "given": 1, "received": 0,
                      "won_given": (given["outcome"] == "won").astype(int), "won_received": 0})
    r = pd.DataFrame({"peer": received["from_id"], "date": received["date"], "given": 0, "received": 1,
                      "won_given": 0, "won_received": (received["outcome"] == "won").astype(int)})
    both = pd.concat([g, r], ignore_index=True)
    cols = ["given", "received", "won_given", "won_received"]
    peers: list[dict] = []
    periods: list[dict] = []
    if len(both):
        per_peer = both.groupby("peer").agg(**{c: (c, "sum") for c in cols}, last=("date", "max")).reset_index()
        per_peer["net"] = per_peer["given"] - per_peer["received"]
        per_peer["activity"] = per_peer["given"] + per_peer["received"]
        per_peer = per_peer.sort_values(["activity", "peer"], ascending=[False, True])
        for row in per_peer.itertuples(index=False):
            peers.append({"id": row.peer, "name": names.get(row.peer, row.peer), "given": int(row.given),
                          "received": int(row.received), "won_given": int(row.won_given),
                          "won_received": int(row.won_received), "net": int(row.net),
                          "last": row.last if isinstance(row.last, str) else None})
        both["period"] = _period(both["date"], by)
        per = both.groupby("period")[cols].sum().reset_index().sort_values("period")
        periods = [{"period": row.period, **{c: int(getattr(row, c)) for c in cols}} for row in per.itertuples(index=False)]
    return {
        "person": {"id": person_id, "name": names[person_id]},
        "by": by,
        "given": {"total": int(len(given)), "by_outcome": _outcome_counts(given)},
        "received": {"total": int(len(received)), "by_outcome": _outcome_counts(received)},
        "balance": {"given": int(len(given)), "received": int(len(received)),
                    "net": int(len(given) - len(received)),
                    "won_given": won_g, "won_received": won_r, "won_net": won_g - won_r},
        "peers": peers,
        "periods": periods,
        "track_record": track_record(network, person_id),
    }


def log_routed_referral(store, from_id: str, to_id: str, *, opportunity_id: str | None = None,
                        needs=(), industry=None, size_band=None, description=None, date=None,
                        anyway: bool = False) -> dict:
    """Log that ``from_id`` referred an opportunity to ``to_id`` through the ledger.

    One :func:`recommender.ledger.log_referral` call, one transaction: without
    ``opportunity_id`` the opportunity described by the form is recorded in
    that same transaction (brought by ``from_id``), so a refused referral
    leaves nothing behind. Returns the ledger's row (plus
    ``opportunity_created``).
    """
    if opportunity_id:
        row = log_referral(store, opportunity_id, to_id, from_id=from_id, date=date, anyway=anyway)
        created = None
    else:
        row = log_referral(store, None, to_id, from_id=from_id, date=date,
                           new_opportunity={"needs": list(needs or ()), "industry": industry,
                                            "size_band": size_band, "description": description})
        created = row["opportunity_id"]
    return {**row, "opportunity_created": created}
