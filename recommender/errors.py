"""The exception hierarchy of fracnet.

Every error a user can cause derives from :class:`FracnetError`; the CLI turns
these into one line on stderr and a documented exit code, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence


class FracnetError(Exception):
    """Root of every error fracnet raises on purpose.

    Attributes
    ----------
    hint : str or None
        A suggestion on how to fix the problem, printed after the message.
    exit_code : int
        The process exit code the CLI uses for this kind of error.
    """

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:  # message, then hint
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


@dataclass(frozen=True)
class ValidationProblem:
    """One problem in an input file: where it is and what was expected."""

    file: str
    line: int | None
    field: str | None
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f": field '{bounded(self.field, 80)}'"
        text = f"{where}: {bounded(self.message)}"
        if self.hint:
            text += f" ({bounded(self.hint)})"
        return text


#: Longest message text shown for one problem (a 200,000-column header is not printed whole).
MAX_MESSAGE = 300


def bounded(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out.

    >>> bounded("x" * 1000, 20)
    'xxxxxxxxxxxxxxxxxxxx... (980 more characters)'
    """
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit:,} more characters)"


class DataValidationError(FracnetError):
    """Input data is invalid; carries every problem found, not just the first."""

    exit_code = 3

    def __init__(self, problems: Iterable[ValidationProblem], *, hint: str | None = None):
        self.problems: list[ValidationProblem] = list(problems)
        n = len(self.problems)
        first = str(self.problems[0]) if self.problems else "invalid input"
        msg = first if n == 1 else f"{n} problems in the input; first: {first}"
        super().__init__(msg, hint=hint)


class StoreError(FracnetError):
    """The database file is not a fracnet database, is corrupt, or is too new."""

    exit_code = 4


class UnknownIdError(FracnetError, KeyError):
    """An id (person, opportunity, referral, ...) that is not in the network."""

    exit_code = 5

    def __init__(self, kind: str, value: str, suggestions: Sequence[str] = ()):
        self.kind = kind
        self.value = value
        self.suggestions = list(suggestions)
        hint = None
        if self.suggestions:
            hint = "did you mean " + ", ".join(repr(s) for s in self.suggestions) + "?"
        super().__init__(f"unknown {kind} {value!r}", hint=hint)

    def __str__(self) -> str:  # KeyError would repr() the message otherwise
        return FracnetError.__str__(self)


class NotFittedError(FracnetError):
    """A model was used before ``fit`` was called."""

    exit_code = 6


class UsageError(FracnetError):
    """A request that makes no sense (bad option value, impossible state change)."""

    exit_code = 2


class FileAccessError(FracnetError):
    """A file could not be read or written: disk full, permission denied, a read-only or missing folder.

    Raised before anything is kept: the target file (or database) is exactly as before.
    """

    exit_code = 8


class FracnetWarning(UserWarning):
    """Something fracnet worked around (e.g. a model cache file it refused to load); the CLI prints one line."""
