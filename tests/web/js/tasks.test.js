// The task poller (tasks.js createTaskStore): cadence, back-off, terminal states, other tabs,
// sign-out. The API is a script the test answers call by call; time is node:test's fake
// clock, moved by hand, so every timing below is exact and nothing sleeps.

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";

import { ApiError } from "../../../src/vocalis/api/web/api.js";
import { MAX_BACKOFF_MS, POLL_MS, createTaskStore, statusText } from "../../../src/vocalis/api/web/tasks.js";
import { settle } from "./support.js";

/** The API as a script: every call waits until the test answers or fails it. */
class ScriptedApi {
  calls = [];

  api = (path, options = {}) => new Promise((resolve, reject) => {
    this.calls.push({ path, method: options.method ?? "GET", query: options.query, at: Date.now(), resolve, reject });
  });

  polls(id) {
    return this.calls.filter((call) => call.method === "GET" && call.path === `/api/tasks/${id}`);
  }

  last() {
    return this.calls.at(-1);
  }

  async answer(call, body) {
    call.resolve(body);
    await settle();
  }

  async fail(call, status, message = `failed with ${status}`) {
    call.reject(new ApiError(message, status));
    await settle();
  }
}

const running = (id, extra = {}) => ({ id, type: "generate", status: "processing", created_at: "2026-01-01T10:00:00Z", ...extra });
const finished = (id) => running(id, { status: "completed", completed_at: "2026-01-01T10:01:00Z" });

let server;
let signedIn;
let broadcasts;
let store;
let clock;

/** Move the fake clock on, letting each timer's async work settle before the next fires. */
async function advance(ms) {
  for (let i = 0; i < ms; i += 1) {
    clock.tick(1);
    await settle();
  }
}

/** Move the fake clock on until the API is called again (within `limit` ms); that call. */
async function nextCall(limit = MAX_BACKOFF_MS) {
  const before = server.calls.length;
  for (let waited = 0; server.calls.length === before; waited += 1) {
    assert.ok(waited <= limit, `no call within ${limit} ms`);
    clock.tick(waited === 0 ? 0 : 1);
    await settle();
  }
  return server.last();
}

beforeEach((t) => {
  clock = t.mock.timers;
  clock.enable({ apis: ["setTimeout", "setInterval", "Date"], now: 1_000_000 });
  server = new ScriptedApi();
  signedIn = true;
  broadcasts = [];
  store = createTaskStore({
    api: server.api,
    isSignedIn: () => signedIn,
    broadcast: (message) => broadcasts.push(message),
    now: () => Date.now(),
  });
});

