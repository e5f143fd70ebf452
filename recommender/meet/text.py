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
from recommender.words import first_name, join_words

__all__ = [
    "GROUP_TITLES",
    "label",
    "role_of",
    "market_phrase",
    "reason_text",
    "draft_note",
    "introducer_note",
    "note_recipient",
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
    "product": "CPO", "technology": "CTO", "legal": "general counsel",
}
_MAX_NAMED = 3


def label(tag: str) -> str:
    """A tag as words: the taxonomy's display label ("demand generation", "$5-50M", "B2B SaaS")."""
    from recommender.taxonomy import load_taxonomy

    return load_taxonomy().label(tag)


def role_of(person: dict) -> str:
    """The short role of a fractional ("CMO"), from the title or the function.

    >>> role_of({"title": "Fractional CFO | FP&A for SaaS", "function": "finance"})
    'CFO'
    """
    import re

    title = re.split(r"\s*(?:\||•|·|–|—|\s-\s|,|\bat\b|@|\bfor\b)\s*", (person.get("title") or "").strip())[0].strip()
    low = title.lower()
    for word in ("fractional ", "interim ", "part-time ", "part time "):
        if low.startswith(word) and title[len(word):].strip():
            return title[len(word):].strip()
    fn = (person.get("function") or "").lower()
    if fn in FUNCTION_ROLES:
        return FUNCTION_ROLES[fn]
    return title or (f"{fn} leader" if fn else "executive")


def market_phrase(industries: list[str], sizes: list[str], max_items: int = 2) -> str:
    """'$5-50M B2B SaaS and fintech companies' from tags (at most ``max_items`` of each)."""
    ind = join_words([label(t) for t in industries[:max_items]])
    size = "/".join(label(t) for t in sizes[:max_items])
    words = " ".join(w for w in (size, ind) if w)
    return f"{words} companies" if words else "growing companies"


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
        return f"{d['count']} {noun}: {join_words(names)}" if d["people"] else f"{d['count']} {noun}"
    if k == "complementary_specialties":
        theirs = join_words([label(t) for t in d["theirs"]])
        yours = join_words([label(t) for t in d["yours"]])
        shared = join_words([label(t) for t in d["shared"]])
        if theirs and yours:
            return f"complementary specialties: they do {theirs}, you do {yours}"
        if theirs:
            return f"complementary specialties: they add {theirs} to {shared or 'your focus'}"
        return f"complementary specialties: you add {yours or 'a different focus'} to their {shared or 'focus'}"
    if k == "icp_fit":
        parts = [label(t) for t in d["company_industry"] + d["company_size"] + d["company_region"]]
        matched = [label(t) for t in d["industry"] + d["size_band"] + d["region"]]
        company = d.get("company") or "their company"
        return f"ICP fit: {company} ({', '.join(parts)}) matches {join_words(matched) or 'part of the ICP'}"
    if k == "shared_clients":
        return f"same kind of client: {market_phrase(d['industries'], d['size_bands'])}"
    if k == "similar_profile":
        return f"similar profile (tag similarity {d['similarity']:.2f})"
    if k == "active":
        return f"actively networking ({d['recent_ties']} new ties in the last year)"
    return k.replace("_", " ")


def _reason(rec, kind: str):
    return next((r for r in rec.reasons if r.kind == kind), None)


def _their_work(rec, them: dict | None) -> str:
    """What the recommended person does, in plain words: "a fractional CFO focused on FP&A"."""
    them = them or {}
    if them.get("is_exec"):
        company = them.get("company")
        title = (them.get("title") or "").strip() or "an executive"
        return f"{title} of {company}" if company else title
    role = role_of(them) if (them.get("title") or them.get("function")) else ""
    comp = _reason(rec, "complementary_specialties")
    focus = comp.data["theirs"] if comp and comp.data.get("theirs") else them.get("specialties", [])[:2]
    what = f"a fractional {role}" if role else "a fractional"
    return f"{what} focused on {join_words([label(t) for t in focus])}" if focus else what


def _why_we_should_talk(rec, me: dict, them: dict | None) -> str:
    """One sentence on what we have in common, from the reasons (no scores)."""
    them = them or {}
    if rec.group == "peers":
        comp = _reason(rec, "complementary_specialties")
        mine = join_words([label(t) for t in comp.data["yours"]]) if comp and comp.data.get("yours") else ""
        if mine:
            return f"I focus on {mine}, so we could send each other work."
        return "We do the same work from different angles, so we could send each other work."
    if rec.group == "adjacent":
        shared = _reason(rec, "shared_clients")
        market = market_phrase(shared.data["industries"], shared.data["size_bands"]) if shared else ""
        return (f"We both work with {market} from different seats." if shared and market != "growing companies"
                else "We seem to serve the same kind of client from different seats.")
    icp = _reason(rec, "icp_fit")
    company = them.get("company") or (icp.data.get("company") if icp else None)
    if me.get("is_exec"):
        return "We seem to face the same market."
    return (f"{company} is the kind of company I work with." if company
            else "Their company is the kind I work with.")


