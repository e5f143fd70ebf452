"""Bad input never shows a traceback: one clear line and a documented exit code.

This table is mirrored in README.md ("Bad input and what it gets").
"""

from __future__ import annotations

import pytest

from recommender.cli import main

BAD_INPUTS = [
    # (argv, exit code, text on stderr)
    (["meet", "p0001x"], 5, "did you mean"),
    (["meet", "p0001", "--k", "0"], 2, "--k"),
    (["meet", "p0001", "--as-of", "yesterday"], 2, "YYYY-MM-DD"),
    (["refer", "--from", "p0001", "--opportunity", "o999"], 5, "unknown opportunity"),
    (["referral", "outcome", "r99999", "won"], 5, "unknown referral"),
    (["ledger", "nobody"], 5, "unknown person"),
    (["stats", "--as-of", "2024-13-01"], 2, "YYYY-MM-DD"),
    (["import", "{tmp}/missing"], 2, "does not exist"),
    (["import", "--format", "linkedin", "{tmp}/Connections.csv"], 2, "--owner"),
    (["stats", "--db", "{tmp}/notes.txt"], 4, "not a fracnet database"),
    (["stats", "--db", "{tmp}/nofolder/x.db"], 4, "does not exist"),
    (["meet", "p0042", "--db", "{tmp}/typo.db"], 4, "database {tmp}/typo.db does not exist"),
    (["backup", "{tmp}"], 2, "is a folder"),
    (["restore", "{tmp}/missing.db"], 4, "does not exist"),
    (["evaluate", "links", "{tmp}/missing.csv"], 3, "not found"),
    (["evaluate", "links", "{tmp}/bad_edges.csv"], 3, ":3"),
    (["demo-data", "--people", "0", "--out", "{tmp}/d"], 2, "--people"),
]


@pytest.fixture
def tmp(tmp_path):
    (tmp_path / "notes.txt").write_text("my notes, not a database")
    (tmp_path / "bad_edges.csv").write_text("u,v\n1,2\n3\n")
    return tmp_path


@pytest.mark.parametrize("argv, code, text", BAD_INPUTS, ids=[" ".join(a[:2]) + f" -> {c}" for a, c, _ in BAD_INPUTS])
def test_bad_input_gets_one_clear_line(argv, code, text, tmp, capsys):
    argv = [a.replace("{tmp}", str(tmp)) for a in argv]
    text = text.replace("{tmp}", str(tmp))
    try:
        got = main(argv)
    except SystemExit as e:  # argparse usage errors
        got = e.code
    err = capsys.readouterr().err
    assert got == code, err
    assert text in err
    assert "Traceback" not in err
    assert err.startswith(("fracnet: error:", "usage:"))


def test_a_misspelt_tag_in_refer_is_corrected_with_a_note(capsys):
    assert main(["refer", "--from", "p0001", "--needs", "demand-genn", "--industry", "saas"]) == 0
    out = capsys.readouterr()
    assert "note: read 'demand-genn' as demand generation" in out.out


def test_an_unknown_tag_beside_known_ones_is_a_warning_with_suggestion(capsys):
    assert main(["refer", "--from", "p0001", "--needs", "demand gen, quantum widgets", "--industry", "saas"]) == 0
    out = capsys.readouterr()
    assert "warning: unknown needs 'quantum widgets'" in out.out


def test_a_mistyped_db_path_is_refused_not_created_and_the_databases_beside_it_are_named(tmp_path, capsys):
    from recommender.store.db import Store

    with Store(tmp_path / "clients.db"):
        pass
    for argv in (["meet", "p0042"], ["refer", "--from", "p0042", "--needs", "abm"], ["evaluate", "history"],
                 ["outreach", "list"], ["batch", "meet", "--out", str(tmp_path / "x.parquet")], ["app"]):
        assert main([*argv, "--db", str(tmp_path / "client.db")]) == 4, argv
        err = capsys.readouterr().err
        assert f"database {tmp_path / 'client.db'} does not exist" in err
        assert "databases in " in err and "clients.db" in err and "fracnet import FOLDER --db" in err
        assert not (tmp_path / "client.db").exists()  # nothing was created


def test_commands_that_make_a_network_create_a_new_db(tmp_path, capsys):
    db = tmp_path / "mine.db"
    assert main(["me", "--new", "--name", "Nora Quinn", "--function", "cfo", "--db", str(db)]) == 0
    assert db.exists()
    capsys.readouterr()
    assert main(["stats", "--db", str(db), "--json"]) == 0
    assert '"people": 1' in capsys.readouterr().out
