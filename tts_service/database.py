"""The store's database: SQLite under TTS_HOME (the embedded default) or PostgreSQL (TTS_DATABASE_URL).

One query layer for both: SQLAlchemy Core connections, the tables in ``schema.py``, Alembic migrations.
The connection rules are datasette's, on either database: one writer thread per process runs every write
transaction, and reads run in a pool of threads, so the event loop never blocks.

What makes writes correct with several processes on several machines is the database, not this process:
- SQLite: each write transaction starts with ``BEGIN IMMEDIATE``, so writers queue on the file's lock and
  every transaction sees the one before it (what the store's read-then-write code relies on).
- PostgreSQL: each write transaction runs SERIALIZABLE, which gives the same guarantee across machines;
  a transaction the server aborts to keep it (SQLSTATE 40001, or a deadlock, 40P01) runs again.
Migrations take a lock first (SQLite's write lock; a PostgreSQL advisory lock), so processes starting at
once migrate once.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from tts_service.changes import Changes
from tts_service.errors import Conflict, DatabaseDown, StorageFull
from tts_service.migrations import legacy

T = TypeVar("T")
log = logging.getLogger(__name__)
READ_THREADS = 6  # as many as asyncio's default executor gives reads on 2 cores
SERIALIZATION_RETRIES = 8
_RETRY_STATES = {"40001", "40P01"}  # serialization failure, deadlock detected: the server says "run again"
_MIGRATION_LOCK = 0x7474_7331  # "tts1": the advisory lock key every process migrating PostgreSQL takes


class NotMigrated(Conflict):
    """A database whose schema is older than this version's, where it may not be migrated."""

    code = "not_migrated"


def database_url(location: Path | str) -> URL:
    """The SQLAlchemy URL of a store location: a SQLite file's path, or a database URL as operators write
    it (``postgresql://user:pass@host:port/db``; psycopg 3 is the driver)."""
    if isinstance(location, Path):
        return URL.create("sqlite+pysqlite", database=str(location))
    url = make_url(location)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError(
            f"TTS_DATABASE_URL: {url.get_backend_name()} is not supported (postgresql:// or unset)"
        )
    return url


def _sqlite_engine(url: URL, begin: str, *, read_only: bool = False) -> Engine:
    """A SQLite engine whose transactions start with ``begin`` (pysqlite's own transaction handling is off:
    it would start them late, or not at all, as SQLAlchemy's documentation explains)."""
    if read_only:  # opened so that nothing, not even the journal mode, can change the file
        url = url.set(database=f"file:{url.database}?mode=ro", query={"uri": "true"})
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        dbapi_conn.isolation_level = None
        if read_only:
            return
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA foreign_keys=ON")
        dbapi_conn.execute("PRAGMA synchronous=NORMAL")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql(begin)

    return engine


