// How a task reads: its title, summary, status line, elapsed and remaining time, and where its
// result is shown. Pure functions of the Task JSON (and the time), shared by the dock and the
// pages.

import { clock, percent, timeLeft } from "./format.js";

export const TERMINAL = new Set(["completed", "failed", "cancelled"]);

export function isTerminal(task) {
  return TERMINAL.has(task?.status);
}

/**
 * The share done that a progress bar shows for `task`, never below `shown` (what it showed for
 * the same task before; null if nothing): answers can lag, since a poll past the per-task rate
 * reads the stored progress, which is written in steps. null while the share is unknown.
 */
export function barProgress(task, shown = null) {
  if (task.status === "completed") return 1;
  if (typeof task.progress !== "number") return shown;
  const share = Math.max(0, Math.min(1, task.progress));
  return shown === null ? share : Math.max(shown, share);
}

export function taskTitle(task) {
  const meta = task.metadata || {};
  if (task.type === "design_preview") return "Voice design preview";
  if (task.type === "transcribe") return meta.voice_name ? `Recording check · ${meta.voice_name}` : "Transcription";
  return meta.voice_name ? `Speech · ${meta.voice_name}` : "Speech";
}

export function taskSummary(task) {
  const meta = task.metadata || {};
  if (meta.text_preview) return meta.text_preview + ((meta.characters ?? 0) > meta.text_preview.length ? "…" : "");
  return meta.instruct || meta.text || "";
}

export function statusText(task) {
  if (task._poll_error && !isTerminal(task)) return `Connection problem, retrying… (${task._poll_error})`;
  switch (task.status) {
    case "pending":
      return "Queued";
    case "processing":
      if (task.modal_status === "queued") return "Waiting for a free worker";
      if (task.modal_status === "status_error") return "Checking on the worker (temporary error)";
      if (task.type === "transcribe") return "Transcribing";
      return typeof task.progress === "number" ? `Generating · ${percent(task.progress)}` : "Generating";
    case "completed":
      return "Done";
    case "failed":
      return `Failed: ${task.error || "unknown error"}`;
    case "cancelled":
      return "Cancelled";
    default:
      return task.status || "";
  }
}

/** Seconds since the task was created (until it finished, for finished ones). */
export function elapsedSeconds(task, now = Date.now()) {
  const created = Date.parse(task.created_at);
  const end = task.completed_at ? Date.parse(task.completed_at) : now;
  const seconds = (end - created) / 1000;
  if (Number.isFinite(seconds) && seconds >= 0 && seconds < 86400 * 3) return seconds;
  // Our clock disagrees with the server's: fall back to what the worker reports.
  return task.modal_elapsed_seconds ?? null;
}

/**
 * Seconds until the task should be done: the server's `remaining_seconds` (measured from the
 * job's own rate, or the worker's speed before the job has one), counted down by the
 * `sinceSeen` seconds that passed since that answer arrived. Null when the server does not
 * know: the UI then shows the elapsed time alone, never a guess of its own.
 */
export function remainingSeconds(task, sinceSeen = 0) {
  if (isTerminal(task) || typeof task?.remaining_seconds !== "number") return null;
  return Math.max(0, task.remaining_seconds - Math.max(0, sinceSeen));
}

/** The line under a progress bar: "Elapsed 0:05 · 0:12 of audio ready · about 10 s left". */
export function progressMeta(task, { now = Date.now(), sinceSeen = 0 } = {}) {
  const parts = [`Elapsed ${clock(elapsedSeconds(task, now))}`];
  if (!isTerminal(task) && task.audio_seconds_ready > 0) parts.push(`${clock(task.audio_seconds_ready)} of audio ready`);
  const left = timeLeft(remainingSeconds(task, sinceSeen));
  if (left) parts.push(left);
  return parts.join(" · ");
}

/** Where the result of a task is shown; null when nowhere (a clone form's transcription). */
export function resultHref(task) {
  const id = encodeURIComponent(task.id);
  if (task.type === "transcribe") {
    const name = task.metadata?.voice_name; // a voice's check: its warnings are on its card
    return name ? `/voices?search=${encodeURIComponent(name)}` : null;
  }
  return task.type === "design_preview" ? `/design?task=${id}` : `/generate?task=${id}`;
}
