"""The Account page's API keys: created in the UI (shown once, copied), used by a program as a
Bearer token, revoked in the UI after a confirmation and refused from then on."""

from __future__ import annotations

import re
import urllib.error

import pytest
from playwright.sync_api import expect

from tests.web.conftest import DESKTOP, PHONE, Studio

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_create_copy_use_and_revoke_a_key(studio: Studio) -> None:
    page = studio.page
    studio.sign_up()
    studio.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=studio.url(""))
    studio.goto("/account")
    keys = page.get_by_role("region", name="API keys")
    expect(keys.get_by_text("No API keys yet.")).to_be_visible()

    # A key needs a name; the error sits by the field.
    keys.get_by_role("button", name="Create key").click()
    name = keys.get_by_label("Key name")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(keys.get_by_text("Please name the key")).to_be_visible()

    name.fill("Nightly script")
    keys.get_by_role("button", name="Create key").click()
    shown = keys.get_by_label("The new key Nightly script")
    expect(shown).to_have_value(re.compile(r"^vk_\S{40,}$"))
    expect(keys.get_by_text("it will not be shown again")).to_be_visible()
    key = shown.input_value()
    keys.get_by_role("button", name="Copy", exact=True).click()
    expect(keys.get_by_text("Copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == key
    row = keys.locator("tr", has_text="Nightly script")
    expect(row).to_contain_text(key[:10] + "…")
    expect(row).to_contain_text("Never")
    studio.shot("account-new-key-desktop")
    page.set_viewport_size(PHONE)  # the key box and the table fit a phone, the table scrolling
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    studio.shot("account-new-key-phone")
    page.set_viewport_size(DESKTOP)

    # A program uses it (no cookie, only the key) and the page shows it was used.
    assert studio.server.get_json("/api/voices", token=key)["voices"] == []
    page.reload()
    expect(row).to_contain_text("just now")
    assert key not in page.content(), "the key is shown once, never again"

    # Revoking asks first; Cancel keeps it.
    row.get_by_role("button", name="Revoke key Nightly script").click()
    dialog = page.get_by_role("dialog", name="Revoke “Nightly script”?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert studio.server.get_json("/api/voices", token=key)["voices"] == []
    row.get_by_role("button", name="Revoke key Nightly script").click()
    dialog.get_by_role("button", name="Revoke key").click()
    expect(keys.get_by_text("No API keys yet.")).to_be_visible()
    expect(row).to_have_count(0)
    with pytest.raises(urllib.error.HTTPError) as refused:
        studio.server.get_json("/api/voices", token=key)
    assert refused.value.code == 401
    assert studio.api("GET", "/api/api-keys")["api_keys"] == []
