"""Routing answers as readable text and JSON, and the draft double-opt-in
introduction.

:mod:`recommender.refer.router` returns data with structured reasons; this module
alone turns them into words, so the CLI, the app and exports say the same.

Example
-------
>>> from recommender.refer.router import Reason
>>> reason_text(Reason("covers", {"needs": ["demand-gen", "abm"], "of": 3}))
'covers demand generation and ABM (2 of 3 needs)'
>>> reason_text(Reason("trust", {"strength": 0.56, "hops": 2, "via": ["Ann"]}))
'trusted via Ann (2 hops, trust 0.56)'
"""

from __future__ import annotations

from recommender.refer.request import Reason
from recommender.refer.routes import Routing
from recommender.refer.selection import Pick
from recommender.taxonomy import load_taxonomy
from recommender.words import join_words, plural


def label(tag: str) -> str:
    """A tag's display label from the taxonomy."""
    return load_taxonomy().label(tag)


__all__ = ["reason_text", "warning_text", "explanation_text", "pick_message", "client_message", "wider_search_text",
           "uncovered_text", "track_record_text",
           "introduction_messages", "introduction_message", "routing_to_dict", "format_routing"]


def _and(items) -> str:
    return join_words(items)


def _labels(tags) -> str:
    return join_words([label(t) for t in tags])


def track_record_text(d: dict) -> str:
    """A track record with the counts behind it; no rate from no data.

    (``accepted`` counts every referral taken on, won and lost included.)
    """
    received = d["received"]
    if received == 0:
        return "no track record yet (no referrals received)"
    parts = [f"{d['accepted']} taken on", f"{d['declined']} declined", f"{d['won']} won"]
    if d.get("pending"):
        parts.append(f"{d['pending']} pending")
    return f"track record: {plural(received, 'referral')} received ({', '.join(parts)})"


def reason_text(reason: Reason) -> str:
    """One structured reason as a short phrase (display labels, counts behind every number)."""
    d, code = reason.data, reason.code
    if code == "covers":
        return f"covers {_labels(d['needs'])} ({len(d['needs'])} of {plural(d['of'], 'need')})"
    if code == "partial":
        return f"a {_and(d['functions'])} fractional, not listed for {_labels(d['needs'])}"
    if code == "partial_fit":
        own = f" ({_labels(d['specialties'])})" if d.get("specialties") else ""
        return f"a {_and(d['functions'])} fractional{own}, not listed for {_labels(d['needs'])}"
    if code == "not_covered":
        return f"partial fit: not listed for {_labels(d['needs'])}"
    if code == "lane_missing":
        return f"does not cover {_labels(d['needs'])}"
    if code == "not_fractional":
        return "is not a fractional, so routes rather than takes on work"
    if code == "industry":
        if d["match"] == "exact":
            return f"works in {label(d['industry'])}"
        return f"works in an industry related to {label(d['industry'])}"
    if code == "size":
        if d["match"] == "exact":
            return f"serves {label(d['size_band'])} companies"
        return f"serves companies next to the {label(d['size_band'])} band"
    if code == "region":
        return f"works in {label(d['region'])}"
    if code == "text":
        terms = d.get("terms") or []
        tail = f" ({', '.join(terms)})" if terms else ""
        return f"profile matches the description, similarity {d['similarity']:.2f}{tail}"
    if code == "covers_none":
        return "covers none of the needs: a trusted contact who may know the right person"
    if code == "adds_coverage":
        return f"adds {_labels(d['needs'])}, which the people above do not cover"
    if code == "trust":
        if d["hops"] == 0:
            return "no trust path (outside your network)"
        if d["hops"] == 1:
            return f"direct tie (trust {d['strength']:.2f})"
        if d["strength"] <= 0:  # trust counts paths of up to two ties: a longer path is reach, not trust
            return f"reached via {_and(d['via'])} ({d['hops']} hops; no tie or mutual contact with you)"
        return f"trusted via {_and(d['via'])} ({d['hops']} hops, trust {d['strength']:.2f})"
    if code == "track_record":
        return track_record_text(d)
    if code == "capacity":
        cap = d["capacity"]
        if cap is None:
            return "capacity unknown"
        if cap == 0:
            return "no open slots (capacity 0): heavily penalised"
        return f"{plural(cap, 'open slot')}"
    return code.replace("_", " ") + (f": {d}" if d else "")


