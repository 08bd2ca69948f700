// /api/languages, fetched once: the language pickers and the engine note.

import { h } from "./dom.js";

const FALLBACK = {
  languages: ["Auto", "English", "Chinese", "Japanese", "Korean", "German", "French", "Russian", "Portuguese", "Spanish", "Italian"],
  default: "Auto",
  provider: null,
  bases: {},
};

// What each of the local engine's synthesisers is, in words a listener would use. "auto" is the
// worker's default for the language (docs/engines.md: chosen by measurement).
const BASE_LABELS = {
  kokoro: "Natural: Kokoro neural voice",
  espeak: "Robotic: espeak, fastest",
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

/**
 * A <select> of the worker's synthesisers (the local engine's bases), hidden unless the worker
 * offers a choice. "auto" leaves it to the server: its default for the language.
 */
export function baseSelect(value = "auto") {
  const select = h("select", { name: "base" });
  const hint = h("p", { class: "field-hint", id: "base-hint" });
  const fill = (info) => {
    const bases = info.bases ?? {};
    const names = Object.keys(bases).filter((name) => name in BASE_LABELS);
    const options = [h("option", { value: "auto" }, "Automatic: the server's default for the language")];
    for (const name of names) {
      options.push(h("option", { value: name }, `${BASE_LABELS[name]} (${describe(bases[name], info.languages)})`));
    }
    select.replaceChildren(...options);
    select.value = value === "auto" || names.includes(value) ? value : "auto";
    hint.textContent = names.includes("kokoro")
      ? "Kokoro sounds natural but its voices are Japanese speakers, so other languages carry an accent; the first use of a voice takes about a minute to fit it. espeak speaks every language, robotically."
      : "";
  };
  fill(FALLBACK);
  const ready = loadLanguages().then(fill);
  return {
    el: select,
    hint,
    ready,
    offersChoice: () => select.options.length > 2,
    set(next) {
      value = next;
      select.value = next;
    },
  };
}

function describe(spoken, all) {
  const everyLanguage = all.filter((name) => name !== "Auto").every((name) => spoken.includes(name));
  return everyLanguage ? "every language" : spoken.join(", ");
}
