"""Routing answers as readable text and JSON, and the draft double-opt-in
introduction.

:mod:`recommender.refer.router` returns data with structured reasons; this module
alone turns them into words, so the CLI, the app and exports say the same.

Example
-------
>>> from recommender.refer.router import Reason
>>> reason_text(Reason("covers", {"needs": ["demand-gen", "abm"], "of": 3}))
'covers demand-gen and abm (2 of 3 needs)'
>>> reason_text(Reason("trust", {"strength": 0.56, "hops": 2, "via": ["Ann"]}))
'trusted via Ann (2 hops, trust 0.56)'
"""

from __future__ import annotations

from recommender.refer.router import Pick, Reason, Routing

__all__ = ["reason_text", "warning_text", "explanation_text", "introduction_message", "routing_to_dict",
           "format_routing"]


def _and(items) -> str:
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def reason_text(reason: Reason) -> str:
    """One structured reason as a short phrase."""
    d, code = reason.data, reason.code
    if code == "covers":
        return f"covers {_and(d['needs'])} ({len(d['needs'])} of {d['of']} needs)"
    if code == "partial":
        return f"same function ({_and(d['functions'])}) for {_and(d['needs'])}: partial fit"
    if code == "lane_missing":
        return f"does not cover {_and(d['needs'])}"
    if code == "not_fractional":
        return "is not a fractional, so routes rather than takes on work"
    if code == "industry":
        if d["match"] == "exact":
            return f"works in {d['industry']}"
        return f"works in an industry related to {d['industry']}"
    if code == "size":
        if d["match"] == "exact":
            return f"serves {d['size_band']} companies"
        return f"serves companies next to the {d['size_band']} band"
    if code == "region":
        return f"covers the {d['region']} region"
    if code == "text":
        terms = d.get("terms") or []
        tail = f" ({', '.join(terms)})" if terms else ""
        return f"profile matches the description, similarity {d['similarity']:.2f}{tail}"
    if code == "covers_none":
        return "covers none of the needs: a trusted contact who may know the right person"
    if code == "adds_coverage":
        return f"adds {_and(d['needs'])}, which the picks above do not cover"
    if code == "trust":
        if d["hops"] == 0:
            return "no trust path (outside your network)"
        if d["hops"] == 1:
            return f"direct tie (trust {d['strength']:.2f})"
        return f"trusted via {_and(d['via'])} ({d['hops']} hops, trust {d['strength']:.2f})"
    if code == "track_record":
        if d["received"] == 0:
            return "no referrals received yet (neutral prior)"
        return (f"track record: {d['received']} referrals received, {d['accepted']} taken on, {d['won']} won "
                f"(accept {d['accept_rate']:.0%}, win {d['win_rate']:.0%} smoothed)")
    if code == "capacity":
        cap = d["capacity"]
        if cap is None:
            return "capacity unknown"
        if cap == 0:
            return "NO open slots (capacity 0): heavily penalised"
        return f"{cap} open slot{'s' if cap != 1 else ''}"
    return code.replace("_", " ") + (f": {d}" if d else "")


def warning_text(w: dict) -> str:
    """An unknown tag in the request, with the nearest known tag."""
    text = f"unknown {w['field'].replace('_', ' ')} {w['value']!r}; kept as {w['tag']!r}"
    if w.get("suggestion"):
        text += f" (did you mean {w['suggestion']!r}?)"
    return text


def _option_text(s: dict) -> str:
    if "max_hops" in s:
        return f"--max-hops {s['max_hops']}"
    if s.get("widen"):
        return "--everyone"
    if s.get("include_full"):
        return "--include-full"
    return str(s)


def explanation_text(routing: Routing) -> str | None:
    """Why there are no picks, and what to try; None when there are picks."""
    e = routing.explanation
    if e is None:
        return None
    where = "in the whole network" if e.get("widened") else f"within {e['max_hops']} hop(s) of {e['from']}"
    text = (f"No eligible fractional {where}: {e['people_in_reach']} people in reach, "
            f"{e['fractionals_in_reach']} of them fractionals")
    extra = []
    if e.get("opted_out"):
        extra.append(f"{e['opted_out']} opted out")
    if e.get("no_capacity"):
        extra.append(f"{e['no_capacity']} with no open slots")
    if extra:
        text += f" ({', '.join(extra)})"
    text += "."
    if routing.suggestions:
        text += " Try " + " or ".join(_option_text(s) for s in routing.suggestions) + "."
    return text


def _first_name(name: str) -> str:
    return name.split()[0] if name and name.split() else name


def _need_phrase(routing: Routing) -> str:
    req = routing.request
    what = _and(req.needs) if req.needs else "the work described below"
    client = req.company or "a client"
    about = " ".join(x for x in (req.size_band, req.industry) if x)
    return f"{client}{f' ({about})' if about else ''} is looking for help with {what}"