def warning_text(w: dict) -> str:
    """A corrected or unknown tag in the request."""
    if w.get("corrected"):
        return f"read {w['value']!r} as {label(w['tag'])} ({w['tag']!r})"
    text = f"unknown {w['field'].replace('_', ' ')} {w['value']!r}; kept as {w['tag']!r}"
    if w.get("suggestion"):
        text += f" (did you mean {w['suggestion']!r}?)"
    return text


def _option_text(s: dict) -> str:
    if "max_hops" in s:
        opt = f"--max-hops {s['max_hops']}"
    elif s.get("widen"):
        opt = "--everyone"
    elif s.get("include_full"):
        opt = "--include-full"
    else:
        opt = str(s)
    finds = s.get("finds")
    if finds:
        where = "the whole network" if s.get("widen") else f"{s['max_hops']} hops"
        opt += (" (" + "; ".join(f"{plural(n, 'person', 'people')} in {where} for {label(t)}"
                                 for t, n in finds.items() if n) + ")")
    return opt


def uncovered_text(routing: Routing) -> str:
    """The needs the picks do not cover: nobody in reach is listed for them, or only not these picks."""
    tail = wider_search_text(routing.suggestions).replace(" Try ", "; try ").rstrip(".").replace(
        " Nobody in the whole network is listed for it either", "; nobody in the whole network is listed for it")
    nobody = [t for t in routing.uncovered_needs if t in (routing.reach.get("nobody_listed_for") or ())]
    rest = [t for t in routing.uncovered_needs if t not in nobody]
    where = "in the whole network" if routing.reach.get("widened") else \
        f"within {plural(routing.reach.get('max_hops') or 0, 'hop')}"
    parts = []
    if nobody:
        parts.append(f"Nobody {where} is listed for {_labels(nobody)}")
    if rest:
        parts.append(f"not covered by these peers: {_labels(rest)}")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + tail + "."


def explanation_text(routing: Routing) -> str | None:
    """Why there are no picks, and what to try; None when there are picks."""
    e = routing.explanation
    if e is None:
        return None
    where = "in the whole network" if e.get("widened") else f"within {plural(e['max_hops'], 'hop')} of {e['from']}"
    if e.get("code") == "nobody_covers":
        text = (f"Nobody {where} covers {_labels(e['needs'])}: {plural(e['candidates'], 'open fractional')} "
                f"in reach, none listed for {'it' if len(e['needs']) == 1 else 'any of them'}.")
    else:
        text = (f"No eligible fractional {where}: {plural(e['people_in_reach'], 'person', 'people')} in reach, "
                f"{e['fractionals_in_reach']} of them fractionals")
        extra = []
        if e.get("opted_out"):
            extra.append(f"{e['opted_out']} opted out")
        if e.get("no_capacity"):
            extra.append(f"{e['no_capacity']} with no open slots")
        if extra:
            text += f" ({', '.join(extra)})"
        text += "."
    text += wider_search_text(routing.suggestions)
    return text


def _useful(suggestions) -> list[dict]:
    """The options worth trying: those that would find someone (or whose reach is not counted)."""
    return [s for s in suggestions if "finds" not in s or any(s["finds"].values())]


def wider_search_text(suggestions) -> str:
    """The options that would find someone, as " Try --max-hops 3 (...) or --everyone (...)."."""
    useful = _useful(suggestions)
    if useful:
        return " Try " + " or ".join(_option_text(s) for s in useful) + "."
    if suggestions:
        return " Nobody in the whole network is listed for it either."
    return ""


def _first_name(name: str) -> str:
    return name.split()[0] if name and name.split() else name


def _client_phrase(routing: Routing) -> str:
    """'a $250M+ healthtech company in the US West' (the client's name is kept until both sides agree)."""
    req = routing.request
    size = label(req.size_band) if req.size_band else ""
    ind = label(req.industry) if req.industry else ""
    words = " ".join(w for w in (size, ind) if w)
    where = f" in {_region_words(req.region)}" if req.region and req.region != "remote" else ""
    article = "an" if words[:1].lower() in "aeiou" and words else "a"
    return f"{article} {words} company{where}" if words else (f"a company{where}" if where else "")


def _region_words(region: str) -> str:
    text = label(region)
    return f"the {text}" if region.startswith("us-") or region == "uk" else text


def _me(routing: Routing, referrer_name: str | None) -> str:
    if referrer_name:
        return referrer_name
    for pick in routing.picks:
        if pick.trust_path:
            return pick.trust_path[0][1]
    return routing.lane.person_id


