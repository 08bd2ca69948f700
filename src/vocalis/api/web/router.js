// A history.pushState router: same-origin links navigate without a reload, each path loads
// its page module on demand, and pages get an AbortSignal that fires when you leave them.
//
// Every module in pages/ is a page, served at /{its name}: the server reads that folder to
// know which paths are the app's (routes/web.py), and a unit test holds PAGES to it.

import { isSignedIn } from "./session.js";
import { h } from "./dom.js";

export const PAGES = {
  "/generate": () => import("./pages/generate.js"),
  "/clone": () => import("./pages/clone.js"),
  "/design": () => import("./pages/design.js"),
  "/voices": () => import("./pages/voices.js"),
  "/history": () => import("./pages/history.js"),
  "/tasks": () => import("./pages/tasks.js"),
  "/account": () => import("./pages/account.js"),
  "/signin": () => import("./pages/signin.js"),
};
const PUBLIC = new Set(["/signin"]);
const SERVER_PREFIXES = ["/api/", "/auth/", "/assets/"];

/** "/voices/" -> "/voices"; "" -> "/". */
export function normalPath(pathname) {
  return pathname.replace(/\/+$/, "") || "/";
}

/**
 * What to show at `path` (normalized) for a visitor who is or is not signed in; `here` is the
 * path and query to come back to after signing in. Returns {redirect: url} or {load} (a page
 * module loader, or null when there is no such page).
 */
export function routeFor(path, { signedIn, here }) {
  if (path === "/") return { redirect: signedIn ? "/generate" : "/signin" };
  const load = PAGES[path] ?? null;
  if (load && !PUBLIC.has(path) && !signedIn) return { redirect: `/signin?next=${encodeURIComponent(here)}` };
  return { load };
}

/** Whether a click on a link to `url` (a URL) is the router's to handle, not the server's. */
export function isAppUrl(url, origin) {
  return url.origin === origin && !SERVER_PREFIXES.some((prefix) => url.pathname.startsWith(prefix));
}

let main = null;
let controller = null;
let sequence = 0;
let rendered = null; // path + query of the page on screen

export function startRouter(root) {
  main = root;
  document.addEventListener("click", onClick);
  window.addEventListener("popstate", () => {
    // Following an in-page link (#main) changes only the hash: nothing to render.
    if (location.pathname + location.search !== rendered) render();
  });
  render({ initial: true });
}

export function currentPath() {
  return normalPath(location.pathname);
}

export function navigate(url, { replace = false } = {}) {
  const target = new URL(url, location.href);
  if (target.origin !== location.origin) {
    location.assign(target.href);
    return;
  }
  const next = target.pathname + target.search + target.hash;
  if (replace) history.replaceState(null, "", next);
  else history.pushState(null, "", next);
  render();
}

/** Change the address of the page on screen without rendering it again (filters, cleanup). */
export function replaceUrl(url) {
  history.replaceState(null, "", url);
  rendered = location.pathname + location.search;
}

/** Re-render the current page (after sign-in or sign-out). */
export function reload() {
  render();
}

function onClick(event) {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target.closest("a[href]");
  if (!link || link.target || link.hasAttribute("download")) return;
  if (link.getAttribute("href").startsWith("#")) return; // in-page (the skip link)
  const url = new URL(link.href, location.href);
  if (!isAppUrl(url, location.origin)) return;
  event.preventDefault();
  navigate(url.pathname + url.search + url.hash);
}

const notFound = {
  title: "Not found",
  render(root) {
    root.append(h("h1", { tabindex: "-1" }, "Page not found"), h("p", {}, h("a", { href: "/generate" }, "Go to Generate")));
  },
};

function failed(error) {
  return {
    title: "Error",
    render(root) {
      root.append(
        h("h1", { tabindex: "-1" }, "This page could not load"),
        h("p", { class: "alert alert-error", role: "alert" }, String(error?.message || error)),
        h("p", {}, h("button", { class: "btn", type: "button", onclick: () => location.reload() }, "Reload")),
      );
    },
  };
}

async function render({ initial = false } = {}) {
  const token = ++sequence;
  rendered = location.pathname + location.search;
  controller?.abort();
  controller = new AbortController();
  const path = currentPath();
  const { redirect, load } = routeFor(path, { signedIn: isSignedIn(), here: location.pathname + location.search });
  if (redirect) return navigate(redirect, { replace: true });
  let page;
  try {
    page = load ? await load() : notFound;
  } catch (error) {
    page = failed(error);
  }
  if (token !== sequence) return; // a newer navigation won
  document.title = `${page.title} · Vocalis`;
  main.replaceChildren();
  markCurrent(path);
  const context = { params: new URLSearchParams(location.search), signal: controller.signal, navigate };
  try {
    const pending = page.render(main, context);
    if (pending?.catch) pending.catch((error) => showError(error, token));
  } catch (error) {
    showError(error, token);
  }
  if (!initial) {
    window.scrollTo(0, 0);
    (main.querySelector("h1") || main).focus({ preventScroll: true });
  }
  window.dispatchEvent(new CustomEvent("vocalis:navigated", { detail: { path } }));
}

function showError(error, token) {
  if (token !== sequence || error?.name === "AbortError") return;
  main.append(h("p", { class: "alert alert-error", role: "alert" }, error?.message || String(error)));
}

function markCurrent(path) {
  for (const link of document.querySelectorAll("#nav a")) {
    if (new URL(link.href).pathname === path) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}
