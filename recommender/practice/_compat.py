"""Library pieces the practice modules use, imported in one place (the homes of issue 13's layout)."""

from __future__ import annotations


def label(tag: str) -> str:
    """A tag in the taxonomy's display words."""
    from recommender.meet.text import label as _label

    return _label(tag)


def explain_module():
    """The module that words recommendations (role_of, market_phrase, reason_text, draft_note)."""
    import recommender.meet.text as m

    return m


def load_network(store, as_of=None):
    from recommender.network import load_network as f

    return f(store, as_of)


def meet_model(store, as_of=None, **kw):
    from recommender.model_cache import meet_model as f

    return f(store, as_of, **kw)
