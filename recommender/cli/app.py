"""``fracnet app``: start the Streamlit explorer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def app_script() -> Path:
    """The explorer script: the project's app.py, or the packaged entry page."""
    root = Path(__file__).resolve().parents[2] / "app.py"
    if root.exists():
        return root
    return Path(__file__).resolve().parents[1] / "ui" / "main.py"


def register(sub) -> None:
    p = sub.add_parser("app", help="open the Streamlit explorer in a browser",
                       description="Start the Streamlit explorer on the database (default: the bundled sample).")
    p.add_argument("--db", metavar="PATH", help="database to explore (default: the bundled sample's)")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--headless", action="store_true", help="don't open a browser")
    p.set_defaults(func=run)


def run(args) -> int:
    env = dict(os.environ)
    if args.db:
        env["FRACNET_DB"] = str(Path(args.db).resolve())
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_script()), "--server.port", str(args.port),
           "--browser.gatherUsageStats", "false"]
    if args.headless:
        cmd += ["--server.headless", "true"]
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0
