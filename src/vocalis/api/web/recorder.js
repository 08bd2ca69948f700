// Recording a reference from the microphone: MediaRecorder (WebM/Opus where the browser has
// it), a live input-level meter, a timer with a duration hint, and a playback of the take.

import { h } from "./dom.js";
import { clock } from "./format.js";

const MAX_SECONDS = 300;
const TYPES = ["audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus", "audio/mp4"];

function hintFor(seconds) {
  if (seconds < 3) return "Keep going: read the transcript aloud.";
  if (seconds < 8) return "Good start. 10–20 seconds of clear speech works best.";
  if (seconds <= 30) return "Good length. Stop when you finish the sentence.";
  if (seconds < MAX_SECONDS - 10) return "That is plenty; a shorter clip works as well.";
  return "Stopping at 5 minutes.";
}

/** recorder({onRecorded(file, seconds)}) -> {el, stop()}; onRecorded(null) when discarded. */
export function recorder({ onRecorded, signal }) {
  const button = h("button", { type: "button", class: "btn btn-primary record-button" }, "Start recording");
  const fill = h("div", { class: "level-fill" });
  const meter = h("div", {
    class: "level", role: "meter", "aria-label": "Microphone level", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0",
  }, fill);
  const time = h("span", { class: "record-time", "aria-hidden": "true" }, "0:00");
  const hint = h("p", { class: "field-hint record-hint", "aria-live": "polite" }, "Record 10–20 seconds of clear speech in a quiet room: read your transcript aloud. Between 1 second and 5 minutes is accepted.");
  const warning = h("p", { class: "field-warning", hidden: true });
  const playback = h("div", { class: "take", hidden: true });
  const el = h("div", { class: "recorder" }, h("div", { class: "record-row" }, button, time, meter), hint, warning, playback);

  let stream = null;
  let media = null;
  let context = null;
  let frame = 0;
  let ticker = null;
  let startedAt = 0;
  let loudest = 0;
  let objectUrl = null;
  let recording = false;
  let stopped = null; // resolves when the take of the current recording is ready

  function release() {
    cancelAnimationFrame(frame);
    clearInterval(ticker);
    stream?.getTracks().forEach((track) => track.stop());
    context?.close().catch(() => {});
    stream = null;
    context = null;
    fill.style.width = "0%";
    meter.setAttribute("aria-valuenow", "0");
  }

  function showError(message) {
    warning.textContent = message;
    warning.hidden = false;
  }

  function measure(analyser) {
    const samples = new Float32Array(analyser.fftSize);
    const loop = () => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const s of samples) sum += s * s;
      const rms = Math.sqrt(sum / samples.length);
      const level = Math.max(0, Math.min(1, (20 * Math.log10(rms + 1e-9) + 60) / 60)); // -60..0 dBFS
      loudest = Math.max(loudest, level);
      fill.style.width = `${Math.round(level * 100)}%`;
      fill.classList.toggle("hot", level > 0.92);
      meter.setAttribute("aria-valuenow", String(Math.round(level * 100)));
      frame = requestAnimationFrame(loop);
    };
    loop();
  }

  async function start() {
    warning.hidden = true;
    if (!navigator.mediaDevices?.getUserMedia || !window.MediaRecorder) {
      showError("This browser cannot record audio here (recording needs https or localhost). Upload a file instead.");
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1 } });
    } catch (error) {
      showError(error.name === "NotAllowedError"
        ? "Microphone access was blocked. Allow it in your browser's site settings, or upload a file instead."
        : error.name === "NotFoundError" ? "No microphone was found. Connect one, or upload a file instead."
          : `Could not start the microphone: ${error.message}`);
      return;
    }
    const type = TYPES.find((t) => MediaRecorder.isTypeSupported(t)) || "";
    media = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    const chunks = [];
    media.addEventListener("dataavailable", (event) => {
      if (event.data.size) chunks.push(event.data);
    });
    media.addEventListener("stop", () => {
      const seconds = (performance.now() - startedAt) / 1000;
      const mime = media.mimeType || type || "audio/webm";
      const extension = mime.includes("ogg") ? "ogg" : mime.includes("mp4") ? "m4a" : "webm";
      const file = new File([new Blob(chunks, { type: mime })], `recording.${extension}`, { type: mime.split(";")[0] });
      release();
      if (!signal?.aborted) showTake(file, seconds);
      stopped?.resolve();
    });
    context = new AudioContext();
    const analyser = context.createAnalyser();
    analyser.fftSize = 1024;
    context.createMediaStreamSource(stream).connect(analyser);
    loudest = 0;
    startedAt = performance.now();
    media.start(250);
    recording = true;
    measure(analyser);
    ticker = setInterval(() => {
      const seconds = (performance.now() - startedAt) / 1000;
      time.textContent = clock(seconds);
      const next = hintFor(seconds);
      if (hint.textContent !== next) hint.textContent = next;
      if (seconds >= MAX_SECONDS) stop();
    }, 250);
    button.textContent = "Stop recording";
    button.classList.add("recording");
    playback.hidden = true;
    onRecorded(null, 0);
  }

  /** Stop recording; resolves once the take is ready (onRecorded has run). */
  function stop() {
    if (!recording) return Promise.resolve();
    let resolve;
    const done = new Promise((r) => { resolve = r; });
    stopped = { resolve };
    recording = false;
    button.textContent = "Record again";
    button.classList.remove("recording");
    if (media?.state !== "inactive") media.stop();
    else resolve();
    return done;
  }

  function showTake(file, seconds) {
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = URL.createObjectURL(file);
    playback.replaceChildren(
      h("p", { class: "take-label" }, `Your recording · ${clock(seconds)}`),
      h("audio", { controls: true, src: objectUrl, "aria-label": "Your recording" }),
    );
    playback.hidden = false;
    if (seconds < 1) showError("That was shorter than 1 second. Record again for at least a few seconds.");
    else if (loudest < 0.2) showError("We barely heard anything. Check that the right microphone is selected, then record again.");
    hint.textContent = "Listen back; record again if it is not clear.";
    onRecorded(file, seconds);
  }

  button.addEventListener("click", () => (recording ? stop() : start()));
  signal?.addEventListener("abort", () => {
    recording = false;
    if (media && media.state !== "inactive") media.stop();
    release();
    if (objectUrl) URL.revokeObjectURL(objectUrl);
  });

  return { el, stop, isRecording: () => recording, focus: () => button.focus() };
}
