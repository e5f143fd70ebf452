"""The demo network generator (``fracnet demo-data``): a synthetic community with a believable history.

The public names are re-exported lazily (``from recommender.demo import generate_network``).
"""

from recommender._lazy import lazy_exports

_EXPORTS = {
    "generate_network": "generate", "write_network": "generate", "generate_demo_data": "generate",
    "END_DATE": "generate", "MIN_PEOPLE": "generate", "MAX_PEOPLE": "generate", "SOURCES": "generate",
    "STAGES": "generate", "TABLE_NAMES": "generate",
}
__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
