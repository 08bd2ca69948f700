// Tasks: the job feed from GET /api/tasks — every running and recent task, live progress for
// the running ones (the shared poller), cancel, links to results.

import { api } from "../api.js";
import { confirmDialog } from "../dialog.js";
import { announce, h, nextId } from "../dom.js";
import { fullDate, when } from "../format.js";
import { skeleton } from "../listing.js";
import { taskProgress } from "../progress.js";
import {
  cancelTask, deleteTask, getTask, isTerminal, resultHref, subscribe, taskSummary, taskTitle, track,
} from "../tasks.js";
import { replaceUrl } from "../router.js";

export const title = "Tasks";

const LIMIT = 20;
const FILTERS = [["all", "All"], ["active", "Running"], ["terminal", "Finished"]];

export function render(root, { params, signal }) {
  let filter = FILTERS.some(([value]) => value === params.get("status")) ? params.get("status") : "all";
  let nextBefore = null;
  let controller = null;
  const rows = new Map();
  const list = h("ul", { class: "items", "aria-label": "Tasks", tabindex: "-1" });
  const status = h("p", { class: "sr-only", role: "status" });
  const more = h("button", { type: "button", class: "btn", hidden: true }, "Load older tasks");

  const name = nextId("filter");
  const radios = FILTERS.map(([value, label]) => {
    const input = h("input", { type: "radio", name, value, id: nextId("filter"), checked: value === filter });
    input.addEventListener("change", () => {
      filter = value;
      replaceUrl(value === "all" ? "/tasks" : `/tasks?status=${value}`);
      load({ append: false });
    });
    return [input, h("label", { for: input.id }, label)];
  });
  const filters = h("fieldset", { class: "filters" }, h("legend", { class: "sr-only" }, "Show"), h("div", { class: "segmented" }, radios));

  function row() {
    const progress = taskProgress();
    const titleEl = h("h2", { class: "item-title" });
    const tag = h("span", { class: "tag" });
    const whenEl = h("time", { class: "item-when" });
    const summary = h("p", { class: "item-text clamp" });
    const actions = h("div", { class: "item-actions" });
    const el = h("li", { class: "card item task-item" }, h("div", { class: "item-head" }, titleEl, tag, whenEl), summary, progress.el, actions);
    let shown = null;
    return {
      el,
      update(task) {
        el.dataset.taskId = task.id;
        el.dataset.status = task.status;
        titleEl.textContent = taskTitle(task);
        tag.textContent = task.status.charAt(0).toUpperCase() + task.status.slice(1);
        tag.className = `tag status-${task.status}`;
        whenEl.dateTime = task.created_at || "";
        whenEl.title = fullDate(task.created_at);
        whenEl.textContent = `Started ${when(task.created_at)}`;
        summary.textContent = taskSummary(task);
        progress.update(task);
        const state = isTerminal(task) ? task.status : "active";
        if (state === shown) return;
        shown = state;
        const label = `${taskTitle(task)} started ${when(task.created_at)}`;
        const buttons = [];
        if (state === "active") {
          const cancel = h("button", { type: "button", class: "btn btn-small btn-danger-quiet", "aria-label": `Cancel ${label}` }, "Cancel");
          cancel.addEventListener("click", async () => {
            cancel.disabled = true;
            try {
              await cancelTask(task.id);
              announce("Task cancelled.");
            } catch (error) {
              cancel.disabled = false;
              el.append(h("p", { class: "alert alert-error", role: "alert" }, error.message));
            }
          });
          buttons.push(cancel);
        } else {
          if (state === "completed" && resultHref(task)) {
            buttons.push(h("a", { class: "btn btn-small btn-primary", href: resultHref(task), "aria-label": `Open result of ${label}` },
              task.type === "design_preview" ? "Open preview" : task.type === "transcribe" ? "Open voice" : "Open audio"));
          }
          const remove = h("button", { type: "button", class: "btn btn-small btn-quiet", "aria-label": `Remove ${label} from the list` }, "Remove");
          remove.addEventListener("click", async () => {
            const ok = await confirmDialog({
              title: "Remove this task?",
              message: "Only the task record goes; generated audio stays in your history.",
              confirmLabel: "Remove",
            });
            if (!ok) return;
            try {
              await deleteTask(task.id);
              drop(task.id);
              announce("Task removed.");
              list.focus();
            } catch (error) {
              el.append(h("p", { class: "alert alert-error", role: "alert" }, error.message));
            }
          });
          buttons.push(remove);
        }
        const hadFocus = actions.contains(document.activeElement);
        actions.replaceChildren(...buttons);
        if (hadFocus) buttons[0]?.focus();
      },
      destroy: () => progress.destroy(),
    };
  }

  function drop(id) {
    const r = rows.get(id);
    if (!r) return;
    r.destroy();
    r.el.remove();
    rows.delete(id);
    if (!rows.size) list.replaceChildren(emptyState());
  }

  function show(task, { atTop = false } = {}) {
    // The poller's copy is fresher than the feed's for tasks it follows.
    const latest = getTask(task.id) ?? task;
    let r = rows.get(task.id);
    if (!r) {
      r = row();
      rows.set(task.id, r);
      list.querySelector(".empty")?.remove();
      if (atTop) list.prepend(r.el);
      else list.append(r.el);
    }
    r.update(latest);
  }

  function emptyState() {
    const text = filter === "active" ? "Nothing is running right now." : filter === "terminal" ? "No finished tasks yet." : "No tasks yet. Generating speech or a design preview starts one.";
    return h("li", { class: "card empty" }, h("p", {}, text), h("a", { class: "btn btn-primary", href: "/generate" }, "Generate speech"));
  }

  async function load({ append }) {
    controller?.abort();
    controller = new AbortController();
    const mine = controller;
    if (!append) {
      for (const r of rows.values()) r.destroy();
      rows.clear();
      nextBefore = null;
      list.setAttribute("aria-busy", "true");
      list.replaceChildren(...skeleton(3));
    }
    more.disabled = true;
    try {
      const data = await api("/api/tasks", { query: { status: filter, limit: LIMIT, before: append ? nextBefore : null }, signal: mine.signal });
      if (mine !== controller || signal.aborted) return;
      if (!append) {
        // Rows the poller added while we waited are rebuilt in feed order.
        for (const r of rows.values()) r.destroy();
        rows.clear();
        list.replaceChildren();
      }
      for (const task of data.tasks) {
        if (!isTerminal(task)) track(task, { broadcast: false }); // make sure it is being polled
        show(task);
      }
      nextBefore = data.next_before;
      more.hidden = !nextBefore;
      if (!rows.size) list.replaceChildren(emptyState());
      status.textContent = `${rows.size} task${rows.size === 1 ? "" : "s"} shown.`;
    } catch (error) {
      if (error.name === "AbortError" || mine !== controller) return;
      list.append(h("li", { class: "alert alert-error", role: "alert" }, `Could not load tasks: ${error.message}`));
    } finally {
      if (mine === controller) {
        list.setAttribute("aria-busy", "false");
        more.disabled = false;
      }
    }
  }

  more.addEventListener("click", () => load({ append: true }));
  const unsubscribe = subscribe((task) => {
    if (!task) return;
    if (task._removed) return drop(task.id);
    if (rows.has(task.id)) return show(task);
    // A task started elsewhere (another page, another tab): put it on top.
    if (filter !== "terminal" && !isTerminal(task) && task.created_at) show(task, { atTop: true });
  });
  signal.addEventListener("abort", () => {
    unsubscribe();
    controller?.abort();
    for (const r of rows.values()) r.destroy();
  });

  root.append(
    h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, "Tasks")),
    h("p", { class: "lede" }, "Everything Vocalis is working on for you, and what it finished recently. Running tasks update every second."),
    filters, status, list, h("div", { class: "form-actions center" }, more),
  );
  load({ append: false });
}
