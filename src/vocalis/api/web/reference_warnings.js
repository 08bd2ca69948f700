// A voice's reference checks ([{code, message}] from the worker), shown as advice beside the
// result and on the voice's card: never an error, never blocking.

import { h } from "./dom.js";

/** A list of the warnings' messages, or null when there are none. */
export function warningList(warnings, { label = "About the recording" } = {}) {
  if (!Array.isArray(warnings) || !warnings.length) return null;
  return h("ul", { class: "warnings", "aria-label": label },
    warnings.map((warning) => h("li", { class: "field-warning", dataset: { code: warning.code } }, warning.message)));
}