describe("polling", () => {
  test("a tracked task is polled at once, then one second after each poll started", async () => {
    store.track({ task_id: "t1", status: "processing" });
    assert.equal(server.polls("t1").length, 1);

    await advance(300); // the server takes 300 ms to answer
    await server.answer(server.last(), running("t1"));
    await advance(POLL_MS - 300 - 1);
    assert.equal(server.polls("t1").length, 1, "polled again within a second of the last poll");
    await advance(1);
    assert.equal(server.polls("t1").length, 2);
    assert.equal(server.polls("t1")[1].at - server.polls("t1")[0].at, POLL_MS);
  });

  test("after an answer slower than a second, the next poll starts at once", async () => {
    store.track({ task_id: "t1" });
    await advance(1500);
    await server.answer(server.last(), running("t1"));
    const second = await nextCall(0);
    assert.equal(second.at - server.polls("t1")[0].at, 1500);
  });

  test("tracking a task that is already polled does not start a second poller", async () => {
    store.track({ task_id: "t1" });
    store.track(running("t1"));
    await server.answer(server.last(), running("t1"));
    await advance(POLL_MS);
    assert.equal(server.polls("t1").length, 2);
  });

  test("polling stops at a terminal state; the task is marked as finished here and other tabs hear", async () => {
    const seen = [];
    store.subscribe((task) => seen.push(task?.status));
    store.track({ task_id: "t1", status: "processing" });
    await server.answer(server.last(), finished("t1"));

    assert.equal(store.isPolling("t1"), false);
    await advance(10 * POLL_MS);
    assert.equal(server.polls("t1").length, 1);
    const task = store.getTask("t1");
    assert.equal(task.status, "completed");
    assert.equal(task._finished_here, true);
    assert.deepEqual(seen, ["processing", "completed"]);
    assert.deepEqual(broadcasts.map((m) => m.kind), ["track", "update"]);
    assert.equal(broadcasts[1].task.status, "completed");
  });

  test("a task that was already finished when tracked is not polled, nor marked as finished here", () => {
    store.track(finished("t1"));
    assert.equal(server.calls.length, 0);
    assert.equal(store.getTask("t1")._finished_here, undefined);
  });

  test("errors back off 2, 4, 8, then 15 s, say so, and a success goes back to once a second", async () => {
    store.track({ task_id: "t1" });
    for (let i = 0; i < 5; i += 1) {
      await server.fail(server.last(), 503, "Service Unavailable");
      await nextCall();
    }
    const starts = server.polls("t1").map((call) => call.at);
    const gaps = starts.slice(1).map((at, i) => at - starts[i]);
    assert.deepEqual(gaps, [2000, 4000, 8000, 15000, 15000]);
    assert.equal(statusText(store.getTask("t1")), "Connection problem, retrying… (Service Unavailable)");

    await server.answer(server.last(), running("t1"));
    assert.equal(store.getTask("t1")._poll_error, null);
    const after = await nextCall();
    assert.equal(after.at - starts.at(-1), POLL_MS);
  });

  test("a 404 forgets the task, and subscribers hear it was removed", async () => {
    const seen = [];
    store.track({ task_id: "t1" });
    store.subscribe((task) => seen.push(task));
    await server.fail(server.last(), 404);
    assert.equal(store.getTask("t1"), null);
    assert.deepEqual(seen, [{ id: "t1", _removed: true }]);
    await advance(MAX_BACKOFF_MS);
    assert.equal(server.calls.length, 1);
  });

  test("a 401 stops polling but keeps the task (the session handler decides what is next)", async () => {
    store.track({ task_id: "t1" });
    await server.fail(server.last(), 401);
    assert.equal(store.isPolling("t1"), false);
    assert.notEqual(store.getTask("t1"), null);
    await advance(MAX_BACKOFF_MS);
    assert.equal(server.calls.length, 1);
  });

  test("an answer older than what another tab reported never turns a finished task back", async () => {
    store.track({ task_id: "t1" });
    const inFlight = server.last();
    store.receive({ kind: "update", task: finished("t1") });
    await server.answer(inFlight, running("t1"));
    assert.equal(store.getTask("t1").status, "completed");
    store.track(running("t1"));
    assert.equal(store.getTask("t1").status, "completed");
    assert.equal(store.isPolling("t1"), false);
  });
});

