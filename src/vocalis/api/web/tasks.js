// The task store and poller. Every non-terminal task we know about is polled with one
// GET /api/tasks/{id} at most once a second (each poll is what advances it on the server),
// until it reaches a terminal state. The list is rebuilt from the server's task feed on load,
// on sign-in, when the tab becomes visible and every 30 s, so polling resumes after a reload
// and picks up tasks started elsewhere.

import { api } from "./api.js";
import { isSignedIn, onSessionChange } from "./session.js";
import { percent } from "./format.js";

export const TERMINAL = new Set(["completed", "failed", "cancelled"]);
const POLL_MS = 1000;
const MAX_BACKOFF_MS = 15000;
const RESYNC_MS = 30000;

const tasks = new Map(); // id -> latest Task JSON (plus a few local fields starting with _)
const polls = new Map(); // id -> {timer, failures}
const listeners = new Set();
const channel = "BroadcastChannel" in window ? new BroadcastChannel("vocalis-tasks") : null;

export function isTerminal(task) {
  return TERMINAL.has(task?.status);
}

export function getTask(id) {
  return tasks.get(id) ?? null;
}

function newestFirst(a, b) {
  return String(b.created_at || "").localeCompare(String(a.created_at || ""));
}

export function listTasks() {
  return [...tasks.values()].sort(newestFirst);
}

export function activeTasks() {
  return listTasks().filter((task) => !isTerminal(task));
}

/** fn(task) after every change to a task (task is null when the store is reset). */
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function emit(task) {
  for (const fn of [...listeners]) fn(task);
}

function update(patch) {
  const previous = tasks.get(patch.id);
  // A slower, older answer must never turn a finished task back into a running one.
  if (previous && isTerminal(previous) && patch.status && !isTerminal(patch)) return previous;
  const task = { ...previous, ...patch, _seen: performance.now() };
  if (previous && !isTerminal(previous) && isTerminal(task)) task._finished_here = true;
  tasks.set(task.id, task);
  if (isTerminal(task)) stopPolling(task.id);
  emit(task);
  return task;
}

/**
 * Start following a task: a Task from the API, or the answer of a call that created one
 * ({task_id, status, ...}). Returns the stored task.
 */
export function track(input, { broadcast = true } = {}) {
  const id = input.id ?? input.task_id;
  const known = tasks.has(id);
  const task = update({ status: "pending", ...tasks.get(id), ...input, id });
  if (!isTerminal(task)) startPolling(id);
  if (!known && broadcast) channel?.postMessage({ kind: "track", task });
  return task;
}

function startPolling(id) {
  if (polls.has(id)) return;
  const state = { timer: null, failures: 0 };
  polls.set(id, state);
  const tick = async () => {
    if (polls.get(id) !== state) return;
    const started = performance.now();
    let delay = POLL_MS;
    try {
      const task = update({ ...(await api(`/api/tasks/${encodeURIComponent(id)}`)), _poll_error: null });
      state.failures = 0;
      if (isTerminal(task)) {
        channel?.postMessage({ kind: "update", task });
        return;
      }
    } catch (error) {
      if (polls.get(id) !== state) return;
      if (error.status === 404) return forget(id);
      if (error.status === 401) return stopPolling(id); // signed out: the session handler resets
      state.failures += 1;
      delay = Math.min(MAX_BACKOFF_MS, POLL_MS * 2 ** state.failures);
      update({ id, _poll_error: error.message });
    }
    if (polls.get(id) !== state) return;
    // The next poll starts a second after this one started: at most one poll per second.
    state.timer = setTimeout(tick, Math.max(0, delay - (performance.now() - started)));
  };
  tick();
}

function stopPolling(id) {
  const state = polls.get(id);
  if (state) clearTimeout(state.timer);
  polls.delete(id);
}

function forget(id) {
  stopPolling(id);
  if (tasks.delete(id)) emit({ id, _removed: true });
}

export function isPolling(id) {
  return polls.has(id);
}

/** Cancel a running task; resolves to the task as it is now. */
export async function cancelTask(id) {
  try {
    await api(`/api/tasks/${encodeURIComponent(id)}/cancel`, { method: "POST" });
  } finally {
    // Whether it was cancelled or had already finished, show what the server says now.
    const task = await api(`/api/tasks/${encodeURIComponent(id)}`).catch(() => null);
    if (task) {
      update(task);
      channel?.postMessage({ kind: "update", task });
    }
  }
  return getTask(id);
}

export async function deleteTask(id) {
  await api(`/api/tasks/${encodeURIComponent(id)}`, { method: "DELETE" });
  forget(id);
  channel?.postMessage({ kind: "forget", id });
}

/** Hide a finished task from the dock. */
export function dismiss(id) {
  const task = tasks.get(id);
  if (task) update({ id, _dismissed: true });
}

/** Re-read the running tasks from the server and poll every one of them. */
export async function resync() {
  if (!isSignedIn()) return;
  try {
    const data = await api("/api/tasks", { query: { status: "active", limit: 50 } });
    for (const task of data.tasks) track(task, { broadcast: false });
  } catch {
    // the next resync tries again; polling of known tasks goes on regardless
  }
}

export function reset() {
  for (const id of [...polls.keys()]) stopPolling(id);
  tasks.clear();
  emit(null);
}

// ---- how a task reads ------------------------------------------------------------------

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
export function elapsedSeconds(task) {
  const created = Date.parse(task.created_at);
  const end = task.completed_at ? Date.parse(task.completed_at) : Date.now();
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

// ---- wiring ------------------------------------------------------------------------------

channel?.addEventListener("message", ({ data }) => {
  if (!isSignedIn() || !data) return;
  if (data.kind === "track" && data.task) track(data.task, { broadcast: false });
  if (data.kind === "update" && data.task && tasks.has(data.task.id)) update(data.task);
  if (data.kind === "forget" && data.id) forget(data.id);
});

onSessionChange((session, previous) => {
  if (!session || session.user?.id !== previous?.user?.id) reset();
  if (session) resync();
});

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") resync();
});

setInterval(() => {
  if (document.visibilityState === "visible") resync();
}, RESYNC_MS);
