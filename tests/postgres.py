"""A throwaway PostgreSQL server for the tests: Debian's binaries, ``initdb`` into a temporary folder, the
server on 127.0.0.1 on a free port, stopped and removed at the end of the session.

``initdb`` refuses to run as root, so as root the server runs as the ``postgres`` user (Debian's package
creates it), else ``nobody``. :func:`find_bin` looks in PATH, then ``/usr/lib/postgresql/<version>/bin``
(newest first); with no binaries the tests that need a server skip, saying how to install one.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

SKIP_REASON = ("PostgreSQL is not installed (Debian: apt-get install postgresql; .ci/run installs it): "
               "the PostgreSQL run-store tests are skipped")


def find_bin() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, or None."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).parent
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parent.name, reverse=True):
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_user() -> str | None:
    """The user to run the server as when this process is root (initdb refuses root), else None."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and neither a postgres nor a nobody user exists to run PostgreSQL")


@contextmanager
def postgres_server(bindir: Path) -> Iterator[str]:
    """Start a server; yield the URL of its ``postgres`` database (user ``wf``, no password, 127.0.0.1)."""
    folder = Path(tempfile.mkdtemp(prefix="wfplan-pg-"))
    user = _server_user()
    prefix = [] if user is None else ["runuser", "-u", user, "--"]
    if user is not None:
        shutil.chown(folder, user)
    data, port = folder / "data", _free_port()
    run = lambda *args: subprocess.run([*prefix, *map(str, args)], check=True, capture_output=True, text=True)  # noqa: E731
    try:
        run(bindir / "initdb", "-D", data, "-A", "trust", "-U", "wf", "--no-sync", "-E", "UTF8")
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off -c max_connections=50"
        run(bindir / "pg_ctl", "-D", data, "-o", options, "-l", folder / "server.log", "-w", "-t", "60", "start")
        try:
            yield f"postgresql+psycopg://wf@127.0.0.1:{port}/postgres"
        finally:
            run(bindir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def fresh_database(server_url: str) -> str:
    """A new empty database on the server; returns its URL (the name is generated, never user input)."""
    name = f"wf_{secrets.token_hex(6)}"
    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return sa.engine.make_url(server_url).set(database=name).render_as_string(hide_password=False)
