// Voices: search, filter by source, page through, preview, generate, delete.

import { api } from "../api.js";
import { confirmDialog } from "../dialog.js";
import { announce, debounce, h, nextId } from "../dom.js";
import { duration, fullDate, when } from "../format.js";
import { lazyPlayer, pager, skeleton, urlState } from "../listing.js";
import { warningList } from "../reference_warnings.js";

export const title = "Voices";

const PER_PAGE = 12;

export function render(root, { signal }) {
  const { state, save } = urlState({ search: "", source: "", page: 1 });
  const searchId = nextId("search");
  const search = h("input", { type: "search", id: searchId, value: state.search, placeholder: "Name, transcript or description", autocomplete: "off" });
  const sourceId = nextId("source");
  const source = h("select", { id: sourceId },
    h("option", { value: "" }, "All voices"),
    h("option", { value: "uploaded" }, "Cloned from a recording"),
    h("option", { value: "designed" }, "Designed from a description"));
  source.value = state.source;
  const toolbar = h("div", { class: "toolbar", role: "search" },
    h("div", { class: "toolbar-field grow" }, h("label", { for: searchId }, "Search voices"), search),
    h("div", { class: "toolbar-field" }, h("label", { for: sourceId }, "Source"), source));
  const status = h("p", { class: "sr-only", role: "status" });
  const list = h("ul", { class: "items", "aria-label": "Your voices" });
  const pages = pager({ label: "Voice pages", onPage: (page) => { state.page = page; load(); list.focus(); } });
  list.tabIndex = -1;
  let controller = null;

  function card(voice) {
    const label = `voice ${voice.name}`;
    const del = h("button", { type: "button", class: "btn btn-small btn-danger-quiet", "aria-label": `Delete ${label}` }, "Delete");
    del.addEventListener("click", async () => {
      const ok = await confirmDialog({
        title: `Delete “${voice.name}”?`,
        message: "Its reference recording is deleted too. Speech you already generated with it stays in your history.",
        confirmLabel: "Delete voice",
      });
      if (!ok) return;
      del.disabled = true;
      try {
        await api(`/api/voices/${encodeURIComponent(voice.id)}`, { method: "DELETE" });
        announce(`Deleted ${voice.name}.`);
        if (list.children.length === 1 && state.page > 1) state.page -= 1;
        await load();
        list.focus();
      } catch (error) {
        del.disabled = false;
        status.textContent = error.message;
        item.append(h("p", { class: "alert alert-error", role: "alert" }, `Could not delete: ${error.message}`));
      }
    });
    const about = voice.description && voice.description !== voice.reference_transcript ? voice.description : null;
    const item = h("li", { class: "card item", dataset: { voiceId: voice.id } },
      h("div", { class: "item-head" },
        h("h2", { class: "item-title" }, voice.name),
        h("span", { class: `tag tag-${voice.source}` }, voice.source === "designed" ? "Designed" : "Cloned"),
        h("span", { class: "tag" }, voice.language)),
      about ? h("p", { class: "item-about" }, about) : null,
      voice.reference_transcript ? h("p", { class: "item-text" }, h("span", { class: "muted" }, "Says: "), `“${voice.reference_transcript}”`) : null,
      h("p", { class: "item-meta" }, `${duration(voice.duration_seconds)} reference · added `, h("time", { datetime: voice.created_at, title: fullDate(voice.created_at) }, when(voice.created_at))),
      warningList(voice.warnings, { label: `Advice about the reference of ${voice.name}` }),
      h("div", { class: "item-actions" },
        lazyPlayer(voice.preview_url || `/api/voices/${voice.id}/preview`, `reference of ${voice.name}`),
        h("a", { class: "btn btn-small btn-primary", href: `/generate?voice=${encodeURIComponent(voice.id)}`, "aria-label": `Generate with ${label}` }, "Generate"),
        del));
    return item;
  }

  async function load() {
    save();
    controller?.abort();
    controller = new AbortController();
    const mine = controller;
    list.setAttribute("aria-busy", "true");
    list.replaceChildren(...skeleton(3));
    status.textContent = "Loading voices…";
    try {
      const data = await api("/api/voices", { query: { page: state.page, per_page: PER_PAGE, search: state.search.trim(), source: state.source }, signal: mine.signal });
      if (mine !== controller || signal.aborted) return;
      if (!data.voices.length && state.page > 1 && data.pagination.total > 0) {
        state.page = data.pagination.pages;
        return load();
      }
      list.replaceChildren(...data.voices.map(card));
      pages.update(data.pagination);
      if (!data.voices.length) list.append(emptyState());
      status.textContent = data.pagination.total ? `${data.pagination.total} voice${data.pagination.total === 1 ? "" : "s"} found.` : "No voices found.";
    } catch (error) {
      if (error.name === "AbortError" || mine !== controller) return;
      list.replaceChildren(h("li", { class: "alert alert-error", role: "alert" }, `Could not load voices: ${error.message}`));
    } finally {
      if (mine === controller) list.setAttribute("aria-busy", "false");
    }
  }

  function emptyState() {
    if (state.search.trim() || state.source) {
      return h("li", { class: "card empty" }, h("p", {}, state.search.trim() ? `No voices match “${state.search.trim()}”.` : "No voices of this kind yet."),
        h("button", { type: "button", class: "btn", onclick: () => { search.value = ""; source.value = ""; state.search = ""; state.source = ""; state.page = 1; load(); search.focus(); } }, "Clear search and filter"));
    }
    return h("li", { class: "card empty" },
      h("h2", {}, "No voices yet"),
      h("p", {}, "Clone a voice from a short recording, or design one from a description."),
      h("div", { class: "form-actions" }, h("a", { class: "btn btn-primary", href: "/clone" }, "Clone a voice"), h("a", { class: "btn", href: "/design" }, "Design a voice")));
  }

  const searchNow = debounce(() => { state.search = search.value; state.page = 1; load(); }, 300);
  search.addEventListener("input", searchNow);
  source.addEventListener("change", () => { state.source = source.value; state.page = 1; load(); });
  signal.addEventListener("abort", () => { searchNow.cancel(); controller?.abort(); });

  root.append(
    h("div", { class: "page-head" },
      h("h1", { tabindex: "-1" }, "Your voices"),
      h("div", { class: "page-actions" }, h("a", { class: "btn btn-primary", href: "/clone" }, "Clone a voice"), h("a", { class: "btn", href: "/design" }, "Design a voice"))),
    toolbar, status, list, pages.el,
  );
  load();
}
