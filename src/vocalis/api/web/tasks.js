// The task store and poller. Every non-terminal task we know about is polled with one
// GET /api/tasks/{id} at most once a second (each poll is what advances it on the server),
// until it reaches a terminal state. The list is rebuilt from the server's task feed on load,
// on sign-in, when the tab becomes visible and every 30 s, so polling resumes after a reload
// and picks up tasks started elsewhere.
//
// createTaskStore() is the logic; it is handed what it talks to (the API, the session, the
// other tabs), so unit tests drive it with fakes and fake timers. Below it is the app's one
// store, which startTasks() (called by app.js) connects to the browser.

import { api } from "./api.js";
import { isSignedIn, onSessionChange } from "./session.js";
import { isTerminal } from "./task_text.js";

export { TERMINAL, elapsedSeconds, isTerminal, resultHref, statusText, taskSummary, taskTitle } from "./task_text.js";

export const POLL_MS = 1000;
export const MAX_BACKOFF_MS = 15000;
const RESYNC_MS = 30000;

function newestFirst(a, b) {
  return String(b.created_at || "").localeCompare(String(a.created_at || ""));
}

/**
 * A task store. `api(path, options)` is api.js's call; `isSignedIn()` the session's;
 * `broadcast(message)` tells other tabs; `now()` is a monotonic clock in milliseconds.
 * Timers are the global setTimeout/clearTimeout.
 */
export function createTaskStore({ api, isSignedIn, broadcast = () => {}, now = () => performance.now() }) {
  const tasks = new Map(); // id -> latest Task JSON (plus a few local fields starting with _)
  const polls = new Map(); // id -> {timer, failures}
  const listeners = new Set();
  // Bumped by reset() (sign-out, another account): answers to requests sent before it are
  // about the previous account's tasks and are dropped.
  let epoch = 0;

  function getTask(id) {
    return tasks.get(id) ?? null;
  }

  function listTasks() {
    return [...tasks.values()].sort(newestFirst);
  }

  function activeTasks() {
    return listTasks().filter((task) => !isTerminal(task));
  }

  /** fn(task) after every change to a task (task is null when the store is reset). */
  function subscribe(fn) {
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
    const task = { ...previous, ...patch };
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
  function track(input, { broadcast: tell = true } = {}) {
    const id = input.id ?? input.task_id;
    const known = tasks.has(id);
    const task = update({ status: "pending", ...tasks.get(id), ...input, id });
    if (!isTerminal(task)) startPolling(id);
    if (!known && tell) broadcast({ kind: "track", task });
    return task;
  }

  function startPolling(id) {
    if (polls.has(id)) return;
    const state = { timer: null, failures: 0 };
    polls.set(id, state);
    const tick = async () => {
      if (polls.get(id) !== state) return;
      const started = now();
      let delay = POLL_MS;
      try {
        const answer = await api(`/api/tasks/${encodeURIComponent(id)}`);
        // Stopped while we waited (reset at sign-out, deleted): this answer is stale.
        if (polls.get(id) !== state) return;
        const task = update({ ...answer, _poll_error: null });
        state.failures = 0;
        if (isTerminal(task)) {
          broadcast({ kind: "update", task });
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
      state.timer = setTimeout(tick, Math.max(0, delay - (now() - started)));
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

  function isPolling(id) {
    return polls.has(id);
  }

  /** Cancel a running task; resolves to the task as it is now. */
  async function cancelTask(id) {
    const at = epoch;
    try {
      await api(`/api/tasks/${encodeURIComponent(id)}/cancel`, { method: "POST" });
    } finally {
      // Whether it was cancelled or had already finished, show what the server says now.
      const task = await api(`/api/tasks/${encodeURIComponent(id)}`).catch(() => null);
      if (task && at === epoch) {
        update(task);
        broadcast({ kind: "update", task });
      }
    }
    return getTask(id);
  }

  async function deleteTask(id) {
    await api(`/api/tasks/${encodeURIComponent(id)}`, { method: "DELETE" });
    forget(id);
    broadcast({ kind: "forget", id });
  }

  /** Hide a finished task from the dock. */
  function dismiss(id) {
    if (tasks.has(id)) update({ id, _dismissed: true });
  }

  /** Re-read the running tasks from the server and poll every one of them. */
  async function resync() {
    if (!isSignedIn()) return;
    const at = epoch;
    try {
      const data = await api("/api/tasks", { query: { status: "active", limit: 50 } });
      if (at !== epoch) return; // signed out or switched accounts meanwhile
      for (const task of data.tasks) track(task, { broadcast: false });
    } catch {
      // the next resync tries again; polling of known tasks goes on regardless
    }
  }

  function reset() {
    epoch += 1;
    for (const id of [...polls.keys()]) stopPolling(id);
    tasks.clear();
    emit(null);
  }

  /** A message another tab broadcast. */
  function receive(message) {
    if (!isSignedIn() || !message) return;
    if (message.kind === "track" && message.task) track(message.task, { broadcast: false });
    if (message.kind === "update" && message.task && tasks.has(message.task.id)) update(message.task);
    if (message.kind === "forget" && message.id) forget(message.id);
  }

  /** The session started, changed account, or ended (session.js's onSessionChange). */
  function sessionChanged(session, previous) {
    if (!session || session.user?.id !== previous?.user?.id) reset();
    if (session) resync();
  }

  return {
    getTask, listTasks, activeTasks, subscribe, track, isPolling, cancelTask, deleteTask, dismiss,
    resync, reset, receive, sessionChanged,
  };
}

// ---- the app's store ---------------------------------------------------------------------

let channel = null;
const store = createTaskStore({ api, isSignedIn, broadcast: (message) => channel?.postMessage(message) });

export const {
  getTask, listTasks, activeTasks, subscribe, track, isPolling, cancelTask, deleteTask, dismiss, resync,
} = store;

/** Connect the app's store to the browser: other tabs, the session, and periodic resyncs. */
export function startTasks() {
  if ("BroadcastChannel" in window) {
    channel = new BroadcastChannel("vocalis-tasks");
    channel.addEventListener("message", ({ data }) => store.receive(data));
  }
  onSessionChange(store.sessionChanged);
  const resyncIfVisible = () => {
    if (document.visibilityState === "visible") resync();
  };
  document.addEventListener("visibilitychange", resyncIfVisible);
  setInterval(resyncIfVisible, RESYNC_MS);
}
