"""Database engine and session factory for SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from vocalis.api.direct_sql import DirectSQL, OneRow


def async_url(url: str) -> str:
    """Map the user-facing URL (sqlite:///…, postgresql://…) onto our async drivers."""
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url.removeprefix("sqlite:")
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url.removeprefix(prefix)
    return url


@dataclass
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    # The same pool with AUTOCOMMIT, built once: `execution_options()` makes a new engine
    # object on every call (about 6% of a task poll's CPU when it was called per poll).
    autocommit_engine: AsyncEngine = field(init=False)
    direct: DirectSQL = field(init=False)  # the task poll's statement, on the driver

    def __post_init__(self) -> None:
        self.autocommit_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.direct = DirectSQL(self.engine)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def autocommit(self) -> AsyncConnection:
        """A connection whose statements each commit on their own: one round trip per
        statement, no BEGIN/COMMIT. For single compare-and-set statements on hot paths."""
        return self.autocommit_engine.connect()

    async def returning_one(
        self, statement: OneRow, params: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Run one `UPDATE … RETURNING` or one-row SELECT on its own (autocommit); the row as
        a dict (values as SQLAlchemy returns them), or None. Straight on the driver: see
        direct_sql.py."""
        return await self.direct.returning_one(statement, params)

    async def dispose(self) -> None:
        await self.direct.close()
        await self.engine.dispose()


def create_database(url: str, **engine_options: Any) -> Database:
    url = async_url(url)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, **engine_options)
        _configure_sqlite(engine)
    else:
        engine_options.setdefault("pool_size", 20)
        engine_options.setdefault("max_overflow", 20)
        engine = create_async_engine(url, **engine_options)
    return Database(engine, async_sessionmaker(engine, expire_on_commit=False))


def _configure_sqlite(engine: AsyncEngine) -> None:
    # WAL lets readers run beside the writer; busy_timeout makes writers queue instead of
    # failing. Deferred transactions that read and then write fail with "database is locked"
    # when another writer got in between, so every transaction starts IMMEDIATE (takes the
    # write lock up front) — pysqlite's own transaction handling is switched off for that.
    # The price: a transaction blocks every writer, so code ends its transactions before
    # slow work (decoding, worker calls) and before another connection writes.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
