"""The storage layer, at the bottom: the SQLite database (:mod:`.db`) and its schema (:mod:`.schema`).

Nothing here imports the models, ``io/`` or the surfaces. The names below are
re-exported lazily, so ``import recommender.store`` stays cheap.
"""

from recommender._lazy import lazy_exports

_EXPORTS = {
    "Store": "db", "default_db_path": "db", "sqlite_error": "db",
    "restore": "backup", "check_backup": "backup", "check_restore_target": "backup",
    "TABLES": "schema", "IMPORT_ORDER": "schema", "SCHEMA_VERSION": "schema", "APPLICATION_ID": "schema",
    "REFERRAL_OUTCOMES": "schema", "OPPORTUNITY_STATUSES": "schema", "INTRO_OUTCOMES": "schema",
    "PERSON_KINDS": "schema", "Column": "schema", "Table": "schema",
}
__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
