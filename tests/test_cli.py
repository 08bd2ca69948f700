"""The operator commands: `vocalis user create` makes an account that can sign in, and
`vocalis migrate` brings a database to the latest schema."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from vocalis.api.app import create_app
from vocalis.api.config import Settings


def vocalis(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("VOCALIS_")}
    return subprocess.run(
        [sys.executable, "-m", "vocalis.cli", *args],
        env=base | (env or {}),
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_user_create_then_sign_in(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = vocalis(
        "user", "create", "Op@Example.com", "--password", "operator-pass", "--data-dir", str(data)
    )
    assert made.returncode == 0, made.stderr
    assert "created user op@example.com" in made.stdout
    again = vocalis(
        "user", "create", "op@example.com", "--password", "operator-pass", "--data-dir", str(data)
    )
    assert again.returncode == 1 and "already registered" in again.stderr

    app = create_app(Settings(data_dir=data))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            response = await client.post(
                "/auth/v1/token?grant_type=password",
                json={"email": "op@example.com", "password": "operator-pass"},
            )
    assert response.status_code == 200 and response.json()["user"]["email"] == "op@example.com"


def test_migrate_postgres_or_sqlite(tmp_path: Path, database_url: str) -> None:
    if database_url.startswith("sqlite"):
        database_url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = vocalis(
        "migrate", env={"VOCALIS_DATABASE_URL": database_url, "VOCALIS_DATA_DIR": str(tmp_path)}
    )
    assert result.returncode == 0, result.stderr
    assert "latest schema" in result.stdout


def test_help_explains_every_command() -> None:
    for command in (["serve"], ["worker"], ["migrate"], ["user", "create"], ["say"]):
        result = vocalis(*command, "--help")
        assert result.returncode == 0 and len(result.stdout) > 200, command


@pytest.mark.parametrize("args", [["user", "create", "bad-email", "--password", "long enough pw"]])
def test_bad_operator_input_is_a_clear_error(tmp_path: Path, args: list[str]) -> None:
    result = vocalis(*args, "--data-dir", str(tmp_path))
    assert result.returncode == 1 and result.stderr.startswith("error:")


def test_user_create_on_an_unmigrated_database(tmp_path: Path, empty_database_url: str) -> None:
    env = {"VOCALIS_DATABASE_URL": empty_database_url, "VOCALIS_DATA_DIR": str(tmp_path)}
    result = vocalis("user", "create", "op@example.com", "--password", "operator-pass", env=env)
    if empty_database_url.startswith("sqlite"):  # the embedded database migrates itself
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode == 1, result
        assert result.stderr.startswith("error:") and "`vocalis migrate`" in result.stderr


@pytest.mark.slow
async def test_say_speaks_with_a_studio_voice(tmp_path: Path) -> None:
    from tests.audio_files import make_wav
    from vocalis.audio import decode

    data = tmp_path / "data"
    made = vocalis(
        "user", "create", "op@example.com", "--password", "operator-pass", "--data-dir", str(data)
    )
    assert made.returncode == 0, made.stderr
    app = create_app(Settings(data_dir=data, worker_url="http://unused"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            session = await client.post(
                "/auth/v1/token?grant_type=password",
                json={"email": "op@example.com", "password": "operator-pass"},
            )
            headers = {"Authorization": f"Bearer {session.json()['access_token']}"}
            wav = make_wav(tmp_path / "ref.wav", seconds=2.0)
            cloned = await client.post(
                "/api/clone",
                headers=headers,
                data={"name": "Narrator", "transcript": "Hello there.", "language": "English"},
                files={"audio": ("ref.wav", wav.read_bytes(), "audio/wav")},
            )
            assert cloned.status_code == 200, cloned.text
    out = tmp_path / "said.wav"
    said = vocalis(
        "say", "Good morning.", "--voice", "narrator", "--email", "op@example.com",
        "--engine", "tone", "-o", str(out), "--data-dir", str(data),
    )  # fmt: skip
    assert said.returncode == 0, said.stderr
    assert len(decode(out, 16000)) > 0
    unknown = vocalis(
        "say", "Hi.", "--voice", "nobody", "--email", "op@example.com", "--data-dir", str(data)
    )
    assert unknown.returncode == 1 and "has no voice" in unknown.stderr
