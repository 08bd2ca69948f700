"""Generate plays while it renders: the live stream is heard before the task completes (and,
after a reload, at the press of a button), keeps playing through completion, and hands over to
the stored file (waveform, seeking, downloads in four formats) at the listener's pause, at the
same place. History offers the same downloads.

The server's embedded worker runs the `tone` engine behind a gate: every job renders its first
sentence, then waits until the gate file exists. So "heard before completion" is a fact the
test arranges, not a race it wins.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import DESKTOP, PHONE, Server, Studio, running_server, studio_on
from tests.web.test_screens import check_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Thirty sentences, about three seconds of tone each: the stream is still playing well after
# the render has finished, however slow the machine.
TEXT = " ".join(f"Sentence number {n} of a text long enough to hear it grow." for n in range(30))


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gate") / "release"


@pytest.fixture(scope="module")
def gated_server(tmp_path_factory: pytest.TempPathFactory, gate: Path) -> Iterator[Server]:
    options = {"gate_after": 1, "gate_file": str(gate)}
    env = {"VOCALIS_ENGINE": "tone", "VOCALIS_WORKER_ENGINE_OPTIONS": json.dumps(options)}
    with running_server(tmp_path_factory.mktemp("vocalis-tone"), env) as running:
        yield running


@pytest.fixture
def listener(browser: Any, gated_server: Server, screenshots: Path) -> Iterator[Studio]:
    with studio_on(browser, gated_server, screenshots) as opened:
        yield opened


def media_state(audio: Any) -> dict[str, Any]:
    return dict(
        audio.evaluate(
            "a => ({time: a.currentTime, paused: a.paused, ended: a.ended, duration: a.duration,"
            " src: a.currentSrc, ready: a.readyState, error: a.error && a.error.code})"
        )
    )


def download(page: Any, menu: Any, name: str) -> tuple[str, bytes]:
    """Open a download menu, pick a format; the suggested file name and the bytes."""
    menu.locator("summary").click()
    with page.expect_download() as info:
        menu.get_by_role("link", name=re.compile(f"as {name}$")).click()
    saved = info.value
    return saved.suggested_filename, Path(saved.path()).read_bytes()


def test_generate_plays_while_it_renders_then_hands_over_to_the_stored_file(
    listener: Studio, gate: Path, reference_wav: Path
) -> None:
    page = listener.page
    listener.sign_up()
    listener.clone_via_api(reference_wav, "Tone voice")
    listener.goto("/generate")
    page.get_by_label("Text", exact=True).fill(TEXT)
    page.get_by_role("button", name="Generate speech").click()
    expect(page.get_by_role("heading", name="Generating…")).to_be_visible()
    tasks = listener.api("GET", "/api/tasks?status=active")["tasks"]
    assert len(tasks) == 1, tasks
    task_id, generation_id = tasks[0]["id"], tasks[0]["generation_id"]

    # Heard before completion: the live player's clock moves while the render waits at the gate.
    player = page.locator(".result .player")
    expect(player).to_have_attribute("data-source", "stream")
    live = player.locator("audio")
    page.wait_for_function(
        "a => a.currentTime > 0.5 || a.error", arg=live.element_handle(), timeout=60_000
    )
    heard = media_state(live)
    assert heard["error"] is None and heard["time"] > 0.5, heard
    during = listener.api("GET", f"/api/tasks/{task_id}")
    assert during["status"] == "processing", during
    assert during["segments_ready"] == 1, during
    # How much is rendered beyond what plays, and honest progress, while it waits.
    expect(player.locator(".live-line")).to_contain_text(re.compile(r"0:0\d rendered"))
    expect(page.locator(".result .progress-meta")).to_contain_text("of audio ready")
    assert not page.locator(".result canvas.waveform").is_visible()
    listener.shot("generate-listening-desktop")
    check_page(page, "the live player")
    page.set_viewport_size(PHONE)
    listener.shot("generate-listening-phone")
    check_page(page, "the live player at phone width")
    page.set_viewport_size(DESKTOP)

    # A reload is no gesture a browser lets play sound on: the page offers the stream instead.
    page.reload()
    expect(page.get_by_role("heading", name="Generating…")).to_be_visible()
    listen = page.get_by_role("button", name=re.compile("Listen while it renders"))
    expect(listen).to_be_enabled()
    expect(player).to_have_count(0)
    listen.click()
    page.wait_for_function(
        "a => a.currentTime > 0.5 || a.error", arg=live.element_handle(), timeout=60_000
    )
    heard = media_state(live)
    assert heard["error"] is None, heard
    assert listener.api("GET", f"/api/tasks/{task_id}")["status"] == "processing"

    # Released: the task completes while the stream plays on: no restart at completion.
    gate.touch()
    expect(page.get_by_role("heading", name="Your audio is ready")).to_be_visible(timeout=60_000)
    expect(page.locator(".result canvas.waveform")).to_be_visible()
    assert listener.api("GET", f"/api/tasks/{task_id}")["status"] == "completed"
    expect(player).to_have_attribute("data-source", "stream")
    still = media_state(live)
    assert not still["paused"] and still["time"] >= heard["time"], (heard, still)

    # The listener pauses: the stored file takes over at the same place. (Where the stream
    # paused is read in the capture phase, before the player hands over and lets it go.)
    page.evaluate(
        "() => document.addEventListener('pause',"
        " e => { window.pausedAt = e.target.currentTime; }, {capture: true, once: true})"
    )
    player.get_by_role("button", name="Pause speech in Tone voice").click()
    expect(player).to_have_attribute("data-source", "stored")
    paused_at = page.evaluate("window.pausedAt")
    assert paused_at > heard["time"], (heard, paused_at)
    stored = player.locator("audio")
    page.wait_for_function("a => a.readyState >= 1", arg=stored.element_handle())
    state = media_state(stored)
    assert state["src"].endswith(f"/api/generations/{generation_id}/audio"), state
    assert state["paused"] and state["error"] is None, state
    # The MP3 stream runs a few hundredths of a second behind the WAV file (its encoder delay).
    assert state["time"] == pytest.approx(paused_at, abs=0.15), (paused_at, state)
    assert state["duration"] > 60, state  # the whole file: seekable end to end

    # Play on from there, not from the start; then seek on the waveform.
    stored.evaluate("a => a.play()")
    page.wait_for_function(
        "([a, t]) => a.currentTime > t + 0.3", arg=[stored.element_handle(), paused_at]
    )
    canvas = page.locator(".result canvas.waveform")
    box = canvas.bounding_box()
    assert box is not None
    canvas.click(position={"x": box["width"] * 0.75, "y": box["height"] / 2})
    page.wait_for_function(
        "([a, d]) => a.currentTime > d * 0.7", arg=[stored.element_handle(), state["duration"]]
    )
    stored.evaluate("a => a.pause()")
    listener.shot("generate-listened-desktop")

    # Downloads in each format, named after the voice and the day.
    menu = page.locator(".result .download-menu")
    expect(menu.locator("a[data-format]")).to_have_count(4)
    menu.locator("summary").click()
    listener.shot("generate-downloads-desktop")
    check_page(page, "the download menu")
    page.keyboard.press("Escape")
    expect(menu.locator("a[data-format]").first).to_be_hidden()
    name, data = download(page, menu, "WAV")
    assert re.fullmatch(r"Tone-voice-\d{4}-\d{2}-\d{2}\.wav", name) and data[:4] == b"RIFF", name
    name, data = download(page, menu, "MP3")
    assert re.fullmatch(r"Tone-voice-\d{4}-\d{2}-\d{2}\.mp3", name), name
    assert data[:3] == b"ID3" or (data[0] == 0xFF and data[1] & 0xE0 == 0xE0), data[:4]

    # History offers the same four.
    page.get_by_role("link", name="History", exact=True).click()
    item = page.locator("li[data-generation-id]").first
    expect(item).to_contain_text("Completed")
    menu = item.locator(".download-menu")
    name, data = download(page, menu, "Opus")
    assert name.endswith(".opus") and data[:4] == b"OggS", name
    name, data = download(page, menu, "FLAC")
    assert name.endswith(".flac") and data[:4] == b"fLaC", name
