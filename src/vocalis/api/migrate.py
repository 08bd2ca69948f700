"""Run Alembic migrations programmatically on our async engine, and check a database is current.

The embedded SQLite database migrates itself when the app starts; PostgreSQL is migrated by
the operator (`vocalis migrate`), once, not by every replica racing at startup. So an API
process on PostgreSQL first checks that the schema is exactly this code's: one that is missing
or behind would answer every request with a 500 ("relation … does not exist").
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from vocalis.api.db import Database, create_database

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaNotCurrent(RuntimeError):
    """The database's schema is not the one this version of Vocalis needs."""


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


async def upgrade(db: Database, revision: str = "head") -> None:
    async with db.engine.begin() as conn:
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def upgrade_url(url: str) -> None:
    db = create_database(url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()


async def current_revision(db: Database) -> str | None:
    """The Alembic revision the database is at; None when it has no Vocalis schema."""
    async with db.engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


async def require_current(db: Database) -> None:
    """Raise SchemaNotCurrent, saying what to do, unless the database is at this code's head."""
    scripts = ScriptDirectory.from_config(alembic_config())
    head = scripts.get_current_head()
    current = await current_revision(db)
    if current == head:
        return
    if current is None:
        state = "has no Vocalis schema"
    elif current in {script.revision for script in scripts.walk_revisions()}:
        state = f"is at schema revision {current}, behind this version's {head}"
    else:  # a newer Vocalis migrated it; running older code on it could corrupt data
        raise SchemaNotCurrent(
            f"The database is at schema revision {current}, which this version of Vocalis "
            f"does not know (its latest is {head}): run the Vocalis version that migrated it."
        )
    raise SchemaNotCurrent(
        f"The database {state}. Run `vocalis migrate` (with the same VOCALIS_DATABASE_URL), "
        "then start again."
    )


async def require_current_url(url: str) -> None:
    db = create_database(url)
    try:
        await require_current(db)
    finally:
        await db.dispose()
