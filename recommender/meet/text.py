"""Reasons to readable text, and draft notes for "who should I meet next?".

Everything here is presentation: it takes the structured
:class:`~recommender.meet.model.Recommendation` (and the person's profile facts from
:meth:`MeetModel.person`) and returns strings or JSON-ready dicts. No scoring
happens here.

Example
-------
>>> from recommender.meet.model import Reason
>>> reason_text(Reason("mutual_contacts", 1.0, {"count": 3, "people": [
...     {"id": "p1", "name": "Ada Lovelace"}, {"id": "p2", "name": "Bob Stone"}, {"id": "p3", "name": "Cy Young"}]}))
'3 mutual contacts: Ada Lovelace, Bob Stone and Cy Young'
>>> role_of({"title": "Fractional CMO", "function": "marketing"})
'CMO'
>>> market_phrase(["saas", "fintech"], ["5-50m"])
'$5-50M B2B SaaS and fintech companies'
"""

from __future__ import annotations

from recommender.people import GROUPS

__all__ = [
    "GROUP_TITLES",
    "label",
    "role_of",
    "market_phrase",
    "reason_text",
    "draft_note",
    "recommendation_dict",
    "format_recommendations",
]

GROUP_TITLES = {
    "peers": "Peers (same function, complementary specialty)",
    "adjacent": "Adjacent fractionals (same kind of client)",
    "executives": "Executives in your ICP",
}
FUNCTION_ROLES = {
    "marketing": "CMO", "finance": "CFO", "operations": "COO", "people": "CHRO", "sales": "CRO",
    "product": "CPO", "technology": "CTO",
}
_SIZE_LABELS = {"under-1m": "sub-$1M", "1-5m": "$1-5M", "5-50m": "$5-50M", "50-250m": "$50-250M", "250m-plus": "$250M+"}
_MAX_NAMED = 3


def label(tag: str) -> str:
    """A tag as words: the demo vocabulary's label if known, else the tag with spaces."""
    try:
        from recommender.demo import LABELS
    except ImportError:  # pragma: no cover - the demo module is optional here
        LABELS = {}
    if tag in _SIZE_LABELS:
        return _SIZE_LABELS[tag]
    return LABELS.get(tag, str(tag).replace("-", " "))


def _join(words: list[str]) -> str:
    words = [w for w in words if w]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def role_of(person: dict) -> str:
    """The short role of a fractional ("CMO"), from the title or the function."""
    title = (person.get("title") or "").strip()
    low = title.lower()
    if low.startswith("fractional "):
        return title[len("fractional "):].strip()
    fn = (person.get("function") or "").lower()
    if fn in FUNCTION_ROLES:
        return FUNCTION_ROLES[fn]
    return title or (f"{fn} leader" if fn else "executive")


def market_phrase(industries: list[str], sizes: list[str], max_items: int = 2) -> str:
    """'$5-50M B2B SaaS and fintech companies' from tags (at most ``max_items`` of each)."""
    ind = _join([label(t) for t in industries[:max_items]])
    size = "/".join(label(t) for t in sizes[:max_items])
    words = " ".join(w for w in (size, ind) if w)
    return f"{words} companies" if words else "growing companies"


def _first_name(name: str) -> str:
    return (name or "").split()[0] if (name or "").strip() else "there"


def reason_text(reason) -> str:
    """One :class:`~recommender.meet.model.Reason` as a sentence fragment."""
    d = reason.data
    k = reason.kind
    if k == "mutual_contacts":
        names = [p["name"] for p in d["people"][:_MAX_NAMED]]
        more = d["count"] - len(names)
        if more > 0:
            names.append(f"{more} more")
        noun = "mutual contact" if d["count"] == 1 else "mutual contacts"
        return f"{d['count']} {noun}: {_join(names)}" if d["people"] else f"{d['count']} {noun}"
    if k == "complementary_specialties":
        theirs = _join([label(t) for t in d["theirs"]])
        yours = _join([label(t) for t in d["yours"]])
        shared = _join([label(t) for t in d["shared"]])
        if theirs and yours:
            return f"complementary specialties: they do {theirs}, you do {yours}"
        if theirs:
            return f"complementary specialties: they add {theirs} to {shared or 'your focus'}"
        return f"complementary specialties: you add {yours or 'a different focus'} to their {shared or 'focus'}"
    if k == "icp_fit":
        parts = [label(t) for t in d["company_industry"] + d["company_size"] + d["company_region"]]
        matched = [label(t) for t in d["industry"] + d["size_band"] + d["region"]]
        company = d.get("company") or "their company"
        return f"ICP fit: {company} ({', '.join(parts)}) matches {_join(matched) or 'part of the ICP'}"
    if k == "shared_clients":
        shared = [label(t) for t in d["industries"]] + [label(t) for t in d["size_bands"]]
        return f"same kind of client: {_join(shared)}"
    if k == "similar_profile":
        return f"similar profile (tag similarity {d['similarity']:.2f})"
    if k == "active":
        return f"actively networking ({d['recent_ties']} new ties in the last year)"
    return k.replace("_", " ")


