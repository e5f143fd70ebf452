"""The data model's tables: columns, types and allowed values, in one place.

The SQLite store, the CSV importer and exporter, and the demo-data generator
all read these definitions, so a CSV folder written by one is read by the other.

CSV conventions
---------------
* UTF-8 (a BOM is accepted), a header row, one row per record.
* Multi-valued fields (``tags``) are ``;``-separated (``|`` and ``,`` are
  accepted on import).
* Dates are ISO ``YYYY-MM-DD``.
* Every column but the id columns is optional; missing columns are empty.
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA_VERSION = 3
APPLICATION_ID = 0x46524E54  # "FRNT": marks a SQLite file as a fracnet database

#: ``contact``: someone who is neither a fractional nor an executive (an engineer, an
#: investor, ...): they link people and can introduce, but are never suggested.
PERSON_KINDS = ("fractional", "executive", "contact")
INTRO_OUTCOMES = ("connected", "declined", "no_response", "pending")
OPPORTUNITY_STATUSES = ("open", "referred", "won", "lost", "closed")
REFERRAL_OUTCOMES = ("pending", "accepted", "declined", "won", "lost")


@dataclass(frozen=True)
class Column:
    """One column of a table.

    type is one of ``text``, ``int``, ``float``, ``date``, ``timestamp`` (ISO 8601,
    stored as UTC ``YYYY-MM-DDTHH:MM:SSZ``), ``bool``, ``tags``, ``choice``. ``tag_kind`` names the taxonomy kind for ``tags`` columns (and
    single-tag text columns such as a company's industry). ``ref`` names the
    table an id column points to.
    """

    name: str
    type: str = "text"
    required: bool = False
    tag_kind: str | None = None
    choices: tuple[str, ...] = ()
    ref: str | None = None
    default: object = None


@dataclass(frozen=True)
class Table:
    name: str
    file: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _table(name: str, columns: tuple[Column, ...], key: tuple[str, ...] = ("id",)) -> Table:
    """A table kept as ``<name>.csv`` in a folder."""
    return Table(name, f"{name}.csv", columns, key)


_ID = Column("id", required=True)
_DATE = Column("date", "date")
#: A market, as a company and an opportunity name it.
_MARKET = (
    Column("industry", "text", tag_kind="industry"),
    Column("size_band", "text", tag_kind="size_band"),
    Column("region", "text", tag_kind="region"),
)

PEOPLE = _table("people", (
    _ID,
    Column("name"),
    Column("kind", "choice", choices=PERSON_KINDS, default="fractional"),
    Column("function", "text", tag_kind="function"),
    Column("title"),
    Column("company_id", ref="companies"),
    Column("specialties", "tags", tag_kind="specialty"),
    Column("industries", "tags", tag_kind="industry"),
    Column("icp_sizes", "tags", tag_kind="size_band"),
    Column("regions", "tags", tag_kind="region"),
    Column("capacity", "int"),
    Column("email"),
    Column("profile_url"),
    Column("bio"),
    Column("opt_out", "bool", default=0),
))

COMPANIES = _table("companies", (_ID, Column("name"), *_MARKET))

TIES = _table("ties", (
    Column("a", required=True, ref="people"),
    Column("b", required=True, ref="people"),
    Column("strength", "float", default=0.5),
    Column("since", "date"),
    Column("last_contact", "date"),
    Column("source"),
), key=("a", "b"))

INTRODUCTIONS = _table("introductions", (
    _ID,
    _DATE,
    Column("introducer", ref="people"),
    Column("a", required=True, ref="people"),
    Column("b", required=True, ref="people"),
    Column("outcome", "choice", choices=INTRO_OUTCOMES, default="pending"),
))

OPPORTUNITIES = _table("opportunities", (
    _ID,
    _DATE,
    Column("brought_by", ref="people"),
    Column("company_id", ref="companies"),
    Column("needs", "tags", tag_kind="specialty"),
    *_MARKET,
    Column("description"),
    Column("status", "choice", choices=OPPORTUNITY_STATUSES, default="open"),
))

REFERRALS = _table("referrals", (
    _ID,
    Column("opportunity_id", required=True, ref="opportunities"),
    Column("from_id", required=True, ref="people"),
    Column("to_id", required=True, ref="people"),
    _DATE,
    Column("outcome", "choice", choices=REFERRAL_OUTCOMES, default="pending"),
))

TABLES: dict[str, Table] = {t.name: t for t in (PEOPLE, COMPANIES, TIES, INTRODUCTIONS, OPPORTUNITIES, REFERRALS)}
#: Import order: referenced tables first.
IMPORT_ORDER = ("companies", "people", "ties", "introductions", "opportunities", "referrals")

_SQL_TYPES = {"int": "INTEGER", "float": "REAL", "bool": "INTEGER"}


def create_table_sql(table: Table) -> str:
    """The CREATE TABLE statement of one table."""
    cols = []
    for c in table.columns:
        sql_type = _SQL_TYPES.get(c.type, "TEXT")
        null = " NOT NULL" if c.required else ""
        cols.append(f"{c.name} {sql_type}{null}")
    cols.append(f"PRIMARY KEY ({', '.join(table.key)})")
    return f"CREATE TABLE IF NOT EXISTS {table.name} (\n  " + ",\n  ".join(cols) + "\n)"


# -- the practice around the answers (schema 3): me, the outreach pipeline, touches ----------------
#: Outreach statuses, in pipeline order (the last two are ways out).
OUTREACH_STATUSES = ("to_contact", "asked_introducer", "introduced", "met", "follow_up", "closed",
                     "not_now", "not_relevant")
#: Kinds of logged interactions (touches).
TOUCH_KINDS = ("meeting", "call", "email", "intro", "referral")

#: Tables of the practice: not part of a network's CSV folder (``TABLES``), kept in the same file.
PRACTICE_SQL = (
    """CREATE TABLE IF NOT EXISTS outreach_items (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  owner_id TEXT NOT NULL,
  person_id TEXT NOT NULL,
  source TEXT,
  introducer_id TEXT,
  note TEXT,
  status TEXT NOT NULL DEFAULT 'to_contact',
  follow_up TEXT,
  created TEXT NOT NULL,
  updated TEXT NOT NULL,
  UNIQUE (owner_id, person_id)
)""",
    """CREATE TABLE IF NOT EXISTS outreach_history (
  item_id INTEGER NOT NULL,
  at TEXT NOT NULL,
  status TEXT,
  follow_up TEXT,
  note TEXT
)""",
    "CREATE INDEX IF NOT EXISTS outreach_history_item ON outreach_history (item_id)",
    """CREATE TABLE IF NOT EXISTS interactions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  owner_id TEXT NOT NULL,
  person_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  date TEXT NOT NULL,
  note TEXT
)""",
    "CREATE INDEX IF NOT EXISTS interactions_person ON interactions (owner_id, person_id)",
)

#: The practice in a CSV folder (``fracnet export DIR`` / ``fracnet import DIR``), beside the network's
#: files. Ids here are the database's own numbers: ``outreach_history.item_id`` names an ``outreach.csv``
#: id of the same folder; an import matches items by (owner, person), never by number.
#: The practice in a CSV folder (``fracnet export DIR`` / ``fracnet import DIR``), beside the network's
#: files. Ids here are the database's own numbers: ``outreach_history.item_id`` names an ``outreach.csv``
#: id of the same folder; an import matches items by (owner, person), never by number.
ME = _table("me", (
    Column("person_id", required=True, ref="people"),
    Column("peers_days", "int"),
    Column("adjacent_days", "int"),
    Column("executives_days", "int"),
), key=("person_id",))

#: An owner's row: its own number, whose it is, about whom.
_OWNED = (
    Column("id", "int", required=True),
    Column("owner_id", required=True, ref="people"),
    Column("person_id", required=True, ref="people"),
)

OUTREACH = _table("outreach", (
    *_OWNED,
    Column("source"),
    Column("introducer_id", ref="people"),
    Column("note"),
    Column("status", "choice", choices=OUTREACH_STATUSES, default="to_contact"),
    Column("follow_up", "date"),
    Column("created", "timestamp"),
    Column("updated", "timestamp"),
))

# no key: two changes may share a second; an import skips the rows it already holds
OUTREACH_HISTORY = _table("outreach_history", (
    Column("item_id", "int", required=True, ref="outreach"),
    Column("at", "timestamp", required=True),
    Column("status", "choice", choices=OUTREACH_STATUSES),
    Column("follow_up", "date"),
    Column("note"),
), key=())

TOUCHES = _table("touches", (
    *_OWNED,
    Column("kind", "choice", required=True, choices=TOUCH_KINDS),
    Column("date", "date", required=True),
    Column("note"),
))

#: The practice's files, in import order (items before their history).
PRACTICE_TABLES: dict[str, Table] = {t.name: t for t in (ME, OUTREACH, OUTREACH_HISTORY, TOUCHES)}
#: Every table a CSV folder holds: the network's, then the practice's.
FOLDER_TABLES: dict[str, Table] = {**{n: TABLES[n] for n in IMPORT_ORDER}, **PRACTICE_TABLES}
