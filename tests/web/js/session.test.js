// The session (session.js createSession): refresh before expiry by our own clock, one refresh
// across tabs, adopting another tab's session, and what ends a session. Storage and locks are
// the stand-ins in support.js, the server a fetch the test scripts with real Response objects,
// and time node:test's fake clock.

import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";

import { createSession } from "../../../src/vocalis/api/web/session.js";
import { LockManager, MemoryStorage, settle } from "./support.js";

const KEY = "vocalis.session";
const HOUR = 3600;

/** The auth server: records each request; `respond(request)` returns a Response or throws. */
class AuthServer {
  requests = [];
  respond = () => new Response(null, { status: 500 });
  issued = 0;

  fetch = async (url, init) => {
    const request = { url, headers: init.headers, body: JSON.parse(init.body) };
    this.requests.push(request);
    return this.respond(request);
  };

  /** A GoTrue session answer with a fresh pair of tokens. */
  session(extra = {}) {
    this.issued += 1;
    const body = {
      access_token: `access-${this.issued}`, refresh_token: `refresh-${this.issued}`, token_type: "bearer",
      expires_in: HOUR, expires_at: Math.floor(Date.now() / 1000) + HOUR, user: { id: "u1", email: "a@example.com" },
      ...extra,
    };
    return Response.json(body);
  }

  refreshes() {
    return this.requests.filter((r) => r.url === "/auth/v1/token?grant_type=refresh_token");
  }
}

let clock;
let server;
let storage;

function now() {
  return Date.now() / 1000;
}

/** A stored session that expires `seconds` from now, as a tab would have written it. */
function storeSession(seconds, tokens = "0") {
  const session = {
    access_token: `access-${tokens}`, refresh_token: `refresh-${tokens}`, expires_in: HOUR,
    local_expires_at: now() + seconds, user: { id: "u1" },
  };
  storage.setItem(KEY, JSON.stringify(session));
  return session;
}

function tab({ locks = null } = {}) {
  const session = createSession({ storage, fetch: server.fetch, locks });
  const changes = [];
  session.onSessionChange((current, previous, reason) => changes.push({
    current: current?.access_token ?? null, previous: previous?.access_token ?? null, reason,
  }));
  return { session, changes };
}

beforeEach((t) => {
  clock = t.mock.timers;
  clock.enable({ apis: ["setTimeout", "setInterval", "Date"], now: 1_700_000_000_000 });
  server = new AuthServer();
  storage = new MemoryStorage();
});

describe("refresh", () => {
  test("a stored session is refreshed a minute before it expires, and the next refresh is scheduled", async () => {
    storeSession(600);
    const { session, changes } = tab();
    session.start();
    assert.equal(session.isSignedIn(), true);
    server.respond = () => server.session();

    clock.tick(540_000 - 1);
    await settle();
    assert.equal(server.refreshes().length, 0);
    clock.tick(1);
    await settle();
    assert.deepEqual(server.refreshes().map((r) => r.body), [{ refresh_token: "refresh-0" }]);
    assert.equal(session.getSession().access_token, "access-1");
    assert.equal(JSON.parse(storage.getItem(KEY)).refresh_token, "refresh-1");
    assert.deepEqual(changes, [{ current: "access-1", previous: "access-0", reason: null }]);

    clock.tick((HOUR - 60) * 1000);
    await settle();
    assert.deepEqual(server.refreshes().map((r) => r.body), [{ refresh_token: "refresh-0" }, { refresh_token: "refresh-1" }]);
  });

  test("expiry is counted from expires_in by our clock, not from a skewed server's expires_at", async () => {
    const { session } = tab();
    session.start();
    server.respond = () => server.session({ expires_at: Math.floor(now()) - 5 * HOUR });
    await session.signIn("a@example.com", "pw");
    assert.equal(await session.accessToken(), "access-1");
    assert.equal(server.refreshes().length, 0);
  });

  test("a token about to expire is refreshed before it is handed out", async () => {
    storeSession(20);
    const { session } = tab();
    session.start();
    server.respond = () => server.session();
    assert.equal(await session.accessToken(), "access-1");
    assert.equal(server.refreshes().length, 1);
  });

  test("refreshes asked for at once in one tab share one request", async () => {
    storeSession(20);
    const { session } = tab();
    session.start();
    server.respond = () => server.session();
    const tokens = await Promise.all([session.refresh("access-0"), session.refresh("access-0"), session.accessToken()]);
    assert.deepEqual(tokens, ["access-1", "access-1", "access-1"]);
    assert.equal(server.refreshes().length, 1);
  });

  test("two tabs due to refresh at once send one request: the second adopts what the first stored", async () => {
    storeSession(600);
    const locks = new LockManager();
    const first = tab({ locks });
    const second = tab({ locks });
    first.session.start();
    second.session.start();
    server.respond = () => server.session();

    clock.tick(540_000);
    await settle();
    assert.equal(server.refreshes().length, 1, "both tabs spent the same refresh token");
    assert.equal(first.session.getSession().access_token, "access-1");
    assert.equal(second.session.getSession().access_token, "access-1");
  });

  test("a token rejected with 401 is replaced by the one another tab already stored, with no request", async () => {
    storeSession(HOUR);
    const { session, changes } = tab();
    session.start();
    storeSession(HOUR, "other-tab");
    assert.equal(await session.refresh("access-0"), "access-other-tab");
    assert.equal(server.requests.length, 0);
    assert.deepEqual(changes, [{ current: "access-other-tab", previous: "access-0", reason: null }]);
  });

  test("a refresh token the server refuses ends the session as expired", async () => {
    storeSession(20);
    const { session, changes } = tab();
    session.start();
    server.respond = () => Response.json({ code: 400, msg: "Invalid Refresh Token" }, { status: 400 });
    await assert.rejects(session.refresh("access-0"), { status: 400, message: "Invalid Refresh Token" });
    assert.equal(session.isSignedIn(), false);
    assert.equal(storage.getItem(KEY), null);
    assert.deepEqual(changes, [{ current: null, previous: "access-0", reason: "expired" }]);
  });

  test("a refresh that cannot reach the server keeps the session and tries again 10 s later", async () => {
    storeSession(20);
    const { session } = tab();
    session.start();
    server.respond = () => {
      throw new TypeError("fetch failed");
    };
    await assert.rejects(session.refresh("access-0"), { status: 0 });
    assert.equal(session.isSignedIn(), true);

    server.respond = () => server.session();
    clock.tick(10_000 - 1);
    await settle();
    assert.equal(server.refreshes().length, 1);
    clock.tick(1);
    await settle();
    assert.equal(server.refreshes().length, 2);
    assert.equal(session.getSession().access_token, "access-1");
  });

  test("back from sleep (timers stalled), a tab refreshes a token that is about to expire", async () => {
    storeSession(600);
    const { session } = tab();
    session.start();
    server.respond = () => server.session();
    session.woke();
    await settle();
    assert.equal(server.refreshes().length, 0, "a token with minutes left is not refreshed on wake");

    clock.setTime(Date.now() + 590_000); // the clock moved, the timer did not fire
    session.woke();
    await settle();
    assert.equal(server.refreshes().length, 1);
  });
});

