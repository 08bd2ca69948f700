// Pieces shared by the paged lists (voices, history): the pager, the loading skeleton, and
// list state kept in the URL so back, forward and reload land on the same page.

import { h } from "./dom.js";
import { replaceUrl } from "./router.js";

export function pager({ label, onPage }) {
  const previous = h("button", { type: "button", class: "btn btn-small" }, "← Previous");
  const next = h("button", { type: "button", class: "btn btn-small" }, "Next →");
  const where = h("span", { class: "pager-where" });
  const el = h("nav", { class: "pager", "aria-label": label, hidden: true }, previous, where, next);
  let page = 1;
  previous.addEventListener("click", () => onPage(page - 1));
  next.addEventListener("click", () => onPage(page + 1));
  return {
    el,
    update(pagination) {
      page = pagination.page;
      const pages = Math.max(1, pagination.pages);
      el.hidden = pages <= 1;
      where.textContent = `Page ${page} of ${pages} · ${pagination.total} in all`;
      previous.disabled = page <= 1;
      next.disabled = page >= pages;
    },
  };
}

export function skeleton(rows = 3) {
  return Array.from({ length: rows }, () => h("li", { class: "card item skeleton", "aria-hidden": "true" },
    h("div", { class: "skeleton-line wide" }), h("div", { class: "skeleton-line" }), h("div", { class: "skeleton-line short" })));
}

/**
 * List filters from a query string: each key of `defaults` (a string, or a number: a page,
 * a whole number from 1 up), falling back to its default.
 */
export function readListState(search, defaults) {
  const params = new URLSearchParams(search);
  const state = {};
  for (const [key, value] of Object.entries(defaults)) {
    const raw = params.get(key);
    state[key] = raw === null ? value : typeof value === "number" ? wholeNumber(raw, value) : raw;
  }
  return state;
}

function wholeNumber(raw, fallback) {
  const n = Math.floor(Number(raw));
  return Number.isFinite(n) && n >= 1 ? n : fallback;
}

/** The query string for list filters: only what differs from the defaults ("" when none). */
export function listQuery(state, defaults) {
  const out = new URLSearchParams();
  for (const [key, value] of Object.entries(state)) if (value !== defaults[key] && value !== "") out.set(key, value);
  const query = out.toString();
  return query ? `?${query}` : "";
}

/** Read and write list filters in the query string (replaceState: filters are not history). */
export function urlState(defaults) {
  const state = readListState(location.search, defaults);
  return {
    state,
    save() {
      replaceUrl(`${location.pathname}${listQuery(state, defaults)}`);
    },
  };
}

/** A play button that turns into a native player on first use (no audio loads until asked). */
export function lazyPlayer(url, label) {
  const button = h("button", { type: "button", class: "btn btn-small", "aria-label": `Play ${label}` }, "▶ Play");
  const slot = h("div", { class: "lazy-player" }, button);
  button.addEventListener("click", () => {
    const audio = h("audio", { controls: true, preload: "auto", src: url, "aria-label": label });
    audio.addEventListener("error", () => {
      slot.append(h("span", { class: "field-error", role: "alert" }, "Could not load this audio."));
    }, { once: true });
    slot.replaceChildren(audio);
    audio.play().catch(() => {});
    audio.focus();
  });
  return slot;
}
