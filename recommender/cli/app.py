"""``fracnet app``: start the Streamlit explorer, local unless protected.

* It binds ``127.0.0.1`` by default: only this machine can reach it.
* ``--address`` anything else requires sign-in: a users file (``--auth FILE``,
  default ``~/.fracnet/users.yaml`` when it exists) made with ``fracnet users add``;
  without one the command refuses to start.
* Streamlit's developer toolbar is hidden (``client.toolbarMode minimal``).
* The Streamlit process is this command's child and stops with it: on SIGTERM,
  SIGHUP or Ctrl-C it is terminated (and, on Linux, it gets SIGTERM if this
  process dies any other way).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from recommender.cli._common import add_command, require_db
from recommender.errors import UsageError

DEFAULT_ADDRESS = "127.0.0.1"


def app_script() -> Path:
    """The explorer script: the project's app.py, or the packaged entry page."""
    root = Path(__file__).resolve().parents[2] / "app.py"
    if root.exists():
        return root
    return Path(__file__).resolve().parents[1] / "ui" / "main.py"


def register(sub) -> None:
    p = add_command(sub, "app", run, "open the Streamlit explorer in a browser",
                    """Start the Streamlit explorer on the database (default: the bundled sample). It listens on
                    127.0.0.1 only; to serve it on another address, create users with 'fracnet users add' and sign
                    in.""", db=False, json=False)
    p.add_argument("--db", metavar="PATH", help="database to explore (default: the bundled sample's)")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default=DEFAULT_ADDRESS, metavar="ADDR",
                   help="address to listen on (default: 127.0.0.1, this machine only); any other address "
                        "requires sign-in (--auth)")
    p.add_argument("--auth", metavar="USERS.yaml",
                   help="users file for sign-in (default: ~/.fracnet/users.yaml if it exists); see 'fracnet users add'")
    p.add_argument("--headless", action="store_true", help="don't open a browser")


def streamlit_command(args, script: Path | None = None) -> list[str]:
    """The Streamlit command line for ``args`` (local, toolbar hidden, no usage statistics)."""
    cmd = [sys.executable, "-m", "streamlit", "run", str(script or app_script()),
           "--server.address", args.address, "--server.port", str(args.port),
           "--client.toolbarMode", "minimal", "--browser.gatherUsageStats", "false"]
    if args.headless:
        cmd += ["--server.headless", "true"]
    return cmd


def auth_file(args) -> Path | None:
    """The users file this run signs in against; UsageError if a non-local address has none."""
    from recommender.users import default_users_path, is_loopback, load_users

    path = Path(args.auth) if args.auth else None
    if path is None and not is_loopback(args.address):
        default = default_users_path()
        if not default.exists():
            raise UsageError(
                f"serving the explorer on {args.address} needs sign-in (anyone who can reach it could read every "
                "email and download the database)",
                hint=f"create a user: 'fracnet users add NAME --person ID --admin', then 'fracnet app --address "
                     f"{args.address} --auth {default}'")
        path = default
    if path is not None:
        load_users(path)  # a malformed file is refused now, not in the browser
        path = path.resolve()
    return path


def _die_with_parent() -> None:  # runs in the child before exec
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: SIGTERM when the parent dies
    except (OSError, AttributeError):
        pass


class _Stop(Exception):
    def __init__(self, signum: int):
        self.signum = signum


def _stop_child(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run(args) -> int:
    from recommender.users import AUTH_ENV

    if not 1 <= args.port <= 65535:
        raise UsageError(f"--port must be from 1 to 65535, got {args.port}")
    users = auth_file(args)
    env = dict(os.environ)
    if args.db:
        require_db(args.db)  # every command's refusal of a missing --db, before a server starts
        env["FRACNET_DB"] = str(Path(args.db).resolve())
    env.pop(AUTH_ENV, None)
    if users is not None:
        env[AUTH_ENV] = str(users)
    cmd = streamlit_command(args)

    def on_signal(signum, _frame):
        raise _Stop(signum)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGHUP)}
    proc = None
    try:
        proc = subprocess.Popen(cmd, env=env, preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        return proc.wait()
    except _Stop as stop:
        if proc is not None:
            _stop_child(proc)
        return 128 + stop.signum
    except KeyboardInterrupt:  # Ctrl-C reached the child too (same process group); let it finish
        if proc is not None:
            try:
                proc.wait(10)
            except (subprocess.TimeoutExpired, KeyboardInterrupt):
                _stop_child(proc, 2)
        return 0
    finally:
        if proc is not None and proc.poll() is None:
            _stop_child(proc)
        for s, h in previous.items():
            signal.signal(s, h)
