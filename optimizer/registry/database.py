"""Where the run store lives and how it is reached: the URL, the engine, the schema migrations.

The store is chosen by ``--db URL``, else the ``WFPLAN_DB`` environment variable, else the SQLite file
:data:`DEFAULT_FILE` in the working folder (the project folder: no set-up). A URL is a SQLAlchemy URL:
``sqlite:///PATH`` or ``postgresql://USER[:PASSWORD]@HOST:PORT/DB`` (psycopg 3 is the driver; a bare
``postgresql://`` is read as ``postgresql+psycopg://``); a value without ``://`` is a SQLite file path.

:func:`connect` checks the URL, connects, and brings the schema up to the newest revision with the Alembic
migrations shipped in this package (``migrations/``), under a lock, so several processes opening a new store
at once migrate it once. Every failure a user can cause or fix (a malformed URL, an unsupported database, a
server that does not answer, a refused login, a store made by a newer wfplan) is a :class:`StoreError` with
one line naming the store (the password hidden), which the CLI prints and exits 2 on.

On SQLite every transaction is ``BEGIN IMMEDIATE`` (it takes the write lock at once, so concurrent writers
queue for up to :data:`SQLITE_BUSY_SECONDS` instead of failing on a lock upgrade); on PostgreSQL the
migrations hold an advisory lock.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

ENV_VAR = "WFPLAN_DB"
DEFAULT_FILE = "wfplan.db"
SQLITE_BUSY_SECONDS = 60.0
"""How long a SQLite writer waits for another writer's transaction before giving up."""
CONNECT_SECONDS = 10
"""How long a PostgreSQL connection attempt waits for the server."""
MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK = zlib.crc32(b"wfplan run store migrations")
"""PostgreSQL advisory lock key held while the schema is migrated."""
URL_HELP = "use sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE"


class StoreError(ValueError):
    """The run store cannot be used as asked (the user's to fix); ``str()`` is one line naming the store."""


class MissingStoreError(StoreError):
    """A SQLite store that does not exist was opened for reading."""


def store_url(db: str | None = None) -> URL:
    """The store's URL: ``db``, else ``$WFPLAN_DB``, else :data:`DEFAULT_FILE` in the working folder; a value
    without ``://`` is a SQLite file path; ``postgresql://`` gets the psycopg driver. StoreError when the
    value is not a URL of a supported database."""
    given = db or os.environ.get(ENV_VAR) or DEFAULT_FILE
    if "://" not in given:
        return URL.create("sqlite", database=str(Path(given).absolute()))
    try:
        url = make_url(given)
    except (ArgumentError, ValueError):
        raise StoreError(f"run store {given!r}: not a database URL; {URL_HELP}") from None
    if url.get_backend_name() == "postgresql":
        return url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return url.set(database=str(Path(url.database).absolute()))
    if url.get_backend_name() == "sqlite":
        raise StoreError(f"run store {given!r}: a SQLite store needs a file; {URL_HELP}")
    raise StoreError(f"run store {shown(url)}: unsupported database {url.get_backend_name()!r}; {URL_HELP}")


def shown(url: URL) -> str:
    """The URL as messages show it: the password hidden."""
    return url.render_as_string(hide_password=True)


def _sqlite_engine(url: URL) -> Engine:
    folder = Path(url.database).parent
    if not folder.is_dir():
        raise StoreError(f"run store {shown(url)}: no folder {folder}")
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # transactions are begun below, not by the driver
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    try:
        return create_engine(url, connect_args={"connect_timeout": CONNECT_SECONDS}, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise StoreError(f"run store {shown(url)}: {exc}") from None


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest schema revision this wfplan ships."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to ``revision`` (default the newest) in one transaction under a lock (SQLite: the
    write lock of ``BEGIN IMMEDIATE``; PostgreSQL: an advisory lock), so concurrent openers migrate once."""
    config = _alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def connect(db: str | None = None, create: bool = True) -> Engine:
    """An engine on the store (:func:`store_url`), its schema migrated to the newest revision. A SQLite file
    that does not exist yet is created, unless ``create`` is False (then StoreError: nothing to read).
    StoreError when it cannot be reached or used."""
    url = store_url(db)
    if not create and url.get_backend_name() == "sqlite" and not Path(url.database).exists():
        raise MissingStoreError(f"no run store at {url.database} (runs are recorded there by wfplan solve; "
                                f"--db URL or {ENV_VAR} for another store)")
    engine = _engine(url)
    try:
        migrate(engine)
    except CommandError as exc:
        engine.dispose()
        raise StoreError(f"run store {shown(url)}: its schema is not one this wfplan knows ({exc}); "
                         "a newer wfplan made it?") from None
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(f"run store {shown(url)}: cannot use it: {first_line(exc)}") from None
    return engine


def first_line(exc: SQLAlchemyError) -> str:
    """The driver's own message of a database error, first line only."""
    message = str(getattr(exc, "orig", None) or exc).strip()
    return message.splitlines()[0] if message else type(exc).__name__
