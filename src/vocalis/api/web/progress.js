// A task's progress, as a component: status text, a bar from the task's `progress`
// (indeterminate while unknown), elapsed time and the estimate. Ticks every second while
// the task runs.

import { h, nextId } from "./dom.js";
import { clock, minutes, percent } from "./format.js";
import { elapsedSeconds, isTerminal, statusText } from "./tasks.js";

export function taskProgress({ estimateMinutes = null, compact = false } = {}) {
  const statusId = nextId("status");
  const status = h("p", { class: "progress-status", id: statusId });
  const bar = h("progress", { class: "progress-bar", max: 1, "aria-labelledby": statusId });
  const meta = h("p", { class: "progress-meta" });
  const el = h("div", { class: compact ? "task-progress compact" : "task-progress" }, status, bar, meta);
  let task = null;
  let ticker = null;

  function render() {
    if (!task) return;
    if (!el.isConnected && ticker) {
      clearInterval(ticker);
      ticker = null;
    }
    const text = statusText(task);
    if (status.textContent !== text) status.textContent = text;
    el.dataset.status = task.status;
    if (task.status === "completed") bar.value = 1;
    else if (typeof task.progress === "number") bar.value = Math.max(0, Math.min(1, task.progress));
    else bar.removeAttribute("value"); // indeterminate
    bar.hidden = isTerminal(task); // the status line says how it ended
    bar.setAttribute("aria-valuetext", typeof task.progress === "number" ? percent(task.progress) : "In progress");
    const estimate = estimateMinutes ?? task.metadata?.estimated_duration_minutes ?? null;
    const parts = [`Elapsed ${clock(elapsedSeconds(task))}`];
    if (estimate !== null && !isTerminal(task)) parts.push(`estimate ${minutes(estimate)}`);
    meta.textContent = parts.join(" · ");
  }

  return {
    el,
    update(next) {
      task = next;
      render();
      if (!isTerminal(task) && !ticker) ticker = setInterval(render, 1000);
      if (isTerminal(task) && ticker) {
        clearInterval(ticker);
        ticker = null;
      }
    },
    destroy() {
      clearInterval(ticker);
      ticker = null;
    },
  };
}
