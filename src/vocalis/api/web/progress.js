// A task's progress, as a component: status text, a bar from the task's `progress` (which moves
// per finished segment; indeterminate while unknown), the elapsed time, the audio ready so far
// and the time left as the server measures it. Ticks every second while the task runs, counting
// the last answer's time left down between polls.

import { h, nextId } from "./dom.js";
import { percent } from "./format.js";
import { barProgress, isTerminal, progressMeta, statusText } from "./task_text.js";

export function taskProgress({ compact = false } = {}) {
  const statusId = nextId("status");
  const status = h("p", { class: "progress-status", id: statusId });
  const bar = h("progress", { class: "progress-bar", max: 1, "aria-labelledby": statusId });
  const meta = h("p", { class: "progress-meta" });
  const el = h("div", { class: compact ? "task-progress compact" : "task-progress" }, status, bar, meta);
  let task = null;
  let shown = null; // the bar's share for this task so far: it never moves back
  let seenAt = 0; // when this answer arrived (performance.now(), ms)
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
    shown = barProgress(task, shown);
    if (shown === null) bar.removeAttribute("value"); // indeterminate
    else bar.value = shown;
    bar.hidden = isTerminal(task); // the status line says how it ended
    bar.setAttribute("aria-valuetext", shown === null ? "In progress" : percent(shown));
    meta.textContent = progressMeta(task, { sinceSeen: (performance.now() - seenAt) / 1000 });
  }

  return {
    el,
    update(next) {
      if (next !== task) seenAt = performance.now(); // every poll's answer is a new object
      if (next?.id !== task?.id) shown = null;
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
