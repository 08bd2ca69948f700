// Generate: voice, language and text in; a task with live progress; the audio out, playing
// from the live stream as soon as the first sentence is rendered (live_player.js).

import { allPages, api } from "../api.js";
import { announce, debounce, h } from "../dom.js";
import { loadDraft, saveDraft } from "../drafts.js";
import { downloadMenu } from "../downloads.js";
import { charCounter, field, formAlert, placeError } from "../fields.js";
import { baseSelect, engineNote, languageSelect } from "../languages.js";
import { livePlayer } from "../live_player.js";
import { taskProgress } from "../progress.js";
import { cancelTask, getTask, isTerminal, subscribe, taskSummary, track } from "../tasks.js";
import { waveformPlayer } from "../waveform.js";
import { replaceUrl } from "../router.js";

export const title = "Generate speech";

const MAX_TEXT = 10000;

function voiceLabel(voice) {
  const kind = voice.source === "designed" ? "designed" : "cloned";
  return `${voice.name} (${kind}, ${voice.language})`;
}

export async function render(root, { params, signal }) {
  const heading = h("h1", { tabindex: "-1" }, "Generate speech");
  const alert = formAlert();
  const loading = h("p", { class: "muted", role: "status" }, "Loading your voices…");
  root.append(heading, h("p", { class: "lede" }, "Pick a voice, type the text, and Vocalis speaks it."), engineNote(), loading);

  let voices;
  try {
    voices = await allPages("/api/voices", "voices");
  } catch (error) {
    if (signal.aborted) return;
    loading.replaceWith(h("p", { class: "alert alert-error", role: "alert" }, `Could not load your voices: ${error.message}`));
    return;
  }
  if (signal.aborted) return;
  loading.remove();

  const draft = loadDraft("generate");
  const fromLink = params.has("voice") || params.has("text") || params.has("language");
  const wanted = {
    voice_id: fromLink ? params.get("voice") || "" : draft.voice_id || "",
    text: fromLink ? params.get("text") || "" : draft.text || "",
    language: fromLink ? params.get("language") || "Auto" : draft.language || null,
    base: draft.base || "auto",
  };

  // --- the form ---
  const voiceSelect = h("select", { name: "voice", required: true },
    h("option", { value: "" }, voices.length ? "Choose a voice…" : "No voices yet"),
    voices.map((v) => h("option", { value: v.id }, voiceLabel(v))));
  const voiceField = field({ label: "Voice", control: voiceSelect });
  const language = languageSelect(wanted.language);
  const languageField = field({ label: "Language", control: language.el, hint: "Auto detects it from the text." });
  const base = baseSelect(wanted.base);
  const baseField = field({ label: "Synthesiser", control: base.el, extra: base.hint });
  baseField.el.hidden = true;
  base.ready.then(() => { baseField.el.hidden = !base.offersChoice(); });
  const textArea = h("textarea", { name: "text", rows: "8", required: true, placeholder: "Type or paste what the voice should say…" });
  textArea.value = wanted.text;
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Generate speech");
  const counter = charCounter(textArea, MAX_TEXT, { onChange: (over) => { submit.disabled = over; } });
  const textField = field({ label: "Text", control: textArea, extra: counter.el, hint: "Up to 10,000 characters. Ctrl+Enter generates." });
  const form = h("form", { class: "card form", novalidate: true }, alert.el, voiceField.el, languageField.el, baseField.el, textField.el,
    h("div", { class: "form-actions" }, submit));

  if (voices.some((v) => v.id === wanted.voice_id)) voiceSelect.value = wanted.voice_id;
  else if (wanted.voice_id && fromLink) alert.show("The voice used for that generation no longer exists. Choose another voice.");
  else if (voices.length === 1) voiceSelect.value = voices[0].id;
  if (fromLink) replaceUrl("/generate"); // a reload keeps your edits, not the link

  const empty = h("section", { class: "card empty" },
    h("h2", {}, "You have no voices yet"),
    h("p", {}, "Clone a voice from a recording, or design one from a description. Then come back here."),
    h("div", { class: "form-actions" },
      h("a", { class: "btn btn-primary", href: "/clone" }, "Clone a voice"),
      h("a", { class: "btn", href: "/design" }, "Design a voice")));

  // --- the result panel ---
  const result = h("section", { class: "card result", hidden: true, "aria-labelledby": "result-heading" });
  let stopWatching = () => {};

  const saveNow = () => {
    persist.cancel();
    saveDraft("generate", {
      voice_id: voiceSelect.value, language: language.el.value, base: base.el.value, text: textArea.value, task_id: loadDraft("generate").task_id ?? null,
    });
  };
  const persist = debounce(saveNow, 250);
  for (const control of [voiceSelect, language.el, base.el, textArea]) control.addEventListener("input", persist);
  voiceSelect.addEventListener("change", persist);
  window.addEventListener("pagehide", saveNow, { signal });
  signal.addEventListener("abort", () => { saveNow(); stopWatching(); });

  /**
   * Show a task in the result panel. `listen`: start playing its live stream now (the person
   * just pressed Generate); otherwise a button offers it, since a reload is no gesture to play on.
   */
  function showTask(taskId, { remember = true, listen = false } = {}) {
    stopWatching();
    if (remember) saveDraft("generate", { ...loadDraft("generate"), task_id: taskId });
    const watching = new AbortController(); // this task's players stop with it
    const resultHeading = h("h2", { id: "result-heading", tabindex: "-1" });
    const summary = h("p", { class: "result-text" });
    const progress = taskProgress();
    const actions = h("div", { class: "form-actions" });
    const outcome = h("div", { class: "outcome" });
    result.replaceChildren(resultHeading, summary, progress.el, outcome, actions);
    result.hidden = false;
    let shown = null;
    let player = null; // the live player, once listening started
    let listenButton = null;

    const voiceOf = (task) => task.metadata?.voice_name || "your voice";
    const listenNow = (autoplay) => {
      const task = getTask(taskId);
      if (!task?.generation_id || player) return;
      const streamUrl = `/api/generations/${encodeURIComponent(task.generation_id)}/stream?format=mp3`;
      player = livePlayer({ streamUrl, label: `Speech in ${voiceOf(task)}`, autoplay, signal: watching.signal });
      player.update(task);
      outcome.replaceChildren(player.el);
    };

    const paint = (task) => {
      if (!task || task.id !== taskId || signal.aborted) return;
      if (task._removed) {
        player?.stop();
        result.hidden = true;
        saveDraft("generate", { ...loadDraft("generate"), task_id: null });
        return;
      }
      summary.textContent = task.metadata?.text_preview ? `“${taskSummary(task)}”` : "";
      progress.update(task);
      player?.update(task);
      if (!isTerminal(task) && listen && !player) listenNow(true);
      if (listenButton) listenButton.disabled = !task.generation_id; // known from the first poll
      const state = isTerminal(task) ? task.status : "running";
      if (state === shown) return;
      const wasRunning = shown === "running";
      shown = state;
      listenButton = null;
      const voiceName = task.metadata?.voice_name ?? "";
      if (state === "running") {
        resultHeading.textContent = "Generating…";
        if (!player) {
          listenButton = h("button", { type: "button", class: "btn", disabled: !task.generation_id }, "▶ Listen while it renders");
          listenButton.addEventListener("click", () => {
            listenButton = null;
            listenNow(true);
            player?.control.focus();
          });
          outcome.replaceChildren(listenButton);
        }
        const cancel = h("button", { type: "button", class: "btn btn-danger-quiet" }, "Cancel");
        cancel.addEventListener("click", async () => {
          cancel.disabled = true;
          cancel.textContent = "Cancelling…";
          try {
            await cancelTask(taskId);
          } catch (error) {
            outcome.append(h("p", { class: "alert alert-error", role: "alert" }, error.message));
            cancel.disabled = false;
            cancel.textContent = "Cancel";
          }
        });
        actions.replaceChildren(cancel);
      } else if (state === "completed") {
        resultHeading.textContent = "Your audio is ready";
        const url = task.result?.audio_url ?? `/api/generations/${task.generation_id}/audio`;
        const downloads = downloadMenu({
          generationId: task.generation_id, voiceName, createdAt: task.created_at, label: `speech in ${voiceOf(task)}`,
        });
        // Still playing from the live stream: it hands over to the file without a break.
        if (player) player.complete({ url, downloads });
        else outcome.replaceChildren(waveformPlayer(url, { label: `Speech in ${voiceOf(task)}`, downloads, signal: watching.signal }).el);
        actions.replaceChildren(h("a", { class: "btn", href: "/history" }, "See history"));
        if (wasRunning) announce("Your audio is ready.");
      } else {
        resultHeading.textContent = state === "cancelled" ? "Generation cancelled" : "Generation failed";
        const message = state === "cancelled"
          ? "This generation was cancelled. Your text is still in the form."
          : `Generation failed: ${task.error || "the worker did not say why"}. Your text is still in the form; you can try again.`;
        player?.stop();
        outcome.replaceChildren(h("p", { class: state === "cancelled" ? "alert alert-info" : "alert alert-error", role: "alert" }, message));
        actions.replaceChildren();
      }
    };
    const unsubscribe = subscribe(paint);
    stopWatching = () => {
      unsubscribe();
      watching.abort();
    };
    paint(getTask(taskId) ?? track({ id: taskId }));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    alert.clear();
    if (!voiceSelect.value) {
      voiceField.setError("Please select a voice");
      voiceSelect.focus();
      return;
    }
    if (!textArea.value.trim()) {
      textField.setError("Please enter text to speak");
      textArea.focus();
      return;
    }
    if (counter.isOver()) {
      textField.setError(`Text cannot exceed ${MAX_TEXT.toLocaleString("en-US")} characters`);
      textArea.focus();
      return;
    }
    saveNow();
    submit.disabled = true;
    submit.textContent = "Starting…";
    const voice = voices.find((v) => v.id === voiceSelect.value);
    const text = textArea.value.trim();
    try {
      const started = await api("/api/generate", { method: "POST", json: { voice_id: voiceSelect.value, text, language: language.el.value, base: base.el.value } });
      track({
        id: started.task_id,
        type: "generate",
        status: started.status,
        generation_id: started.generation_id,
        created_at: new Date().toISOString(),
        metadata: {
          voice_id: voice?.id, voice_name: voice?.name, language: language.el.value, characters: text.length,
          text_preview: text.slice(0, 120),
        },
      });
      showTask(started.task_id, { listen: true });
      result.querySelector("h2")?.focus();
    } catch (error) {
      const placed = placeError(error.message, [
        [voiceField, /voice/i],
        [textField, /text/i],
        [languageField, /language/i],
      ]);
      if (!placed) alert.show(error.message);
    } finally {
      submit.disabled = counter.isOver();
      submit.textContent = "Generate speech";
    }
  });
  textArea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });

  if (voices.length) root.append(form);
  else root.append(empty);
  root.append(result);

  const taskId = params.get("task") || (!fromLink ? draft.task_id : null);
  if (taskId) showTask(taskId, { remember: !params.get("task") });
  if (params.get("task")) replaceUrl("/generate");
}
