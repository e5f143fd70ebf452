"""Cached loaders and session state for the explorer.

Everything expensive is built once per revision of the data it reads and
shared by every page, card and session (issue 17). The one key rule is the
library's (:func:`recommender.model_cache.tables_key`):

* the **structure** (people, companies, ties, introductions): the tables
  themselves, people facts, the outreach lookup, the trust graph, the
  who-to-meet model, the router's people, brokers and communities;
* the referral **history** (referrals, opportunities): the ledger and tables
  that show it, and the router's track records (refitted cheaply with
  :meth:`Router.with_history`).

So logging a referral re-reads two tables, and adding to outreach (a practice
write) reloads nothing. The trust graph, and the model, brokers and
communities built on it, count the referral outcomes known when the structure
last changed. :func:`clear_caches` drops everything after an import.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import streamlit as st

from recommender.explore import INSIGHTS_CACHE
from recommender.model_cache import HISTORY_TABLES, STRUCTURE_TABLES, tables_key
from recommender.network import Network
from recommender.sample import open_default_store
from recommender.store.db import Store, default_db_path
from recommender.ui import views

#: Session-state keys.
PERSON_KEY = "person"
OUTREACH_KEY = "outreach"
REFER_KEY = "refer_result"
LOGGED_KEY = "refer_logged"
#: Whole-network insights are computed in the page's run below this much work (pivots x ties), else in the background.
SYNC_WORK = 20_000_000


def db_path() -> str:
    return str(default_db_path().expanduser().resolve())


@st.cache_resource(show_spinner="Opening the database…", max_entries=4)
def _store(path: str) -> Store:
    # ``path`` keys the cache; a missing database is created from the bundled
    # sample, as the CLI does, never left empty
    return open_default_store()


def get_store() -> Store:
    """The shared store for the current database (``$FRACNET_DB`` or the default)."""
    return _store(db_path())


def structure_key() -> tuple:
    """The revision of the network's structure (people, companies, ties, introductions)."""
    return tables_key(get_store(), STRUCTURE_TABLES)


def history_key() -> tuple:
    """The revision of the referral history (referrals, opportunities)."""
    return tables_key(get_store(), HISTORY_TABLES)


def version() -> tuple:
    """The key of everything the network holds (structure and history)."""
    return structure_key() + history_key()


@st.cache_resource(show_spinner="Reading the network…", max_entries=2)
def _structure(path: str, skey: tuple) -> Network:
    store = _store(path)
    return Network.from_frames(**{t: store.read_table(t) for t in STRUCTURE_TABLES})


@st.cache_resource(show_spinner="Reading the referral history…", max_entries=2)
def _history(path: str, hkey: tuple) -> Network:
    store = _store(path)
    return Network.from_frames(**{t: store.read_table(t) for t in HISTORY_TABLES})


@st.cache_resource(show_spinner=False, max_entries=2)
def _network(path: str, skey: tuple, hkey: tuple) -> Network:
    hist = _history(path, hkey)
    return replace(_structure(path, skey), **{t: getattr(hist, t) for t in HISTORY_TABLES})


def network() -> Network:
    return _network(db_path(), structure_key(), history_key())


@st.cache_resource(show_spinner="Reading people…", max_entries=2)
def _facts(path: str, skey: tuple):
    return views.people_facts(_structure(path, skey))


def facts():
    """People facts (names, groups' inputs, opt-out) indexed by id."""
    return _facts(db_path(), structure_key())


@st.cache_resource(show_spinner=False, max_entries=2)
def _lookup(path: str, skey: tuple):
    from recommender.explore import people_lookup

    return people_lookup(_structure(path, skey))


def outreach_lookup():
    """The people and company lookup every outreach row reads (built once per structure revision)."""
    return _lookup(db_path(), structure_key())


#: The columns naming a person, per table a person's page lists rows of.
PERSON_COLUMNS = {"ties": ("a", "b"), "introductions": ("a", "b", "introducer"), "referrals": ("from_id", "to_id")}


@st.cache_resource(show_spinner=False, max_entries=6)
def _row_index(path: str, key: tuple, table: str):
    from recommender.explore import RowIndex

    net = _structure(path, key) if table in STRUCTURE_TABLES else _history(path, key)
    return RowIndex(getattr(net, table), PERSON_COLUMNS[table])


def person_rows(table: str, pid: str):
    """Positions of ``pid``'s rows in :func:`network`'s ``table`` (ties, introductions, referrals), from an
    index built once per revision of that table."""
    key = structure_key() if table in STRUCTURE_TABLES else history_key()
    return _row_index(db_path(), key, table)(pid)


