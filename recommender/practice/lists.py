"""My outreach list as one table: the saved pipeline beside the "who to meet" suggestions.

The explorer's Outreach page and ``fracnet export outreach`` share this table
(the columns of :data:`recommender.outreach.COLUMNS`): every pipeline item
carries its status and follow-up date; suggestions not yet on the list follow
with an empty status; people marked "not relevant" and opted-out people never
appear.
"""

from __future__ import annotations

from recommender.practice.owner import cadence_group
from recommender.practice.pipeline import STATUS_LABELS, list_items, recommend_for
from recommender.practice.week import _my_facts, follow_up_draft

__all__ = ["pipeline_rows", "outreach_list_rows"]


def pipeline_rows(store, owner: str, *, status: str | None = None) -> list[dict]:
    """The owner's pipeline items as outreach rows (status label, follow-up date, a draft of the next step)."""
    mine = _my_facts(store, owner)
    rows = []
    for it in list_items(store, owner=owner, status=status):
        intro = f"{it['introducer']} ({it['introducer_id']})" if it["introducer_id"] else ""
        rows.append({
            "group": cadence_group(mine["kind"], mine["function"], it["kind"], it["function"]),
            "name": it["name"], "company": it["company"] or "", "title": it["title"] or "",
            "why": it["source"] or "", "introducer": intro, "profile_url": it["profile_url"] or "",
            "email": it["email"] or "", "note": it["note"] or "", "status": STATUS_LABELS[it["status"]],
            "follow_up": it["follow_up"] or "", "draft_note": follow_up_draft(it, mine),
            "person_id": it["person_id"], "for_id": owner, "score": None, "item": it["id"],
        })
    return rows


def outreach_list_rows(store, person_id: str, model, network, *, per_group: int = 15) -> list[dict]:
    """Pipeline rows of ``person_id`` first, then their suggestions not on the list (opted-out people dropped)."""
    from recommender.outreach import outreach_rows

    items = pipeline_rows(store, person_id)
    listed = {r["person_id"] for r in items}
    recs = [r for r in recommend_for(store, model, person_id, k=per_group, group="all") if r.candidate_id not in listed]
    return items + outreach_rows(recs, network, model)
