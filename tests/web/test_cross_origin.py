"""A page on another origin, in a real Chromium: with its origin in VOCALIS_CORS_ORIGINS it signs
up as supabase-js would (real preflights), reads GoTrue errors, and plays a generation the way
the README tells cross-origin apps to; an unlisted origin is refused by the browser itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.audio_files import make_wav
from tests.threaded_server import served
from vocalis.api.app import create_app
from vocalis.api.config import Settings
from vocalis.api.scripted_worker import ScriptedWorker

pytestmark = pytest.mark.slow

PAGE = "<!doctype html><title>Another app</title><audio></audio>"

# What supabase-js sends with a sign-up (x-client-info, apikey and the API version header make
# it a preflighted request).
SIGN_UP = """async ({api, email, password}) => {
  const headers = {
    "Content-Type": "application/json;charset=UTF-8",
    apikey: "anon-key",
    "X-Client-Info": "supabase-js-web/2.50.0",
    "X-Supabase-Api-Version": "2024-01-01",
  };
  try {
    const response = await fetch(`${api}/auth/v1/signup`, {
      method: "POST", headers, body: JSON.stringify({email, password}),
    });
    return {status: response.status, body: await response.json()};
  } catch (error) {
    return {status: 0, error: String(error)};
  }
}"""

# The README's recipe: a bearer request for the 302, the player gets the signed URL.
PLAY = """async ({api, token, id}) => {
  const response = await fetch(`${api}/api/generations/${id}/audio`, {
    headers: {Authorization: `Bearer ${token}`},
  });
  const audio = document.querySelector("audio");
  audio.src = response.url;
  await response.body.cancel();
  await new Promise((loaded, failed) => {
    audio.onloadedmetadata = loaded;
    audio.onerror = () => failed(new Error(`audio error ${audio.error && audio.error.code}`));
  });
  return {status: response.status, url: response.url, duration: audio.duration};
}"""


@pytest.fixture
def page_port() -> Iterator[int]:
    """Another app's page, on its own port (its own origin)."""
    app = Starlette(routes=[Route("/", lambda _request: HTMLResponse(PAGE))])
    with served(app) as base:
        yield int(base.rpartition(":")[2])


@pytest.fixture
def api(tmp_path: Path, page_port: int) -> Iterator[tuple[str, ScriptedWorker]]:
    # Its own SQLite (migrated by the app's startup): the shared database fixtures call
    # asyncio.run, which cannot run beside Playwright's loop. CORS involves no database; the
    # API tests cover both databases.
    settings = Settings(
        data_dir=tmp_path / "data",
        jwt_secret=SecretStr("test-secret-" + "x" * 32),
        worker_url="http://worker.test",
        reconcile_interval_seconds=0,
        sweep_interval_seconds=0,
        poll_rate_per_second=0,
        cors_origins=f"http://localhost:{page_port}",
    )
    worker = ScriptedWorker()
    with served(create_app(settings, worker_transport=worker.transport())) as base:
        yield base, worker


def completed_generation(api: str, worker: ScriptedWorker, token: str, tmp_path: Path) -> str:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=api, headers=headers, timeout=120) as http:
        with make_wav(tmp_path / "ref.wav", seconds=2.0).open("rb") as f:
            voice = http.post(
                "/api/clone",
                data={"name": "Ada", "transcript": "Hello there.", "language": "English"},
                files={"audio": ("ref.wav", f, "audio/wav")},
            )
        assert voice.status_code == 200, voice.text
        started = http.post("/api/generate", json={"voice_id": voice.json()["id"], "text": "Hi."})
        assert started.status_code == 200, started.text
        worker.complete_all()
        task = http.get(f"/api/tasks/{started.json()['task_id']}").json()
        assert task["status"] == "completed", task
        return str(started.json()["generation_id"])


def test_a_listed_origin_signs_up_reads_errors_and_plays_audio(
    browser: Any, api: tuple[str, ScriptedWorker], page_port: int, tmp_path: Path
) -> None:
    base, worker = api
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"http://localhost:{page_port}/")
        signed_up = page.evaluate(
            SIGN_UP, {"api": base, "email": "ada@example.com", "password": "a long password"}
        )
        assert signed_up["status"] == 200, signed_up
        again = page.evaluate(
            SIGN_UP, {"api": base, "email": "ada@example.com", "password": "a long password"}
        )
        assert again["status"] == 422 and again["body"]["error_code"] == "user_already_exists"

        token = signed_up["body"]["access_token"]
        generation_id = completed_generation(base, worker, token, tmp_path)
        played = page.evaluate(PLAY, {"api": base, "token": token, "id": generation_id})
        assert played["status"] == 200 and played["url"].startswith(f"{base}/api/storage/")
        assert played["duration"] > 0

        # The same page from an origin that is not listed: the browser refuses it.
        page.goto(f"http://127.0.0.1:{page_port}/")
        refused = page.evaluate(
            SIGN_UP, {"api": base, "email": "bob@example.com", "password": "a long password"}
        )
        assert refused["status"] == 0 and "Failed to fetch" in refused["error"]
    finally:
        context.close()
