// The task dock on every page: running tasks (and ones that finished while you watched),
// with progress, cancel and a link to the result. Rows are updated in place so keyboard
// focus stays put while the polls tick.

import { h } from "./dom.js";
import { taskProgress } from "./progress.js";
import {
  cancelTask, dismiss, isTerminal, listTasks, resultHref, subscribe, taskSummary, taskTitle,
} from "./tasks.js";

const MAX_ROWS = 6;

export function mountDock(root) {
  const rows = new Map();
  const count = h("span", { class: "dock-count" });
  const toggle = h("button", { class: "dock-toggle", type: "button", "aria-expanded": "true", "aria-controls": "dock-list" }, count);
  const list = h("ul", { class: "dock-list", id: "dock-list" });
  root.replaceChildren(h("div", { class: "dock-head" }, toggle, h("a", { href: "/tasks", class: "dock-all" }, "All tasks")), list);

  function setOpen(open) {
    toggle.setAttribute("aria-expanded", String(open));
    list.hidden = !open;
  }
  toggle.addEventListener("click", () => setOpen(toggle.getAttribute("aria-expanded") !== "true"));
  // On a phone the open dock would cover the form: start it folded to its one-line header.
  setOpen(!window.matchMedia("(max-width: 640px)").matches);

  function visible() {
    return listTasks()
      .filter((task) => !isTerminal(task) || (task._finished_here && !task._dismissed))
      .slice(0, MAX_ROWS);
  }

  function row() {
    const progress = taskProgress({ compact: true });
    const title = h("p", { class: "dock-title" });
    const summary = h("p", { class: "dock-summary" });
    const actions = h("div", { class: "dock-actions" });
    const li = h("li", { class: "dock-item" }, title, summary, progress.el, actions);
    let shownState = null;
    return {
      li,
      update(next) {
        title.textContent = taskTitle(next);
        summary.textContent = taskSummary(next);
        summary.title = summary.textContent;
        progress.update(next);
        const state = isTerminal(next) ? next.status : "active";
        if (state === shownState) return;
        shownState = state;
        const label = `${taskTitle(next)}${summary.textContent ? `: ${summary.textContent.slice(0, 40)}` : ""}`;
        const buttons = [];
        if (state === "active") {
          buttons.push(h("button", {
            type: "button", class: "btn btn-small btn-danger-quiet", "aria-label": `Cancel ${label}`,
            onclick: async (event) => {
              event.currentTarget.disabled = true;
              await cancelTask(next.id).catch(() => {});
            },
          }, "Cancel"));
        } else {
          if (state === "completed" && resultHref(next)) {
            buttons.push(h("a", { href: resultHref(next), class: "btn btn-small", "aria-label": `Open result of ${label}` }, "Open"));
          }
          buttons.push(h("button", {
            type: "button", class: "btn btn-small btn-quiet", "aria-label": `Dismiss ${label}`,
            onclick: () => dismiss(next.id),
          }, "Dismiss"));
        }
        const hadFocus = actions.contains(document.activeElement);
        actions.replaceChildren(...buttons);
        if (hadFocus) buttons[0]?.focus();
      },
      destroy: () => progress.destroy(),
    };
  }

  function render() {
    const tasks = visible();
    const ids = new Set(tasks.map((t) => t.id));
    for (const [id, r] of rows) {
      if (!ids.has(id)) {
        const hadFocus = r.li.contains(document.activeElement);
        r.destroy();
        r.li.remove();
        rows.delete(id);
        if (hadFocus) toggle.focus();
      }
    }
    tasks.forEach((task, index) => {
      let r = rows.get(task.id);
      if (!r) {
        r = row();
        rows.set(task.id, r);
      }
      r.update(task);
      if (list.children[index] !== r.li) list.insertBefore(r.li, list.children[index] ?? null);
    });
    const running = tasks.filter((t) => !isTerminal(t)).length;
    count.textContent = running ? `${running} task${running === 1 ? "" : "s"} running` : "Tasks finished";
    root.hidden = tasks.length === 0 || location.pathname === "/signin";
    document.body.classList.toggle("has-dock", !root.hidden);
  }

  let queued = false;
  subscribe(() => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      render();
    });
  });
  window.addEventListener("vocalis:navigated", render);
  render();
}
