"""Who do I refer this opportunity to: the router (:mod:`.router`) and its words (:mod:`.text`).

The public names are re-exported lazily (``from recommender.refer import X``
works; importing the package itself loads nothing heavy).
"""

from recommender._lazy import lazy_exports

#: Longest trust path considered (a referral through more ties than this is not a trusted one).
MAX_HOPS = 6

_EXPORTS = {
    "Router": "router", "Request": "router", "Routing": "router", "Pick": "router", "LaneCheck": "router",
    "TrackRecord": "router", "format_routing": "text", "routing_to_dict": "text", "introduction_message":
    "text",
}
__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
__all__ = __all__ + ["MAX_HOPS"]
