"""Sign up, out and in; the session survives reloads, refreshes itself before it expires, and
the HttpOnly cookie is what lets media elements fetch audio."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import PASSWORD, Studio

pytestmark = pytest.mark.browser


def media_status(studio: Studio, voice_id: str) -> int:
    """What a cookie-only GET of a voice preview answers (as an <audio> element would)."""
    response = studio.context.request.get(
        studio.url(f"/api/voices/{voice_id}/preview"), max_redirects=0
    )
    return int(response.status)


def test_sign_out_and_back_in(studio: Studio, reference_wav: Path) -> None:
    page = studio.page
    email = studio.sign_up()
    voice_id = studio.clone_via_api(reference_wav, "Mine")
    assert media_status(studio, voice_id) == 302  # the cookie set at sign-up authorises media

    # The session survives a reload.
    studio.goto("/voices")
    page.reload()
    expect(page.locator("li[data-voice-id]")).to_have_count(1)

    page.get_by_role("link", name="Account").click()
    expect(page.get_by_text(f"Signed in as {email}")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/signin")
    assert page.evaluate("localStorage.getItem('vocalis.session')") is None
    assert media_status(studio, voice_id) == 401  # logout cleared the cookie
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()

    # Signed out, app pages send you to sign in, and back where you were afterwards.
    page.goto(studio.url("/history?status=completed"))
    page.wait_for_url(re.compile(r"/signin\?next="))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text(re.compile("invalid|incorrect|wrong", re.I))
    studio.shot("signin-error-desktop")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/history?status=completed")
    expect(page.get_by_label("Status")).to_have_value("completed")
    assert media_status(studio, voice_id) == 302


def test_signup_errors_are_shown(studio: Studio) -> None:
    page = studio.page
    studio.sign_up()
    email = studio.email
    page.get_by_role("link", name="Account").click()
    page.get_by_role("button", name="Sign out").click()
    page.goto(studio.url("/signin?mode=signup"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Use at least 8 characters.")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".has-error, [role=alert]:visible").first).to_contain_text(
        re.compile("already|exists|registered", re.I)
    )


def test_session_refreshes_before_it_expires(studio: Studio, reference_wav: Path) -> None:
    page = studio.page
    studio.sign_up()
    voice_id = studio.clone_via_api(reference_wav, "Fresh")
    before = studio.session()

    # Pretend the token expires in 61 s: the app refreshes it a minute early, i.e. now.
    aged = {**before, "local_expires_at": time.time() + 61}
    page.evaluate("s => localStorage.setItem('vocalis.session', s)", json.dumps(aged))
    with page.expect_response(re.compile(r"/auth/v1/token\?grant_type=refresh_token")) as refreshed:
        page.reload()
    assert refreshed.value.status == 200
    page.wait_for_function(
        "t => JSON.parse(localStorage.getItem('vocalis.session')).access_token !== t",
        arg=before["access_token"],
    )
    after = studio.session()
    assert after["refresh_token"] != before["refresh_token"]  # rotated
    assert after["local_expires_at"] > time.time() + 600

    # The new token works for the API and the re-set cookie for media.
    studio.goto("/voices")
    expect(page.locator("li[data-voice-id]")).to_have_count(1)
    assert media_status(studio, voice_id) == 302

    # Two tabs opening on an expiring session stay signed in, on one session. The Web Lock
    # lets one tab refresh at a time, but Chromium propagates a localStorage write to other
    # tabs' processes asynchronously, so the second holder can still read the spent token and
    # present it again: the server's reuse interval (tests/api/test_auth.py) continues the
    # session instead of revoking it, and the tabs converge on the last session stored.
    current = studio.session()
    aged = {**current, "local_expires_at": time.time() + 61}
    page.evaluate("s => localStorage.setItem('vocalis.session', s)", json.dumps(aged))
    refreshes: list[Any] = []
    studio.context.on(
        "response",
        lambda r: refreshes.append(r) if "grant_type=refresh_token" in r.url else None,
    )
    page.reload()
    second = studio.open_tab()
    second.goto(studio.url("/voices"))
    for tab in (page, second):
        expect(tab.locator("li[data-voice-id]")).to_have_count(1)
    for tab in (page, second):
        tab.wait_for_function(
            "t => JSON.parse(localStorage.getItem('vocalis.session')).access_token !== t",
            arg=current["access_token"],
        )
    time.sleep(2)  # time enough for any further refresh to show up
    assert 1 <= len(refreshes) <= 2 and all(r.status == 200 for r in refreshes), refreshes
    second.wait_for_function(
        "t => JSON.parse(localStorage.getItem('vocalis.session')).access_token === t",
        arg=studio.session()["access_token"],
    )
    for tab in (page, second):  # neither was sent to sign in
        tab.goto(studio.url("/voices"))
        expect(tab.locator("li[data-voice-id]")).to_have_count(1)
    studio.api("GET", "/api/voices")  # still signed in
