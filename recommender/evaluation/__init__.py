"""Evaluation: link prediction on any edge list (:mod:`.links`, :mod:`.linkpred`), temporal replay of the network's history (:mod:`.history`) and of its referrals (:mod:`.referrals`).

The public names are re-exported lazily (``from recommender.evaluation import X``
works; importing the package itself loads nothing heavy).
"""

from recommender._lazy import lazy_exports

_EXPORTS = {
    "evaluate_links": "links", "read_edge_list": "links", "read_split": "links", "plot_roc": "links",
    "EdgeList": "links", "LinkPredictor": "linkpred", "evaluate_history": "history", "ranking_metrics":
    "history", "evaluate_referrals": "referrals",
}
__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
