// /api/languages, fetched once: the language pickers and the engine note.

import { h } from "./dom.js";

const FALLBACK = {
  languages: ["Auto", "English", "Chinese", "Japanese", "Korean", "German", "French", "Russian", "Portuguese", "Spanish", "Italian"],
  default: "Auto",
  provider: null,
};

let cached = null;

export function loadLanguages() {
  cached ??= fetch("/api/languages", { headers: { Accept: "application/json" } })
    .then((response) => (response.ok ? response.json() : Promise.reject(new Error(String(response.status)))))
    .catch(() => {
      cached = null; // try again next time
      return FALLBACK;
    });
  return cached;
}

/** A <select> of the supported languages, filled when /api/languages answers. */
export function languageSelect(value = null) {
  const select = h("select", { name: "language" });
  const fill = (info) => {
    const chosen = value ?? select.value ?? info.default;
    select.replaceChildren(...info.languages.map((name) => h("option", { value: name }, name === "Auto" ? "Auto (detect)" : name)));
    select.value = info.languages.includes(chosen) ? chosen : info.default;
  };
  fill(FALLBACK);
  loadLanguages().then(fill);
  return {
    el: select,
    set(next) {
      value = next;
      select.value = next;
    },
  };
}

/** The honest note about the offline engine, shown where voices are made or used. */
export function engineNote() {
  const note = h("aside", { class: "note", hidden: true, "aria-label": "About the voice engine" });
  loadLanguages().then((info) => {
    if (info.provider !== "local") return;
    note.append(
      h("strong", {}, "Offline engine. "),
      "This server uses the built-in ",
      h("code", {}, "local"),
      " engine. It reproduces the kind of voice — pitch, register, brightness, loudness and pace — not the speaker's identity. A GPU worker running Qwen3-TTS clones the voice itself.",
    );
    note.hidden = false;
  });
  return note;
}
