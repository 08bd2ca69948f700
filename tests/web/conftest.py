"""Browser tests: a real `vocalis serve` (SQLite, local storage, its own local worker) driven by
a real Chromium through Playwright's sync API.

Chromium must be at /usr/bin/chromium (Debian: `apt-get install chromium`); without it these
tests skip. Screenshots go to $VOCALIS_SCREENSHOTS, or a temporary folder named at the end of
the run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # A fake microphone (it plays a beep) that needs no permission prompt.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    # Tests press play from script, not from a user gesture.
    "--autoplay-policy=no-user-gesture-required",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "correct horse battery"


def _in_web(item: pytest.Item) -> bool:
    return "tests/web/" in str(item.fspath).replace(os.sep, "/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _in_web(item):  # one test process runs them all, with one serve and one browser
            item.add_marker(pytest.mark.xdist_group("web"))
        # Tests here that need no browser (the client-route check) run everywhere.
        if _in_web(item) and "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)  # a serve and a browser: never the fast lane
            if not CHROMIUM.exists():
                item.add_marker(
                    pytest.mark.skip(
                        reason=f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
                    )
                )
    # While the package's browser is open, Playwright's sync API keeps an event loop running in
    # this thread, and asyncio.run() in a later test here fails ("cannot be called from a running
    # event loop"): the tests here that need no browser run first, whatever their file names.
    places = [n for n, item in enumerate(items) if _in_web(item)]
    web = sorted((items[n] for n in places), key=lambda item: "browser" in item.keywords)
    for n, item in zip(places, web, strict=True):
        items[n] = item


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _vocalis_command() -> list[str]:
    script = Path(sys.executable).with_name("vocalis")
    if script.exists():
        return [str(script)]
    found = shutil.which("vocalis")
    return [found] if found else [sys.executable, "-m", "vocalis.cli"]


@dataclass
class Server:
    url: str
    data_dir: Path
    log: Path

    def get_json(self, path: str, token: str | None = None) -> Any:
        request = urllib.request.Request(self.url + path, headers={"Accept": "application/json"})
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def generation_files(self, user_id: str) -> list[Path]:
        folder = self.data_dir / "storage" / "generations" / user_id
        return sorted(folder.glob("*")) if folder.exists() else []


@contextlib.contextmanager
def running_server(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[Server]:
    """`vocalis serve` on a free port with only the given VOCALIS_* settings, until the block
    ends."""
    log = data_dir.parent / f"{data_dir.name}-serve.log"
    port = _free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith("VOCALIS_")}
    # The defaults but one: English on espeak, not Kokoro. These tests are about the pages; their
    # texts (up to 3,000 characters) and timeouts were sized for espeak, and Kokoro costs ~9x
    # the CPU per second plus a style fit per new voice. The shipped default runs end to end in
    # tests/test_serve.py and tests/worker/test_kokoro_job.py.
    base["VOCALIS_WORKER_ENGINE_OPTIONS"] = json.dumps({"default_bases": {}})
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                *_vocalis_command(),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=base | (env or {}),
            start_new_session=True,  # its own process group: the worker it starts goes with it
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"vocalis serve exited:\n{log.read_text()[-4000:]}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(url + "/api/health", timeout=2) as response:
                    if json.loads(response.read()).get("ok"):
                        break
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"vocalis serve did not become healthy:\n{log.read_text()[-4000:]}"
                )
            time.sleep(0.5)
        yield Server(url=url, data_dir=data_dir, log=log)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("vocalis-data")) as running:
        yield running


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wanted = os.environ.get("VOCALIS_SCREENSHOTS")
    folder = Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    _SCREENSHOT_FOLDERS.append(folder)
    print(f"\nscreenshots: {folder}")
    return folder


_SCREENSHOT_FOLDERS: list[Path] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for folder in _SCREENSHOT_FOLDERS:
        count = len(list(folder.glob("*.png")))
        terminalreporter.write_line(f"browser test screenshots ({count}): {folder}")


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    # Assertions retry until they hold; on a busy 2-core machine a page may take more than
    # Playwright's default 5 s to show what it will show. Waiting longer costs nothing when
    # it is fast, and what the tests assert is the outcome, not the time.
    expect.set_options(timeout=20_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def reference_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.audio_files import make_wav

    return make_wav(tmp_path_factory.mktemp("audio") / "reference.wav", seconds=4.0)


@dataclass
class Studio:
    """One browser context (one person's browser) on the running server."""

    server: Server
    context: Any
    page: Any
    screenshots: Path
    errors: list[str] = field(default_factory=list)
    email: str = ""

    def url(self, path: str) -> str:
        return self.server.url + path

    def goto(self, path: str) -> None:
        self.page.goto(self.url(path))
        self.page.locator("main h1").first.wait_for()

    def open_tab(self) -> Any:
        tab = self.context.new_page()
        tab.on("pageerror", lambda exc: self.errors.append(f"{exc}"))
        return tab

    def sign_up(self) -> str:
        self.email = f"user-{uuid.uuid4().hex[:10]}@example.com"
        page = self.page
        page.goto(self.url("/signin?mode=signup"))
        page.get_by_label("Email").fill(self.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        page.wait_for_url("**/generate")
        return self.email

    def session(self, page: Any = None) -> dict[str, Any]:
        raw = (page or self.page).evaluate("localStorage.getItem('vocalis.session')")
        assert raw, "no session in localStorage"
        return dict(json.loads(raw))

    @property
    def token(self) -> str:
        return str(self.session()["access_token"])

    @property
    def user_id(self) -> str:
        return str(self.session()["user"]["id"])

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call the API as this user (Bearer), outside the UI, to check server state."""
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        response = self.context.request.fetch(
            self.url(path), method=method, headers=headers, **kwargs
        )
        assert response.ok, f"{method} {path}: {response.status} {response.text()}"
        return response.json() if response.status != 204 else None

    def clone_via_api(
        self, wav: Path, name: str, transcript: str = "Hello there, this is my voice."
    ) -> str:
        voice = self.api(
            "POST",
            "/api/clone",
            multipart={
                "name": name,
                "language": "English",
                "transcript": transcript,
                "audio": {"name": wav.name, "mimeType": "audio/wav", "buffer": wav.read_bytes()},
            },
        )
        # The voice's reference check runs as a task of its own: let it finish, so a test that
        # counts running tasks sees only its own, and no backlog of checks holds the worker.
        if voice.get("check_task_id"):
            self.wait_for_task(str(voice["check_task_id"]))
        return str(voice["id"])

    def wait_for_task(self, task_id: str, timeout: float = 180) -> dict[str, Any]:
        """Poll a task (each poll advances it) until it is completed, failed or cancelled."""
        deadline = time.monotonic() + timeout
        while True:
            task = dict(self.api("GET", f"/api/tasks/{task_id}"))
            if task["status"] in ("completed", "failed", "cancelled"):
                return task
            assert time.monotonic() < deadline, f"task {task_id} did not finish: {task}"
            time.sleep(0.25)

    def shot(self, name: str, page: Any = None) -> Path:
        path = self.screenshots / f"{name}.png"
        page = page or self.page
        page.evaluate("window.scrollTo(0, 0)")  # sticky header drawn where it belongs
        page.screenshot(path=str(path), full_page=True)
        return path


@contextlib.contextmanager
def studio_on(browser: Any, server: Server, screenshots: Path) -> Iterator[Studio]:
    """A fresh browser context on `server`; no uncaught page errors allowed."""
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    studio = Studio(server=server, context=context, page=page, screenshots=screenshots)
    page.on("pageerror", lambda exc: studio.errors.append(f"{exc}"))
    yield studio
    context.close()
    assert not studio.errors, f"uncaught errors in the page: {studio.errors}"


@pytest.fixture
def studio(browser: Any, server: Server, screenshots: Path) -> Iterator[Studio]:
    with studio_on(browser, server, screenshots) as opened:
        yield opened
