"""Give first: which two of my contacts should I introduce to each other, and why.

The third answer beside "who should I meet" and "who do I refer this to". It
is scored by the same fitted :class:`~recommender.meet.MeetModel`: every pair
of my contacts who are not tied is a candidate, its features are the meet
model's pair features (common neighbours, Adamic-Adar, trust of the best
introducer, specialty complementarity, shared clients, ICP fit, ...) in both
directions, and its score is the mean of the ranker's two scores. A pair is
suggested only with a reason a person can check (complementary specialties,
the same kind of client, or an ICP fit); opted-out people and pairs already
tied never appear.

``bench/connect.py`` measures it on the sample's introductions history
against the classic baseline (pairs of my contacts ranked by common neighbours).

Example
-------
>>> from recommender.demo import generate_network
>>> from recommender.network import Network
>>> from recommender.meet import MeetModel
>>> net = Network.from_frames(**generate_network(150, seed=2))
>>> model = MeetModel().fit(net)
>>> out = suggest_connections(model, "p0003", k=3)
>>> all(s.reasons for s in out)
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from recommender.words import first_name, join_words

__all__ = ["HELP_REASONS", "Connection", "score_contact_pairs", "suggest_connections", "connection_dict",
           "format_connections"]

#: Reasons a person can check that make two people useful to each other.
HELP_REASONS = ("complementary_specialties", "shared_clients", "icp_fit")
MAX_CONTACTS = 400


@dataclass(frozen=True)
class Connection:
    """Two of my contacts I could introduce, with why and a draft note to each."""

    me_id: str
    a_id: str
    a_name: str
    b_id: str
    b_name: str
    score: float
    reasons: tuple = ()  # (kind, text, data) triples
    note_to_a: str = ""
    note_to_b: str = ""
    features: dict = field(default_factory=dict)


def _contacts(model, u: int, exclude_ids=(), max_contacts: int = MAX_CONTACTS) -> np.ndarray:
    ctx = model.context_
    sl = slice(ctx.A.indptr[u], ctx.A.indptr[u + 1])
    nb, w = ctx.A.indices[sl], ctx.W.data[sl]
    keep = ~ctx.opt_out[nb]
    if exclude_ids:
        ex = {ctx.position[i] for i in exclude_ids if i in ctx.position}
        keep &= ~np.isin(nb, list(ex))
    nb, w = nb[keep], w[keep]
    if len(nb) > max_contacts:  # the strongest ties first
        top = np.lexsort((nb, -w))[:max_contacts]
        nb = np.sort(nb[top])
    return nb.astype(np.int64)


def score_contact_pairs(model, person_id: str, *, exclude_ids=(), max_contacts: int = MAX_CONTACTS):
    """Every untied pair of ``person_id``'s contacts (opted-out people left out), scored by the meet model.

    Returns
    -------
    a, b : ndarray of int
        Positions (in the model's context) of the two people, ``a < b``.
    score : ndarray
        Mean of the ranker's scores of (a, b) and (b, a); sorted best first.
    X_ab, X_ba : ndarray
        The pairs' features in each direction.
    """
    from recommender.meet.features import pair_features

    ctx = model.context_
    u = int(model._positions([person_id])[0])
    nb = _contacts(model, u, exclude_ids, max_contacts)
    m = len(nb)
    empty = np.zeros(0, dtype=np.int64)
    if m < 2:
        return empty, empty, np.zeros(0), np.zeros((0, 0)), np.zeros((0, 0))
    ia, ib = np.triu_indices(m, k=1)
    tied = np.asarray(ctx.A[nb][:, nb][ia, ib]).ravel() != 0
    ia, ib = ia[~tied], ib[~tied]
    if not len(ia):
        return empty, empty, np.zeros(0), np.zeros((0, 0)), np.zeros((0, 0))
    X_ab = pair_features(ctx, nb, ia, nb[ib])
    X_ba = pair_features(ctx, nb, ib, nb[ia])
    score = 0.5 * (model.ranker_.score(X_ab) + model.ranker_.score(X_ba))
    order = np.lexsort((nb[ib], nb[ia], -score))
    return nb[ia][order], nb[ib][order], score[order], X_ab[order], X_ba[order]


# -- words -------------------------------------------------------------------

def _label(tag):
    from recommender.meet.text import label  # imported when words are made: keeps the CLI's start light

    return label(tag)


def _who(p: dict) -> str:
    """'a fractional CFO' / 'CEO of Acme'."""
    from recommender.meet.text import role_of

    if p["is_exec"]:
        title = p.get("title") or "an executive"
        return f"{title} of {p['company']}" if p.get("company") else title
    return f"a fractional {role_of(p)}"


def _market(p: dict) -> str:
    from recommender.meet.text import market_phrase

    return market_phrase(p.get("industries", []), p.get("sizes", []))


def _shared_market(d: dict) -> str:
    from recommender.meet.text import market_phrase

    return market_phrase(d["industries"], d["size_bands"])


def _reason_text(kind: str, d: dict, a: dict, b: dict) -> str:
    """A reason about two other people, in words they can check."""
    an, bn = a["name"], b["name"]
    if kind == "complementary_specialties":
        theirs, yours = join_words([_label(t) for t in d["theirs"][:3]]), join_words([_label(t) for t in d["yours"][:3]])
        if theirs and yours:
            return f"complementary specialties: {an} does {yours}, {bn} does {theirs}"
        return f"complementary specialties: {bn if theirs else an} adds {theirs or yours}"
    if kind == "shared_clients":
        return f"same kind of client: both work with {_shared_market(d)}"
    if kind == "icp_fit":
        ex, fr = (a, b) if a["id"] == d["executive_id"] else (b, a)
        company = d.get("company") or f"{ex['name']}'s company"
        parts = [_label(t) for t in d["company_industry"] + d["company_size"] + d["company_region"]]
        matched = [_label(t) for t in d["industry"] + d["size_band"] + d["region"]]
        spec = join_words([_label(t) for t in fr.get("specialties", [])[:3]])
        does = f"; {fr['name']} does {spec}" if spec else ""
        return (f"ICP fit: {company} ({', '.join(parts)}) is the kind of client {fr['name']} serves "
                f"({join_words(matched) or 'part of the ICP'}){does}")
    return kind.replace("_", " ")


def _plain_why(kind: str, d: dict, to: dict, other: dict) -> str:
    """The reason as a plain clause addressed to ``to`` (no labels, no scores)."""
    of = first_name(other["name"])
    if kind == "complementary_specialties":
        mine = d["yours"] if to["id"] != d.get("_b") else d["theirs"]
        theirs = d["theirs"] if to["id"] != d.get("_b") else d["yours"]
        m, t = join_words([_label(x) for x in mine[:2]]), join_words([_label(x) for x in theirs[:2]])
        if m and t:
            return f"you do {m} and {of} does {t}, so you could send each other work"
        if m:
            return f"you bring {m}, right next to {of}'s work"
        return f"{of} covers {t}, right next to what you do"
    if kind == "shared_clients":
        shared = _shared_market(d)
        if to["is_exec"] and other["is_exec"]:
            return f"you both lead {shared}"
        return f"you both work with {shared}"
    if kind == "icp_fit":
        company = d.get("company") or "your company"
        if to["id"] == d["executive_id"]:
            spec = join_words([_label(t) for t in other.get("specialties", [])[:2]])
            return f"{of} works with companies like {company}" + (f" on {spec}" if spec else "")
        return f"{company} is the kind of company you work with"
    return kind.replace("_", " ")


def _note(to: dict, other: dict, reasons, me: dict) -> str:
    """A double-opt-in note: ask ``to`` first, before making the introduction."""
    if other["is_exec"]:
        who = f"{other.get('title') or 'who leads'} of {other['company']}" if other.get("company") else _who(other)
    else:
        who = f"{_who(other)} working with {_market(other)}"
    why = "; ".join(_plain_why(k, d, to, other) for k, _, d in reasons[:2])
    return (f"Hi {first_name(to['name'])}, I'd like to introduce you to {other['name']}, {who}. "
            f"I think you could help each other: {why}. Would you be open to an introduction? "
            f"If you both say yes, I'll connect you by email. No pressure either way. {first_name(me['name'])}")


def suggest_connections(model, person_id: str, k: int = 10, *, exclude_ids=(),
                        max_contacts: int = MAX_CONTACTS) -> list[Connection]:
    """Up to ``k`` pairs of ``person_id``'s contacts to introduce to each other, best first.

    Each has at least one checkable reason (:data:`HELP_REASONS`), none is tied
    already, no one has opted out, and each person appears in at most two
    suggestions (so the list is not one popular contact paired with everyone).
    """
    from recommender.errors import UsageError

    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise UsageError(f"k must be a positive integer, got {k!r}")
    a, b, score, X_ab, X_ba = score_contact_pairs(model, person_id, exclude_ids=exclude_ids,
                                                  max_contacts=max_contacts)
    if not len(a):
        return []
    ctx = model.context_
    me = model.person(person_id)
    c_ab, _ = model.ranker_.contributions(X_ab[: min(len(a), 50 * k)])
    out: list[Connection] = []
    used: dict[int, int] = {}
    for j in range(min(len(a), 50 * k)):
        ai, bi = int(a[j]), int(b[j])
        if used.get(ai, 0) >= 2 or used.get(bi, 0) >= 2:
            continue
        rec = model._recommendation(ai, bi, float(score[j]), X_ab[j], c_ab[j])
        help_ = [r for r in rec.reasons if r.kind in HELP_REASONS]
        if not help_:
            continue
        pa, pb = model.person(str(ctx.ids[ai])), model.person(str(ctx.ids[bi]))
        reasons = tuple((r.kind, _reason_text(r.kind, r.data, pa, pb), {**r.data, "_b": pb["id"]}) for r in help_)
        out.append(Connection(
            me_id=str(person_id), a_id=pa["id"], a_name=pa["name"], b_id=pb["id"], b_name=pb["name"],
            score=float(score[j]), reasons=reasons,
            note_to_a=_note(pa, pb, reasons, me), note_to_b=_note(pb, pa, reasons, me),
            features={"common_neighbours": float(rec.features.get("cn", 0.0))},
        ))
        used[ai] = used.get(ai, 0) + 1
        used[bi] = used.get(bi, 0) + 1
        if len(out) >= k:
            break
    return out


def connection_dict(c: Connection) -> dict:
    """One suggestion as the JSON object ``fracnet connect --json`` prints."""
    return {"a": {"id": c.a_id, "name": c.a_name}, "b": {"id": c.b_id, "name": c.b_name},
            "score": round(c.score, 4), "reasons": [{"kind": k, "text": t} for k, t, _ in c.reasons],
            "note_to_a": c.note_to_a, "note_to_b": c.note_to_b}


def format_connections(me: dict, items: list[Connection]) -> str:
    """The suggestions as readable text (no scores)."""
    if not items:
        return (f"No pair of {me['name']}'s contacts to introduce right now (they know each other already, "
                "or nothing checkable links them).")
    lines = [f"Give first: {len(items)} pairs of {me['name']}'s contacts to introduce to each other", ""]
    for n, c in enumerate(items, 1):
        lines.append(f"{n}. {c.a_name} ({c.a_id}) and {c.b_name} ({c.b_id})")
        for _, text, _ in c.reasons:
            lines.append(f"   - {text}")
        lines.append(f"   to {c.a_name.split()[0] if c.a_name else c.a_id}: {c.note_to_a}")
        lines.append(f"   to {c.b_name.split()[0] if c.b_name else c.b_id}: {c.note_to_b}")
        lines.append("")
    return "\n".join(lines).rstrip()
