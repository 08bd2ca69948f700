// What the unit tests share: the web app's folder, a way to let pending promises run, and
// stand-ins for the two browser APIs Node 20 lacks (Web Storage, Web Locks).

import { fileURLToPath } from "node:url";

export const WEB = fileURLToPath(new URL("../../../src/vocalis/api/web/", import.meta.url));

/** Let every promise that can settle now settle (setImmediate runs after the microtasks). */
export function settle() {
  return new Promise((resolve) => {
    setImmediate(resolve);
  });
}

/** localStorage's interface over a Map; two sessions given one instance are two tabs. */
export class MemoryStorage {
  #items = new Map();

  getItem(key) {
    return this.#items.has(key) ? this.#items.get(key) : null;
  }

  setItem(key, value) {
    this.#items.set(key, String(value));
  }

  removeItem(key) {
    this.#items.delete(key);
  }
}

/** navigator.locks' request(name, fn): callbacks for one name run one at a time, in order. */
export class LockManager {
  #tails = new Map();

  request(name, fn) {
    const before = this.#tails.get(name) ?? Promise.resolve();
    const run = before.then(() => fn());
    this.#tails.set(name, run.catch(() => {}));
    return run;
  }
}
