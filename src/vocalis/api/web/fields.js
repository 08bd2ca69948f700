// Labelled form fields with hints, character counters and server errors shown beside them.

import { announce, h, nextId } from "./dom.js";
import { count } from "./format.js";

/**
 * field({label, control, hint, optional, extra}) -> {el, control, setError(msg), clearError()}
 * `control` is an <input>, <select> or <textarea>; it gets an id, and aria-describedby
 * pointing at the hint, any extra description (a counter) and the error.
 */
export function field({ label, control, hint = null, optional = false, extra = null }) {
  control.id ||= nextId("field");
  const described = [];
  const hintEl = hint ? h("p", { class: "field-hint", id: nextId("hint") }, hint) : null;
  if (hintEl) described.push(hintEl.id);
  if (extra?.id) described.push(extra.id);
  const error = h("p", { class: "field-error", id: nextId("error"), hidden: true });
  described.push(error.id);
  control.setAttribute("aria-describedby", described.join(" "));
  const labelEl = h("label", { for: control.id, class: "field-label" }, label, optional ? h("span", { class: "optional" }, " (optional)") : null);
  const el = h("div", { class: "field" }, labelEl, hintEl, control, extra, error);
  const clearError = () => {
    error.hidden = true;
    error.textContent = "";
    control.removeAttribute("aria-invalid");
    el.classList.remove("has-error");
  };
  control.addEventListener("input", clearError);
  control.addEventListener("change", clearError);
  return {
    el,
    control,
    setError(message) {
      error.textContent = message;
      error.hidden = false;
      control.setAttribute("aria-invalid", "true");
      el.classList.add("has-error");
    },
    clearError,
  };
}

/** A live "123 / 10,000" counter for a text control; `onChange(over)` when the limit is crossed. */
export function charCounter(control, max, { onChange } = {}) {
  const el = h("p", { class: "counter", id: nextId("counter") });
  let wasOver = false;
  const update = () => {
    const length = control.value.length;
    const over = length > max;
    el.textContent = over
      ? `${count(length)} / ${count(max)} characters — ${count(length - max)} over the limit`
      : `${count(length)} / ${count(max)} characters`;
    el.classList.toggle("over", over);
    el.classList.toggle("near", !over && length > max * 0.9);
    if (over !== wasOver) {
      announce(over ? `Text is over the ${count(max)} character limit.` : "Text is within the limit.");
      wasOver = over;
      onChange?.(over);
    }
  };
  control.addEventListener("input", update);
  update();
  return { el, update, isOver: () => control.value.length > max };
}

/** A message area above a form (role=alert so it is read out when it appears). */
export function formAlert() {
  const el = h("div", { class: "alert alert-error", role: "alert", hidden: true });
  return {
    el,
    show(message) {
      el.textContent = message;
      el.hidden = false;
    },
    clear() {
      el.hidden = true;
      el.textContent = "";
    },
  };
}

/**
 * Put a server error next to the field it is about, by the words it uses; returns the field
 * it went to, or null when it belongs above the form. `rules` maps a field to a RegExp.
 */
export function placeError(message, rules) {
  for (const [target, pattern] of rules) {
    if (pattern.test(message)) {
      target.setError(message);
      target.control.focus();
      return target;
    }
  }
  return null;
}
