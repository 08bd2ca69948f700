// How a task reads (task_text.js): titles, summaries, status lines, elapsed and remaining time,
// result links.

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  barProgress, elapsedSeconds, isTerminal, progressMeta, remainingSeconds, resultHref, statusText, taskSummary, taskTitle,
} from "../../../src/vocalis/api/web/task_text.js";

test("terminal states are completed, failed and cancelled", () => {
  assert.deepEqual(["pending", "processing", "completed", "failed", "cancelled"].map((status) => isTerminal({ status })),
    [false, false, true, true, true]);
  assert.equal(isTerminal(null), false);
});

test("a progress bar never moves back on a lagging answer, and is full when done", () => {
  // A poll past the per-task rate answers with the stored progress, written in steps: it can
  // be behind the live answer the page saw just before (seen in CI during a style fit).
  const answers = [0.06, 0.09, 0.06, 0.12];
  let shown = null;
  const bar = answers.map((progress) => (shown = barProgress({ status: "processing", progress }, shown)));
  assert.deepEqual(bar, [0.06, 0.09, 0.09, 0.12]);
  assert.equal(barProgress({ status: "processing" }, null), null); // unknown: indeterminate
  assert.equal(barProgress({ status: "processing" }, 0.3), 0.3);
  assert.equal(barProgress({ status: "processing", progress: 1.7 }, null), 1);
  assert.equal(barProgress({ status: "completed", progress: 0.4 }, 0.5), 1);
});

test("a title names the voice, or says it is a design preview", () => {
  assert.equal(taskTitle({ type: "generate", metadata: { voice_name: "Pilot" } }), "Speech · Pilot");
  assert.equal(taskTitle({ type: "generate" }), "Speech");
  assert.equal(taskTitle({ type: "design_preview", metadata: { voice_name: "x" } }), "Voice design preview");
});

test("a transcription reads as one: a clone form's, or a saved voice's recording check", () => {
  assert.equal(taskTitle({ type: "transcribe", metadata: { language: "English" } }), "Transcription");
  assert.equal(taskTitle({ type: "transcribe", metadata: { voice_name: "Fox" } }), "Recording check · Fox");
  assert.equal(statusText({ type: "transcribe", status: "processing", progress: 0.5 }), "Transcribing");
  assert.equal(statusText({ type: "generate", status: "processing", progress: 0.5 }), "Generating · 50%");
});

test("a summary is the text preview, with an ellipsis only when the text was longer", () => {
  assert.equal(taskSummary({ metadata: { text_preview: "Hello", characters: 5 } }), "Hello");
  assert.equal(taskSummary({ metadata: { text_preview: "Hello", characters: 900 } }), "Hello…");
  assert.equal(taskSummary({ metadata: { instruct: "A calm voice" } }), "A calm voice");
  assert.equal(taskSummary({}), "");
});

test("the status line says what a person needs to know", () => {
  assert.equal(statusText({ status: "pending" }), "Queued");
  assert.equal(statusText({ status: "processing", modal_status: "queued" }), "Waiting for a free worker");
  assert.equal(statusText({ status: "processing", modal_status: "status_error" }), "Checking on the worker (temporary error)");
  assert.equal(statusText({ status: "processing", progress: 0.42 }), "Generating · 42%");
  assert.equal(statusText({ status: "processing" }), "Generating");
  assert.equal(statusText({ status: "completed" }), "Done");
  assert.equal(statusText({ status: "failed", error: "out of memory" }), "Failed: out of memory");
  assert.equal(statusText({ status: "failed" }), "Failed: unknown error");
  assert.equal(statusText({ status: "cancelled" }), "Cancelled");
});

test("a poll error shows while the task runs, not once it has finished", () => {
  assert.equal(statusText({ status: "processing", _poll_error: "offline" }), "Connection problem, retrying… (offline)");
  assert.equal(statusText({ status: "completed", _poll_error: "offline" }), "Done");
});

