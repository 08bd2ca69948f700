"""Every page at desktop and phone width: screenshots to look at, and checks a person with a
keyboard, a screen reader or a small screen would care about — labelled controls, visible
focus, readable contrast, nothing wider than the screen."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import DESKTOP, PHONE, Studio
from tests.web.texts import LONG

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = ["generate", "clone", "design", "voices", "history", "tasks", "account"]

# The checks run in the page; they live in a .js file of their own.
CHECKS = (Path(__file__).parent / "checks.js").read_text()
UNLABELLED = f"() => {{ {CHECKS}; return unlabelled(); }}"
LOW_CONTRAST = f"() => {{ {CHECKS}; return lowContrast(); }}"


def check_page(page: Any, where: str) -> None:
    assert page.evaluate(UNLABELLED) == [], f"{where}: controls without an accessible name"
    assert page.evaluate(LOW_CONTRAST) == [], f"{where}: text with too little contrast"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{where}: {overflow}px wider than the screen"


def wait_for_completed_generation(studio: Studio, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tasks = studio.api("GET", "/api/tasks?status=active&type=generate")["tasks"]
        for task in tasks:
            studio.api("GET", f"/api/tasks/{task['id']}")  # polling is what advances a task
        if not tasks:
            return
        time.sleep(1)
    raise AssertionError("generation did not finish")


def test_every_page_at_desktop_and_phone_width(
    studio: Studio, browser: Any, reference_wav: Path
) -> None:
    page = studio.page
    studio.sign_up()
    voice_id = studio.clone_via_api(reference_wav, "Harbour pilot", "Steady as she goes, steady.")
    studio.api(
        "POST",
        "/api/generate",
        data={
            "voice_id": voice_id,
            "text": "Good evening. The tide is turning.",
            "language": "English",
        },
    )
    wait_for_completed_generation(studio)
    studio.api(
        "POST", "/api/generate", data={"voice_id": voice_id, "text": LONG, "language": "English"}
    )

    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        for name in PAGES:
            studio.goto(f"/{name}")
            page.wait_for_timeout(800)  # lists load, the engine note appears
            expect(page.locator("[aria-busy=true]")).to_have_count(0)
            expect(page.locator("#dock")).to_be_visible()  # the running generation, on every page
            studio.shot(f"{name}-{label}")
            check_page(page, f"/{name} at {label} width")

    # The dark colour scheme is readable too.
    page.set_viewport_size(DESKTOP)
    page.emulate_media(color_scheme="dark")
    for name in PAGES:
        studio.goto(f"/{name}")
        page.wait_for_timeout(800)
        check_page(page, f"/{name} in the dark scheme")
    studio.shot("history-desktop-dark")
    page.emulate_media(color_scheme="light")

    # Signed out: the sign-in page, in a fresh browser.
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(viewport=viewport)
        fresh = context.new_page()
        fresh.goto(studio.url("/signin"))
        expect(fresh.get_by_role("heading", name="Sign in to Vocalis")).to_be_visible()
        studio.shot(f"signin-{label}", page=fresh)
        check_page(fresh, f"/signin at {label} width")
        context.close()

    # Stop the long generation so it does not hold the worker for the next tests (on a slow
    # machine it may have finished between the listing and the cancel: then there is nothing
    # to stop).
    for task in studio.api("GET", "/api/tasks?status=active&type=generate")["tasks"]:
        path = f"/api/tasks/{task['id']}/cancel"
        headers = {"Authorization": f"Bearer {studio.token}"}
        answer = studio.context.request.fetch(studio.url(path), method="POST", headers=headers)
        assert answer.ok or "status: completed" in answer.text(), answer.text()


def test_keyboard_only(studio: Studio, reference_wav: Path) -> None:
    page = studio.page
    studio.sign_up()
    studio.clone_via_api(reference_wav, "Keys")
    studio.goto("/voices")

    # The first Tab reaches the skip link; following it lands in the page.
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to content"
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement.id === 'main'", timeout=5_000)

    # Every focusable thing shows where the focus is.
    seen = 0
    for _ in range(25):
        page.keyboard.press("Tab")
        outline = page.evaluate(
            "() => { const el = document.activeElement, s = getComputedStyle(el);"
            " return [el.tagName, s.outlineStyle, parseFloat(s.outlineWidth)]; }"
        )
        if outline[0] == "BODY":
            break
        seen += 1
        assert outline[1] != "none" and outline[2] >= 2, f"no visible focus on {outline}"
    assert seen >= 5

    # Navigate, fill and submit a form with the keyboard alone.
    page.get_by_role("link", name="Generate", exact=True).focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/generate")
    # Focus moves to the new page's heading, so a screen reader starts there.
    page.wait_for_function("document.activeElement.tagName === 'H1'", timeout=5_000)
    page.get_by_label("Text", exact=True).focus()
    page.keyboard.type("Hello from the keyboard. ")
    page.keyboard.insert_text(LONG)  # long enough to still be running when we cancel
    page.keyboard.press("Control+Enter")
    expect(page.get_by_role("heading", name="Generating…")).to_be_visible()
    cancel = page.locator(".result").get_by_role("button", name="Cancel")
    cancel.focus()
    page.keyboard.press("Enter")
    # A round trip to the server and its worker, which is busy rendering (and streaming it).
    expect(page.get_by_role("heading", name="Generation cancelled")).to_be_visible(timeout=30_000)
