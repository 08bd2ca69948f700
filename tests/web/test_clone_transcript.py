"""The Clone page fills the transcript from the recording with what the real Whisper (in the
serve's own worker) heard, never over words the user typed, and shows the new voice's reference
checks beside the result and on its card, without blocking anything."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import Studio
from tests.worker.speech import GERMAN, speech_wav

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TRANSCRIBED = 180_000  # ms; the first transcription assembles Whisper from its wheels


def test_the_transcript_is_filled_from_the_upload_then_the_checks_show(
    studio: Studio, tmp_path: Path
) -> None:
    page = studio.page
    speech = speech_wav(tmp_path / "fox.wav")  # espeak reads "The quick brown fox jumps …"
    other = speech_wav(tmp_path / "german.wav", GERMAN, "German")
    studio.sign_up()
    assert studio.server.get_json("/api/languages")["transcription"]["enabled"] is True
    studio.goto("/clone")
    transcript = page.get_by_label("Transcript")
    expect(transcript).to_have_accessible_description(re.compile("Filled in from the recording"))

    # The upload is held until "Transcribing" has been seen (a gate, not a race with Whisper).
    held: list[Any] = []
    upload = re.compile(r"/api/transcriptions$")

    def hold(route: Any) -> None:
        held.append(route)

    page.route(upload, hold)
    with page.expect_request(upload) as request:
        page.locator("input[type=file]").set_input_files(str(speech))
    assert request.value.method == "POST"
    expect(page.get_by_text("Transcribing the recording…")).to_be_visible()
    expect(transcript).to_have_value("")
    while not held:  # the route's event follows the request's
        page.wait_for_timeout(20)
    held[0].continue_()
    page.unroute(upload)

    expect(transcript).to_have_value(re.compile(r"quick brown fox", re.I), timeout=TRANSCRIBED)
    expect(page.get_by_text("Filled in from the recording. Check it")).to_be_visible()
    studio.shot("clone-transcribed-desktop")

    # An edit is the user's: another recording is not transcribed over it.
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/api/transcriptions" in r.url else None)
    transcript.fill("The quick brown fox jumps over the lazy dog, twice.")
    page.locator("input[type=file]").set_input_files(str(other))
    expect(page.locator(".chosen-name")).to_contain_text("german.wav")
    assert sent == []
    page.locator("input[type=file]").set_input_files(str(speech))
    expect(page.locator(".chosen-name")).to_contain_text("fox.wav")
    expect(transcript).to_have_value("The quick brown fox jumps over the lazy dog, twice.")

    page.get_by_label("Voice name").fill("Fox")
    page.get_by_label("Language").select_option("English")
    page.get_by_role("button", name="Clone voice").click()
    expect(page.get_by_role("heading", name="“Fox” is ready")).to_be_visible()
    # The checks never block: the way on is open while they run.
    expect(page.get_by_role("link", name="Generate with this voice")).to_be_visible()
    advice = page.get_by_role("list", name="Advice about the recording")
    expect(advice).to_contain_text("little speech", timeout=TRANSCRIBED)  # a 3 s sentence
    studio.shot("clone-advice-desktop")
    assert sent == [], "the clone sent no transcription request of its own"

    [voice] = studio.api("GET", "/api/voices")["voices"]
    codes = [w["code"] for w in voice["warnings"]]
    assert "too_little_speech" in codes and "transcript_mismatch" not in codes, codes
    expect(advice.locator("li")).to_have_count(len(codes))

    # The voice's card carries the same advice.
    studio.goto("/voices")
    card = page.locator("li[data-voice-id]", has_text="Fox")
    expect(card.get_by_role("list", name="Advice about the reference of Fox")).to_contain_text(
        "little speech"
    )
