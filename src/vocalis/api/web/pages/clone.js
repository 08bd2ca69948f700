// Clone: a reference recording (uploaded, dropped or recorded) plus its transcript, which the
// worker fills in from the recording when it can transcribe; then the recording's checks.

import { upload } from "../api.js";
import { h, nextId } from "../dom.js";
import { field, formAlert, placeError } from "../fields.js";
import { bytes, clock, percent } from "../format.js";
import { engineNote, languageSelect, loadLanguages } from "../languages.js";
import { recorder } from "../recorder.js";
import { warningList } from "../reference_warnings.js";
import { createTranscriptFill } from "../transcript_fill.js";
import { abandon, finished, startTranscription, transcriptOf } from "../transcription.js";

export const title = "Clone a voice";

const MAX_BYTES = 50 * 1024 * 1024;
const ACCEPT = "audio/*,.wav,.mp3,.m4a,.aac,.flac,.ogg,.oga,.opus,.webm";

/** How long a file plays, or null when this browser cannot decode it (the server decides). */
function probeDuration(file) {
  return new Promise((resolve) => {
    const url = URL.createObjectURL(file);
    const audio = new Audio();
    const done = (value) => {
      URL.revokeObjectURL(url);
      resolve(value);
    };
    audio.preload = "metadata";
    audio.addEventListener("loadedmetadata", () => done(Number.isFinite(audio.duration) ? audio.duration : null));
    audio.addEventListener("error", () => done(null));
    setTimeout(() => done(null), 5000);
    audio.src = url;
  });
}

