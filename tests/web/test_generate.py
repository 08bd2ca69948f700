"""Clone → generate → listen → history → regenerate, and the task poller under stress: cancel
from the dock, a reload mid-generation, two tabs on one task."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import Studio
from tests.web.texts import LONG, MEDIUM

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DONE_TIMEOUT = 180_000  # ms; the local engine shares two CPU cores with everything else


def start_generation(page: Any, text: str) -> None:
    page.get_by_label("Text", exact=True).fill(text)
    page.get_by_role("button", name="Generate speech").click()
    expect(page.get_by_role("heading", name="Generating…")).to_be_visible()


def wait_until_playing(audio: Any) -> dict[str, Any]:
    """Play an <audio> element and wait until its clock moves; return its state."""
    audio.evaluate("a => { a.muted = true; return a.play(); }")
    audio.page.wait_for_function(
        "a => a.currentTime > 0.3 || a.error", arg=audio.element_handle(), timeout=30_000
    )
    state = audio.evaluate(
        "a => ({time: a.currentTime, duration: a.duration, error: a.error && a.error.code})"
    )
    assert state["error"] is None, state
    assert state["time"] > 0.3, state
    return dict(state)


def hand_over_to_the_file(page: Any) -> None:
    """Pause the live stream if it still plays, so the stored file takes over the result panel
    (in the page, in one step: the stream may end, and hand over by itself, at any moment)."""
    page.evaluate(
        "() => { const b = document.querySelector('.result .live-toggle');"
        " if (b && b.dataset.action === 'Pause') b.click(); }"
    )
    expect(page.locator(".result .player")).to_have_attribute("data-source", "stored")


def task_polls(page: Any, task_id: str) -> list[float]:
    return [t for url, t in page.polls if url.endswith(f"/api/tasks/{task_id}")]


def record_polls(page: Any) -> None:
    page.polls = []
    page.on(
        "request",
        lambda r: page.polls.append((r.url, time.monotonic())) if r.method == "GET" else None,
    )


def active_task_id(studio: Studio) -> str:
    tasks = studio.api("GET", "/api/tasks?status=active&type=generate")["tasks"]
    assert len(tasks) == 1, tasks
    return str(tasks[0]["id"])


def test_clone_generate_listen_history_regenerate(studio: Studio, reference_wav: Path) -> None:
    page = studio.page
    studio.sign_up()

    # Clone by uploading a file.
    studio.goto("/clone")
    expect(page.get_by_role("complementary", name="About the voice engine")).to_contain_text(
        "not the speaker's identity"
    )
    page.get_by_label("Voice name").fill("Lighthouse keeper")
    page.get_by_label("Language").select_option("English")
    page.get_by_label("Transcript").fill("Hello there, this is my voice.")
    page.locator("input[type=file]").set_input_files(str(reference_wav))
    expect(page.locator(".chosen")).to_contain_text("reference.wav")
    page.get_by_role("button", name="Clone voice").click()
    expect(page.get_by_role("heading", name="“Lighthouse keeper” is ready")).to_be_visible()
    voice = studio.api("GET", "/api/voices")["voices"][0]
    assert voice["name"] == "Lighthouse keeper" and voice["source"] == "uploaded"

    # Straight on to Generate with that voice.
    page.get_by_role("link", name="Generate with this voice").click()
    page.wait_for_url("**/generate")
    expect(page.get_by_label("Voice", exact=True)).to_have_value(voice["id"])
    page.get_by_label("Language").select_option("English")
    record_polls(page)
    start_generation(page, MEDIUM)
    expect(page.locator(".result .progress-meta")).to_contain_text(re.compile(r"Elapsed 0:0\d"))
    expect(page.locator("#nav-running")).to_have_text("1")
    expect(page.locator("#dock")).to_contain_text("Speech · Lighthouse keeper")

    # The progress bar follows the task's progress, segment by segment, and the line under it
    # says how much audio is ready.
    seen: list[float] = []
    lines: set[str] = set()
    deadline = time.monotonic() + DONE_TIMEOUT / 1000
    while time.monotonic() < deadline:
        value, line = page.evaluate(
            "() => { const p = document.querySelector('.result progress');"
            " const m = document.querySelector('.result .progress-meta');"
            " return [p && p.hasAttribute('value') && !p.hidden ? p.value : null,"
            " m ? m.textContent : '']; }"
        )
        lines.add(line)
        if value is not None and (not seen or value != seen[-1]):
            seen.append(value)
        if page.get_by_role("heading", name="Your audio is ready").is_visible():
            break
        time.sleep(0.2)
    assert any(0 < v < 1 for v in seen), f"no intermediate progress seen: {seen}"
    assert seen == sorted(seen), f"progress went backwards: {seen}"
    assert any("of audio ready" in line for line in lines), lines
    studio.shot("generate-done-desktop")

    # Polling: the task was polled while it ran, and not once it is done. (The cadence — one
    # poll a second, backing off on errors — is unit-tested on a fake clock: tests/web/js.)
    task_id = studio.api("GET", "/api/tasks?status=terminal&type=generate")["tasks"][0]["id"]
    polls = task_polls(page, task_id)
    assert len(polls) >= 2, polls
    time.sleep(2.5)
    assert len(task_polls(page, task_id)) == len(polls), "kept polling a finished task"
    expect(page.locator("#nav-running")).to_be_hidden()

    # It played from the live stream; once handed over, the player streams the stored file
    # through the cookie-authorised URL, and it plays.
    assert any("/stream?format=mp3" in url for url, _ in page.polls), "no live stream"
    hand_over_to_the_file(page)
    audio = page.locator(".result audio")
    wait_until_playing(audio)
    media = [url for url, _ in page.polls if "/api/storage/generations/" in url]
    assert media, "the player did not follow the redirect to a signed storage URL"
    expect(page.locator(".result canvas.waveform")).to_be_visible()
    page.locator(".result .download-menu summary").click()
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile("as WAV$")).click()
    saved = info.value.path()
    assert Path(saved).read_bytes()[:4] == b"RIFF"

    # History lists it, plays it, and Regenerate pre-fills Generate.
    page.get_by_role("link", name="History", exact=True).click()
    item = page.locator("li[data-generation-id]").first
    expect(item).to_contain_text("The lighthouse keeper climbed")
    expect(item).to_contain_text("Completed")
    item.get_by_role("button", name=re.compile("^Play")).click()
    wait_until_playing(item.locator("audio"))
    item.get_by_role("button", name=re.compile("^Regenerate")).click()
    page.wait_for_url("**/generate")
    expect(page.get_by_label("Text", exact=True)).to_have_value(MEDIUM)
    expect(page.get_by_label("Voice", exact=True)).to_have_value(voice["id"])
    expect(page.get_by_label("Language")).to_have_value("English")


def test_cancel_a_running_task_from_the_dock(studio: Studio, reference_wav: Path) -> None:
    page = studio.page
    studio.sign_up()
    studio.clone_via_api(reference_wav, "Cancel me")
    studio.goto("/generate")
    start_generation(page, LONG)
    task_id = active_task_id(studio)

    # Leave the page: the dock keeps following the task everywhere.
    page.get_by_role("link", name="Voices", exact=True).click()
    dock = page.locator("#dock")
    expect(dock).to_contain_text("1 task running")
    studio.shot("dock-running-desktop")
    dock.get_by_role("button", name=re.compile("^Cancel Speech")).click()
    expect(dock).to_contain_text("Cancelled")
    expect(page.locator("#nav-running")).to_be_hidden()

    task = studio.api("GET", f"/api/tasks/{task_id}")
    assert task["status"] == "cancelled"
    generation = studio.api("GET", "/api/generations")["generations"][0]
    assert generation["status"] == "cancelled" and generation["audio_path"] is None

    # The Generate page says so plainly, and the text is still there.
    page.get_by_role("link", name="Generate", exact=True).click()
    expect(page.get_by_role("heading", name="Generation cancelled")).to_be_visible()
    expect(page.get_by_label("Text", exact=True)).to_have_value(LONG)


def test_reload_mid_generation_resumes_polling_from_the_server(
    studio: Studio, reference_wav: Path
) -> None:
    page = studio.page
    studio.sign_up()
    studio.clone_via_api(reference_wav, "Reloaded")
    studio.goto("/generate")
    start_generation(page, MEDIUM)
    task_id = active_task_id(studio)
    page.wait_for_function(
        "id => document.querySelector('#dock')?.textContent.includes('Generating')", arg=task_id
    )
    before = studio.api("GET", f"/api/tasks/{task_id}")
    assert before["status"] == "processing"

    # Forget everything local about the task (the form draft keeps its id): after the reload
    # only the server's task list can bring it back.
    page.evaluate(
        "() => Object.keys(localStorage).filter(k => k.startsWith('vocalis.draft.'))"
        ".forEach(k => localStorage.removeItem(k))"
    )
    record_polls(page)
    page.reload()
    expect(page.locator("#dock")).to_contain_text("1 task running")
    expect(page.locator("#dock")).to_contain_text("Done", timeout=DONE_TIMEOUT)
    assert len(task_polls(page, task_id)) >= 2, "the reloaded page did not poll the task"
    after = studio.api("GET", f"/api/tasks/{task_id}")
    assert after["status"] == "completed"
    assert after["modal_poll_count"] > before["modal_poll_count"]

    # Open the result from the dock.
    page.locator("#dock").get_by_role("link", name=re.compile("^Open result")).click()
    expect(page.get_by_role("heading", name="Your audio is ready")).to_be_visible()
    expect(page.locator(".result .player")).not_to_have_attribute("data-source", "stream")
    wait_until_playing(page.locator(".result audio"))


def test_reload_keeps_the_form_and_the_task(studio: Studio, reference_wav: Path) -> None:
    page = studio.page
    studio.sign_up()
    voice_id = studio.clone_via_api(reference_wav, "Draft voice")
    studio.goto("/generate")
    page.get_by_label("Language").select_option("French")
    start_generation(page, "Bonjour. " + MEDIUM)
    page.reload()
    expect(page.get_by_label("Text", exact=True)).to_have_value("Bonjour. " + MEDIUM)
    expect(page.get_by_label("Voice", exact=True)).to_have_value(voice_id)
    expect(page.get_by_label("Language")).to_have_value("French")
    expect(
        page.get_by_role("heading", name=re.compile("Generating…|Your audio is ready"))
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Your audio is ready")).to_be_visible(
        timeout=DONE_TIMEOUT
    )


def test_two_tabs_polling_one_task_finalize_it_once(studio: Studio, reference_wav: Path) -> None:
    first = studio.page
    studio.sign_up()
    voice_id = studio.clone_via_api(reference_wav, "Two tabs")
    # Started outside the page, so nothing listens to its stream: a listener advances the task
    # too, and only the tabs' polls are counted here.
    studio.goto("/tasks")
    record_polls(first)
    studio.api(
        "POST", "/api/generate", data={"voice_id": voice_id, "text": MEDIUM, "language": "English"}
    )
    task_id = active_task_id(studio)
    first.reload()

    second = studio.open_tab()
    record_polls(second)
    second.goto(studio.url("/tasks"))
    row = second.locator(f"li[data-task-id='{task_id}']")
    expect(row).to_be_visible()
    for tab in (first, second):
        expect(tab.locator("#dock")).to_contain_text("Done", timeout=DONE_TIMEOUT)
    expect(row).to_have_attribute("data-status", "completed")

    task = studio.api("GET", f"/api/tasks/{task_id}")
    assert task["status"] == "completed"
    polls_first, polls_second = task_polls(first, task_id), task_polls(second, task_id)
    assert polls_first and polls_second, "both tabs should have polled"
    # Each poll of a running task counts once; polls of a finished task do not count.
    # (The cadence, once a second per tab, is unit-tested on a fake clock: tests/web/js.)
    assert 2 <= task["modal_poll_count"] <= len(polls_first) + len(polls_second)

    # Exactly one stored audio object, and the generation points at it.
    files = [p for p in studio.server.generation_files(studio.user_id) if p.suffix == ".wav"]
    generation = studio.api("GET", "/api/generations")["generations"][0]
    assert [p.name for p in files] == [f"{generation['id']}.wav"]
    assert generation["status"] == "completed" and generation["audio_path"]
    studio.shot("tasks-two-tabs-desktop", page=second)


def test_several_tasks_at_once_and_history_keeps_up(studio: Studio, reference_wav: Path) -> None:
    page = studio.page
    studio.sign_up()
    studio.clone_via_api(reference_wav, "Busy")
    studio.goto("/generate")
    record_polls(page)
    start_generation(page, "First. " + MEDIUM[:500])
    start_generation(page, "Second. " + MEDIUM[:600])
    expect(page.locator("#dock")).to_contain_text("2 tasks running")
    expect(page.locator("#nav-running")).to_have_text("2")

    # History shows both running, then both finished, refreshing itself (no reload).
    page.get_by_role("link", name="History", exact=True).click()
    page.evaluate("window.__sameDocument = true")
    rows = page.locator("li[data-generation-id]")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Processing")).not_to_have_count(0)
    expect(rows.filter(has_text="Completed")).to_have_count(2, timeout=DONE_TIMEOUT)
    assert page.evaluate("window.__sameDocument") is True
    expect(rows.first.get_by_role("button", name=re.compile("^Play"))).to_be_visible()

    # Each task was polled on its own (the cadence is unit-tested: tests/web/js/tasks.test.js).
    for task in studio.api("GET", "/api/tasks?status=terminal&type=generate")["tasks"]:
        assert len(task_polls(page, task["id"])) >= 2


def test_the_synthesiser_choice_is_named_and_sent(studio: Studio, reference_wav: Path) -> None:
    page = studio.page
    studio.sign_up()
    studio.clone_via_api(reference_wav, "Harbour pilot")
    studio.goto("/generate")
    choice = page.get_by_label("Synthesiser")
    expect(choice).to_be_visible()  # the embedded worker offers espeak and kokoro
    expect(choice).to_have_value("auto")
    labels = choice.locator("option").all_text_contents()
    assert labels[0] == "Automatic: the server's default for the language"
    assert any(text.startswith("Natural: Kokoro") and "Japanese" in text for text in labels)
    assert any(text.startswith("Robotic: espeak") and "every language" in text for text in labels)
    expect(page.locator("#base-hint")).to_contain_text("Japanese speakers")

    choice.select_option("espeak")
    page.get_by_label("Language").select_option("English")
    start_generation(page, "The synthesiser is espeak.")
    [task] = studio.api("GET", "/api/tasks?status=all&type=generate")["tasks"]
    assert task["metadata"]["base"] == "espeak"
    expect(page.get_by_role("heading", name="Your audio is ready")).to_be_visible(
        timeout=DONE_TIMEOUT
    )