class Database:
    """Owns the connections. Async methods never block the event loop."""

    def __init__(
        self, location: Path | str, *, connect_timeout: float = 30.0, read_only: bool = False
    ) -> None:
        """Open the database, waiting up to ``connect_timeout`` seconds for it, and migrate its schema;
        ``read_only``: never write to it (not even to migrate: NotMigrated unless it is up to date)."""
        self.url = database_url(location)
        self.dialect = self.url.get_backend_name()
        if self.dialect == "sqlite":
            assert self.url.database is not None
            if not read_only:
                Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
            # NullPool: a connection per thread, kept by the thread (below), as SQLite wants.
            self._read_engine = _sqlite_engine(self.url, "BEGIN", read_only=read_only)
            self._write_engine = _sqlite_engine(self.url, "BEGIN IMMEDIATE", read_only=read_only)
        else:
            self._read_engine, self._write_engine = _postgres_engines(self.url, read_only=read_only)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self._readers = ThreadPoolExecutor(max_workers=READ_THREADS, thread_name_prefix="store-reader")
        self._local = threading.local()
        self._open: list[Connection] = []
        self._lock = threading.Lock()
        self.changes = Changes()  # moved by every write that commits (see changes.py)
        self._wait_until_up(connect_timeout)
        if read_only:
            self.revision = _up_to_date(self._read_engine, self.where)
            return
        self.revision = upgrade(self._write_engine)  # the schema's Alembic revision
        # The writer's connection now, not at the first write: opening one writes (WAL set-up), and the
        # first write may come when the disk is full; a kept connection still writes what fits.
        self._writer.submit(self._open_writer).result()

    @property
    def where(self) -> str:
        """The database, for messages: a SQLite file's path, or the URL without its password."""
        if self.dialect == "sqlite":
            return self.url.database or ""
        return self.url.render_as_string(hide_password=True)

    def close(self) -> None:
        """Close the database once every read and write in flight has ended (closing a connection under
        a running query can crash the interpreter); reads and writes after this raise RuntimeError."""
        self._readers.shutdown(wait=True)
        self._writer.shutdown(wait=True)
        for conn in self._open:
            conn.close()
        self._read_engine.dispose()
        self._write_engine.dispose()

    def _wait_until_up(self, timeout: float) -> None:
        """Wait, with backoff, for a database that is still starting (or briefly down); Unavailable
        with the reason once ``timeout`` has passed."""
        deadline, pause = time.monotonic() + timeout, 0.1
        while True:
            try:
                with self._write_engine.connect() as conn:
                    conn.exec_driver_sql("SELECT 1")
                return
            except OperationalError as exc:
                if self.dialect == "sqlite" or time.monotonic() + pause > deadline:
                    raise DatabaseDown(f"cannot reach the database {self.where}: {exc.orig}") from exc
                log.warning(
                    "database %s not reachable yet (%s); retrying in %.1f s", self.where, exc.orig, pause
                )
                time.sleep(pause)
                pause = min(pause * 2, 5.0)

    @contextmanager
    def _connection(self, kind: str) -> Iterator[Connection]:
        """A connection for one read or write. SQLite: this thread's own, kept for the thread's life
        (opening a file costs more than a query). PostgreSQL: one from the pool (``_postgres_engines``)."""
        engine = self._write_engine if kind == "writer" else self._read_engine
        if self.dialect != "sqlite":
            with engine.connect() as conn:
                yield conn.execution_options(isolation_level="SERIALIZABLE") if kind == "writer" else conn
            return
        kept: Connection | None = getattr(self._local, kind, None)
        if kept is None or kept.closed or kept.invalidated:
            kept = engine.connect()
            setattr(self._local, kind, kept)
            with self._lock:
                self._open.append(kept)
        yield kept

    def _open_writer(self) -> None:
        with self._connection("writer"):
            pass

    async def read(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in one read transaction, in a worker thread."""
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._readers, self._run_read, fn, "reader"
            )
        except DBAPIError as exc:
            self._raise_outage(exc)
            raise

    def _raise_outage(self, exc: DBAPIError) -> None:
        """Raise Unavailable for a lost or refused connection (the server down, restarting, unreachable),
        so that callers can wait and retry; return for any other error, which the caller re-raises."""
        state = getattr(exc.orig, "sqlstate", None)
        lost = exc.connection_invalidated or (
            isinstance(exc, OperationalError) and (state is None or state.startswith(("08", "57P")))
        )
        if self.dialect != "sqlite" and lost:
            raise DatabaseDown(f"the database {self.where} is unreachable: {str(exc.orig).strip()}") from exc

    def _run_read(self, fn: Callable[[Connection], T], kind: str) -> T:
        for attempt in range(2):
            try:
                with self._connection(kind) as conn:
                    try:
                        return fn(conn)
                    finally:
                        if conn.in_transaction() and not conn.invalidated:
                            conn.rollback()  # end the snapshot, so the next read sees newer writes
            except DBAPIError as exc:
                if attempt or not exc.connection_invalidated:
                    raise  # a read on a new connection failed too: the server is really down
        raise AssertionError("unreachable")

    async def write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in one write transaction on the single writer thread (see the module's docstring)."""
        try:
            return await asyncio.get_running_loop().run_in_executor(self._writer, self._run_write, fn)
        except OperationalError as exc:
            if getattr(exc.orig, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
                raise StorageFull(f"no space left for the database ({self.where})") from exc
            self._raise_outage(exc)
            raise
        except DBAPIError as exc:
            self._raise_outage(exc)
            raise

    def _run_write(self, fn: Callable[[Connection], T]) -> T:
        for attempt in range(SERIALIZATION_RETRIES + 1):
            try:
                with self._connection("writer") as conn, conn.begin():
                    result = fn(conn)
            except DBAPIError as exc:
                if (
                    getattr(exc.orig, "sqlstate", None) not in _RETRY_STATES
                    or attempt == SERIALIZATION_RETRIES
                ):
                    raise
                time.sleep(0.005 * 2**attempt)  # let the transaction that won finish first
                continue
            # Here, in the writer thread, and only once committed: a reader that sees the new generation
            # reads the new data. (After the await, a cancelled caller would never move it.)
            self.changes.bump()
            return result
        raise AssertionError("unreachable")

    async def vacuum(self) -> None:
        """Give the space of deleted rows back (SQLite rewrites its file); outside any transaction."""

        def run() -> None:
            with self._write_engine.connect() as conn:
                if self.dialect == "sqlite":  # a new connection (NullPool), in no transaction
                    raw: Any = conn.connection.driver_connection
                    raw.execute("VACUUM")
                else:  # AUTOCOMMIT for this checkout only: the pool gets the connection back as it was
                    conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM")

        await asyncio.get_running_loop().run_in_executor(self._writer, run)
        self.changes.bump()

    async def size(self) -> int:
        """Bytes the database takes: SQLite's file (its WAL aside), or PostgreSQL's whole database."""
        if self.dialect == "sqlite":
            return (await asyncio.to_thread(Path(self.where).stat)).st_size
        sql = text("SELECT pg_database_size(current_database())")
        return await self.read(lambda c: int(c.execute(sql).scalar_one()))

    async def data_version(self) -> int | str:
        """A value that moves when another connection, in this process or another, commits a write: what
        ``Changes.follow`` watches. SQLite: ``PRAGMA data_version``. PostgreSQL: the server's WAL position,
        which every commit moves (and some other writes too: it errs on the side of moving)."""

        def read(conn: Connection) -> int | str:
            if self.dialect == "sqlite":
                return int(conn.exec_driver_sql("PRAGMA data_version").scalar_one())
            return str(conn.execute(text("SELECT pg_current_wal_lsn()")).scalar_one())

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._run_read, read, "version")


def _postgres_engines(url: URL, *, read_only: bool = False) -> tuple[Engine, Engine]:
    """(reads, writes). Writes: the pool checks a connection before handing it out (``pool_pre_ping``), so
    that a server restart or failover costs a reconnection, not a failed write. Reads: one round trip per
    statement, in autocommit. A transaction would add BEGIN and ROLLBACK and no consistency (PostgreSQL's
    READ COMMITTED gives each statement a snapshot of its own anyway), and a read that finds its connection
    dropped is run again on a new one (``_run_read``) instead of checking every connection first."""
    try:
        import psycopg  # noqa: F401  # only to say what is missing, below
    except ImportError as exc:
        raise ValueError(
            "TTS_DATABASE_URL is PostgreSQL: install psycopg (pip install 'tts_service[postgres]')"
        ) from exc
    options = {"options": "-c default_transaction_read_only=on"} if read_only else {}
    reads = create_engine(url, pool_size=READ_THREADS + 1, isolation_level="AUTOCOMMIT", connect_args=options)
    writes = create_engine(url, pool_size=2, pool_pre_ping=True, connect_args=options)
    return reads, writes


# Migrations -----------------------------------------------------------------------------------------


def _alembic(conn: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "tts_service:migrations")
    config.attributes["connection"] = conn
    return config


@functools.cache  # the migrations are files of the package: read them once per process
def head() -> str:
    """The newest migration's revision."""
    script = ScriptDirectory.from_config(_alembic())
    found = script.get_current_head()
    assert found is not None
    return found


def _up_to_date(engine: Engine, where: str) -> str:
    """The schema's revision, which must be the newest: a database opened read-only cannot be migrated."""
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current != head():
        raise NotMigrated(
            f"the database {where} is at schema revision {current or 'none'}, not {head()}:"
            " run `tts-service db upgrade` on it first"
        )
    return current


def upgrade(engine: Engine) -> str:
    """Bring the schema to the newest migration, once however many processes start together; the revision
    it is at. SQLite databases made by the hand-written migrations are first finished by those and stamped."""
    with engine.connect() as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        # SQLite: the write engine's BEGIN IMMEDIATE holds the file's write lock until commit.
        current = MigrationContext.configure(conn).get_current_revision()
        newest = head()
        if current == newest:
            return current
        config = _alembic(conn)
        if current is None and conn.dialect.name == "sqlite":
            raw = conn.connection.driver_connection
            assert isinstance(raw, sqlite3.Connection)
            if legacy.upgrade(raw):
                command.stamp(config, "0001")
        command.upgrade(config, "head")
    return newest