def person_network(pid: str) -> Network:
    """The network cut to ``pid``'s referrals and the people they name: what ``pid``'s referral ledger
    (:func:`recommender.ledger.referral_ledger`) reads, without a pass over everyone."""
    net = network()
    refs = net.referrals.iloc[person_rows("referrals", pid)]
    ids = {pid} | set(refs["from_id"].dropna()) | set(refs["to_id"].dropna())
    return replace(net, referrals=refs, people=net.people.iloc[outreach_lookup()[0].positions(ids)])


@st.cache_data(show_spinner=False, max_entries=64)
def _find_people(path: str, skey: tuple, query: str, limit: int) -> list[str]:
    from recommender.people_search import find_people as find

    return find(_facts(path, skey), query, limit)


def find_people(query: str, limit: int = 50) -> list[str]:
    """Ids of the people best matching ``query`` (part of a name or id); see :mod:`recommender.people_search`."""
    return _find_people(db_path(), structure_key(), str(query or ""), int(limit))


@st.cache_resource(show_spinner="Building the trust graph…", max_entries=2)
def _trust(path: str, skey: tuple):
    from recommender.explore import TrustAdjacency

    return TrustAdjacency.from_model(_meet_model(path, skey))  # the model's trust weights: nothing recomputed


def trust():
    """The trust graph (:class:`recommender.explore.TrustAdjacency`), built once per structure revision."""
    return _trust(db_path(), structure_key())


@st.cache_resource(show_spinner="Learning who should meet whom (first run only)…", max_entries=2)
def _meet_model(path: str, skey: tuple):
    from recommender.model_cache import meet_model as cached_meet_model

    store = _store(path)  # the network already read is fitted on when no model is cached on disk
    return cached_meet_model(store, network=_network(path, skey, tables_key(store, HISTORY_TABLES)))


def meet_model():
    return _meet_model(db_path(), structure_key())


@st.cache_resource(show_spinner="Preparing referral routing…", max_entries=2)
def _router_fitted(path: str, skey: tuple):
    from recommender.refer.router import Router

    hkey = tables_key(_store(path), HISTORY_TABLES)
    return hkey, Router().fit(_network(path, skey, hkey))


@st.cache_resource(show_spinner=False, max_entries=2)
def _router(path: str, skey: tuple, hkey: tuple):
    fitted_on, router = _router_fitted(path, skey)
    return router if fitted_on == hkey else router.with_history(_network(path, skey, hkey))


def router():
    """The referral router: people fitted once per structure revision, track records per history revision."""
    return _router(db_path(), structure_key(), history_key())


@st.cache_data(show_spinner=False, max_entries=64)
def _neighbourhood(path: str, skey: tuple, center: str, hops: int, limit: int, functions: tuple, industries: tuple,
                   tags: tuple, groups: tuple):
    return views.neighbourhood(_trust(path, skey), _facts(path, skey), center, hops=hops, limit=limit,
                               functions=functions, industries=industries, tags=tags, groups=groups)


def neighbourhood(center: str, hops: int = 2, limit: int = views.MAP_LIMIT_MAX, functions=(), industries=(), tags=(),
                  groups=()):
    """(ids, info) around ``center`` (:func:`recommender.explore.neighbourhood`), cached per filter combination."""
    return _neighbourhood(db_path(), structure_key(), center, int(hops), int(limit), tuple(sorted(functions)),
                          tuple(sorted(industries)), tuple(sorted(tags)), tuple(sorted(groups)))


@st.cache_data(show_spinner=False, max_entries=64)
def _map(path: str, skey: tuple, center: str, hops: int, limit: int, functions: tuple, industries: tuple,
         tags: tuple, groups: tuple):
    ids, info = _neighbourhood(path, skey, center, hops, limit, functions, industries, tags, groups)
    return views.map_layout(_trust(path, skey).subgraph(ids), _facts(path, skey), center, ids, info)


def network_map(center: str, hops: int, limit: int, functions=(), industries=(), tags=(), groups=()):
    """The laid-out map around ``center`` (cached per filter combination)."""
    return _map(db_path(), structure_key(), center, int(hops), int(limit), tuple(sorted(functions)),
                tuple(sorted(industries)), tuple(sorted(tags)), tuple(sorted(groups)))


@st.cache_data(show_spinner="Finding the brokers and communities around this person…", max_entries=64)
def _local_insights(path: str, skey: tuple, center: str) -> dict:
    from recommender.explore import pivots_for

    adj, fx = _trust(path, skey), _facts(path, skey)
    ids, info = _neighbourhood(path, skey, center, 2, views.MAP_LIMIT_MAX, (), (), (), ())
    g = adj.subgraph(ids)
    labels = views.communities(g)
    return {"brokers": views.brokers(g, fx, degree=adj.degree), "labels": labels,
            "table": views.community_table(labels, fx), "people": g.number_of_nodes(), "ties": g.number_of_edges(),
            "pivots": pivots_for(g), "within_reach": info["total"]}


