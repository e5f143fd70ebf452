"""The one reading of an ``as_of`` date (:func:`parse_as_of`), light enough for a command that only answers.

A ``YYYY-MM-DD`` string or a date is read with :mod:`datetime`; anything else
(other spellings, times) goes to pandas, as it always did, so the answer is
the same either way, and answering from a cached model need not import pandas.
"""

from __future__ import annotations

import re
from datetime import date

from recommender.errors import UsageError

_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_FAST_YEARS = range(1700, 2201)  # well inside pandas' Timestamp range, so both readings agree


def parse_as_of(as_of) -> str | None:
    """``as_of`` as an ISO date string (accepts date, datetime, str or None)."""
    if as_of is None or as_of == "":
        return None
    if isinstance(as_of, date) and as_of.year in _FAST_YEARS:
        return f"{as_of.year:04d}-{as_of.month:02d}-{as_of.day:02d}"
    m = _ISO_DAY.fullmatch(as_of) if isinstance(as_of, str) else None
    if m and int(m.group(1)) in _FAST_YEARS:
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
        except ValueError:
            raise UsageError(f"expected a date as YYYY-MM-DD, got {as_of!r}") from None
    import pandas as pd

    if isinstance(as_of, (date, pd.Timestamp)):
        return pd.Timestamp(as_of).strftime("%Y-%m-%d")
    try:
        return pd.Timestamp(str(as_of)).strftime("%Y-%m-%d")
    except (ValueError, TypeError):
        raise UsageError(f"expected a date as YYYY-MM-DD, got {as_of!r}") from None
