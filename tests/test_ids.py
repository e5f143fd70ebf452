"""Ids as people type them: zero padding, names, ambiguity; one resolver for every command."""

from __future__ import annotations

import pytest

from recommender.cli import main
from recommender.errors import UnknownIdError
from recommender.store.db import Store


@pytest.fixture(scope="module")
def store(sample_db):
    with Store(sample_db) as s:
        yield s


def test_zero_padded_suggestions_come_first(store):
    assert store.suggest_ids("people", "p12")[0] == "p0012"
    assert store.suggest_ids("people", "p0012x")[0] == "p0012"


@pytest.mark.parametrize("text, want", [("p0012", "p0012"), ("p12", "p0012"), ("P12", "p0012"),
                                        ("Mark Sánchez", "p0042"), ("mark sanchez", "p0042"),
                                        ("  Mark   Sánchez ", "p0042")])
def test_resolve(store, text, want):
    assert store.resolve("people", text) == want


def test_resolve_other_tables(store):
    assert store.resolve("opportunities", "o7") == "o0007"


def test_ambiguous_name_lists_the_choices(store):
    with pytest.raises(UnknownIdError) as e:
        store.resolve("people", "François Adams")
    msg = str(e.value)
    assert "2 people are called 'François Adams'" in msg and "p0164" in msg and "p0199" in msg


def test_unknown_id_suggests(store):
    with pytest.raises(UnknownIdError, match="did you mean 'p0001'"):
        store.resolve("people", "p0001x")


def test_cli_accepts_names_and_short_ids(warm_db, capsys):
    assert main(["meet", "Mark Sánchez", "--k", "1", "--db", str(warm_db), "--json"]) == 0
    assert '"person": "p0042"' in capsys.readouterr().out
    assert main(["meet", "François Adams", "--db", str(warm_db)]) == 5
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "p0164" in err and "p0199" in err
