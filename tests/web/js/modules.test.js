// Only app.js acts when imported. Every other module of the web app imports in Node — which has
// no window, document or localStorage — and starts no timer, so a module that touches the
// browser or starts work at import fails here. (The timer functions are spies while a module
// is imported, so a module that starts one fails the test instead of keeping Node running.)

import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";

import { WEB } from "./support.js";

function modules(folder) {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return modules(path);
    return entry.name.endsWith(".js") ? [path] : [];
  });
}

test("the web app has modules to check, and app.js is its entry point", () => {
  const names = modules(WEB).map((path) => relative(WEB, path));
  assert.ok(names.includes("app.js"));
  assert.ok(names.includes("pages/generate.js"));
});

for (const path of modules(WEB).filter((p) => relative(WEB, p) !== "app.js")) {
  test(`${relative(WEB, path)} does nothing when imported`, async (t) => {
    const timers = ["setTimeout", "setInterval"].map((name) => t.mock.method(globalThis, name, () => 0));
    await import(path);
    const started = timers.flatMap((spy) => spy.mock.calls);
    for (const spy of timers) spy.mock.restore();
    assert.deepEqual(started, [], "a timer was started at import");
  });
}
