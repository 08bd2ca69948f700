// The signed-in session from /auth/v1, kept in localStorage so it survives reloads and is
// shared by tabs. The access token is refreshed about a minute before it expires. The server
// also sets an HttpOnly cookie on every sign-in and refresh, which is what lets <audio src>
// and download links (which cannot send a header) fetch media.
//
// createSession() is the logic; it is handed the storage, fetch and Web Locks it uses, so
// unit tests run it (and two "tabs" sharing one storage) with fakes and fake timers. Below it
// is the app's one session, which startSession() (called first by app.js) loads and connects
// to the browser's storage and visibility events.

const KEY = "vocalis.session";
const EARLY = 60; // seconds before expiry to refresh
const RETRY_MS = 10000; // after a refresh that failed for want of a network

export class AuthError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

function now() {
  return Date.now() / 1000;
}

// Expiry by our own clock (received + expires_in), so a skewed server clock does not matter.
function stamp(session) {
  const ttl = Number(session.expires_in) || Math.max(0, session.expires_at - now());
  return { ...session, local_expires_at: now() + ttl };
}

function expiresIn(session) {
  return (session.local_expires_at ?? session.expires_at) - now();
}

/**
 * A session. `env.storage` is a Web Storage (localStorage), `env.fetch` the fetch function,
 * `env.locks` a LockManager or nothing. Timers are the global setTimeout/clearTimeout.
 */
export function createSession(env) {
  const listeners = new Set();
  let current = null;
  let timer = null;
  let refreshing = null;

  function read() {
    try {
      const session = JSON.parse(env.storage.getItem(KEY) || "null");
      return session && session.access_token && session.refresh_token ? session : null;
    } catch {
      return null;
    }
  }

  function save(session, reason = null) {
    const previous = current;
    current = session;
    if (session) env.storage.setItem(KEY, JSON.stringify(session));
    else env.storage.removeItem(KEY);
    schedule();
    if (previous?.access_token !== session?.access_token) emit(previous, reason);
  }

  function emit(previous, reason) {
    for (const fn of [...listeners]) fn(current, previous, reason);
  }

  function schedule() {
    clearTimeout(timer);
    if (!current) return;
    const wait = Math.max(0, expiresIn(current) - EARLY) * 1000;
    timer = setTimeout(() => refresh(current?.access_token).catch(() => {}), Math.min(wait, 2 ** 31 - 1));
  }

  /** Load the stored session and schedule its refresh. */
  function start() {
    current = read();
    schedule();
  }

  function getSession() {
    return current;
  }

  function currentUser() {
    return current?.user ?? null;
  }

  function isSignedIn() {
    return current !== null;
  }

  /** fn(session, previous, reason) runs whenever the session starts, changes token, or ends. */
  function onSessionChange(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  }

  async function authPost(path, body, token) {
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    let response;
    try {
      response = await env.fetch(path, { method: "POST", headers, body: JSON.stringify(body ?? {}), credentials: "same-origin" });
    } catch {
      throw new AuthError("Cannot reach the server. Check your connection and try again.", 0);
    }
    if (response.status === 204) return null;
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const detail = typeof data.detail === "string" ? data.detail : data.msg || data.error_description;
      throw new AuthError(detail || `Request failed (${response.status}).`, response.status);
    }
    return data;
  }

  async function signIn(email, password) {
    save(stamp(await authPost("/auth/v1/token?grant_type=password", { email, password })));
  }

  async function signUp(email, password) {
    save(stamp(await authPost("/auth/v1/signup", { email, password })));
  }

  async function signOut() {
    let token = null;
    try {
      token = await accessToken();
    } catch {
      // signing out anyway
    }
    if (token) {
      // Revokes the refresh tokens and clears the media cookie — before the UI says "signed
      // out", so nothing the page does next can still play media as this user.
      await authPost("/auth/v1/logout", {}, token).catch(() => {});
    }
    save(null, "signout");
  }

  /** The server no longer accepts our session (revoked, or signed out elsewhere). */
  function expire() {
    save(null, "expired");
  }

  function withLock(fn) {
    // Refresh tokens rotate and reusing a rotated one revokes the whole family, so tabs refresh
    // one at a time and the others adopt the session it stored. Not airtight: Chromium hands a
    // localStorage write to other tabs' processes asynchronously, so the next lock holder can
    // still read the spent token; the server's reuse interval continues the session then.
    if (env.locks?.request) return env.locks.request("vocalis-session-refresh", fn);
    return fn();
  }

  /**
   * Get a fresh access token. `stale` is the token we consider used up (expiring, or rejected
   * with 401); if another tab already replaced it, its session is adopted instead.
   */
  function refresh(stale) {
    if (refreshing) return refreshing;
    refreshing = withLock(async () => {
      const stored = read();
      if (!stored) {
        save(null, "elsewhere");
        throw new AuthError("You are signed out.", 401);
      }
      if (stored.access_token !== stale && expiresIn(stored) > EARLY) {
        save(stored);
        return stored.access_token;
      }
      try {
        const session = stamp(await authPost("/auth/v1/token?grant_type=refresh_token", { refresh_token: stored.refresh_token }));
        save(session);
        return session.access_token;
      } catch (error) {
        if (error.status === 400 || error.status === 401) save(null, "expired");
        else {
          clearTimeout(timer); // a network blip: try again shortly
          timer = setTimeout(() => refresh(stale).catch(() => {}), RETRY_MS);
        }
        throw error;
      }
    }).finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  /** The access token to send as Bearer, refreshed first if it is about to expire. */
  async function accessToken() {
    if (!current) return null;
    if (expiresIn(current) < EARLY / 2) return refresh(current.access_token);
    return current.access_token;
  }

  /** Another tab wrote the stored session (a storage event for `key`; null: storage cleared). */
  function storageChanged(key) {
    if (key !== KEY && key !== null) return;
    const previous = current;
    current = read();
    schedule();
    if (previous?.access_token !== current?.access_token) emit(previous, "elsewhere");
  }

  /** The tab is visible again: timers stall while a laptop sleeps, so check the expiry now. */
  function woke() {
    if (current && expiresIn(current) < EARLY) refresh(current.access_token).catch(() => {});
  }

  return {
    start, getSession, currentUser, isSignedIn, onSessionChange, signIn, signUp, signOut, expire,
    refresh, accessToken, storageChanged, woke,
  };
}

// ---- the app's session -------------------------------------------------------------------

// Getters, so that importing this module touches no browser global (Node imports it in tests).
const session = createSession({
  get storage() {
    return localStorage;
  },
  get locks() {
    return navigator.locks;
  },
  fetch: (...args) => fetch(...args),
});

export const {
  getSession, currentUser, isSignedIn, onSessionChange, signIn, signUp, signOut, expire, refresh, accessToken,
} = session;

/** Load the stored session and follow other tabs' sign-ins, refreshes and sign-outs. */
export function startSession() {
  session.start();
  window.addEventListener("storage", (event) => session.storageChanged(event.key));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") session.woke();
  });
}
