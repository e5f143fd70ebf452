"""Me: the person the tool is used as, stored in the database.

The owner is the ``meta`` key ``owner_id``. Every command that takes a person
defaults to me once set (:func:`resolve_person`); a LinkedIn import without an
owner attaches to me.

Example
-------
>>> import tempfile, os
>>> from recommender.store import Store
>>> s = Store(os.path.join(tempfile.mkdtemp(), "x.db"))
>>> get_me(s) is None
True
>>> pid = create_me(s, name="Ada Lovelace", function="marketing", specialties="Demand Gen")["id"]
>>> get_me(s) == pid, my_profile(s)["specialties"]
(True, 'demand-gen')
"""

from __future__ import annotations

import json

from recommender.errors import DataValidationError, UsageError, ValidationProblem

__all__ = ["MeNotSetError", "DEFAULT_CADENCE", "GROUPS", "get_me", "require_me", "resolve_person", "set_me",
           "create_me", "update_me", "my_profile", "cadence", "set_cadence", "cadence_group", "PROFILE_FIELDS"]

#: Days without contact after which a strong tie counts as "losing touch", per group.
DEFAULT_CADENCE = {"peers": 90, "adjacent": 90, "executives": 180}
GROUPS = ("peers", "adjacent", "executives")  # recommender.people.GROUPS (tests/test_rules.py checks)
#: The profile fields a person can set on themselves, and their taxonomy kind (None: free text).
PROFILE_FIELDS = {"name": None, "kind": None, "function": "function", "title": None, "specialties": "specialty",
                  "industries": "industry", "icp_sizes": "size_band", "regions": "region", "capacity": None,
                  "email": None, "profile_url": None, "bio": None}

_SET_HINT = "run 'fracnet me --set-id ID' (yourself in the network) or 'fracnet me --new --name NAME ...'"


class MeNotSetError(UsageError):
    """A command needs "me" and no owner is set."""

    def __init__(self, what: str = "this command"):
        super().__init__(f"{what} needs a person and 'me' is not set; expected a person id or 'me' set",
                         hint=_SET_HINT)


def _meta(store, key: str):
    with store._lock:
        row = store.con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def _set_meta(con, key: str, value: str) -> None:
    con.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value))


def get_me(store) -> str | None:
    """The owner's person id, or None when not set (or no longer in the network)."""
    pid = _meta(store, "owner_id")
    if not pid:
        return None
    with store._lock:
        ok = store.con.execute("SELECT 1 FROM people WHERE id = ?", (pid,)).fetchone()
    return pid if ok else None


def require_me(store, what: str = "this command") -> str:
    """The owner's id; :class:`MeNotSetError` (exit 2, with what to run) when not set."""
    pid = get_me(store)
    if pid is None:
        raise MeNotSetError(what)
    return pid


def resolve_person(store, given: str | None = None, what: str = "this command") -> str:
    """The person a command is about: ``given`` (an id, or a name only one person has) or me.

    Raises UnknownIdError for an unknown ``given``, MeNotSetError when neither is there.
    """
    if given:
        return store.resolve("people", given)  # an id or a name only one person has
    return require_me(store, what)


def set_me(store, person_id: str) -> dict:
    """Make ``person_id`` me (one transaction; the network is unchanged)."""
    person = store.get_person(person_id)
    with store.transaction(practice=True) as con:
        _set_meta(con, "owner_id", str(person_id))
    return person


def _clean_fields(fields: dict, taxonomy=None) -> tuple[dict, list[str]]:
    """Profile fields with tags normalised through the taxonomy (as the importer does).

    Returns the cleaned fields and warnings about tags the taxonomy does not know.
    """
    from recommender.taxonomy import join_tags, load_taxonomy

    tax = taxonomy or load_taxonomy()
    out, warnings, problems = {}, [], []
    for key, value in fields.items():
        if value is None:
            continue
        if key not in PROFILE_FIELDS:
            raise UsageError(f"unknown profile field {key!r}; expected one of {', '.join(PROFILE_FIELDS)}")
        kind = PROFILE_FIELDS[key]
        if key == "capacity":
            try:
                n = int(value)
                if n < 0:
                    raise ValueError
            except (TypeError, ValueError):
                problems.append(ValidationProblem("me", None, "capacity",
                                                  f"expected a whole number of open slots (0 or more), got {value!r}"))
                continue
            out[key] = n
        elif key == "kind":
            if value not in ("fractional", "executive"):
                problems.append(ValidationProblem("me", None, "kind",
                                                  f"expected fractional or executive, got {value!r}"))
                continue
            out[key] = value
        elif kind == "function":
            n = tax.normalize(str(value), "function")
            if not n.known:
                warnings.append(f"function {value!r} is not in the taxonomy"
                                + (f" (did you mean {n.suggestion!r}?)" if n.suggestion else ""))
            out[key] = n.tag or None
        elif kind:
            tags, unknown = tax.normalize_many(value, kind)
            for u in unknown:
                warnings.append(f"{key}: {u.raw!r} is not in the taxonomy"
                                + (f" (did you mean {u.suggestion!r}?)" if u.suggestion else ""))
            out[key] = join_tags(tags)
        else:
            out[key] = str(value).strip()
    if problems:
        raise DataValidationError(problems)
    return out, warnings


