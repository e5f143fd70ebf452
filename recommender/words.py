"""Small rules of English used by every answer: lists, plurals, counts.

One place, so "1 referral", "2 people" and "A, B and C" read the same in the
CLI, the explorer and the exports.

Example
-------
>>> join_words(["A", "B", "C"])
'A, B and C'
>>> join_words(["A", "B"], "or")
'A or B'
>>> plural(1, "referral"), plural(2, "referral"), plural(1, "person", "people"), plural(0, "person", "people")
('1 referral', '2 referrals', '1 person', '0 people')
>>> noun(3, "hop")
'hops'
"""

from __future__ import annotations

from typing import Iterable

__all__ = ["join_words", "first_name", "plural", "noun"]


def join_words(items: Iterable, last: str = "and") -> str:
    """``"A, B and C"`` (empty items left out)."""
    words = [str(i) for i in items if i is not None and str(i) != ""]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + f" {last} " + words[-1]


def first_name(name: str) -> str:
    """The first word of a name, for a greeting ("there" when there is none)."""
    return (name or "").split()[0] if (name or "").strip() else "there"


def noun(n: int, word: str, many: str | None = None) -> str:
    """``word`` or its plural (``many``, default ``word + "s"``) for a count ``n``."""
    return word if n == 1 else (many or word + "s")


def plural(n: int, word: str, many: str | None = None) -> str:
    """``"1 referral"``, ``"2 referrals"``, ``"1 person"``, ``"3 people"`` (thousands separated)."""
    return f"{n:,} {noun(n, word, many)}"