describe("start and end", () => {
  test("sign-in stores the session for every tab and tells listeners", async () => {
    const { session, changes } = tab();
    session.start();
    assert.equal(session.isSignedIn(), false);
    server.respond = () => server.session();
    await session.signIn("a@example.com", "pw");
    assert.deepEqual(server.requests[0].body, { email: "a@example.com", password: "pw" });
    assert.equal(session.currentUser().id, "u1");
    assert.equal(JSON.parse(storage.getItem(KEY)).access_token, "access-1");
    assert.deepEqual(changes, [{ current: "access-1", previous: null, reason: null }]);
  });

  test("a failed sign-in says what the server said and changes nothing", async () => {
    const { session, changes } = tab();
    session.start();
    server.respond = () => Response.json({ code: 400, error_code: "invalid_credentials", msg: "Invalid login credentials" }, { status: 400 });
    await assert.rejects(session.signIn("a@example.com", "wrong"), { status: 400, message: "Invalid login credentials" });
    assert.equal(session.isSignedIn(), false);
    assert.deepEqual(changes, []);
  });

  test("sign-out revokes with the bearer token first, then clears the session", async () => {
    storeSession(HOUR);
    const { session, changes } = tab();
    session.start();
    server.respond = () => new Response(null, { status: 204 });
    await session.signOut();
    assert.equal(server.requests[0].url, "/auth/v1/logout");
    assert.equal(server.requests[0].headers.Authorization, "Bearer access-0");
    assert.equal(storage.getItem(KEY), null);
    assert.deepEqual(changes, [{ current: null, previous: "access-0", reason: "signout" }]);
  });

  test("sign-out still signs out when the server cannot be reached", async () => {
    storeSession(HOUR);
    const { session } = tab();
    session.start();
    server.respond = () => {
      throw new TypeError("fetch failed");
    };
    await session.signOut();
    assert.equal(session.isSignedIn(), false);
  });

  test("another tab's sign-in and sign-out arrive through storage events; other keys are ignored", () => {
    const { session, changes } = tab();
    session.start();
    storeSession(HOUR, "elsewhere");
    session.storageChanged("vocalis.draft.generate.u1");
    assert.equal(session.isSignedIn(), false);

    session.storageChanged(KEY);
    assert.equal(session.getSession().access_token, "access-elsewhere");
    storage.removeItem(KEY);
    session.storageChanged(null); // storage.clear()
    assert.equal(session.isSignedIn(), false);
    assert.deepEqual(changes.map((c) => [c.current, c.reason]), [["access-elsewhere", "elsewhere"], [null, "elsewhere"]]);
  });

  test("a refresh after another tab signed out ends this tab's session too", async () => {
    storeSession(20);
    const { session, changes } = tab();
    session.start();
    storage.removeItem(KEY);
    await assert.rejects(session.refresh("access-0"), { status: 401 });
    assert.equal(server.requests.length, 0);
    assert.deepEqual(changes, [{ current: null, previous: "access-0", reason: "elsewhere" }]);
  });

  test("a stored session that is not one (no refresh token, or not JSON) is no session", () => {
    storage.setItem(KEY, JSON.stringify({ access_token: "a" }));
    const incomplete = tab();
    incomplete.session.start();
    assert.equal(incomplete.session.isSignedIn(), false);

    storage.setItem(KEY, "{not json");
    const garbled = tab();
    garbled.session.start();
    assert.equal(garbled.session.isSignedIn(), false);
  });
});
