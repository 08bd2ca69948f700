"""Making voices (record, design) and managing them (search, delete), with server errors shown
where they belong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.audio_files import make_wav
from tests.web.conftest import Studio

pytestmark = pytest.mark.browser


def test_record_a_clone_with_the_microphone(studio: Studio) -> None:
    page = studio.page
    studio.sign_up()
    studio.goto("/clone")
    page.get_by_text("Record with microphone").click()
    record = page.get_by_role("button", name="Start recording")
    record.click()
    meter = page.get_by_role("meter", name="Microphone level")
    # Chromium's fake microphone beeps: the level meter must see it.
    page.wait_for_function(
        "m => Number(m.getAttribute('aria-valuenow')) > 20",
        arg=meter.element_handle(),
        timeout=10_000,
    )
    expect(page.locator(".record-time")).to_have_text(re.compile(r"0:0[3-9]"), timeout=10_000)
    expect(page.locator(".record-hint")).to_contain_text("Good start")
    page.get_by_role("button", name="Stop recording").click()
    take = page.get_by_label("Your recording")
    expect(take).to_be_visible()
    kind = take.evaluate("a => fetch(a.src).then(r => r.blob()).then(b => [b.type, b.size])")
    assert kind[0].startswith("audio/webm") and kind[1] > 1000, kind  # MediaRecorder's WebM/Opus

    page.get_by_label("Voice name").fill("Beeper")
    page.get_by_label("Transcript").fill("Beep beep beep.")
    with page.expect_request(re.compile(r"/api/clone$")) as sent:
        page.get_by_role("button", name="Clone voice").click()
    assert sent.value.headers["content-type"].startswith("multipart/form-data")
    expect(page.get_by_role("heading", name="“Beeper” is ready")).to_be_visible()
    voice = studio.api("GET", "/api/voices?search=Beeper")["voices"][0]
    assert voice["source"] == "uploaded" and voice["duration_seconds"] >= 1
    studio.shot("clone-recorded-desktop")


def test_server_rejections_show_next_to_the_field(studio: Studio, tmp_path: Path) -> None:
    page = studio.page
    studio.sign_up()
    studio.goto("/clone")

    # Checked in the browser before anything is sent.
    page.get_by_role("button", name="Clone voice").click()
    expect(page.get_by_text("Please choose a recording to upload.")).to_be_visible()
    expect(page.get_by_label("Voice name")).to_have_attribute("aria-invalid", "true")

    # Checked by the server: a silent recording is refused, and the message sits by the audio.
    silent = make_wav(tmp_path / "silent.wav", seconds=3.0, silent=True)
    page.locator("input[type=file]").set_input_files(str(silent))
    page.get_by_label("Voice name").fill("Quiet")
    page.get_by_label("Transcript").fill("Nothing at all.")
    page.get_by_role("button", name="Clone voice").click()
    error = page.locator(".audio-field .field-error")
    expect(error).to_have_text("The recording is silent.")
    expect(page.locator("form [role=alert]")).to_be_hidden()
    studio.shot("clone-error-desktop")
    assert studio.api("GET", "/api/voices")["pagination"]["total"] == 0

    # Generate: the 10,000-character counter and a disabled button past it.
    studio.goto("/generate")
    expect(page.get_by_role("heading", name="You have no voices yet")).to_be_visible()
    studio.clone_via_api(make_wav(tmp_path / "ok.wav", seconds=3.0), "Counter")
    studio.goto("/generate")
    text = page.get_by_label("Text", exact=True)
    text.fill("x" * 10_001)
    expect(page.locator(".counter")).to_contain_text(
        "10,001 / 10,000 characters — 1 over the limit"
    )
    expect(page.get_by_role("button", name="Generate speech")).to_be_disabled()
    text.fill("x" * 10_000)
    expect(page.locator(".counter")).to_have_text("10,000 / 10,000 characters")
    expect(page.get_by_role("button", name="Generate speech")).to_be_enabled()


def test_design_a_voice_preview_and_save(studio: Studio) -> None:
    page = studio.page
    studio.sign_up()
    studio.goto("/design")
    description = page.get_by_label("Voice description")
    description.fill("A calm, low-pitched narrator speaking slowly and warmly.")
    expect(page.locator(".counter").first).to_have_text("56 / 500 characters")
    page.get_by_label("Preview text").fill(
        "Hello! This is how I sound when I read your stories aloud."
    )
    page.get_by_label("Language").select_option("English")
    page.get_by_role("button", name="Preview voice").click()
    expect(page.get_by_role("heading", name="Making a preview…")).to_be_visible()
    expect(page.locator("#dock")).to_contain_text("Voice design preview")
    expect(page.get_by_role("heading", name="Your preview")).to_be_visible(timeout=120_000)

    preview = page.get_by_label("Voice design preview", exact=True)
    preview.evaluate("a => { a.muted = true; return a.play(); }")
    page.wait_for_function("a => a.currentTime > 0.2 || a.error", arg=preview.element_handle())
    assert preview.evaluate("a => a.error") is None

    page.get_by_label("Name this voice").fill("Warm narrator")
    page.get_by_role("button", name="Save as voice").click()
    expect(page.get_by_role("heading", name="“Warm narrator” is saved")).to_be_visible()
    studio.shot("design-saved-desktop")
    voice = studio.api("GET", "/api/voices?source=designed")["voices"][0]
    assert voice["name"] == "Warm narrator"
    assert voice["description"] == "A calm, low-pitched narrator speaking slowly and warmly."
    assert (
        voice["reference_transcript"]
        == "Hello! This is how I sound when I read your stories aloud."
    )

    page.get_by_role("link", name="Generate with this voice").click()
    expect(page.get_by_label("Voice", exact=True)).to_have_value(voice["id"])


def test_voices_search_filter_preview_and_delete(studio: Studio, reference_wav: Path) -> None:
    page = studio.page
    studio.sign_up()
    for name, transcript in [
        ("Harbour pilot", "Steady as she goes."),
        ("Night owl", "Who is there?"),
        ("Morning lark", "Good morning, harbour!"),
    ]:
        studio.clone_via_api(reference_wav, name, transcript)
    studio.goto("/voices")
    cards = page.locator("li[data-voice-id]")
    expect(cards).to_have_count(3)

    # Search is debounced: one request after typing stops, matching names and transcripts.
    with page.expect_request(re.compile(r"/api/voices\?.*search=harbour")):
        page.get_by_label("Search voices").press_sequentially("harbour", delay=30)
    expect(cards).to_have_count(2)
    expect(page).to_have_url(re.compile(r"/voices\?search=harbour"))
    page.get_by_label("Source").select_option("designed")
    expect(page.get_by_text("No voices match “harbour”.")).to_be_visible()
    page.get_by_role("button", name="Clear search and filter").click()
    expect(cards).to_have_count(3)

    # Preview plays the reference through the cookie-authorised redirect.
    owl = cards.filter(has_text="Night owl")
    owl.get_by_role("button", name="Play reference of Night owl").click()
    audio = owl.locator("audio")
    page.wait_for_function("a => a.currentTime > 0.2 || a.error", arg=audio.element_handle())
    assert audio.evaluate("a => a.error") is None

    # Delete asks first; cancelling keeps it.
    owl.get_by_role("button", name="Delete voice Night owl").click()
    dialog = page.get_by_role("dialog", name="Delete “Night owl”?")
    expect(dialog).to_be_visible()
    studio.shot("voices-delete-dialog-desktop")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(cards).to_have_count(3)
    owl.get_by_role("button", name="Delete voice Night owl").click()
    dialog.get_by_role("button", name="Delete voice").click()
    expect(cards).to_have_count(2)
    expect(cards.filter(has_text="Night owl")).to_have_count(0)
    names = {v["name"] for v in studio.api("GET", "/api/voices")["voices"]}
    assert names == {"Harbour pilot", "Morning lark"}


def test_voices_pages(studio: Studio, reference_wav: Path) -> None:
    page = studio.page
    studio.sign_up()
    for n in range(13):  # the page holds 12
        studio.clone_via_api(reference_wav, f"Voice {n:02d}")
    studio.goto("/voices")
    cards = page.locator("li[data-voice-id]")
    pager = page.get_by_role("navigation", name="Voice pages")
    expect(cards).to_have_count(12)
    expect(pager).to_contain_text("Page 1 of 2 · 13 in all")
    expect(pager.get_by_role("button", name="← Previous")).to_be_disabled()
    pager.get_by_role("button", name="Next →").click()
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Voice 00")  # newest first, so the oldest is last
    expect(page).to_have_url(re.compile(r"/voices\?page=2$"))
    page.reload()  # the page number lives in the URL
    expect(cards).to_have_count(1)
    expect(pager).to_contain_text("Page 2 of 2")
