"""Batch jobs over a whole network: everyone's "who to meet" lists in row blocks (:mod:`.meet`), many
opportunities routed at once (:mod:`.refer`), on local threads or Dask (:mod:`.engines`), written atomically
(:mod:`.writer`).

The public names are re-exported lazily (``from recommender.batch import X``
works; importing the package itself loads nothing heavy).
"""

from recommender._lazy import lazy_exports

_EXPORTS = {
    "batch_meet": "meet", "meet_frame": "meet", "iter_meet_blocks": "meet", "MEET_COLUMNS": "meet",
    "batch_refer": "refer", "read_opportunities": "refer", "REFER_COLUMNS": "refer",
    "check_output": "writer", "OutputPathError": "writer", "OUTPUT_FORMATS": "writer",
    "BatchSummary": "engines", "SchedulerError": "engines", "DEFAULT_BLOCK_SIZE": "engines", "ENGINES": "engines",
    "default_threads": "engines",
}
__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
