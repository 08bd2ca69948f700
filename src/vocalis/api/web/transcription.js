// Transcription tasks, as the clone page uses them: a recording's words (POST
// /api/transcriptions), and a new voice's reference checks (the `check_task_id` a clone answers
// with). The page follows them itself rather than through the app's task store: their outcome
// is shown on the page (the transcript box, the advice beside the result), so they would only
// crowd the dock, and the running-task count, with rows the page already explains. Tasks are
// advanced by polls and by the server's reconciler alike, so a check the page stops following
// (you left) still completes, and its warnings still land on the voice.

import { api } from "./api.js";
import { POLL_MS, MAX_BACKOFF_MS } from "./tasks.js";
import { isTerminal } from "./task_text.js";

const MAX_FAILURES = 6; // about 45 s of failed polls in a row: then say so and stop

/** Upload a recording for transcription; resolves to the task's {task_id, status}. */
export function startTranscription(file, language, { signal } = {}) {
  const form = new FormData();
  form.append("audio", file, file.name);
  if (language) form.append("language", language); // "Auto": the worker detects it
  return api("/api/transcriptions", { method: "POST", form, signal });
}

/** The words a completed transcription heard ("" when none). */
export function transcriptOf(task) {
  return String(task?.result?.transcription?.text ?? "").trim();
}

function pause(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(new DOMException("Stopped waiting for the task.", "AbortError"));
    }, { once: true });
  });
}

/**
 * Poll a started task ({task_id} or a Task) once a second until it is completed, failed or
 * cancelled; resolves to that Task. Errors back off (2 s, 4 s, … 15 s) and, after several in a
 * row or at once for a task that is gone (404) or a session that ended (401), reject. An
 * AbortError when `signal` fires. `call` and `sleep` are for tests.
 */
export async function finished(started, { signal, call = api, sleep = pause } = {}) {
  const path = `/api/tasks/${encodeURIComponent(started.task_id ?? started.id)}`;
  for (let failures = 0; ;) {
    let delay = POLL_MS;
    try {
      const task = await call(path, { signal });
      if (isTerminal(task)) return task;
      failures = 0;
    } catch (error) {
      if (error.name === "AbortError" || error.status === 404 || error.status === 401) throw error;
      failures += 1;
      if (failures >= MAX_FAILURES) throw error;
      delay = Math.min(MAX_BACKOFF_MS, POLL_MS * 2 ** failures);
    }
    await sleep(delay, signal);
  }
}

/** Stop a transcription nobody wants any more (a replaced recording, a page left). */
export function abandon(id) {
  api(`/api/tasks/${encodeURIComponent(id)}/cancel`, { method: "POST" }).catch(() => {});
}
