"""The suite never touches the user's home or default database (issue 18, item 3)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from recommender.store.db import default_db_path

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def root_conftest(request):
    """The project root's conftest.py module, as pytest loaded it."""
    for plugin in request.config.pluginmanager.get_plugins():
        if Path(getattr(plugin, "__file__", "") or "").resolve() == ROOT / "conftest.py":
            return plugin
    raise AssertionError("the root conftest.py was not loaded")


def test_home_and_default_db_point_into_a_temp_folder(tmp_path_factory, root_conftest):
    base = tmp_path_factory.getbasetemp().resolve()
    assert Path(os.environ["HOME"]).resolve().is_relative_to(base)
    assert Path.home().resolve().is_relative_to(base)
    assert default_db_path().resolve().is_relative_to(base)
    assert not default_db_path().resolve().is_relative_to(root_conftest.REAL_FRACNET)


def test_the_real_fracnet_folder_is_unchanged_so_far(root_conftest):
    assert root_conftest.fracnet_home_snapshot() == root_conftest._BEFORE


def test_a_write_to_the_real_fracnet_folder_fails_the_session(tmp_path, root_conftest):
    """The session check: a suite that writes ~/.fracnet exits non-zero with the reason."""
    fake_home = tmp_path / "home"
    fake_home.mkdir()
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "conftest.py").write_text((Path(root_conftest.__file__)).read_text())
    (proj / "test_bad.py").write_text(
        "import pathlib\n"
        f"REAL = pathlib.Path({str(fake_home)!r}) / '.fracnet'\n"
        "def test_writes_home():\n"
        "    REAL.mkdir(exist_ok=True)\n"
        "    (REAL / 'fracnet.db').write_text('x')\n")
    env = dict(os.environ, HOME=str(fake_home))
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(proj),
                        "-c", os.devnull, str(proj / "test_bad.py")], cwd=proj, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode != 0, r.stdout
    assert "changed" in r.stdout and ".fracnet" in r.stdout


def test_the_doctests_also_run_isolated(root_conftest):
    """The root conftest (not tests/conftest.py) holds the fixture, so recommender/ doctests get it."""
    text = Path(root_conftest.__file__).read_text()
    assert "autouse=True" in text and "FRACNET_DB" in text and "HOME" in text
