// Listening while it renders: a player fed by the generation's live stream (stream_source.js)
// that says how much is rendered beyond what is playing, then hands over to the stored file.
//
// The handover never cuts into sound. When the task completes, the waveform (drawn from the
// stored file) and the downloads appear at once, but the live element keeps playing: the
// stream carries the whole audio to its end. The stored file takes over at the first moment
// nothing is heard: when the listener pauses, when playback ends, or when they seek (a jump
// they asked for). Swapping sources mid-sound would drop or repeat a few hundredths of a second,
// which is audible inside a word.

import { h } from "./dom.js";
import { clock } from "./format.js";
import { feedStream } from "./stream_source.js";
import { storedAudio, waveform } from "./waveform.js";

/**
 * When the stored file is ready, what to do with the live element, as it is now:
 * {now: false} while it is playing (wait for a pause, the end, or a seek), otherwise
 * {now: true, at: seconds to start the stored file at, play: whether it plays on}.
 * `started`: it has played; `cut`: its stream broke off, so its end is not the audio's end.
 */
export function handoverPlan({ started, paused, ended, cut = false, position = 0 }) {
  if (!started) return { now: true, at: 0, play: !paused }; // nothing heard yet: start the file
  if (ended) return { now: true, at: position, play: cut }; // a cut stream plays on from the file
  if (paused) return { now: true, at: position, play: false };
  return { now: false };
}

/**
 * The line under the live player: what plays, and how much is rendered beyond it (`whole`: the
 * length of the finished audio, once the task completed).
 */
export function liveLine({ started, paused, waiting, cut = false, played = 0, rendered = null, whole = null }) {
  const ready = rendered === null ? "" : ` · ${clock(rendered)} rendered`;
  if (cut && (!started || paused)) return "The live audio broke off. The whole file plays here as soon as it is ready.";
  if (!started) {
    return paused ? `Press play to listen while it renders${ready}.` : "Starts playing as soon as the first sentence is rendered…";
  }
  const doing = paused ? "Paused at" : "Playing";
  if (whole !== null) return `${doing} ${clock(played)} of ${clock(whole)}`;
  if (waiting) return `Waiting for the next sentence${ready}`;
  const ahead = rendered === null ? "" : ` (${Math.max(0, Math.round(rendered - played))} s ahead)`;
  return `${doing} ${clock(played)}${ready}${ahead}`;
}

/**
 * The bar's two lengths, as fractions of the whole audio: rendered, and played. The whole is
 * estimated as rendered / progress (progress is the share of the text done); without one, the
 * rendered audio fills the bar.
 */
export function liveScale({ rendered = 0, played = 0, progress = null }) {
  if (!(rendered > 0)) return { rendered: 0, played: 0 };
  const whole = progress > 0 && progress <= 1 ? rendered / progress : rendered;
  return { rendered: Math.min(1, rendered / whole), played: Math.min(1, Math.min(played, rendered) / whole) };
}

function bufferedEnd(audio) {
  const ranges = audio.buffered;
  return ranges.length ? ranges.end(ranges.length - 1) : 0;
}

/**
 * A player for one generation while it renders: a play/pause button over the (hidden) live
 * <audio>, the bar and the line. update(task) after each poll; complete({url, downloads}) once
 * the task completed (url: the stored audio); stop() when it failed, was cancelled or is no
 * longer shown. Native controls are kept for the stored file: on a stream of unknown length
 * they show a scrubber that cannot seek.
 */
