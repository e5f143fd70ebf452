"""Who may use the explorer when it is served beyond this machine: a users file.

The explorer binds ``127.0.0.1`` by default and then needs no sign-in (only
this machine's user can reach it). Served on any other address it requires
sign-in through ``streamlit-authenticator``, with the users in a YAML file
that holds **bcrypt-hashed** passwords only (never the passwords), the
person each user is in the database (their "me") and whether they are an
admin (the Data page's import and backup need one). Create it with
``fracnet users add NAME --person ID [--admin]``.

File format (the one streamlit-authenticator reads)::

    credentials:
      usernames:
        ada:
          name: Ada Lovelace
          password: $2b$12$...        # bcrypt hash
          roles: [admin]
          person: p0042               # fracnet: the database's person for this user
    cookie:
      name: fracnet_auth
      key: <random secret>
      expiry_days: 7

Example
-------
>>> import tempfile, pathlib
>>> cfg = pathlib.Path(tempfile.mkdtemp()) / "users.yaml"
>>> _ = add_user(cfg, "ada", "correct horse battery", name="Ada", person="p1", admin=True)
>>> users = load_users(cfg)
>>> users.check("ada", "correct horse battery"), users.check("ada", "wrong"), users.person("ada"), users.is_admin("ada")
(True, False, 'p1', True)
>>> "correct horse" in cfg.read_text()
False
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from recommender.errors import UsageError

#: The environment variable that tells the explorer where its users file is.
AUTH_ENV = "FRACNET_AUTH_CONFIG"
MIN_PASSWORD = 10
_USERNAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")


def default_users_path() -> Path:
    """``users.yaml`` beside the default database (``~/.fracnet/users.yaml``)."""
    from recommender.store.db import default_db_path

    return default_db_path().parent / "users.yaml"


def hash_password(password: str) -> str:
    """A bcrypt hash (the format streamlit-authenticator checks)."""
    import bcrypt

    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode("ascii")


@dataclass
class Users:
    """A loaded users file."""

    path: Path
    config: dict

    @property
    def usernames(self) -> dict:
        return self.config["credentials"]["usernames"]

    def check(self, username: str, password: str) -> bool:
        import bcrypt

        rec = self.usernames.get(username)
        if not rec:
            return False
        try:
            return bcrypt.checkpw(password.encode("utf-8"), str(rec["password"]).encode("ascii"))
        except (ValueError, KeyError):
            return False

    def person(self, username: str | None) -> str | None:
        rec = self.usernames.get(username or "") or {}
        p = rec.get("person")
        return str(p) if p else None

    def is_admin(self, username: str | None) -> bool:
        rec = self.usernames.get(username or "") or {}
        return "admin" in (rec.get("roles") or [])


def load_users(path: str | os.PathLike) -> Users:
    """Read and check a users file; UsageError naming the file for anything malformed."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"users file {path} does not exist",
                         hint="create it with: fracnet users add NAME --person ID --admin") from None
    except OSError as exc:
        raise UsageError(f"cannot read users file {path}: {exc.strerror}") from None
    try:
        config = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"users file {path} is not valid YAML ({str(exc).splitlines()[0]})") from None
    users = (config.get("credentials") or {}).get("usernames") if isinstance(config, dict) else None
    if not isinstance(users, dict) or not users:
        raise UsageError(f"users file {path} names no users",
                         hint="add one with: fracnet users add NAME --person ID --admin")
    for name, rec in users.items():
        pw = str((rec or {}).get("password", ""))
        if not re.match(r"^\$2[aby]\$\d\d\$", pw):
            raise UsageError(f"users file {path}: user {name!r} has no bcrypt-hashed password",
                             hint=f"set it with: fracnet users add {name} --config {path}")
    cookie = config.setdefault("cookie", {})
    if not cookie.get("key") or len(str(cookie.get("key"))) < 32:
        raise UsageError(f"users file {path}: cookie.key must be a random secret of 32 characters or more")
    cookie.setdefault("name", "fracnet_auth")
    cookie.setdefault("expiry_days", 7)
    return Users(path, config)


def add_user(path: str | os.PathLike, username: str, password: str, *, name: str | None = None,
             person: str | None = None, admin: bool = False) -> Path:
    """Add (or update) a user in the users file, creating it (mode 0600) with a random cookie secret."""
    import yaml

    from recommender.io.atomic import atomic_write

    path = Path(path)
    if not _USERNAME.match(username):
        raise UsageError(f"user name {username!r} must be 1-64 letters, digits or . _ @ -")
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"the password must have at least {MIN_PASSWORD} characters")
    if path.exists():
        config = load_users(path).config
    else:
        if not path.parent.exists():
            path.parent.mkdir(parents=True, mode=0o700)
        config = {"credentials": {"usernames": {}},
                  "cookie": {"name": "fracnet_auth", "key": secrets.token_hex(32), "expiry_days": 7}}
    rec = {"name": name or username, "password": hash_password(password),
           "roles": ["admin"] if admin else ["viewer"]}
    if person:
        rec["person"] = person
    config["credentials"]["usernames"][username] = rec
    text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    atomic_write(path, lambda fh: fh.write(text.encode("utf-8")), mode=0o600)
    return path


def remove_user(path: str | os.PathLike, username: str) -> Path:
    import yaml

    from recommender.io.atomic import atomic_write

    users = load_users(path)
    if username not in users.usernames:
        raise UsageError(f"no user {username!r} in {path}")
    del users.usernames[username]
    text = yaml.safe_dump(users.config, sort_keys=False, allow_unicode=True)
    atomic_write(Path(path), lambda fh: fh.write(text.encode("utf-8")), mode=0o600)
    return Path(path)


def is_loopback(address: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost).

    >>> [is_loopback(a) for a in ("127.0.0.1", "localhost", "::1", "0.0.0.0", "192.168.1.5", "")]
    [True, True, True, False, False, False]
    """
    import ipaddress

    a = (address or "").strip().strip("[]")
    if a == "localhost":
        return True
    try:
        return ipaddress.ip_address(a).is_loopback
    except ValueError:
        return False
