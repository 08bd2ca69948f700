// History: every generation, searchable and filterable; play, download (WAV, MP3, Opus or
// FLAC), regenerate, delete.
// While anything runs, the list refreshes itself; rows that did not change are left alone,
// so a playing clip or a focused button survives the refresh.

import { api } from "../api.js";
import { confirmDialog } from "../dialog.js";
import { announce, debounce, h, nextId } from "../dom.js";
import { downloadMenu } from "../downloads.js";
import { duration, fullDate, when } from "../format.js";
import { lazyPlayer, pager, skeleton, urlState } from "../listing.js";
import { activeTasks, isTerminal, statusText, subscribe } from "../tasks.js";

export const title = "History";

const PER_PAGE = 10;
const REFRESH_MS = 3000;
const STATUS_LABELS = { completed: "Completed", processing: "Processing", pending: "Pending", failed: "Failed", cancelled: "Cancelled" };

export function render(root, { signal, navigate }) {
  const { state, save } = urlState({ search: "", status: "", page: 1 });
  const searchId = nextId("search");
  const search = h("input", { type: "search", id: searchId, value: state.search, placeholder: "Text or voice name", autocomplete: "off" });
  const statusId = nextId("status");
  const statusFilter = h("select", { id: statusId }, h("option", { value: "" }, "Any status"),
    Object.entries(STATUS_LABELS).map(([value, label]) => h("option", { value }, label)));
  statusFilter.value = state.status;
  const toolbar = h("div", { class: "toolbar", role: "search" },
    h("div", { class: "toolbar-field grow" }, h("label", { for: searchId }, "Search history"), search),
    h("div", { class: "toolbar-field" }, h("label", { for: statusId }, "Status"), statusFilter));
  const status = h("p", { class: "sr-only", role: "status" });
  const list = h("ul", { class: "items", "aria-label": "Generations", tabindex: "-1" });
  const pages = pager({ label: "History pages", onPage: (page) => { state.page = page; load({ fresh: true }); list.focus(); } });
  const rows = new Map(); // id -> {el, signature}
  let controller = null;
  let timer = null;
  let anyRunning = false;

  function taskFor(generation) {
    return activeTasks().find((t) => t.generation_id === generation.id) ?? null;
  }

  function row(g) {
    const label = `generation “${g.text.slice(0, 40)}${g.text.length > 40 ? "…" : ""}”`;
    const actions = [];
    if (g.status === "completed" && g.audio_path) {
      actions.push(lazyPlayer(g.audio_path, label));
      actions.push(downloadMenu({ generationId: g.id, voiceName: g.voice_name, createdAt: g.created_at, label, small: true }));
    }
    const regen = h("button", { type: "button", class: "btn btn-small", "aria-label": `Regenerate ${label}` }, "Regenerate");
    regen.addEventListener("click", async () => {
      regen.disabled = true;
      try {
        const link = await api(`/api/generations/${encodeURIComponent(g.id)}/regenerate`, { method: "POST" });
        navigate(link.redirect_url);
      } catch (error) {
        regen.disabled = false;
        el.append(h("p", { class: "alert alert-error", role: "alert" }, error.message));
      }
    });
    actions.push(regen);
    const del = h("button", { type: "button", class: "btn btn-small btn-danger-quiet", "aria-label": `Delete ${label}` }, "Delete");
    del.addEventListener("click", async () => {
      const running = !["completed", "failed", "cancelled"].includes(g.status);
      const ok = await confirmDialog({
        title: "Delete this generation?",
        message: running ? "It is still running: it will be cancelled, and nothing will be kept." : "The audio is deleted for good.",
        confirmLabel: "Delete",
      });
      if (!ok) return;
      del.disabled = true;
      try {
        await api(`/api/generations/${encodeURIComponent(g.id)}`, { method: "DELETE" });
        announce("Generation deleted.");
        await load({ fresh: true });
        list.focus();
      } catch (error) {
        del.disabled = false;
        el.append(h("p", { class: "alert alert-error", role: "alert" }, `Could not delete: ${error.message}`));
      }
    });
    actions.push(del);

    const task = taskFor(g);
    const running = g.status === "pending" || g.status === "processing";
    const meta = [
      g.voice_name ? `Voice: ${g.voice_name}` : "Voice deleted",
      g.language,
      g.duration_seconds ? `${duration(g.duration_seconds)} of audio` : null,
      g.generation_time_seconds ? `made in ${duration(g.generation_time_seconds)}` : null,
    ].filter(Boolean).join(" · ");
    const el = h("li", { class: "card item", dataset: { generationId: g.id, status: g.status } },
      h("div", { class: "item-head" },
        h("span", { class: `tag status-${g.status}` }, STATUS_LABELS[g.status] ?? g.status),
        h("time", { class: "item-when", datetime: g.created_at, title: fullDate(g.created_at) }, when(g.created_at))),
      h("p", { class: "item-text clamp" }, g.text),
      h("p", { class: "item-meta" }, meta),
      running ? h("p", { class: "item-progress" }, task ? statusText(task) : "In progress", " · ", h("a", { href: "/tasks" }, "Tasks")) : null,
      g.status === "failed" && g.error_message ? h("p", { class: "alert alert-error" }, g.error_message) : null,
      h("div", { class: "item-actions" }, actions));
    return el;
  }

  function signature(g) {
    const task = taskFor(g);
    return JSON.stringify([g.status, g.audio_path, g.error_message, g.voice_name, task ? statusText(task) : null, when(g.created_at)]);
  }

  function paint(generations) {
    const keep = new Set(generations.map((g) => g.id));
    for (const [id, r] of rows) if (!keep.has(id)) { r.el.remove(); rows.delete(id); }
    list.querySelectorAll(":scope > :not([data-generation-id])").forEach((el) => el.remove());
    generations.forEach((g, index) => {
      const sig = signature(g);
      let r = rows.get(g.id);
      if (!r || r.signature !== sig) {
        const fresh = { el: row(g), signature: sig };
        const hadFocus = r?.el.contains(document.activeElement);
        if (r) r.el.replaceWith(fresh.el);
        if (hadFocus) fresh.el.querySelector("button, a")?.focus();
        rows.set(g.id, fresh);
        r = fresh;
      }
      if (list.children[index] !== r.el) list.insertBefore(r.el, list.children[index] ?? null);
    });
  }

  async function load({ fresh = false } = {}) {
    save();
    clearTimeout(timer);
    controller?.abort();
    controller = new AbortController();
    const mine = controller;
    if (fresh) {
      rows.clear();
      list.setAttribute("aria-busy", "true");
      list.replaceChildren(...skeleton(3));
    }
    try {
      const data = await api("/api/generations", { query: { page: state.page, per_page: PER_PAGE, search: state.search.trim(), status: state.status }, signal: mine.signal });
      if (mine !== controller || signal.aborted) return;
      if (!data.generations.length && state.page > 1 && data.pagination.total > 0) {
        state.page = data.pagination.pages;
        return load({ fresh: true });
      }
      paint(data.generations);
      pages.update(data.pagination);
      if (!data.generations.length) list.append(emptyState());
      if (fresh) status.textContent = data.pagination.total ? `${data.pagination.total} generation${data.pagination.total === 1 ? "" : "s"}.` : "No generations found.";
      anyRunning = data.generations.some((g) => g.status === "pending" || g.status === "processing");
    } catch (error) {
      if (error.name === "AbortError" || mine !== controller) return;
      if (fresh || !rows.size) list.replaceChildren(h("li", { class: "alert alert-error", role: "alert" }, `Could not load history: ${error.message}`));
    } finally {
      if (mine === controller) list.setAttribute("aria-busy", "false");
    }
    if (mine === controller && !signal.aborted && (anyRunning || activeTasks().some((t) => t.type === "generate"))) {
      timer = setTimeout(() => load(), REFRESH_MS);
    }
  }

  function emptyState() {
    if (state.search.trim() || state.status) {
      return h("li", { class: "card empty" }, h("p", {}, "Nothing matches this search."),
        h("button", { type: "button", class: "btn", onclick: () => { search.value = ""; statusFilter.value = ""; state.search = ""; state.status = ""; state.page = 1; load({ fresh: true }); search.focus(); } }, "Clear search and filter"));
    }
    return h("li", { class: "card empty" }, h("h2", {}, "Nothing generated yet"), h("p", {}, "Speech you generate appears here, ready to play again or download."),
      h("a", { class: "btn btn-primary", href: "/generate" }, "Generate speech"));
  }

  const searchNow = debounce(() => { state.search = search.value; state.page = 1; load({ fresh: true }); }, 300);
  search.addEventListener("input", searchNow);
  statusFilter.addEventListener("change", () => { state.status = statusFilter.value; state.page = 1; load({ fresh: true }); });
  const seen = new Map(); // task id -> was it terminal when last seen
  const unsubscribe = subscribe((task) => {
    // A generation just started or finished somewhere: show it now rather than at the next tick.
    if (task?.type !== "generate" || seen.get(task.id) === isTerminal(task)) return;
    const first = !seen.has(task.id);
    seen.set(task.id, isTerminal(task));
    if (!first || !isTerminal(task)) {
      clearTimeout(timer);
      timer = setTimeout(() => load(), 300);
    }
  });
  signal.addEventListener("abort", () => { searchNow.cancel(); controller?.abort(); clearTimeout(timer); unsubscribe(); });

  root.append(
    h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, "History"),
      h("div", { class: "page-actions" }, h("a", { class: "btn btn-primary", href: "/generate" }, "Generate speech"))),
    toolbar, status, list, pages.el,
  );
  load({ fresh: true });
}
