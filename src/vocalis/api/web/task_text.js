// How a task reads: its title, summary, status line, elapsed time and where its result is
// shown. Pure functions of the Task JSON (and the time), shared by the dock and the pages.

import { percent } from "./format.js";

export const TERMINAL = new Set(["completed", "failed", "cancelled"]);

export function isTerminal(task) {
  return TERMINAL.has(task?.status);
}

export function taskTitle(task) {
  const meta = task.metadata || {};
  if (task.type === "design_preview") return "Voice design preview";
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

/** Where the result of a task is shown. */
export function resultHref(task) {
  const id = encodeURIComponent(task.id);
  return task.type === "design_preview" ? `/design?task=${id}` : `/generate?task=${id}`;
}