def pick_message(routing: Routing, pick: Pick, referrer_name: str | None = None) -> str:
    """The draft to one pick: their own ask, mentioning only what is theirs (double opt-in)."""
    req = routing.request
    first = _first_name(pick.name)
    mine = [t for t in req.needs if t in pick.covers]
    asked = f"help with {_labels(req.needs)}" if req.needs else "help with the work below"
    near = _partial_fit(pick)
    if mine:
        why = f"Your work on {_labels(mine)} came to mind."
    elif near:
        own = _labels(near.data.get("specialties") or []) or _and(near.data["functions"])
        why = f"It's close to your work on {own}, so you may be the right person for it, or know who is."
    else:
        why = "You came to mind."
    who = _client_phrase(routing)
    lines = [f"Hi {first},", "",
             f"A client I know{', ' + who + ',' if who else ''} is looking for {asked}. {why}"]
    if req.description:
        lines += ["", f"  \"{req.description}\""]
    lines += ["", "Would you be open to an introduction? No pressure and no cut: if it's not for you or the "
                  "timing is wrong, just say so. If you say yes, I'll check with the client too and only then "
                  "connect you.", "", "Best,", _first_name(_me(routing, referrer_name))]
    return "\n".join(lines)


def _partial_fit(pick: Pick):
    return next((r for r in pick.reasons if r.code == "partial_fit"), None)


def client_message(routing: Routing, referrer_name: str | None = None) -> str | None:
    """The draft to the client, once a peer has said yes; its wording follows what the people named do."""
    if not routing.picks:
        return None
    req, picks = routing.request, routing.picks
    needs = list(req.needs)
    does = {p.person_id: [t for t in needs if t in p.covers] for p in picks}
    names = [p.name for p in picks]
    if not needs:
        body = (f"I know {_and(names)}, who {'work' if len(picks) > 1 else 'works'} on this kind of problem.")
    elif all(len(does[p.person_id]) == len(needs) for p in picks):
        what = _labels(needs)
        body = (f"I know {_and(names)}, who {'each do' if len(picks) > 1 else 'does'} {what}."
                if len(picks) > 1 else f"I know {names[0]}, who does {what}.")
    else:  # who does what, people doing the same things named together
        groups: dict[tuple, list[str]] = {}
        for p in picks:
            near = _partial_fit(p)
            key = tuple(does[p.person_id]) or ("~",) + tuple(near.data["functions"] if near else ())
            groups.setdefault(key, []).append(p.name)
        parts = []
        for what, ns in groups.items():
            if what[:1] == ("~",):
                fns = _and(what[1:]) or "related"
                parts.append(f"{_and(ns)}, {'who work' if len(ns) > 1 else 'who works'} in {fns} close to it")
            else:
                parts.append(f"{_and(ns)}, who {'each do' if len(ns) > 1 else 'does'} {_labels(what)}")
        body = "I know " + (", and ".join(parts) if len(parts) == 2 else "; ".join(parts)) + "."
    left = [t for t in needs if not any(t in d for d in does.values())]
    if left:
        body += f" For {_labels(left)} I don't have someone to suggest yet."
    return "\n".join([f"{body} Would you like an introduction? I only connect people when both sides want it.",
                      "", "Best,", _first_name(_me(routing, referrer_name))])


def introduction_messages(routing: Routing, referrer_name: str | None = None) -> dict | None:
    """Every draft of the double-opt-in introduction: one per pick, then the client's."""
    if not routing.picks:
        return None
    return {"picks": [{"id": p.person_id, "name": p.name, "message": pick_message(routing, p, referrer_name)}
                      for p in routing.picks],
            "client": client_message(routing, referrer_name)}


def introduction_message(routing: Routing, referrer_name: str | None = None) -> str | None:
    """All the drafts as one text: to each pick in turn, then to the client once a peer has said yes.

    Returns None when there are no picks.
    """
    msgs = introduction_messages(routing, referrer_name)
    if msgs is None:
        return None
    parts = []
    for m in msgs["picks"]:
        parts += [f"--- To {m['name']} ---", m["message"], ""]
    parts += ["--- Then, to the client once a peer has said yes ---", msgs["client"]]
    return "\n".join(parts)


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


