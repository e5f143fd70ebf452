"""Who should I meet next: the encoded network and its pair features (:mod:`.features`), the learned ranker (:mod:`.ranker`), the model (:mod:`.model`) and its words (:mod:`.text`).

The public names are re-exported lazily (``from recommender.meet import X``
works; importing the package itself loads nothing heavy).
"""

from recommender._lazy import lazy_exports

_EXPORTS = {
    "MeetModel": "model", "Recommendation": "model", "Reason": "model", "GROUP_CHOICES": "model",
    "REASON_FEATURES": "model", "FEATURE_NAMES": "features", "GROUPS": "features", "build_context":
    "features", "encode_people": "features", "PairRanker": "ranker", "build_training_set": "training",
    "ModelFileError": "persistence", "MODEL_FORMAT_VERSION": "persistence", "format_recommendations": "text",
    "recommendation_dict": "text", "draft_note": "text", "reason_text": "text",
}
__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
