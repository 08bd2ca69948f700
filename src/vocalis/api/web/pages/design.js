// Design: describe a voice, hear a preview made by a design_preview task, save it as a voice.

import { api, fetchMedia, upload } from "../api.js";
import { announce, debounce, h } from "../dom.js";
import { loadDraft, saveDraft } from "../drafts.js";
import { charCounter, field, formAlert, placeError } from "../fields.js";
import { engineNote, languageSelect } from "../languages.js";
import { taskProgress } from "../progress.js";
import { cancelTask, getTask, isTerminal, subscribe, track } from "../tasks.js";
import { replaceUrl } from "../router.js";

export const title = "Design a voice";

const MAX = 500;

export function render(root, { params, signal }) {
  const draft = loadDraft("design");
  const alert = formAlert();
  const instruct = h("textarea", { name: "instruct", rows: "3", required: true, placeholder: "e.g. A calm, low-pitched narrator in his fifties, speaking slowly and warmly." });
  const text = h("textarea", { name: "text", rows: "3", required: true, placeholder: "e.g. Hello! This is how I sound when I read your stories aloud." });
  instruct.value = draft.instruct || "";
  text.value = draft.text || "";
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Preview voice");
  const limits = () => { submit.disabled = instructCount.isOver() || textCount.isOver(); };
  const instructCount = charCounter(instruct, MAX, { onChange: limits });
  const textCount = charCounter(text, MAX, { onChange: limits });
  const instructField = field({ label: "Voice description", control: instruct, extra: instructCount.el, hint: "Who is speaking and how: age, pitch, pace, mood, accent." });
  const textField = field({ label: "Preview text", control: text, extra: textCount.el, hint: "What the preview says. If you save the voice, this recording becomes its reference." });
  const language = languageSelect(draft.language || null);
  const languageField = field({ label: "Language", control: language.el });
  const form = h("form", { class: "card form", novalidate: true }, alert.el, instructField.el, textField.el, languageField.el, h("div", { class: "form-actions" }, submit));

  const result = h("section", { class: "card result", hidden: true, "aria-labelledby": "preview-heading" });
  let stopWatching = () => {};

  const saveNow = () => {
    persist.cancel();
    saveDraft("design", { ...loadDraft("design"), instruct: instruct.value, text: text.value, language: language.el.value });
  };
  const persist = debounce(saveNow, 250);
  for (const control of [instruct, text, language.el]) control.addEventListener("input", persist);
  window.addEventListener("pagehide", saveNow, { signal });
  signal.addEventListener("abort", () => { saveNow(); stopWatching(); });

  function showTask(taskId) {
    stopWatching();
    saveDraft("design", { ...loadDraft("design"), task_id: taskId });
    const heading = h("h2", { id: "preview-heading", tabindex: "-1" }, "Preview");
    const progress = taskProgress();
    const outcome = h("div", { class: "outcome" });
    const actions = h("div", { class: "form-actions" });
    result.replaceChildren(heading, progress.el, outcome, actions);
    result.hidden = false;
    let shown = null;

    const paint = (task) => {
      if (!task || task.id !== taskId || signal.aborted) return;
      if (task._removed) {
        result.hidden = true;
        return;
      }
      progress.update(task);
      const state = isTerminal(task) ? task.status : "running";
      if (state === shown) return;
      const wasRunning = shown === "running";
      shown = state;
      if (state === "running") {
        heading.textContent = "Making a preview…";
        const cancel = h("button", { type: "button", class: "btn btn-danger-quiet" }, "Cancel");
        cancel.addEventListener("click", async () => {
          cancel.disabled = true;
          await cancelTask(taskId).catch((error) => outcome.replaceChildren(h("p", { class: "alert alert-error", role: "alert" }, error.message)));
        });
        actions.replaceChildren(cancel);
        outcome.replaceChildren();
      } else if (state === "completed") {
        heading.textContent = "Your preview";
        actions.replaceChildren();
        outcome.replaceChildren(...savePanel(task));
        if (wasRunning) announce("The preview is ready to play.");
      } else {
        heading.textContent = state === "cancelled" ? "Preview cancelled" : "Preview failed";
        actions.replaceChildren();
        outcome.replaceChildren(h("p", { class: state === "cancelled" ? "alert alert-info" : "alert alert-error", role: "alert" },
          state === "cancelled" ? "The preview was cancelled." : `The preview failed: ${task.error || "the worker did not say why"}.`));
      }
    };
    stopWatching = subscribe(paint);
    paint(getTask(taskId) ?? track({ id: taskId }));
  }

  function savePanel(task) {
    const inputs = { text: task.metadata?.text ?? text.value.trim(), language: task.metadata?.language ?? language.el.value, instruct: task.metadata?.instruct ?? instruct.value.trim() };
    const url = task.result?.audio_url ?? `/api/tasks/${task.id}/audio`;
    const audio = h("audio", { controls: true, preload: "metadata", src: url, "aria-label": "Voice design preview" });
    const saveAlert = formAlert();
    const name = field({ label: "Name this voice", control: h("input", { type: "text", name: "name", maxlength: "100", autocomplete: "off" }) });
    const save = h("button", { type: "submit", class: "btn btn-primary" }, "Save as voice");
    const status = h("p", { class: "progress-status", "aria-live": "polite" });
    const saveForm = h("form", { class: "save-form", novalidate: true }, saveAlert.el, name.el, h("div", { class: "form-actions" }, save, h("button", {
      type: "button", class: "btn", onclick: () => { instruct.focus(); },
    }, "Change the description")), status);
    saveForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      saveAlert.clear();
      if (!name.control.value.trim()) {
        name.setError("Please enter a name for the voice.");
        name.control.focus();
        return;
      }
      save.disabled = true;
      status.textContent = "Fetching the preview…";
      try {
        const blob = await (await fetchMedia(url, { signal })).blob();
        const body = new FormData();
        body.append("name", name.control.value.trim());
        body.append("text", inputs.text);
        body.append("language", inputs.language);
        body.append("instruct", inputs.instruct);
        body.append("audio", blob, "preview.wav");
        status.textContent = "Saving…";
        const voice = await upload("/api/voices/design", body, { signal });
        saveDraft("design", { ...loadDraft("design"), task_id: null });
        showSaved(voice);
      } catch (error) {
        if (error.name === "AbortError") return;
        status.textContent = "";
        if (!placeError(error.message, [[name, /\bname\b/i]])) saveAlert.show(error.message);
      } finally {
        save.disabled = false;
      }
    });
    return [
      h("p", { class: "result-text" }, `“${inputs.text}”`),
      audio,
      h("p", { class: "field-hint" }, "Not quite right? Change the description and preview again. Happy with it? Name it and save it."),
      saveForm,
    ];
  }

  function showSaved(voice) {
    const heading = h("h2", { tabindex: "-1", class: "success-heading" }, `“${voice.name}” is saved`);
    result.replaceChildren(
      heading,
      h("p", {}, "Your designed voice is in your voices now."),
      h("div", { class: "form-actions" },
        h("a", { class: "btn btn-primary", href: `/generate?voice=${encodeURIComponent(voice.id)}` }, "Generate with this voice"),
        h("a", { class: "btn", href: "/voices" }, "See all voices")),
    );
    heading.focus();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    alert.clear();
    let first = null;
    if (!instruct.value.trim()) { instructField.setError("Please describe the voice."); first ||= instruct; }
    if (!text.value.trim()) { textField.setError("Please enter text for the preview to speak."); first ||= text; }
    if (first) { first.focus(); return; }
    saveNow();
    submit.disabled = true;
    submit.textContent = "Starting…";
    try {
      const started = await api("/api/voices/design/preview", { method: "POST", json: { text: text.value.trim(), language: language.el.value, instruct: instruct.value.trim() } });
      track({
        id: started.task_id, type: "design_preview", status: started.status, created_at: new Date().toISOString(),
        metadata: { text: text.value.trim(), language: language.el.value, instruct: instruct.value.trim() },
      });
      showTask(started.task_id);
      result.querySelector("h2")?.focus();
    } catch (error) {
      const placed = placeError(error.message, [
        [instructField, /descri|instruct/i],
        [textField, /text/i],
        [languageField, /language/i],
      ]);
      if (!placed) alert.show(error.message);
    } finally {
      submit.textContent = "Preview voice";
      limits();
    }
  });

  root.append(
    h("h1", { tabindex: "-1" }, "Design a voice"),
    h("p", { class: "lede" }, "No recording? Describe the voice you want, listen to a preview, and keep the one you like."),
    engineNote(),
    form,
    result,
  );

  const linked = params.get("task");
  if (linked) {
    replaceUrl("/design");
    api(`/api/tasks/${encodeURIComponent(linked)}`).then((task) => {
      if (signal.aborted) return;
      if (task.metadata?.instruct) instruct.value = task.metadata.instruct;
      if (task.metadata?.text) text.value = task.metadata.text;
      if (task.metadata?.language) language.set(task.metadata.language);
      instructCount.update();
      textCount.update();
      track(task);
      showTask(task.id);
    }).catch((error) => alert.show(`Could not open that preview: ${error.message}`));
  } else if (draft.task_id) {
    showTask(draft.task_id);
  }
}
