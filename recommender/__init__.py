"""fracnet: a referral engine for fractional executives.

The library does the work; the ``fracnet`` CLI and the Streamlit explorer
(``app.py``) are thin layers over it.
"""

__version__ = "0.1.0"

from recommender.errors import (  # noqa: E402
    FracnetError,
    DataValidationError,
    ValidationProblem,
    StoreError,
    UnknownIdError,
    NotFittedError,
    UsageError,
)

__all__ = [
    "__version__",
    "FracnetError",
    "DataValidationError",
    "ValidationProblem",
    "StoreError",
    "UnknownIdError",
    "NotFittedError",
    "UsageError",
]
