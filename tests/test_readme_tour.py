"""The README's CLI tour, run as written on a fresh machine.

Each command of the tour's code block runs through ``fracnet``'s ``main`` in a
fresh folder (the repository's ``data/`` linked in, as in a clone), with the
default database in a temporary home (``$FRACNET_DB``): never the user's. The
three ``evaluate`` commands and the whole-network ``batch meet`` and ``batch
outreach`` are slow and covered by their own tests; they run here only with
``FRACNET_TOUR=full``.
"""

from __future__ import annotations

import os
import re
import shlex
import time

import pytest

from recommender.cli import main
from tests.conftest import ROOT

SLOW = ("evaluate history", "evaluate referrals", "evaluate links", "batch meet", "batch outreach")


def tour_commands() -> list[list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## A short tour of the CLI", 1)[1].split("```", 2)[1]
    out = []
    for line in block.splitlines():
        line = re.sub(r"\s#\s.*$", "", line).strip()  # a comment after two or more spaces
        if not line or line.startswith("#"):
            continue
        argv = shlex.split(line)
        assert argv[0] == "fracnet", line
        out.append(argv[1:])
    return out


def test_tour_has_the_commands_the_issue_names():
    cmds = [" ".join(c) for c in tour_commands()]
    assert any(c.startswith("batch refer out/opportunities.csv") for c in cmds)
    assert any("--owner p12" in c for c in cmds)
    assert not any("../shared" in c for c in cmds)
    # the tour never silently switches databases: after the import into x.db, every command names it
    after = cmds[[i for i, c in enumerate(cmds) if c.startswith("import D --db x.db")][0]:]
    assert all("--db x.db" in c or c.startswith("demo-data") for c in after), after


def test_readme_tour_runs_as_written(tmp_path, monkeypatch, capsys):
    work = tmp_path / "clone"
    work.mkdir()
    (work / "data").symlink_to(ROOT / "data")
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("FRACNET_DB", str(home / "fracnet.db"))
    full = os.environ.get("FRACNET_TOUR") == "full"
    times = []
    for argv in tour_commands():
        line = " ".join(argv)
        if not full and line.startswith(SLOW):
            continue
        if argv == ["--version"]:
            with pytest.raises(SystemExit) as e:
                main(argv)
            assert e.value.code == 0
            continue
        t0 = time.perf_counter()
        code = main(argv)
        times.append((time.perf_counter() - t0, line))
        out = capsys.readouterr()
        assert code == 0, f"fracnet {line} -> exit {code}: {out.err}"
        assert "Traceback" not in out.err
    assert (work / "picks.csv").exists() and (work / "list.xlsx").exists() and (work / "x.db").exists()
    with capsys.disabled():
        print("\nslowest tour steps: " + ", ".join(f"{line.split(' --')[0]} {t:.1f}s" for t, line in sorted(times)[-3:]))