test("elapsed time runs until now, or until the task completed", () => {
  const created_at = "2026-03-10T12:00:00Z";
  const now = Date.parse(created_at) + 75_000;
  assert.equal(elapsedSeconds({ created_at }, now), 75);
  assert.equal(elapsedSeconds({ created_at, completed_at: "2026-03-10T12:00:30Z" }, now), 30);
});

test("when our clock disagrees with the server's, elapsed time is what the worker reports", () => {
  const created_at = "2026-03-10T12:00:00Z";
  const behind = Date.parse(created_at) - 60_000;
  assert.equal(elapsedSeconds({ created_at, modal_elapsed_seconds: 12.5 }, behind), 12.5);
  assert.equal(elapsedSeconds({ created_at }, behind), null);
  assert.equal(elapsedSeconds({ created_at: "garbage" }, Date.now()), null);
});

test("a result is shown on the page that started the task", () => {
  assert.equal(resultHref({ id: "a/b", type: "generate" }), "/generate?task=a%2Fb");
  assert.equal(resultHref({ id: "t1", type: "design_preview" }), "/design?task=t1");
  // A voice's check is seen on its card; the clone form's transcription has no page to open.
  assert.equal(resultHref({ id: "t2", type: "transcribe", metadata: { voice_name: "Fox & Co" } }), "/voices?search=Fox%20%26%20Co");
  assert.equal(resultHref({ id: "t3", type: "transcribe", metadata: {} }), null);
});

test("the time left is the server's, counted down since its answer, never below zero", () => {
  const task = { status: "processing", remaining_seconds: 20 };
  assert.equal(remainingSeconds(task), 20);
  assert.equal(remainingSeconds(task, 4.5), 15.5);
  assert.equal(remainingSeconds(task, 30), 0);
  assert.equal(remainingSeconds(task, -3), 20); // a clock that went backwards adds nothing
});

test("no time left is shown when the server does not know it, or the task has finished", () => {
  assert.equal(remainingSeconds({ status: "processing", remaining_seconds: null }), null);
  assert.equal(remainingSeconds({ status: "processing" }), null);
  assert.equal(remainingSeconds({ status: "completed", remaining_seconds: 0 }), null);
  assert.equal(remainingSeconds(null), null);
});

test("the progress line: elapsed, audio ready and time left, ticking on a fake clock", (t) => {
  t.mock.timers.enable({ apis: ["Date"], now: Date.parse("2026-03-10T12:00:05Z") });
  const task = {
    status: "processing", created_at: "2026-03-10T12:00:00Z", audio_seconds_ready: 12.4, remaining_seconds: 47,
  };
  const seen = Date.now();
  const line = () => progressMeta(task, { now: Date.now(), sinceSeen: (Date.now() - seen) / 1000 });
  assert.equal(line(), "Elapsed 0:05 · 0:12 of audio ready · about 45 s left");
  t.mock.timers.tick(10_000);
  assert.equal(line(), "Elapsed 0:15 · 0:12 of audio ready · about 35 s left");
  t.mock.timers.tick(60_000);
  assert.equal(line(), "Elapsed 1:15 · 0:12 of audio ready · almost done");
});

test("before the first segment and without an estimate, the line is the elapsed time alone", () => {
  const now = Date.parse("2026-03-10T12:00:03Z");
  const created_at = "2026-03-10T12:00:00Z";
  assert.equal(progressMeta({ status: "pending", created_at, remaining_seconds: null, audio_seconds_ready: null }, { now }), "Elapsed 0:03");
  assert.equal(progressMeta({ status: "processing", created_at, audio_seconds_ready: 0 }, { now }), "Elapsed 0:03");
  // The estimate from the worker's measured speed, before any audio exists.
  assert.equal(progressMeta({ status: "processing", created_at, remaining_seconds: 8 }, { now }), "Elapsed 0:03 · about 8 s left");
  // Finished: how long it took, nothing about what is left.
  const done = { status: "completed", created_at, completed_at: "2026-03-10T12:00:09Z", audio_seconds_ready: 30, remaining_seconds: 0 };
  assert.equal(progressMeta(done, { now }), "Elapsed 0:09");
});
