// Finished audio: its waveform (drawn from the decoded file), a native player that streams from
// the cookie-authorised URL, and the downloads. The waveform can follow any <audio> element,
// so while a generation is still playing from its live stream it shows that element's position
// over the stored file's picture (live_player.js).

import { fetchMedia } from "./api.js";
import { h } from "./dom.js";

const MAX_WAVEFORM_BYTES = 80 * 1024 * 1024; // past this, skip the picture rather than the page

/**
 * The waveform of the audio at `url` as a canvas. follow(audio) moves its playhead with that
 * element; a click seeks the followed element, or calls `onSeek(seconds)` when one is set.
 */
export function waveform(url, { label = "Generated speech", signal } = {}) {
  const canvas = h("canvas", { class: "waveform", role: "img", "aria-label": `Waveform of ${label}` });
  let peaks = null;
  let length = null; // seconds, from the decoded file
  let media = null;
  let unfollow = null;
  let frame = 0;
  const wave = { el: canvas, onSeek: null, follow, get duration() { return length; } };

  function timeline() {
    if (length) return length;
    return media && Number.isFinite(media.duration) ? media.duration : 0;
  }

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
    const total = timeline();
    const position = media && total ? media.currentTime / total : 0;
    for (let i = 0; i < bars; i += 1) {
      const value = peaks ? peaks[Math.floor((i / bars) * peaks.length)] : 0.04;
      const bar = Math.max(2, value * (height - 4));
      ctx.fillStyle = i / bars < position ? played : rest;
      ctx.fillRect(i * 3, (height - bar) / 2, 2, bar);
    }
  }

  function animate() {
    draw();
    if (media && !media.paused) frame = requestAnimationFrame(animate);
  }

  function follow(audio) {
    unfollow?.abort();
    unfollow = new AbortController();
    media = audio;
    const options = { signal: unfollow.signal };
    audio.addEventListener("play", () => {
      cancelAnimationFrame(frame);
      animate();
    }, options);
    for (const name of ["timeupdate", "seeked", "loadedmetadata"]) audio.addEventListener(name, draw, options);
    if (!audio.paused) animate();
    else draw();
  }

  canvas.addEventListener("click", (event) => {
    // Mouse shortcut only; the native controls are the keyboard way to seek.
    const total = timeline();
    if (!total || !media) return;
    const box = canvas.getBoundingClientRect();
    const seconds = Math.max(0, Math.min(1, (event.clientX - box.left) / box.width)) * total;
    if (wave.onSeek) wave.onSeek(seconds);
    else media.currentTime = seconds;
  });
  new ResizeObserver(draw).observe(canvas);
  signal?.addEventListener("abort", () => cancelAnimationFrame(frame));

  loadPeaks(url, signal).then((loaded) => {
    ({ peaks, duration: length } = loaded);
    draw();
  }).catch(() => {
    canvas.hidden = true; // the player still works; the picture is a bonus
  });
  return wave;
}

/** A native player for the stored audio at `url`; says so in `container` if it cannot load. */
export function storedAudio(url, { label, container, preload = "metadata" }) {
  const audio = h("audio", { controls: true, preload, src: url, "aria-label": label });
  audio.addEventListener("error", () => {
    if (container.querySelector(".alert")) return;
    container.append(h("p", { class: "alert alert-error", role: "alert" },
      "This audio could not be loaded. If you were signed out in another tab, sign in again and reload."));
  });
  return audio;
}

/** Waveform, native player and (optionally) a download menu for finished audio. */
export function waveformPlayer(url, { label = "Generated speech", downloads = null, signal } = {}) {
  const wave = waveform(url, { label, signal });
  const el = h("div", { class: "player" }, wave.el);
  const audio = storedAudio(url, { label, container: el });
  el.append(audio);
  if (downloads) el.append(h("div", { class: "player-actions" }, downloads));
  wave.follow(audio);
  signal?.addEventListener("abort", () => audio.pause());
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
  return { peaks: peaks.map((p) => p / loudest), duration: buffer.duration };
}
