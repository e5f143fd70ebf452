"""Imports of library pieces that are being moved between modules (issue 13), in one place."""

from __future__ import annotations


def label(tag: str) -> str:
    """A tag in the taxonomy's display words."""
    try:
        from recommender.explain import label as _label
    except ImportError:  # after the restructure
        from recommender.meet.text import label as _label
    return _label(tag)


def explain_module():
    try:
        import recommender.explain as m
    except ImportError:
        import recommender.meet.text as m
    return m


def load_network(store, as_of=None):
    try:
        from recommender.graph import load_network as f
    except ImportError:
        from recommender.network import load_network as f
    return f(store, as_of)


def meet_model(store, as_of=None, **kw):
    from recommender.model_cache import meet_model as f

    return f(store, as_of, **kw)


def cached_meet_model(store):
    """The cached model of the store's current revision, or None (never fits)."""
    from recommender.errors import FracnetError
    from recommender.model_cache import cache_dir, cache_key

    path = cache_dir(store) / f"meet-{cache_key(store, None)}.pkl"
    if not path.exists():
        return None
    try:
        from recommender.meet import MeetModel
    except ImportError:
        from recommender.meet.model import MeetModel
    try:
        return MeetModel.load(path)
    except FracnetError:
        return None