describe("sign-out and resync", () => {
  test("a poll answered after sign-out leaves nothing behind", async () => {
    store.track({ task_id: "t1" });
    const inFlight = server.last();
    signedIn = false;
    store.sessionChanged(null, { user: { id: "u1" } });
    assert.deepEqual(store.listTasks(), []);

    await server.answer(inFlight, running("t1"));
    assert.deepEqual(store.listTasks(), [], "the previous account's task came back");
    await advance(10 * POLL_MS);
    assert.equal(server.polls("t1").length, 1);
  });

  test("resync follows every active task in the feed, newest first", async () => {
    store.resync();
    const feed = server.last();
    assert.equal(feed.path, "/api/tasks");
    assert.deepEqual(feed.query, { status: "active", limit: 50 });
    await server.answer(feed, {
      tasks: [running("old", { created_at: "2026-01-01T09:00:00Z" }), running("new", { created_at: "2026-01-01T11:00:00Z" })],
    });
    assert.deepEqual(store.activeTasks().map((task) => task.id), ["new", "old"]);
    assert.equal(server.polls("old").length, 1);
    assert.equal(server.polls("new").length, 1);
    assert.deepEqual(broadcasts, [], "tasks from the feed are every tab's already");
  });

  test("a feed answered after sign-out is dropped", async () => {
    store.resync();
    const feed = server.last();
    signedIn = false;
    store.sessionChanged(null, { user: { id: "u1" } });
    await server.answer(feed, { tasks: [running("t1")] });
    assert.deepEqual(store.listTasks(), []);
    assert.equal(server.calls.length, 1);
  });

  test("resync asks nothing while signed out, and a failed feed changes nothing", async () => {
    signedIn = false;
    await store.resync();
    assert.equal(server.calls.length, 0);

    signedIn = true;
    store.track(running("t1"));
    const pending = store.resync();
    await server.fail(server.calls.find((call) => call.path === "/api/tasks"), 0);
    await pending;
    assert.equal(store.isPolling("t1"), true);
  });

  test("a refreshed token keeps the tasks; another account clears them and reads its own", async () => {
    const alice = { user: { id: "alice" } };
    store.track(running("t1"));
    store.sessionChanged({ ...alice, access_token: "new" }, alice);
    assert.notEqual(store.getTask("t1"), null);

    const seen = [];
    store.subscribe((task) => seen.push(task));
    store.sessionChanged({ user: { id: "bob" } }, alice);
    assert.deepEqual(store.listTasks(), []);
    assert.equal(seen[0], null, "subscribers hear the reset");
    assert.equal(server.last().path, "/api/tasks");
  });
});

describe("other tabs and actions", () => {
  test("messages from other tabs track, update and forget; none while signed out", async () => {
    store.receive({ kind: "track", task: running("t1") });
    assert.equal(store.isPolling("t1"), true);
    assert.deepEqual(broadcasts, [], "a task another tab told us about is not echoed back");

    store.receive({ kind: "update", task: running("unknown") });
    assert.equal(store.getTask("unknown"), null, "updates only apply to tasks we follow");

    store.receive({ kind: "forget", id: "t1" });
    assert.equal(store.getTask("t1"), null);
    assert.equal(store.isPolling("t1"), false);

    signedIn = false;
    store.receive({ kind: "track", task: running("t2") });
    assert.equal(store.getTask("t2"), null);
  });

  test("cancel posts, then shows and tells other tabs what the server says now", async () => {
    store.track(running("t1"));
    const pending = store.cancelTask("t1");
    const cancel = server.last();
    assert.equal(cancel.method, "POST");
    assert.equal(cancel.path, "/api/tasks/t1/cancel");
    await server.answer(cancel, null);
    await server.answer(server.last(), running("t1", { status: "cancelled" }));
    assert.equal((await pending).status, "cancelled");
    assert.equal(store.isPolling("t1"), false);
    assert.deepEqual(broadcasts.at(-1), { kind: "update", task: running("t1", { status: "cancelled" }) });
  });

  test("a cancel that fails still shows what the server says, then rejects", async () => {
    store.track(running("t1"));
    const outcome = store.cancelTask("t1").then(() => null, (error) => error);
    await server.fail(server.last(), 409, "This task has already finished.");
    await server.answer(server.last(), finished("t1"));
    assert.equal((await outcome)?.status, 409);
    assert.equal(store.getTask("t1").status, "completed");
  });

  test("delete forgets the task and tells other tabs", async () => {
    store.track(running("t1"));
    const pending = store.deleteTask("t1");
    assert.equal(server.last().method, "DELETE");
    await server.answer(server.last(), null);
    await pending;
    assert.equal(store.getTask("t1"), null);
    assert.deepEqual(broadcasts.at(-1), { kind: "forget", id: "t1" });
  });

  test("dismiss marks a task hidden from the dock; an unknown id is ignored", () => {
    store.track(finished("t1"));
    store.dismiss("t1");
    store.dismiss("nope");
    assert.equal(store.getTask("t1")._dismissed, true);
    assert.equal(store.getTask("nope"), null);
  });
});
