"""Every file format fracnet reads or writes.

* :mod:`recommender.io.csv_folder` — a folder of CSVs, one per table (import and export).
* :mod:`recommender.io.linkedin` — LinkedIn's "Connections.csv" export.
* :mod:`recommender.io.validate` — checking rows against the schema (shared by both).
* :mod:`recommender.io.loader` — the one transaction that writes validated tables.
"""

from recommender._lazy import lazy_exports

# lazily: recommender.io.atomic (every file write) must not load pandas through its package
__getattr__, __all__ = lazy_exports(__name__, {"ImportReport": "validate"})
