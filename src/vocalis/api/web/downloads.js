// Downloading a generation in the format you want: WAV (the stored file), or MP3, Opus or FLAC
// encoded by the server as it streams. One small menu, used by Generate and History.

import { h } from "./dom.js";

export const DOWNLOAD_FORMATS = [
  { format: "wav", label: "WAV", about: "lossless, as rendered" },
  { format: "mp3", label: "MP3", about: "small, plays anywhere" },
  { format: "opus", label: "Opus", about: "smallest, for the web and chat apps" },
  { format: "flac", label: "FLAC", about: "lossless, compressed" },
];

/** The audio URL of a generation in a format (WAV is the plain URL: a redirect to the file). */
export function downloadHref(generationId, format) {
  const base = `/api/generations/${encodeURIComponent(generationId)}/audio`;
  return format === "wav" ? base : `${base}?format=${format}`;
}

/**
 * `<voice>-<date>.<ext>`, the name the server gives MP3, Opus and FLAC downloads
 * (transcode.download_name): the same name for WAV, whose redirect to storage names nothing.
 */
export function downloadName(voiceName, createdAt, extension) {
  const stem = String(voiceName || "speech").trim().replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "");
  const date = new Date(createdAt);
  const day = Number.isNaN(date.getTime()) ? "" : `-${date.toISOString().slice(0, 10)}`;
  return `${stem || "speech"}${day}.${extension}`;
}

/**
 * A "Download" button that opens the list of formats. `label` names the generation for
 * screen readers ("Download generation “Hello…” as MP3").
 */
export function downloadMenu({ generationId, voiceName, createdAt, label = "speech", small = false }) {
  const summary = h("summary", { class: small ? "btn btn-small" : "btn", "aria-label": `Download ${label}` }, "Download");
  const links = DOWNLOAD_FORMATS.map(({ format, label: name, about }) => h("li", {},
    h("a", {
      href: downloadHref(generationId, format),
      download: downloadName(voiceName, createdAt, format),
      "aria-label": `Download ${label} as ${name}`,
      dataset: { format },
    }, h("strong", {}, name), h("span", { class: "download-about" }, about))));
  const menu = h("details", { class: "download-menu" }, summary, h("ul", { class: "download-list" }, links));

  const close = (focusSummary) => {
    menu.open = false;
    if (focusSummary) summary.focus();
  };
  const outside = (event) => {
    if (!menu.contains(event.target)) close(false);
  };
  menu.addEventListener("toggle", () => {
    // Listen for clicks elsewhere only while open, so a closed menu holds nothing.
    if (menu.open) document.addEventListener("click", outside, true);
    else document.removeEventListener("click", outside, true);
  });
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menu.open) {
      event.preventDefault();
      close(true);
    }
  });
  // The download starts; the menu has done its job.
  menu.addEventListener("click", (event) => {
    if (event.target.closest("a")) setTimeout(() => close(false), 0);
  });
  return menu;
}
