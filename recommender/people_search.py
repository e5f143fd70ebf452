"""Find people by part of their name or id, best matches first (for pickers over big networks).

A picker that lists every person is fine for a few thousand people and
unusable for a million: the explorer asks for a few letters first and offers
the best matches.

Example
-------
>>> import pandas as pd
>>> people = pd.DataFrame({"name": ["Ada Lovelace", "Grace Hopper", "Adam Smith"]},
...                       index=pd.Index(["p1", "p2", "p3"], name="id"))
>>> find_people(people, "ada")
['p1', 'p3']
>>> find_people(people, "hop")
['p2']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["find_people"]


def find_people(people: pd.DataFrame, query: str, limit: int = 50) -> list[str]:
    """Ids of people whose name or id contains ``query`` (case-insensitive), best first.

    Parameters
    ----------
    people : DataFrame
        Indexed by person id, with a ``name`` column.
    query : str
        Part of a name or id; surrounding spaces are ignored. Empty: no match.
    limit : int
        At most this many ids.

    Returns
    -------
    list of str
        The exact id first, then ids starting with the query, names starting
        with it, names with a word starting with it, and any other name or id
        containing it; within each, by name, then id.
    """
    q = str(query or "").strip().casefold()
    if not q or limit < 1 or len(people) == 0:
        return []
    ids = pd.Series(people.index.astype(str), index=people.index)
    names = people["name"].fillna("").astype(str)
    ids_l, names_l = ids.str.casefold(), names.str.casefold()
    contains = names_l.str.contains(q, regex=False).to_numpy() | ids_l.str.contains(q, regex=False).to_numpy()
    if not contains.any():
        return []
    cand = np.flatnonzero(contains)
    il, nl = ids_l.iloc[cand], names_l.iloc[cand]
    rank = np.select([(il == q).to_numpy(), il.str.startswith(q).to_numpy(), nl.str.startswith(q).to_numpy(),
                      nl.str.contains(" " + q, regex=False).to_numpy()], [0, 1, 2, 3], 4)
    order = np.lexsort((ids.iloc[cand].to_numpy(), names.iloc[cand].str.casefold().to_numpy(), rank))
    return ids.iloc[cand[order[:limit]]].tolist()