def draft_note(rec, me: dict, them: dict | None = None, *, introduced_by: str | None = None) -> str:
    """A short, genuine, sendable first note (no scores, display labels only).

    With an introducer (and no introduction logged yet), the note goes **to the
    introducer**, asking for a double-opt-in introduction: nobody is told
    "X suggested we talk" before X was asked. Without one, it is a direct note
    in the seeds' spirit ("I'm another fractional CFO working with ... I'd love to
    compare notes"). Once an introduction between us is logged
    (``introduced_by``), the note to the new contact says who introduced us.

    Parameters
    ----------
    rec : Recommendation
    me : dict
        The sender's profile facts (:meth:`MeetModel.person`).
    them : dict, optional
        The recipient's profile facts, for their first name, role and company.
    introduced_by : str, optional
        The name of whoever introduced us (an introduction already logged).
    """
    if rec.introducer_name and not introduced_by:
        return introducer_note(rec, me, them)
    first = first_name(them["name"] if them else rec.name)
    intro = f"{first_name(introduced_by)} introduced us, and thank you for being open to it. " if introduced_by else ""
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
        comp = _reason(rec, "complementary_specialties")
        focus = join_words([label(t) for t in comp.data["theirs"]]) if comp else ""
        mine = join_words([label(t) for t in comp.data["yours"]]) if comp else ""
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


def introducer_note(rec, me: dict, them: dict | None = None) -> str:
    """The note to the mutual contact: would you introduce us (double opt-in)?"""
    them = them or {}
    intro_first = first_name(rec.introducer_name)
    name = them.get("name") or rec.name
    first = first_name(name)
    if me.get("is_exec"):
        me_part = f"I run {me.get('company') or 'my company'}"
    else:
        me_part = f"I'm a fractional {role_of(me)} working with {market_phrase(me.get('industries', []), me.get('sizes', []))}"
    return (f"Hi {intro_first}, would you be open to introducing me to {name}? {first} is {_their_work(rec, them)}, "
            f"and {me_part}. {_why_we_should_talk(rec, me, them)} I'd love to compare notes, no pitch. "
            f"If you think {first} would welcome it, could you ask them first and connect us only if they say yes? "
            "No pressure either way, and thank you.")


def note_recipient(rec, *, introduced_by: str | None = None) -> dict:
    """Whom :func:`draft_note` is addressed to: ``{"id", "name", "role"}``, role "introducer" or "contact"."""
    if rec.introducer_name and not introduced_by:
        return {"id": rec.introducer_id, "name": rec.introducer_name, "role": "introducer"}
    return {"id": rec.candidate_id, "name": rec.name, "role": "contact"}


def recommendation_dict(rec, me: dict, them: dict | None = None, *, with_numbers: bool = True,
                        introduced_by: str | None = None) -> dict:
    """One recommendation as the JSON object ``fracnet meet --json`` prints
    (``message`` is the draft note, ``message_to`` whom it is addressed to)."""
    out = {
        "id": rec.candidate_id,
        "name": rec.name,
        "group": rec.group,
        "score": round(float(rec.score), 6),
        "reasons": [reason_text(r) for r in rec.reasons],
        "introducer": ({"id": rec.introducer_id, "name": rec.introducer_name, "trust": round(rec.introducer_trust, 4)}
                       if rec.introducer_id else None),
        "message": draft_note(rec, me, them, introduced_by=introduced_by),
        "message_to": note_recipient(rec, introduced_by=introduced_by),
    }
    if with_numbers:
        out["features"] = {k: round(v, 6) for k, v in rec.features.items()}
        out["contributions"] = {k: round(v, 6) for k, v in sorted(rec.contributions.items(), key=lambda kv: -abs(kv[1]))}
    return out


def format_recommendations(me: dict, recs: list, *, notes: list[str] = (), them: dict | None = None,
                           introduced: dict | None = None) -> str:
    """Human-readable output: one section per group, reasons, introducer and draft note.

    ``them`` maps candidate ids to their profile facts (for first names and companies);
    ``introduced`` maps candidate ids to the name of whoever already introduced us.
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
            by = (introduced or {}).get(r.candidate_id)
            to = note_recipient(r, introduced_by=by)
            note = draft_note(r, me, (them or {}).get(r.candidate_id), introduced_by=by)
            head = (f"note to {to['name']}, asking for an introduction" if to["role"] == "introducer"
                    else "note")
            lines.append(f"      {head}: \"{note}\"")
    return "\n".join(lines)