def draft_note(rec, me: dict, them: dict | None = None) -> str:
    """A short, genuine first message from ``me`` to the recommended person.

    Parameters
    ----------
    rec : Recommendation
    me : dict
        The sender's profile facts (:meth:`MeetModel.person`).
    them : dict, optional
        The recipient's profile facts, for their first name and company.
    """
    first = _first_name(them["name"] if them else rec.name)
    intro = f"{rec.introducer_name} suggested we talk. " if rec.introducer_name else ""
    my_market = market_phrase(me.get("industries", []), me.get("sizes", []))
    if me.get("is_exec"):
        company = me.get("company") or "my company"
        if rec.group == "executives":
            return (f"Hi {first}, {intro}I run {company}, and we seem to face the same market. "
                    "I'd love to compare notes on what you're seeing.")
        return (f"Hi {first}, {intro}I lead {company}, the kind of company you work with. "
                "I'd love to hear what you're seeing across your clients.")
    role = role_of(me)
    if rec.group == "peers":
        comp = next((r for r in rec.reasons if r.kind == "complementary_specialties"), None)
        focus = _join([label(t) for t in comp.data["theirs"]]) if comp else ""
        mine = _join([label(t) for t in comp.data["yours"]]) if comp else ""
        angle = f" You focus on {focus} and I on {mine}, so we might send each other work." if focus and mine else ""
        return (f"Hi {first}, {intro}I'm another fractional {role} working with {my_market}.{angle} "
                "I'd love to compare notes on what you're seeing in the market.")
    if rec.group == "adjacent":
        return (f"Hi {first}, {intro}I'm a fractional {role} working with {my_market}; it looks like we "
                f"serve the same kind of client from different seats. I'd love to compare notes on what "
                "you're seeing with them.")
    company = (them or {}).get("company")
    where = f" at {company}" if company else ""
    return (f"Hi {first}, {intro}I'm a fractional {role} working with {my_market}. No pitch: I'd love to hear "
            f"what you're seeing in the market{where} and swap notes.")


def recommendation_dict(rec, me: dict, them: dict | None = None, *, with_numbers: bool = True) -> dict:
    """One recommendation as the JSON object ``fracnet meet --json`` prints."""
    out = {
        "id": rec.candidate_id,
        "name": rec.name,
        "group": rec.group,
        "score": round(float(rec.score), 6),
        "reasons": [reason_text(r) for r in rec.reasons],
        "introducer": ({"id": rec.introducer_id, "name": rec.introducer_name, "trust": round(rec.introducer_trust, 4)}
                       if rec.introducer_id else None),
        "message": draft_note(rec, me, them),
    }
    if with_numbers:
        out["features"] = {k: round(v, 6) for k, v in rec.features.items()}
        out["contributions"] = {k: round(v, 6) for k, v in sorted(rec.contributions.items(), key=lambda kv: -abs(kv[1]))}
    return out


def format_recommendations(me: dict, recs: list, *, notes: list[str] = (), them: dict | None = None) -> str:
    """Human-readable output: one section per group, reasons, introducer and draft note.

    ``them`` maps candidate ids to their profile facts (for first names and companies).
    """
    lines = [f"Who {me['name']} ({me['id']}) should meet next"]
    lines += [f"note: {n}" for n in notes]
    if not recs:
        lines.append("")
        lines.append("No recommendations: no eligible candidates in the requested group(s).")
        return "\n".join(lines)
    for group in GROUPS:
        mine = [r for r in recs if r.group == group]
        if not mine:
            continue
        lines.append("")
        lines.append(f"== {GROUP_TITLES[group]} ==")
        for i, r in enumerate(mine, 1):
            lines.append(f"{i:>2}. {r.name} ({r.candidate_id})  score {r.score:.3f}")
            for reason in r.reasons:
                lines.append(f"      - {reason_text(reason)}")
            if r.introducer_name:
                lines.append(f"      introducer: {r.introducer_name} ({r.introducer_id})")
            note = draft_note(r, me, (them or {}).get(r.candidate_id))
            lines.append(f"      note: \"{note}\"")
    return "\n".join(lines)