export function render(root, { signal }) {
  const alert = formAlert();
  let chosen = null; // {file, seconds}
  let mode = "upload";

  // --- the recording: upload or record ---
  const audioError = h("p", { class: "field-error", id: nextId("error"), hidden: true });
  const fileInput = h("input", { type: "file", accept: ACCEPT, class: "visually-hidden", id: nextId("file"), "aria-describedby": audioError.id });
  const dropText = h("span", { class: "drop-text" }, h("strong", {}, "Choose an audio file"), " or drag it here");
  const dropZone = h("label", { class: "dropzone", for: fileInput.id }, fileInput, dropText,
    h("span", { class: "drop-formats" }, "WAV, MP3, M4A/AAC, FLAC, OGG or WebM · up to 50 MB · 1 s to 5 min"));
  const chosenInfo = h("div", { class: "chosen", hidden: true });
  const uploadPanel = h("div", { class: "source-panel" }, dropZone, chosenInfo);

  const rec = recorder({
    signal,
    onRecorded(file, seconds) {
      if (mode !== "record") return; // a take that finished after switching to upload
      chosen = file ? { file, seconds } : null;
      if (file) {
        clearAudioError();
        transcribe(file);
      } else {
        stopTranscribing(); // a new take started
      }
    },
  });
  const recordPanel = h("div", { class: "source-panel", hidden: true }, rec.el);

  const audioTarget = {
    control: { focus: () => (mode === "upload" ? dropZone.focus() : rec.focus()) },
    setError(message) {
      audioError.textContent = message;
      audioError.hidden = false;
      dropZone.classList.add("invalid");
    },
  };
  function clearAudioError() {
    audioError.hidden = true;
    dropZone.classList.remove("invalid");
  }
  dropZone.tabIndex = -1; // the file input inside it takes keyboard focus

  const radios = ["upload", "record"].map((value) => h("input", { type: "radio", name: "source", value, checked: value === "upload", id: nextId("source") }));
  const sourceSwitch = h("div", { class: "segmented" },
    radios[0], h("label", { for: radios[0].id }, "Upload a file"),
    radios[1], h("label", { for: radios[1].id }, "Record with microphone"));
  for (const radio of radios) {
    radio.addEventListener("change", () => {
      mode = radio.value;
      uploadPanel.hidden = mode !== "upload";
      recordPanel.hidden = mode !== "record";
      if (mode === "upload") rec.stop();
      chosen = null;
      chosenInfo.hidden = true;
      fileInput.value = "";
      clearAudioError();
      stopTranscribing();
    });
  }
  const audioFieldset = h("fieldset", { class: "field audio-field" },
    h("legend", { class: "field-label" }, "Reference recording"), sourceSwitch, uploadPanel, recordPanel, audioError);

  async function choose(file) {
    clearAudioError();
    chosen = null;
    chosenInfo.hidden = true;
    stopTranscribing();
    if (!file) return;
    if (file.size > MAX_BYTES) {
      audioTarget.setError(`That file is ${bytes(file.size)}; the limit is 50 MB.`);
      return;
    }
    const seconds = await probeDuration(file);
    if (seconds !== null && seconds < 1) {
      audioTarget.setError(`That recording is only ${seconds.toFixed(1)} s; it must be at least 1 second.`);
      return;
    }
    if (seconds !== null && seconds > 300) {
      audioTarget.setError(`That recording is ${clock(seconds)} long; the limit is 5 minutes.`);
      return;
    }
    chosen = { file, seconds };
    const url = URL.createObjectURL(file);
    signal.addEventListener("abort", () => URL.revokeObjectURL(url));
    chosenInfo.replaceChildren(
      h("p", { class: "chosen-name" }, h("strong", {}, file.name), ` · ${bytes(file.size)}${seconds ? ` · ${clock(seconds)}` : ""}`),
      h("audio", { controls: true, src: url, "aria-label": `Preview of ${file.name}` }),
      h("button", { type: "button", class: "btn btn-small btn-quiet", onclick: () => { fileInput.value = ""; choose(null); fileInput.focus(); } }, "Remove"),
    );
    chosenInfo.hidden = false;
    transcribe(file);
  }

  fileInput.addEventListener("change", () => choose(fileInput.files[0] || null));
  for (const type of ["dragenter", "dragover"]) {
    dropZone.addEventListener(type, (event) => {
      event.preventDefault();
      dropZone.classList.add("dragging");
    });
  }
  for (const type of ["dragleave", "drop"]) {
    dropZone.addEventListener(type, () => dropZone.classList.remove("dragging"));
  }
  dropZone.addEventListener("drop", (event) => {
    event.preventDefault();
    const file = event.dataTransfer?.files?.[0];
    if (file) choose(file);
  });

  // --- the words ---
  const name = field({ label: "Voice name", control: h("input", { type: "text", name: "name", maxlength: "100", required: true, autocomplete: "off" }) });
  const language = languageSelect();
  const languageField = field({ label: "Language", control: language.el, hint: "The language spoken in the recording." });
  const transcriptStatus = h("p", { class: "field-status", id: nextId("status"), role: "status" });
  const transcript = field({
    label: "Transcript",
    control: h("textarea", { name: "transcript", rows: "4", maxlength: "5000", required: true }),
    hint: "Type exactly what the recording says. Cloning works best when the words match.",
    extra: transcriptStatus,
  });

  // --- the transcript, filled in from the recording when the worker can transcribe ---
  const fill = createTranscriptFill();
  let canTranscribe = false;
  let running = null; // the id of the transcription task under way
  let transcribing = false; // from the upload until the words (or not) are in
  loadLanguages().then((info) => {
    canTranscribe = Boolean(info.transcription?.enabled);
    if (canTranscribe && !signal.aborted) {
      transcript.el.querySelector(".field-hint").textContent =
        "Filled in from the recording once it is transcribed; check it and correct any word. Cloning works best when the words match.";
    }
  });
  function transcriptNote(message, busy = false) {
    transcriptStatus.textContent = message;
    transcriptStatus.classList.toggle("busy", busy);
    transcribing = busy;
  }
  function stopTranscribing() {
    fill.cancel();
    if (running) abandon(running);
    running = null;
    transcriptNote("");
  }
  signal.addEventListener("abort", () => {
    if (running) abandon(running); // nobody will read its words
  });

  async function transcribe(file) {
    if (!canTranscribe || !fill.wants(transcript.control.value)) return;
    if (running) abandon(running);
    running = null;
    const token = fill.begin();
    transcriptNote("Transcribing the recording…", true);
    try {
      const started = await startTranscription(file, language.el.value, { signal });
      if (!fill.isCurrent(token)) return abandon(started.task_id); // replaced while uploading
      running = started.task_id;
      const task = await finished(started, { signal });
      if (running === task.id) running = null;
      if (!fill.isCurrent(token)) return;
      if (task.status !== "completed") {
        transcriptNote(task.status === "failed"
          ? `The recording could not be transcribed (${task.error || "unknown error"}). Please type the transcript.`
          : "");
        return;
      }
      const outcome = fill.accept(token, transcriptOf(task), transcript.control.value);
      if (outcome.action === "fill") {
        transcript.control.value = outcome.text;
        transcript.clearError();
        transcriptNote("Filled in from the recording. Check it and correct any word.");
      } else if (outcome.action === "kept") {
        transcriptNote("The recording was transcribed; the transcript you typed was kept.");
      } else {
        transcriptNote("No words were heard in the recording. Please type the transcript.");
      }
    } catch (error) {
      if (error.name === "AbortError" || !fill.isCurrent(token)) return;
      running = null;
      transcriptNote(`The recording could not be transcribed (${error.message}). Please type the transcript.`);
    }
  }
  const description = field({ label: "Description", optional: true, control: h("input", { type: "text", name: "description", maxlength: "1000" }), hint: "A note for yourself, e.g. “warm, close-mic”." });

  const bar = h("progress", { max: 1, value: 0, class: "progress-bar", "aria-label": "Upload progress" });
  const barText = h("p", { class: "progress-status", "aria-live": "polite" });
  const progress = h("div", { class: "task-progress", hidden: true }, barText, bar);
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Clone voice");
  const form = h("form", { class: "card form", novalidate: true }, alert.el, audioFieldset, name.el, languageField.el, transcript.el, description.el, progress, h("div", { class: "form-actions" }, submit));

  const success = h("section", { class: "card success", hidden: true, "aria-live": "polite" });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    alert.clear();
    let firstBad = null;
    const fail = (target, message) => {
      target.setError(message);
      firstBad ||= target;
    };
    if (rec.isRecording()) await rec.stop();
    if (!chosen) fail(audioTarget, mode === "upload" ? "Please choose a recording to upload." : "Please record yourself reading the transcript.");
    if (!name.control.value.trim()) fail(name, "Please enter a name for the voice.");
    if (!transcript.control.value.trim()) {
      fail(transcript, transcribing
        ? "The recording is still being transcribed: wait a moment, or type the transcript."
        : "Please enter the transcript: the exact words spoken in the recording.");
    }
    if (firstBad) {
      firstBad.control.focus();
      return;
    }
    const body = new FormData();
    body.append("name", name.control.value.trim());
    body.append("language", language.el.value);
    body.append("transcript", transcript.control.value.trim());
    if (description.control.value.trim()) body.append("description", description.control.value.trim());
    body.append("audio", chosen.file, chosen.file.name);

    submit.disabled = true;
    progress.hidden = false;
    bar.value = 0;
    barText.textContent = "Uploading…";
    try {
      const voice = await upload("/api/clone", body, {
        signal,
        onProgress(fraction) {
          bar.value = fraction;
          barText.textContent = fraction < 1 ? `Uploading… ${percent(fraction)}` : "Uploaded. Preparing the voice…";
          if (fraction >= 1) bar.removeAttribute("value");
        },
      });
      showSuccess(voice);
    } catch (error) {
      if (error.name === "AbortError") return;
      progress.hidden = true;
      const placed = placeError(error.message, [
        [name, /\bname\b/i],
        [transcript, /transcript/i],
        [languageField, /language/i],
        [audioTarget, /audio|recording|upload|decode|file|silent|too (short|long|large)|second/i],
      ]);
      if (!placed) alert.show(error.message);
      else if (placed === audioTarget) audioTarget.control.focus();
    } finally {
      submit.disabled = false;
    }
  });

  function showSuccess(voice) {
    const again = h("button", { type: "button", class: "btn" }, "Clone another voice");
    const heading = h("h2", { tabindex: "-1" }, `“${voice.name}” is ready`);
    const checks = h("div", { class: "reference-checks", role: "status" });
    success.replaceChildren(
      heading,
      h("p", {}, "Your voice has been saved. Type some text and hear it speak."),
      checks,
      h("div", { class: "form-actions" },
        h("a", { class: "btn btn-primary", href: `/generate?voice=${encodeURIComponent(voice.id)}` }, "Generate with this voice"),
        h("a", { class: "btn", href: "/voices" }, "See all voices"),
        again),
    );
    again.addEventListener("click", () => {
      form.reset();
      radios[0].dispatchEvent(new Event("change"));
      chosen = null;
      chosenInfo.hidden = true;
      progress.hidden = true;
      form.hidden = false;
      success.hidden = true;
      name.control.focus();
    });
    form.hidden = true;
    success.hidden = false;
    heading.focus();
    if (voice.check_task_id) showChecks(voice, checks);
  }

  /** The new voice's reference checks, as advice beside the result: never blocking. */
  async function showChecks(voice, area) {
    area.replaceChildren(h("p", { class: "field-status busy" }, "Checking the recording…"));
    try {
      const task = await finished({ task_id: voice.check_task_id }, { signal });
      if (task.status !== "completed") {
        area.replaceChildren(h("p", { class: "muted" }, "The recording could not be checked this time; the voice is saved all the same."));
        return;
      }
      // The check's result holds the warnings it kept on the voice (there is no single-voice GET).
      const list = warningList(task.result?.transcription?.warnings, { label: "Advice about the recording" });
      area.replaceChildren(list
        ? h("div", {}, h("h3", { class: "warnings-title" }, "Advice about the recording"), list,
          h("p", { class: "muted" }, "The voice is saved and works as it is; a better recording can make it sound closer."))
        : h("p", { class: "muted" }, "The recording was checked: no problems found."));
    } catch (error) {
      if (error.name === "AbortError") return;
      area.replaceChildren(h("p", { class: "muted" }, `The recording could not be checked (${error.message}); the voice is saved all the same.`));
    }
  }

  root.append(
    h("h1", { tabindex: "-1" }, "Clone a voice"),
    h("p", { class: "lede" }, "Give Vocalis a short recording of a voice and the words it says; then it can say anything in that voice."),
    engineNote(),
    form,
    success,
  );
}