export function livePlayer({ streamUrl, label, autoplay = false, signal }) {
  const live = h("audio", { preload: "auto", "aria-label": `${label}, playing while it renders` });
  const toggle = h("button", { type: "button", class: "btn btn-small live-toggle" });
  const played = h("span", { class: "live-played" });
  const rendered = h("span", { class: "live-rendered" });
  const line = h("p", { class: "live-line" });
  const bar = h("div", { class: "live-bar", "aria-hidden": "true" }, rendered, played);
  const controls = h("div", { class: "live-controls" }, toggle, bar);
  const status = h("div", { class: "live-status" }, controls, line);
  const el = h("div", { class: "player live-player", dataset: { source: "stream" } }, live, status);
  const feeding = new AbortController();
  let task = null;
  let started = false;
  let waiting = false;
  let cut = false;
  let stored = null; // {url, wave} once the task completed
  let current = live;

  function renderedSeconds() {
    if (stored?.wave.duration) return stored.wave.duration;
    if (typeof task?.audio_seconds_ready === "number") return task.audio_seconds_ready;
    const end = bufferedEnd(live);
    return end > 0 ? end : null;
  }

  function paint() {
    if (current !== live) return;
    const seconds = renderedSeconds();
    const whole = stored ? seconds : null;
    line.textContent = liveLine({ started, paused: live.paused, waiting, cut, played: live.currentTime, rendered: seconds, whole });
    const progress = stored ? 1 : task?.progress ?? null;
    const scale = liveScale({ rendered: seconds ?? 0, played: live.currentTime, progress });
    rendered.style.width = `${(scale.rendered * 100).toFixed(1)}%`;
    played.style.width = `${(scale.played * 100).toFixed(1)}%`;
    const action = live.paused ? "Play" : "Pause";
    if (toggle.dataset.action !== action) {
      toggle.dataset.action = action;
      toggle.textContent = live.paused ? "▶ Play" : "❚❚ Pause";
      toggle.setAttribute("aria-label", `${action} ${label[0].toLowerCase()}${label.slice(1)}`);
    }
  }

  function stopLive() {
    feeding.abort();
    live.pause();
    live.removeAttribute("src");
    live.load(); // lets go of the stream
  }

  function handover({ at, play }) {
    if (current !== live) return;
    const audio = storedAudio(stored.url, { label, container: el, preload: "auto" });
    if (at > 0) audio.currentTime = at; // applied once the file's metadata is in
    const hadFocus = status.contains(document.activeElement);
    status.replaceWith(audio);
    live.remove();
    current = audio;
    stopLive();
    stored.wave.onSeek = null;
    stored.wave.follow(audio);
    el.dataset.source = "stored";
    if (hadFocus) audio.focus();
    if (play) audio.play().catch(() => {});
  }

  function decide() {
    if (!stored || current !== live) return;
    const plan = handoverPlan({ started, paused: live.paused, ended: live.ended, cut, position: live.currentTime });
    if (plan.now) handover(plan);
  }

  toggle.addEventListener("click", () => {
    if (live.paused) live.play().catch(() => {});
    else live.pause();
  });
  live.addEventListener("playing", () => {
    started = true;
    waiting = false;
    paint();
  });
  live.addEventListener("waiting", () => {
    waiting = started;
    paint();
  });
  live.addEventListener("play", paint);
  live.addEventListener("timeupdate", paint);
  live.addEventListener("pause", () => {
    paint();
    decide();
  });
  live.addEventListener("ended", decide);
  live.addEventListener("error", () => {
    cut = true;
    paint();
    if (stored && current === live) handover({ at: live.currentTime, play: started });
  });

  feedStream(live, streamUrl, { signal: feeding.signal }).catch((error) => {
    if (error.name === "AbortError") return;
    cut = true; // what arrived still plays; the stored file carries on from there
    paint();
  });
  if (autoplay) live.play().catch(() => paint()); // blocked: the button and the line say so
  paint();
  signal?.addEventListener("abort", () => {
    stopLive();
    current.pause();
  });

  return {
    el,
    /** The button while the stream plays, the stored file's player after the handover. */
    get control() {
      return current === live ? toggle : current;
    },
    get audio() {
      return current;
    },
    update(next) {
      task = next;
      paint();
    },
    complete({ url, downloads }) {
      if (stored) return;
      const wave = waveform(url, { label, signal });
      stored = { url, wave };
      wave.follow(live);
      // A click on the waveform while the stream plays is a jump the listener asked for.
      wave.onSeek = (seconds) => handover({ at: seconds, play: true });
      el.prepend(wave.el);
      bar.hidden = true; // the waveform shows the position now
      if (downloads) el.append(h("div", { class: "player-actions" }, downloads));
      paint();
      decide();
    },
    stop() {
      stopLive();
      current.pause();
    },
  };
}
