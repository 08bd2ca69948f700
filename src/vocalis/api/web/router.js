// A history.pushState router: same-origin links navigate without a reload, each path loads
// its page module on demand, and pages get an AbortSignal that fires when you leave them.

import { isSignedIn } from "./session.js";
import { h } from "./dom.js";

const PAGES = {
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
  return location.pathname.replace(/\/+$/, "") || "/";
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
  if (url.origin !== location.origin) return;
  if (SERVER_PREFIXES.some((prefix) => url.pathname.startsWith(prefix))) return;
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
  if (path === "/") return navigate(isSignedIn() ? "/generate" : "/signin", { replace: true });
  const load = PAGES[path];
  if (load && !PUBLIC.has(path) && !isSignedIn()) {
    return navigate(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
  }
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
