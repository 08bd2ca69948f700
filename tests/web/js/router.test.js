// The router's table and matching (router.js), and the one list of pages both sides read:
// every module in pages/ is a page, router.js routes to each, and the server (routes/web.py)
// answers each path with the app.

import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";

import { PAGES, isAppUrl, normalPath, routeFor } from "../../../src/vocalis/api/web/router.js";
import { WEB } from "./support.js";

const pageModules = readdirSync(join(WEB, "pages")).filter((name) => name.endsWith(".js")).map((name) => name.slice(0, -3));

describe("the page table", () => {
  test("routes exactly the modules in pages/, each at /{its name}", () => {
    assert.deepEqual(Object.keys(PAGES).map((path) => path.slice(1)).sort(), pageModules.sort());
  });

  for (const [path, load] of Object.entries(PAGES)) {
    test(`${path} loads pages${path}.js, a page with a title and render()`, async () => {
      const page = await load();
      assert.equal(page, await import(join(WEB, "pages", `${path.slice(1)}.js`)));
      assert.equal(typeof page.title, "string");
      assert.ok(page.title.length > 0);
      assert.equal(typeof page.render, "function");
    });
  }
});

describe("matching", () => {
  test("trailing slashes do not matter; the empty path is the root", () => {
    assert.equal(normalPath("/voices/"), "/voices");
    assert.equal(normalPath("/voices//"), "/voices");
    assert.equal(normalPath("/"), "/");
    assert.equal(normalPath(""), "/");
  });

  test("the root sends you to Generate, or to sign in", () => {
    assert.deepEqual(routeFor("/", { signedIn: true, here: "/" }), { redirect: "/generate" });
    assert.deepEqual(routeFor("/", { signedIn: false, here: "/" }), { redirect: "/signin" });
  });

  test("a page loads for a signed-in visitor", () => {
    assert.deepEqual(routeFor("/history", { signedIn: true, here: "/history?page=2" }), { load: PAGES["/history"] });
  });

  test("a signed-out visitor is sent to sign in, and back to where they were after", () => {
    const route = routeFor("/history", { signedIn: false, here: "/history?page=2&status=failed" });
    assert.deepEqual(route, { redirect: "/signin?next=%2Fhistory%3Fpage%3D2%26status%3Dfailed" });
    assert.equal(new URL(route.redirect, "http://x").searchParams.get("next"), "/history?page=2&status=failed");
  });

  test("sign-in is open to signed-out visitors", () => {
    assert.deepEqual(routeFor("/signin", { signedIn: false, here: "/signin" }), { load: PAGES["/signin"] });
  });

  test("an unknown path is not found, signed in or not", () => {
    assert.deepEqual(routeFor("/nope", { signedIn: true, here: "/nope" }), { load: null });
    assert.deepEqual(routeFor("/nope", { signedIn: false, here: "/nope" }), { load: null });
    assert.deepEqual(routeFor("/constructor", { signedIn: true, here: "/" }), { load: null });
  });

  test("links to the API, auth, assets and other sites are left to the browser", () => {
    const origin = "http://studio.test";
    const at = (href) => isAppUrl(new URL(href, origin), origin);
    assert.equal(at("/voices?page=2"), true);
    assert.equal(at("/generate#main"), true);
    assert.equal(at("/api/generations/g1/audio"), false);
    assert.equal(at("/auth/v1/logout"), false);
    assert.equal(at("/assets/styles.css"), false);
    assert.equal(at("https://example.com/voices"), false);
  });
});
