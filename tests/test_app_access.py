"""The explorer is local unless protected (issue 18, items 2 and 6): bind, sign-in, admin, toolbar, SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from recommender.cli import build_parser, main
from recommender.cli.app import streamlit_command
from recommender.users import add_user, load_users

APP = "../app.py"
PASSWORD = "correct horse battery"


def _args(*argv):
    return build_parser().parse_args(["app", *argv])


def test_app_binds_this_machine_only_and_hides_the_toolbar():
    cmd = streamlit_command(_args())
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--client.toolbarMode") + 1] == "minimal"
    assert "--browser.gatherUsageStats" in cmd


def test_the_repo_config_is_local_too():
    text = (Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml").read_text()
    assert 'address = "127.0.0.1"' in text and 'toolbarMode = "minimal"' in text


@pytest.mark.parametrize("address", ["0.0.0.0", "::", "192.168.1.20"])
def test_serving_beyond_this_machine_without_users_is_refused(address, capsys):
    assert main(["app", "--address", address, "--headless"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs sign-in" in err[0] and "fracnet users add" in err[0]


def test_a_malformed_users_file_is_refused_before_starting(tmp_path, capsys):
    bad = tmp_path / "users.yaml"
    bad.write_text("credentials:\n  usernames:\n    ada:\n      password: plaintext\ncookie:\n  key: short\n")
    assert main(["app", "--address", "0.0.0.0", "--auth", str(bad)]) == 2
    assert "bcrypt" in capsys.readouterr().err


def test_users_file_holds_hashes_only_and_is_private(tmp_path, capsys, monkeypatch, writable_db):
    cfg = tmp_path / "users.yaml"
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "add", "ada", "--person", "p0001", "--admin", "--config", str(cfg), "--db",
                 str(writable_db)]) == 0
    assert PASSWORD not in cfg.read_text()
    assert cfg.stat().st_mode & 0o777 == 0o600
    users = load_users(cfg)
    assert users.check("ada", PASSWORD) and users.is_admin("ada") and users.person("ada") == "p0001"
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["users", "add", "bob", "--config", str(cfg)]) == 2  # a too-short password
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "add", "eve", "--person", "nobody", "--config", str(cfg), "--db", str(writable_db)]) == 5


@pytest.fixture
def users_file(tmp_path, sample_db):
    cfg = tmp_path / "users.yaml"
    add_user(cfg, "ada", PASSWORD, name="Ada", person="p0002", admin=True)
    add_user(cfg, "vic", PASSWORD, name="Vic", person="p0003", admin=False)
    return cfg


def _signed_in(writable_db, users_file, monkeypatch, user):
    monkeypatch.setenv("FRACNET_DB", str(writable_db))
    monkeypatch.setenv("FRACNET_AUTH_CONFIG", str(users_file))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    assert not at.sidebar.selectbox  # nothing of the network before sign-in
    at.text_input[0].input(user)
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def test_sign_in_is_required_and_a_wrong_password_shows_nothing(writable_db, users_file, monkeypatch):
    monkeypatch.setenv("FRACNET_DB", str(writable_db))
    monkeypatch.setenv("FRACNET_AUTH_CONFIG", str(users_file))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    assert len(at.text_input) == 2 and not at.sidebar.selectbox and not at.dataframe
    at.text_input[0].input("ada")
    at.text_input[1].input("wrong password!")
    at.button[0].click().run()
    assert any("Wrong user name or password" in e.value for e in at.error)
    assert not at.sidebar.selectbox


def test_a_signed_in_admin_starts_on_their_person_and_may_back_up(writable_db, users_file, monkeypatch):
    at = _signed_in(writable_db, users_file, monkeypatch, "ada")
    assert at.sidebar.selectbox(key="person").value == "p0002"
    at.switch_page("recommender/ui/pages/data.py").run()
    assert not at.exception, at.exception
    assert not any("need an admin" in i.value for i in at.info)


def test_a_signed_in_viewer_cannot_import_or_back_up(writable_db, users_file, monkeypatch):
    at = _signed_in(writable_db, users_file, monkeypatch, "vic")
    assert at.sidebar.selectbox(key="person").value == "p0003"
    at.switch_page("recommender/ui/pages/data.py").run()
    assert not at.exception, at.exception
    assert any("need an admin" in i.value for i in at.info)
    assert not at.tabs  # no import, no backup download


def test_served_beyond_this_machine_without_users_shows_nothing(writable_db, monkeypatch):
    import recommender.ui.auth as auth

    monkeypatch.setenv("FRACNET_DB", str(writable_db))
    monkeypatch.setattr(auth, "served_beyond_this_machine", lambda: True)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert any("without sign-in" in e.value for e in at.error)
    assert not at.sidebar.selectbox and not at.dataframe


# -- the Streamlit child stops with `fracnet app` --------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc to find the child process")
def test_sigterm_stops_the_streamlit_child(writable_db, tmp_path):
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    parent = subprocess.Popen([sys.executable, "-m", "recommender", "app", "--headless", "--port", str(port),
                               "--db", str(writable_db)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        child = None
        listening = False
        while time.time() < deadline and not listening:
            kids = _children(parent.pid)
            child = kids[0] if kids else child
            with socket.socket() as s:
                listening = s.connect_ex(("127.0.0.1", port)) == 0
            time.sleep(0.2)
        assert child is not None and listening, "the explorer did not start"
        with socket.socket() as s:  # this machine only: not on another interface's address
            s.settimeout(1)
            other = socket.gethostbyname(socket.gethostname())
            if other and not other.startswith("127."):
                assert s.connect_ex((other, port)) != 0
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(20) == 128 + signal.SIGTERM
        deadline = time.time() + 15
        while time.time() < deadline and _alive(child):
            time.sleep(0.1)
        assert not _alive(child), "the Streamlit child kept running after SIGTERM"
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0
    finally:
        if parent.poll() is None:
            parent.kill()
