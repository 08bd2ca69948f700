// A finished recording: its waveform (drawn from the decoded audio), a native player that
// streams from the cookie-authorised URL, and a download link.

import { fetchMedia } from "./api.js";
import { h } from "./dom.js";

const MAX_WAVEFORM_BYTES = 80 * 1024 * 1024; // past this, skip the picture rather than the page

export function waveformPlayer(url, { label = "Generated speech", filename = "vocalis.wav", signal } = {}) {
  const canvas = h("canvas", { class: "waveform", role: "img", "aria-label": `Waveform of ${label}` });
  const audio = h("audio", { controls: true, preload: "metadata", src: url, "aria-label": label });
  const download = h("a", { class: "btn", href: url, download: filename }, "Download WAV");
  const el = h("div", { class: "player" }, canvas, audio, h("div", { class: "player-actions" }, download));
  let peaks = null;
  let frame = 0;

  function draw() {
    const width = canvas.clientWidth || 600;
    const height = canvas.clientHeight || 72;
    const ratio = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
    if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const styles = getComputedStyle(canvas);
    const played = styles.getPropertyValue("--wave-played").trim() || "#4338ca";
    const rest = styles.getPropertyValue("--wave-rest").trim() || "#a5b4fc";
    const bars = Math.max(16, Math.floor(width / 3));
    const position = audio.duration ? audio.currentTime / audio.duration : 0;
    for (let i = 0; i < bars; i += 1) {
      const value = peaks ? peaks[Math.floor((i / bars) * peaks.length)] : 0.04;
      const bar = Math.max(2, value * (height - 4));
      ctx.fillStyle = i / bars < position ? played : rest;
      ctx.fillRect(i * 3, (height - bar) / 2, 2, bar);
    }
  }

  function animate() {
    draw();
    if (!audio.paused) frame = requestAnimationFrame(animate);
  }

  audio.addEventListener("play", () => {
    cancelAnimationFrame(frame);
    animate();
  });
  audio.addEventListener("error", () => {
    if (el.querySelector(".alert")) return;
    el.append(h("p", { class: "alert alert-error", role: "alert" },
      "This audio could not be loaded. If you were signed out in another tab, sign in again and reload."));
  });
  audio.addEventListener("timeupdate", draw);
  audio.addEventListener("seeked", draw);
  audio.addEventListener("loadedmetadata", draw);
  canvas.addEventListener("click", (event) => {
    // Mouse shortcut only; the native controls are the keyboard way to seek.
    if (!audio.duration) return;
    const box = canvas.getBoundingClientRect();
    audio.currentTime = ((event.clientX - box.left) / box.width) * audio.duration;
  });
  new ResizeObserver(draw).observe(canvas);
  signal?.addEventListener("abort", () => {
    cancelAnimationFrame(frame);
    audio.pause();
  });

  loadPeaks(url, signal).then((values) => {
    peaks = values;
    draw();
  }).catch(() => {
    canvas.hidden = true; // the player still works; the picture is a bonus
  });
  return { el, audio };
}

async function loadPeaks(url, signal) {
  const response = await fetchMedia(url, { signal });
  if (Number(response.headers.get("content-length")) > MAX_WAVEFORM_BYTES) throw new Error("too large");
  const bytes = await response.arrayBuffer();
  // A low-rate offline context decodes without a user gesture and keeps memory small.
  const context = new OfflineAudioContext(1, 1, 8000);
  const buffer = await context.decodeAudioData(bytes);
  const data = buffer.getChannelData(0);
  const buckets = 400;
  const size = Math.max(1, Math.floor(data.length / buckets));
  const peaks = new Float32Array(buckets);
  let loudest = 1e-6;
  for (let b = 0; b < buckets; b += 1) {
    let peak = 0;
    for (let i = b * size; i < Math.min(data.length, (b + 1) * size); i += 1) {
      const v = Math.abs(data[i]);
      if (v > peak) peak = v;
    }
    peaks[b] = peak;
    loudest = Math.max(loudest, peak);
  }
  return peaks.map((p) => p / loudest);
}