def create_me(store, *, name: str, taxonomy=None, **fields) -> dict:
    """Create my profile as a new person and make it me, in one transaction.

    Returns ``{"id", "warnings"}``.
    """
    if not name or not str(name).strip():
        raise UsageError("a new profile needs a name", hint="fracnet me --new --name 'Ada Lovelace' --function marketing")
    fields = {"kind": "fractional", **fields, "name": name}
    clean, warnings = _clean_fields(fields, taxonomy)
    cols = ["id"] + list(clean)
    with store.transaction() as con:
        pid = store.next_id("people", "p")  # inside the transaction: no other writer takes it meanwhile
        con.execute(f"INSERT INTO people ({', '.join(cols)}, opt_out) VALUES ({', '.join('?' for _ in cols)}, 0)",
                    [pid] + list(clean.values()))
        _set_meta(con, "owner_id", pid)
    return {"id": pid, "warnings": warnings}


def update_me(store, *, taxonomy=None, **fields) -> dict:
    """Edit my profile (only the fields given); one transaction. Returns ``{"id", "changed", "warnings"}``."""
    pid = require_me(store, "editing my profile")
    clean, warnings = _clean_fields(fields, taxonomy)
    if clean:
        with store.transaction() as con:
            con.execute(f"UPDATE people SET {', '.join(f'{k} = ?' for k in clean)} WHERE id = ?",
                        list(clean.values()) + [pid])
    return {"id": pid, "changed": sorted(clean), "warnings": warnings}


def my_profile(store) -> dict | None:
    """My person record (a dict of the people columns), or None when me is not set."""
    pid = get_me(store)
    return store.get_person(pid) if pid else None


def cadence(store) -> dict:
    """Days per group after which a strong tie without contact is "losing touch"."""
    raw = _meta(store, "cadence")
    out = dict(DEFAULT_CADENCE)
    if raw:
        try:
            out.update({k: int(v) for k, v in json.loads(raw).items() if k in GROUPS})
        except (ValueError, TypeError, AttributeError):
            pass
    return out


def set_cadence(store, days: dict) -> dict:
    """Set the cadence of some groups (``{"executives": 120}``); one transaction. Returns the whole cadence."""
    new = cadence(store)
    for g, d in days.items():
        if g not in GROUPS:
            raise UsageError(f"unknown group {g!r} for a cadence; expected one of {', '.join(GROUPS)}",
                             hint="fracnet me --cadence executives=120")
        try:
            d = int(d)
            if d < 1:
                raise ValueError
        except (TypeError, ValueError):
            raise UsageError(f"a cadence is a whole number of days (1 or more), got {d!r} for {g}",
                             hint="fracnet me --cadence peers=60") from None
        new[g] = d
    with store.transaction(practice=True) as con:
        _set_meta(con, "cadence", json.dumps(new, sort_keys=True))
    return new


def cadence_group(me_kind, me_function, kind, function) -> str:
    """The cadence that applies to one of my contacts: the group rule of :func:`recommender.people.group_of`.

    Only kinds and functions decide a group (tags do not), so these four are
    enough. Every contact gets a cadence: a plain contact, in no group to meet,
    keeps the adjacent one.
    """
    from recommender.people import GROUPS as _GROUPS, group_of  # numpy-free import of this module for the CLI

    def facts(k, fn):
        return {"kind": k or "fractional", "function": fn, "specialties": (), "industries": (), "sizes": ()}

    return group_of(facts(me_kind, me_function), facts(kind, function)) or _GROUPS[1]

