"""Follow-ups in the calendar people already use: iCalendar (RFC 5545) via the ``icalendar`` library.

One all-day event per open pipeline item with a follow-up date (on that day),
with a reminder, the item's status, note and introducer in the description;
UIDs are stable per item, so importing a newer file updates the events.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from recommender.practice.owner import require_me
from recommender.practice.pipeline import list_items

__all__ = ["followups_calendar", "followups_ics_bytes", "write_followups_ics"]

PRODID = "-//fracnet//follow-ups//EN"


def followups_calendar(items: list[dict], *, owner_name: str | None = None):
    """An :class:`icalendar.Calendar` with one all-day event per item with a follow-up date."""
    from icalendar import Alarm, Calendar, Event

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"fracnet follow-ups{' of ' + owner_name if owner_name else ''}")
    stamp = datetime.now(timezone.utc).replace(microsecond=0)
    for it in items:
        if not it.get("follow_up"):
            continue
        day = date.fromisoformat(it["follow_up"])
        ev = Event()
        ev.add("uid", f"fracnet-outreach-{it['owner_id']}-{it['id']}@fracnet")
        ev.add("dtstamp", stamp)
        ev.add("dtstart", day)
        ev.add("dtend", day + timedelta(days=1))
        ev.add("summary", f"Follow up with {it['name']} ({it['status_label']})")
        desc = [f"Status: {it['status_label']}"]
        if it.get("introducer"):
            desc.append(f"Introducer: {it['introducer']}")
        if it.get("note"):
            desc.append(f"Note: {it['note']}")
        if it.get("email"):
            desc.append(f"Email: {it['email']}")
        desc.append(f"When done: fracnet outreach set {it['id']} STATUS")
        ev.add("description", "\n".join(desc))
        if it.get("profile_url"):
            ev.add("url", it["profile_url"])
        ev.add("categories", ["fracnet", "follow-up"])
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"Follow up with {it['name']}")
        alarm.add("trigger", timedelta(hours=9))
        ev.add_component(alarm)
        cal.add_component(ev)
    return cal


def followups_ics_bytes(store, *, today=None) -> tuple[bytes, int]:
    """My open follow-ups as iCalendar bytes, and how many events they hold."""
    me = require_me(store, "export followups")
    items = [i for i in list_items(store, owner=me, today=today, due_by="9999-12-31")]
    cal = followups_calendar(items, owner_name=store.get_person(me).get("name"))
    return cal.to_ical(), len(items)


def write_followups_ics(store, path, *, today=None) -> dict:
    """Write my follow-ups to ``path`` (``.ics``) atomically; returns ``{"out", "events"}``."""
    from recommender.errors import UsageError
    from recommender.io.atomic import atomic_write

    out = Path(path)
    if out.suffix.lower() != ".ics":
        raise UsageError(f"follow-ups are written as an iCalendar .ics file, got {out.name!r}",
                         hint="fracnet export followups --out followups.ics")
    if not out.parent.is_dir():
        raise UsageError(f"cannot write {out}: folder {out.parent} does not exist")
    data, n = followups_ics_bytes(store, today=today)
    atomic_write(out, lambda fh: fh.write(data))
    return {"out": str(out), "events": n}
