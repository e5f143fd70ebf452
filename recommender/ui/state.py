"""Cached loaders and session state for the explorer.

Everything expensive (the network, the fitted models, the trust graph,
communities, brokers) is cached and keyed by the database's revision
(:func:`recommender.model_cache.revision_key`, the key the model cache uses
too), which every commit raises, from the app or from the CLI; the next script
run rebuilds what it needs. :func:`clear_caches` drops everything after an
import.
"""

from __future__ import annotations


import streamlit as st

from recommender.network import Network, load_network
from recommender.trust import build_trust_graph
from recommender.sample import open_default_store
from recommender.store.db import Store, default_db_path
from recommender.ui import views

#: Session-state keys.
PERSON_KEY = "person"
OUTREACH_KEY = "outreach"
REFER_KEY = "refer_result"
LOGGED_KEY = "refer_logged"


def db_path() -> str:
    return str(default_db_path().expanduser().resolve())


@st.cache_resource(show_spinner="Opening the network…", max_entries=4)
def _store(path: str) -> Store:
    # ``path`` keys the cache; a missing database is created from the bundled
    # sample, as the CLI does, never left empty
    return open_default_store()


def get_store() -> Store:
    """The shared store for the current database (``$FRACNET_DB`` or the default)."""
    return _store(db_path())


def data_version(store: Store) -> tuple:
    """The database's revision key (model_cache.revision_key): raised by every commit, from any connection."""
    from recommender.model_cache import revision_key

    return revision_key(store)


def version() -> tuple:
    return data_version(get_store())


_STRUCTURE_TABLES = ("people", "companies", "ties", "introductions")


def structure_version() -> tuple:
    """What the who-to-meet model depends on (people, companies, ties, introductions): row
    counts and highest rowids. Logging a referral leaves it unchanged, so the
    model is not refitted for every logged referral; imports clear every cache."""
    store = get_store()
    with store._lock:
        parts = tuple(store.con.execute(f"SELECT COUNT(*), MAX(rowid) FROM {t}").fetchone() for t in _STRUCTURE_TABLES)
        # an opt-out or a restore changes no count: the identity and the opted-out rows are part of it too
        opted = store.con.execute("SELECT COUNT(*), TOTAL(rowid) FROM people WHERE opt_out = 1").fetchone()
    return (str(store.path), store.identity, opted) + parts


@st.cache_resource(show_spinner="Reading the network…", max_entries=2)
def _network(path: str, ver: tuple) -> Network:
    return load_network(_store(path))


def network() -> Network:
    return _network(db_path(), version())


@st.cache_resource(show_spinner=False, max_entries=2)
def _facts(path: str, ver: tuple):
    return views.people_facts(_network(path, ver))


def facts():
    """People facts (names, groups' inputs, opt-out) indexed by id."""
    return _facts(db_path(), version())


@st.cache_data(show_spinner=False, max_entries=64)
def _find_people(path: str, ver: tuple, query: str, limit: int) -> list[str]:
    from recommender.people_search import find_people as find

    return find(_facts(path, ver), query, limit)


def find_people(query: str, limit: int = 50) -> list[str]:
    """Ids of the people best matching ``query`` (part of a name or id); see :mod:`recommender.people_search`."""
    return _find_people(db_path(), version(), str(query or ""), int(limit))


@st.cache_resource(show_spinner=False, max_entries=2)
def _trust(path: str, ver: tuple):
    return build_trust_graph(_network(path, ver))


@st.cache_resource(show_spinner="Learning who should meet whom (first run only)…", max_entries=2)
def _meet_model(path: str, sver: tuple):
    from recommender.model_cache import meet_model as cached_meet_model

    return cached_meet_model(_store(path))  # reads the network only when no model is cached on disk


def meet_model():
    return _meet_model(db_path(), structure_version())


@st.cache_resource(show_spinner="Preparing referral routing…", max_entries=2)
def _router(path: str, ver: tuple):
    from recommender.refer.router import Router

    return Router().fit(_network(path, ver))


def router():
    return _router(db_path(), version())


@st.cache_resource(show_spinner="Finding communities…", max_entries=2)
def _communities(path: str, ver: tuple):
    return views.communities(_trust(path, ver))


def communities():
    return _communities(db_path(), version())


@st.cache_resource(show_spinner="Finding the brokers…", max_entries=2)
def _brokers(path: str, ver: tuple):
    return views.brokers(_trust(path, ver), _facts(path, ver))


def brokers():
    return _brokers(db_path(), version())


@st.cache_data(show_spinner=False, max_entries=64)
def _map(path: str, ver: tuple, center: str, hops: int, limit: int, functions: tuple, industries: tuple,
         tags: tuple, groups: tuple):
    trust, fx = _trust(path, ver), _facts(path, ver)
    ids, info = views.neighbourhood(trust, fx, center, hops=hops, limit=limit, functions=functions,
                                    industries=industries, tags=tags, groups=groups)
    return views.map_layout(trust, fx, center, ids, info)


def network_map(center: str, hops: int, limit: int, functions=(), industries=(), tags=(), groups=()):
    """The laid-out map around ``center`` (cached per filter combination)."""
    return _map(db_path(), version(), center, int(hops), int(limit), tuple(sorted(functions)),
                tuple(sorted(industries)), tuple(sorted(tags)), tuple(sorted(groups)))


@st.cache_data(show_spinner=False, max_entries=64)
def _recommend(path: str, sver: tuple, pid: str, k: int):
    model = _meet_model(path, sver)
    return model.recommend(pid, k=k, group="all")


def recommendations(pid: str, k: int):
    """Who ``pid`` should meet next (k per group), opted-out people removed."""
    fx = facts()
    recs = _recommend(db_path(), structure_version(), pid, int(k))
    return [r for r in recs if not (r.candidate_id in fx.index and fx.at[r.candidate_id, "opt_out"])]


def clear_caches() -> None:
    """Drop every cached table and model (after an import); the store stays open."""
    st.cache_data.clear()
    for fn in (_network, _facts, _trust, _meet_model, _router, _communities, _brokers):
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
