"""Finding people by part of a name or id, as the explorer's picker does on big networks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommender.people_search import find_people


def _people(names, ids=None):
    ids = ids or [f"p{i:03d}" for i in range(len(names))]
    return pd.DataFrame({"name": names}, index=pd.Index(ids, name="id"))


def test_order_exact_id_then_prefixes_then_anywhere():
    people = _people(["Mara Ada", "Ada Byron", "Zed", "Adalyn Cole", "Kim Adams", None],
                     ["x1", "x2", "ada", "x4", "x5", "adaz"])
    # exact id, id prefix, name prefixes (by name), word prefixes (by name); a missing name is not an error
    assert find_people(people, " ADA ") == ["ada", "adaz", "x2", "x4", "x5", "x1"]


def test_no_query_no_match_and_limit():
    people = _people(["Ada", "Bob", "Adam"])
    assert find_people(people, "") == [] and find_people(people, "   ") == []
    assert find_people(people, "zzz") == []
    assert find_people(people, "ad", limit=1) == ["p000"]
    assert find_people(people, "ad", limit=0) == []
    assert find_people(people.iloc[:0], "ad") == []


def test_special_characters_are_plain_text():
    people = _people(["A.B (C)*", "ABC"])
    assert find_people(people, "(c)*") == ["p000"]
    assert find_people(people, ".") == ["p000"]


def test_a_hundred_thousand_people():
    rng = np.random.default_rng(0)
    n = 100_000
    names = [f"Person {i}" for i in rng.permutation(n)]
    people = _people(names, [f"p{i:06d}" for i in range(n)])
    found = find_people(people, "person 4242")
    assert found[0] == people.index[names.index("Person 4242")]  # the exact name before longer ones
    assert all("person 4242" in people.loc[i, "name"].lower() for i in found)
    assert len(found) == 11  # Person 4242 and 42420..42429