def routing_to_dict(routing: Routing, concerns=()) -> dict:
    """The JSON shape of a routing answer (readable reasons, plus the numbers).

    ``message`` holds every draft as one text; ``messages`` the same drafts apart
    (one per pick, then the client's); ``concerns`` what was routed all the same
    (a closed opportunity, someone else's).
    """
    req, lane = routing.request, routing.lane
    return {
        "request": {"from": req.from_id, "opportunity": req.opportunity_id, "needs": list(req.needs),
                    "industry": req.industry, "size_band": req.size_band, "region": req.region,
                    "description": req.description, "date": req.date},
        "lane": {"fit": lane.fit, "in_lane": lane.in_lane, "reasons": [reason_text(r) for r in lane.reasons],
                 "covers": list(lane.covers), "missing": list(lane.missing)},
        "picks": [_pick_dict(p) for p in routing.picks],
        "alternatives": [_pick_dict(p) for p in routing.alternatives],
        "nearby": [_pick_dict(p) for p in routing.nearby],
        "weights": routing.weights.as_dict() if routing.weights is not None else None,
        "uncovered_needs": list(routing.uncovered_needs),
        "excluded": [dict(e, reason="no open slots (capacity 0)" if e["reason"] == "no_capacity" else e["reason"])
                     for e in routing.excluded],
        "warnings": [warning_text(w) for w in req.warnings],
        "concerns": list(concerns),
        "reach": routing.reach,
        "explanation": explanation_text(routing),
        "suggestions": [_option_text(s) for s in _useful(routing.suggestions)],
        "message": introduction_message(routing),
        "messages": introduction_messages(routing),
    }


def format_routing(routing: Routing, concerns=()) -> str:
    """The human-readable answer: lane check, picks, alternatives, the draft messages."""
    d = routing_to_dict(routing, concerns)
    req, lane = routing.request, routing.lane
    out: list[str] = []
    for c in d["concerns"]:
        out.append(f"warning: {c}; routed anyway, as asked")
    for w in d["warnings"]:
        out.append(("note: " if "read " == w[:5] else "warning: ") + w)
    title = f"Opportunity {req.opportunity_id}" if req.opportunity_id else "Opportunity"
    bits = [f"needs {_labels(req.needs)}" if req.needs else None,
            *(label(x) for x in (req.industry, req.size_band) if x),
            _region_words(req.region) if req.region else None]
    out.append(f"{title}: " + ", ".join(b for b in bits if b))
    if req.description:
        out.append(f"  \"{req.description}\"")
    out.append("")
    verdict = "IN your lane" if lane.in_lane else "OUT of your lane"
    counts = f"you cover {len(lane.covers)} of {plural(len(req.needs), 'need')}; " if req.needs else ""
    out.append(f"Lane check for {req.from_id}: {verdict} ({counts}fit {lane.fit:.2f})")
    out += [f"  - {r}" for r in d["lane"]["reasons"]] or ["  - nothing in your profile matches"]
    out.append("")
    if not routing.picks:
        out.append(d["explanation"])
        out += _nearby_lines(d)
        return "\n".join(out)
    hops = "in the whole network" if routing.reach["widened"] else f"within {plural(routing.reach['max_hops'], 'hop')}"
    out.append(f"Refer to ({plural(routing.reach['candidates'], 'candidate')} {hops}):")
    for n, p in enumerate(d["picks"], 1):
        out.append(f"{n}. {p['name']} ({p['id']})" + (f"  covers {_labels(p['covers'])}" if p["covers"] else ""))
        out.append("   path: " + " -> ".join(x["name"] for x in p["trust_path"]))
        out += [f"   - {r}" for r in p["reasons"]]
    if d["uncovered_needs"]:
        out.append(uncovered_text(routing))
    for e in d["excluded"]:
        out.append(f"Left out: {e['name']} ({e['id']}) fits but has "
                   + ("no open slots" if e["reason"] == "no_capacity" else e["reason"]))
    if d["alternatives"]:
        out.append("")
        out.append("Alternatives:")
        for p in d["alternatives"]:
            out.append(f"  {p['name']} ({p['id']})" + (f"  covers {_labels(p['covers'])}" if p["covers"] else ""))
    out += _nearby_lines(d)
    out += ["", "Draft notes (double opt-in: each peer first, then the client):", "", d["message"]]
    return "\n".join(out)


def _nearby_lines(d: dict) -> list[str]:
    """People in reach who do not cover the needs but work close to them (they may know someone)."""
    if not d["nearby"]:
        return []
    out = ["", "Nearby, not listed for the needs (they may know someone):"]
    for p in d["nearby"]:
        out.append(f"  {p['name']} ({p['id']})  {p['reasons'][0]}")
    return out
