// Following a transcription or a reference check to its end (transcription.js): one poll per
// pause, back-off on errors, giving up when the task is gone or errors persist.

import assert from "node:assert/strict";
import { test } from "node:test";

import { ApiError } from "../../../src/vocalis/api/web/api.js";
import { finished, transcriptOf } from "../../../src/vocalis/api/web/transcription.js";

/** A scripted API: each poll takes the next answer (an Error is thrown); pauses are recorded. */
function scripted(answers) {
  const paths = [];
  const pauses = [];
  return {
    paths,
    pauses,
    call: async (path) => {
      paths.push(path);
      const next = answers.shift();
      if (next instanceof Error) throw next;
      return next;
    },
    sleep: async (ms) => {
      pauses.push(ms);
    },
  };
}

test("polls once a second until the task is terminal, and resolves to it", async () => {
  const done = { id: "t/1", status: "completed", result: { transcription: { text: " Hello there. " } } };
  const api = scripted([{ id: "t/1", status: "pending" }, { id: "t/1", status: "processing" }, done]);
  const task = await finished({ task_id: "t/1" }, api);
  assert.equal(task, done);
  assert.deepEqual(api.paths, ["/api/tasks/t%2F1", "/api/tasks/t%2F1", "/api/tasks/t%2F1"]);
  assert.deepEqual(api.pauses, [1000, 1000]);
  assert.equal(transcriptOf(task), "Hello there.");
  assert.equal(transcriptOf({ status: "completed", result: {} }), "");
});

test("a failed or cancelled task is an answer too", async () => {
  for (const status of ["failed", "cancelled"]) {
    const task = await finished({ id: "t" }, scripted([{ id: "t", status }]));
    assert.equal(task.status, status);
  }
});

test("errors back off and recover; a success resets the back-off", async () => {
  const flaky = new ApiError("The server had a problem (502).", 502);
  const api = scripted([flaky, flaky, { status: "processing" }, flaky, { status: "completed" }]);
  assert.equal((await finished({ task_id: "t" }, api)).status, "completed");
  assert.deepEqual(api.pauses, [2000, 4000, 1000, 2000]);
});

test("a task that is gone, or a session that ended, stops at once; persistent errors after six", async () => {
  for (const status of [404, 401]) {
    const api = scripted([new ApiError("gone", status)]);
    await assert.rejects(finished({ task_id: "t" }, api), (error) => error.status === status);
    assert.equal(api.paths.length, 1);
  }
  const api = scripted(Array.from({ length: 10 }, () => new ApiError("Cannot reach the server.", 0)));
  await assert.rejects(finished({ task_id: "t" }, api), /Cannot reach the server/);
  assert.equal(api.paths.length, 6);
  assert.deepEqual(api.pauses, [2000, 4000, 8000, 15000, 15000]);
});

test("an abort stops following at once", async () => {
  const controller = new AbortController();
  const api = scripted([{ status: "processing" }, { status: "completed" }]);
  api.sleep = async (ms, signal) => {
    controller.abort();
    if (signal.aborted) throw new DOMException("stopped", "AbortError");
  };
  await assert.rejects(finished({ task_id: "t" }, { ...api, signal: controller.signal }), { name: "AbortError" });
  assert.equal(api.paths.length, 1);
});