def local_insights(center: str) -> dict:
    """Brokers and communities of ``center``'s neighbourhood (the strongest :data:`MAP_LIMIT_MAX` people within
    two ties), computed on demand: ``brokers``, ``labels``, ``table``, ``people``, ``ties``, ``pivots``."""
    return _local_insights(db_path(), structure_key(), center)


class _Job:
    """Whole-network insights for one structure revision: from disk, computed now, or in the background."""

    def __init__(self, store, adj, fx, key):
        from recommender import result_cache

        self.result, self.error = result_cache.load(store, INSIGHTS_CACHE, key), None
        self.from_disk = self.result is not None
        self._args = (store, adj, fx, key)
        self.thread = None
        if self.result is None:
            if adj.edges * _pivots() <= SYNC_WORK:
                self._run()
            else:
                self.thread = threading.Thread(target=self._run, name="fracnet-insights", daemon=True)
                self.thread.start()

    def _run(self) -> None:
        from recommender import result_cache
        from recommender.explore import whole_network_insights

        store, adj, fx, key = self._args
        try:
            result = whole_network_insights(adj, fx, pivots=_pivots())
            try:
                result_cache.save(store, INSIGHTS_CACHE, key, result)
            except Exception:  # noqa: BLE001  (a read-only folder: keep the answer in memory)
                pass
            self.result = result
        except Exception as exc:  # noqa: BLE001  (shown on the page, never a crash of the explorer)
            self.error = f"{type(exc).__name__}: {exc}"


def _pivots() -> int:
    from recommender.explore import NETWORK_PIVOTS

    return NETWORK_PIVOTS


@st.cache_resource(show_spinner="Finding brokers and communities in the whole network…", max_entries=2)
def _network_job(path: str, skey: tuple) -> _Job:
    from recommender.explore import insights_cache_key

    store = _store(path)
    return _Job(store, _trust(path, skey), _facts(path, skey), insights_cache_key(store))


def network_insights() -> dict | None:
    """Whole-network brokers and communities (:func:`recommender.explore.whole_network_insights`) once ready:
    read from the disk cache, or computed once per structure revision (in the background on big networks;
    None until then). Raises RuntimeError if the computation failed."""
    job = _network_job(db_path(), structure_key())
    if job.error:
        raise RuntimeError(job.error)
    return job.result


@st.cache_resource(show_spinner=False, max_entries=2)
def _community_of(path: str, skey: tuple) -> dict:
    res = _network_job(path, skey).result
    return dict(zip(res["ids"], res["community"])) if res else {}


def network_community_of() -> dict:
    """Person id -> community number in the whole network ({} until :func:`network_insights` is ready)."""
    job = _network_job(db_path(), structure_key())
    if job.result is None:
        return {}
    return _community_of(db_path(), structure_key())


@st.cache_data(show_spinner=False, max_entries=64)
def _recommend(path: str, skey: tuple, pid: str, k: int):
    model = _meet_model(path, skey)
    return model.recommend(pid, k=k, group="all")


def recommendations(pid: str, k: int):
    """Who ``pid`` should meet next (k per group), opted-out people removed."""
    fx = facts()
    recs = _recommend(db_path(), structure_key(), pid, int(k))
    return [r for r in recs if not (r.candidate_id in fx.index and fx.at[r.candidate_id, "opt_out"])]


def warm() -> None:
    """Build what every page shares once per revision (the model, the outreach lookup, the row indexes):
    the process's first run does it while its message shows, so no page's first view waits for it.
    The model is loaded only when it is cached on disk: a fit waits for the first page that needs it."""
    from recommender.model_cache import has_cached_model

    if has_cached_model(get_store()):
        meet_model()
    outreach_lookup()
    for table in PERSON_COLUMNS:
        _row_index(db_path(), structure_key() if table in STRUCTURE_TABLES else history_key(), table)


def clear_caches() -> None:
    """Drop every cached table and model (after an import); the store stays open."""
    st.cache_data.clear()
    for fn in (_structure, _history, _network, _facts, _lookup, _row_index, _trust, _meet_model, _router_fitted, _router,
               _network_job, _community_of):
        fn.clear()


def init_session() -> None:
    ss = st.session_state
    ss.setdefault(OUTREACH_KEY, [])
    ss.setdefault(LOGGED_KEY, [])


def current_person() -> str | None:
    """The person chosen in the sidebar, or None."""
    pid = st.session_state.get(PERSON_KEY)
    fx = facts()
    return pid if pid in fx.index else None


def require_person() -> str:
    """The chosen person; otherwise an info box and stop."""
    pid = current_person()
    if pid is None:
        st.info("Choose a person in the sidebar to begin.")
        st.stop()
    return pid
