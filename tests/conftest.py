"""Shared fixtures: a fresh database per test (SQLite file; PostgreSQL when configured), the app,
an HTTP client over it, and signed-up users.

Set VOCALIS_TEST_DATABASE_URL=postgresql://user:pass@host/db (any existing database; used for
admin) to run every database-backed test on PostgreSQL too: each test gets its own database
cloned from a migrated template.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from vocalis.api.app import create_app
from vocalis.api.config import Settings
from vocalis.api.worker_transport import Transport

PG_ADMIN_URL = os.environ.get("VOCALIS_TEST_DATABASE_URL")
# Named after the admin database and the xdist worker, so suites pointed at different admin
# databases of one server (parallel checkouts) and the workers of one run never drop each
# other's template (CREATE DATABASE … TEMPLATE also refuses a template someone is connected to).
TEMPLATE_DB = (
    "vocalis_test_template_"
    + (PG_ADMIN_URL or "").rpartition("/")[2].split("?")[0]
    + os.environ.get("PYTEST_XDIST_WORKER", "")
)


def _pg_url(database: str) -> str:
    assert PG_ADMIN_URL
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


async def _pg_admin(*statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql+asyncpg", "postgresql"))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    from vocalis.api.migrate import upgrade_url

    asyncio.run(
        _pg_admin(
            f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)", f"CREATE DATABASE {TEMPLATE_DB}"
        )
    )
    asyncio.run(upgrade_url(_pg_url(TEMPLATE_DB)))
    yield TEMPLATE_DB
    asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied per test: cheaper than running Alembic every time."""
    from vocalis.api.migrate import upgrade_url

    path = tmp_path_factory.mktemp("template") / "vocalis.db"
    asyncio.run(upgrade_url(f"sqlite:///{path}"))
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "vocalis.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    if not PG_ADMIN_URL:
        pytest.skip("PostgreSQL: set VOCALIS_TEST_DATABASE_URL to run")
    template = request.getfixturevalue("pg_template")
    name = f"vocalis_t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f"CREATE DATABASE {name} TEMPLATE {template}"))
    yield _pg_url(name)
    asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all, as a new server has it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    if not PG_ADMIN_URL:
        pytest.skip("PostgreSQL: set VOCALIS_TEST_DATABASE_URL to run")
    name = f"vocalis_e_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f"CREATE DATABASE {name}"))
    yield _pg_url(name)
    asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """Argon2 at argon2-cffi's own profile for tests (`profiles.CHEAPEST`) in this process: the
    same library and code path at a fraction of a millisecond, where the production parameters
    cost ~200 ms a hash here — half of the fast lane's time went to signing test users up.
    Servers the tests start as processes (`vocalis serve`, the CLI) hash at the real cost."""
    from argon2 import PasswordHasher, profiles

    from vocalis.api import security

    production = security._hasher
    security._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    security._dummy_hash.cache_clear()  # built with the hasher in use, like real hashes
    yield
    security._hasher = production
    security._dummy_hash.cache_clear()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        jwt_secret="test-secret-" + "x" * 32,
        worker_url="http://worker.test",
        worker_token="worker-token",
        reconcile_interval_seconds=0,  # tests drive the reconciler explicitly
        sweep_interval_seconds=0,  # and the sweeper
        # Every poll checks the worker, so races are exercised; coalescing has its own tests,
        # on a clock they drive (FakeClock).
        poll_rate_per_second=0,
        serve_web=True,
    )


class FakeClock:
    """A clock tests move by hand: `app.state.tasks.clock = clock` makes time deterministic."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(app: FastAPI) -> FakeClock:
    fake = FakeClock()
    app.state.tasks.clock = fake
    return fake


@pytest.fixture
def worker_transport() -> Transport | None:
    """How the API reaches a worker; modules override this (scripted peer, real worker app)."""
    return None


@pytest.fixture
async def app(settings: Settings, worker_transport: Transport | None) -> AsyncIterator[FastAPI]:
    application = create_app(settings, worker_transport=worker_transport)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@dataclass
class SignedIn:
    id: str
    email: str
    password: str
    session: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.session['access_token']}"}


UserFactory = Callable[..., Awaitable[SignedIn]]


@pytest.fixture
def user_factory(client: httpx.AsyncClient) -> UserFactory:
    async def make(email: str | None = None, password: str = "correct horse battery") -> SignedIn:
        email = email or f"user-{uuid.uuid4().hex[:8]}@example.com"
        response = await client.post("/auth/v1/signup", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        session = response.json()
        client.cookies.clear()  # tests authenticate explicitly, never by a leftover cookie
        return SignedIn(session["user"]["id"], email, password, session)

    return make


@pytest.fixture
async def user(user_factory: UserFactory) -> SignedIn:
    return await user_factory()


@pytest.fixture
async def other_user(user_factory: UserFactory) -> SignedIn:
    return await user_factory()
