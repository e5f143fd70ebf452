"""Batch jobs over a whole network: everyone's "who to meet" lists in row blocks, many opportunities routed at once.

The public names are re-exported lazily (``from recommender.batch import X``
works; importing the package itself loads nothing heavy).
"""

from recommender._lazy import lazy_exports

_EXPORTS = {
    "batch_meet": "meet", "meet_frame": "meet", "batch_refer": "meet", "read_opportunities": "meet",
    "check_output": "meet", "OutputPathError": "meet", "SchedulerError": "meet", "BatchSummary": "meet",
    "MEET_COLUMNS": "meet", "REFER_COLUMNS": "meet", "DEFAULT_BLOCK_SIZE": "meet",
}
__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
