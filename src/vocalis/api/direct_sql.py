"""Single statements run straight on the database driver: the task poll's hot path.

A task poll is one `UPDATE … RETURNING` (SPEC §8: one database round trip). Through a
SQLAlchemy connection that round trip cost several times the database work itself: pool
checkout and return, execution context, result wrapping, and on SQLite eight hops to
aiosqlite's thread (cursor, execute, fetch, close, the pool's reset…). Here a Core statement
is compiled once by SQLAlchemy (so the SQL still comes from the table definitions),
SQLAlchemy's own value conversions for it are looked up once (bind and result processors), and
it runs on connections of this module's own:

- PostgreSQL: a small asyncpg pool; about 0.1 ms of CPU per statement against 0.33 ms
  through SQLAlchemy.
- SQLite: one connection taken from the engine's pool for good (so it has the engine's
  PRAGMAs), autocommit: one thread hop per statement, and the polls' writes queue in order on
  it instead of contending for SQLite's write lock through the busy handler's sleeps.

With this and the other steps listed in bench/README.md, the API's CPU per poll went from
2.25 to ~0.6 ms on PostgreSQL and from 3.0 to ~0.6 ms on SQLite (bench/poll.py).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.selectable import Select

Processor = Callable[[Any], Any]
# What runs here: an `UPDATE … RETURNING` (the poll) or a one-row SELECT (a task's load).
OneRow = UpdateBase | Select[Any]


@dataclass(frozen=True)
class Compiled:
    """A statement as the driver takes it, with the conversions SQLAlchemy would apply."""

    sql: str
    names: tuple[str, ...]  # parameter names in positional order
    carried: dict[str, Any]  # values of parameters the statement carries (`poll_count + 1`)
    binds: dict[str, Processor]  # bind processors by parameter name
    columns: tuple[tuple[str, Processor | None], ...]  # returned columns, result processors

    @classmethod
    def of(
        cls,
        statement: OneRow,
        dialect: Dialect,
        coltypes: Sequence[Any] | None = None,
    ) -> Compiled:
        """`coltypes`: the driver's type codes of the returned columns (asyncpg: type OIDs,
        which some of SQLAlchemy's PostgreSQL result processors need; SQLite has none)."""
        compiled = statement.compile(dialect=dialect)
        binds: dict[str, Processor] = {}
        for name, bind in compiled.binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                binds[name] = process
        returned = list(statement.exported_columns)
        codes = list(coltypes) if coltypes is not None else [None] * len(returned)
        columns: tuple[tuple[str, Processor | None], ...] = tuple(
            (str(c.key), c.type.dialect_impl(dialect).result_processor(dialect, code))
            for c, code in zip(returned, codes, strict=True)
        )
        return cls(
            sql=compiled.string,
            names=tuple(compiled.positiontup or ()),
            carried={n: b.effective_value for n, b in compiled.binds.items() if not b.required},
            binds=binds,
            columns=columns,
        )

    def args(self, params: dict[str, Any]) -> list[Any]:
        values = {**self.carried, **params}
        out = []
        for name in self.names:
            process = self.binds.get(name)
            out.append(values[name] if process is None else process(values[name]))
        return out

    def row(self, values: Sequence[Any]) -> dict[str, Any]:
        return {
            name: value if process is None else process(value)
            for (name, process), value in zip(self.columns, values, strict=True)
        }


class DirectSQL:
    """Runs compiled statements on the driver; connections are opened on first use."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._dialect = engine.dialect
        self._compiled: dict[OneRow, Compiled] = {}
        self._lock = asyncio.Lock()
        self._pool: Any = None  # asyncpg.Pool
        self._held: AsyncConnection | None = None  # SQLite: the connection taken for good
        self._sqlite: Any = None  # its aiosqlite connection

    async def returning_one(
        self, statement: OneRow, params: dict[str, Any]
    ) -> dict[str, Any] | None:
        compiled = self._compiled.get(statement) or await self._compile(statement)
        args = compiled.args(params)
        if self._dialect.name == "sqlite":
            connection = self._sqlite or await self._open()
            rows = list(await connection.execute_fetchall(compiled.sql, args))
            return compiled.row(rows[0]) if rows else None
        pool = self._pool or await self._open()
        record = await pool.fetchrow(compiled.sql, *args)
        return compiled.row(record) if record is not None else None

    async def _compile(self, statement: OneRow) -> Compiled:
        coltypes = None
        if self._dialect.name != "sqlite":  # the result's type OIDs, as the driver sees them
            sql = str(statement.compile(dialect=self._dialect))
            async with (self._pool or await self._open()).acquire() as conn:
                coltypes = [a.type.oid for a in (await conn.prepare(sql)).get_attributes()]
        compiled = self._compiled[statement] = Compiled.of(statement, self._dialect, coltypes)
        return compiled

    async def _open(self) -> Any:
        async with self._lock:
            if self._dialect.name == "sqlite":
                if self._sqlite is None:
                    held = await self._engine.execution_options(
                        isolation_level="AUTOCOMMIT"
                    ).connect()
                    self._sqlite = (await held.get_raw_connection()).driver_connection
                    self._held = held
                return self._sqlite
            if self._pool is None:
                self._pool = await _asyncpg_pool(self._engine)
            return self._pool

    async def close(self) -> None:
        if self._held is not None:
            await self._held.close()
            self._held = self._sqlite = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


async def _asyncpg_pool(engine: AsyncEngine) -> Any:
    import asyncpg

    async def codecs(conn: Any) -> None:
        # SQLAlchemy's asyncpg dialect decodes JSON in the driver too (its JSON type has no
        # result processor), so the rows match what it returns.
        for name in ("json", "jsonb"):
            await conn.set_type_codec(
                name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
            )

    async def keep(_conn: Any) -> None:
        """Nothing to reset: the pool only runs single autocommit statements, which leave no
        session state. asyncpg's default reset is one more round trip per release, which
        doubles the time a pooled statement takes (0.24 against 0.12 ms here)."""

    dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    # 10 connections: 4 measurably held back 50 concurrent polls; 20 gained nothing over 10.
    return await asyncpg.create_pool(dsn, min_size=1, max_size=10, init=codecs, reset=keep)