def introduction_message(routing: Routing, referrer_name: str | None = None) -> str | None:
    """A draft double-opt-in introduction: first to the picks, then to the client.

    Returns None when there are no picks.
    """
    if not routing.picks:
        return None
    me = referrer_name or (routing.lane.person_id)
    for pick in routing.picks:
        if pick.trust_path:
            me = referrer_name or pick.trust_path[0][1]
            break
    names = [_first_name(p.name) for p in routing.picks]
    lines = [f"Hi {_and(names)},", "",
             f"{_need_phrase(routing)}. I thought of you:"]
    for p in routing.picks:
        why = ", ".join(reason_text(r) for r in p.reasons if r.code in ("covers", "partial", "industry", "adds_coverage"))
        lines.append(f"- {_first_name(p.name)}: {why or 'you may know the right person for this'}")
    lines += ["", "Would you be open to an introduction? No pressure and no cut: if it is not a fit or the timing "
                  "is wrong, just say so. If you say yes, I will check with the client too and only then connect you.",
              "", "Best,", _first_name(me), "", "---", "Then, to the client once a peer has said yes:", "",
              f"I know {_and([p.name for p in routing.picks])}, who {'each ' if len(routing.picks) > 1 else ''}"
              f"cover part of what you described. Would you like an introduction? "
              "I only connect people when both sides want it."]
    if routing.request.description:
        lines.insert(3, f"  \"{routing.request.description}\"")
    return "\n".join(lines)


def _pick_dict(p: Pick) -> dict:
    return {
        "id": p.person_id,
        "name": p.name,
        "score": p.score,
        "covers": list(p.covers),
        "partially_covers": list(p.partial),
        "reasons": [reason_text(r) for r in p.reasons],
        "trust_path": [{"id": i, "name": n} for i, n in p.trust_path],
        "track_record": p.track_record.as_dict(),
        "capacity": p.capacity,
        "components": p.components,
    }


def routing_to_dict(routing: Routing) -> dict:
    """The JSON shape of a routing answer (readable reasons, plus the numbers)."""
    req, lane = routing.request, routing.lane
    return {
        "request": {"from": req.from_id, "opportunity": req.opportunity_id, "needs": list(req.needs),
                    "industry": req.industry, "size_band": req.size_band, "region": req.region,
                    "description": req.description, "date": req.date},
        "lane": {"fit": lane.fit, "in_lane": lane.in_lane, "reasons": [reason_text(r) for r in lane.reasons],
                 "covers": list(lane.covers), "missing": list(lane.missing)},
        "picks": [_pick_dict(p) for p in routing.picks],
        "alternatives": [_pick_dict(p) for p in routing.alternatives],
        "uncovered_needs": list(routing.uncovered_needs),
        "excluded": [dict(e, reason="no open slots (capacity 0)" if e["reason"] == "no_capacity" else e["reason"])
                     for e in routing.excluded],
        "warnings": [warning_text(w) for w in req.warnings],
        "reach": routing.reach,
        "explanation": explanation_text(routing),
        "suggestions": [_option_text(s) for s in routing.suggestions],
        "message": introduction_message(routing),
    }


def format_routing(routing: Routing) -> str:
    """The human-readable answer: lane check, picks, alternatives, the draft message."""
    d = routing_to_dict(routing)
    req, lane = routing.request, routing.lane
    out: list[str] = []
    for w in d["warnings"]:
        out.append(f"warning: {w}")
    title = f"Opportunity {req.opportunity_id}" if req.opportunity_id else "Opportunity"
    bits = [f"needs {_and(req.needs)}" if req.needs else None, req.industry, req.size_band, req.region]
    out.append(f"{title}: " + ", ".join(b for b in bits if b))
    if req.description:
        out.append(f"  \"{req.description}\"")
    out.append("")
    verdict = "IN your lane" if lane.in_lane else "OUT of your lane"
    out.append(f"Lane check for {req.from_id}: {verdict} (fit {lane.fit:.2f})")
    out += [f"  - {r}" for r in d["lane"]["reasons"]] or ["  - nothing in your profile matches"]
    out.append("")
    if not routing.picks:
        out.append(d["explanation"])
        return "\n".join(out)
    hops = "everyone" if routing.reach["widened"] else f"within {routing.reach['max_hops']} hops"
    out.append(f"Refer to ({routing.reach['candidates']} candidates {hops}):")
    for n, p in enumerate(d["picks"], 1):
        out.append(f"{n}. {p['name']} ({p['id']})  score {p['score']:.2f}"
                   + (f"  covers {', '.join(p['covers'])}" if p["covers"] else ""))
        out.append("   path: " + " -> ".join(x["name"] for x in p["trust_path"]))
        out += [f"   - {r}" for r in p["reasons"]]
    if d["uncovered_needs"]:
        tail = f"; try {' or '.join(d['suggestions'])}" if d["suggestions"] else ""
        out.append(f"Not fully covered by these picks: {', '.join(d['uncovered_needs'])}{tail}")
    for e in d["excluded"]:
        out.append(f"Left out: {e['name']} ({e['id']}) fits but has {e['reason']}")
    if d["alternatives"]:
        out.append("")
        out.append("Alternatives:")
        for p in d["alternatives"]:
            out.append(f"  {p['name']} ({p['id']})  score {p['score']:.2f}"
                       + (f"  covers {', '.join(p['covers'])}" if p["covers"] else ""))
    out += ["", "Draft introduction (double opt-in):", "", d["message"]]
    return "\n".join(out)
