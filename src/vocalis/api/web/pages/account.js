// Account: who you are, your public profile (handle, display name), API keys, sign out.

import { api } from "../api.js";
import { apiKeysSection } from "../api_keys.js";
import { h } from "../dom.js";
import { field, formAlert, placeError } from "../fields.js";
import { day } from "../format.js";
import { loadLanguages } from "../languages.js";
import { signOut } from "../session.js";

export const title = "Account";

export async function render(root, { signal, navigate }) {
  const heading = h("h1", { tabindex: "-1" }, "Your account");
  const who = h("p", { class: "lede" }, "Loading…");
  const alert = formAlert();
  const handle = field({ label: "Handle", optional: true, control: h("input", { type: "text", name: "handle", maxlength: "30", autocomplete: "username", spellcheck: "false" }), hint: "3–30 letters, digits or underscores." });
  const displayName = field({ label: "Display name", optional: true, control: h("input", { type: "text", name: "display_name", maxlength: "100", autocomplete: "name" }) });
  const save = h("button", { type: "submit", class: "btn btn-primary" }, "Save profile");
  const saved = h("p", { class: "saved", role: "status" });
  const form = h("form", { class: "card form", novalidate: true }, h("h2", {}, "Profile"), alert.el, handle.el, displayName.el, h("div", { class: "form-actions" }, save, saved));
  const engine = h("p", { class: "muted" });
  const out = h("button", { type: "button", class: "btn" }, "Sign out");
  out.addEventListener("click", async () => {
    out.disabled = true;
    await signOut();
    navigate("/signin", { replace: true });
  });
  root.append(heading, who, form, apiKeysSection({ signal }),
    h("section", { class: "card" }, h("h2", {}, "Session"), h("p", {}, "Signing out ends your session on every device."), out),
    h("section", { class: "card" }, h("h2", {}, "Engine"), engine));

  loadLanguages().then((info) => {
    engine.textContent = info.provider
      ? `This server synthesizes with the “${info.provider}” engine.${info.provider === "local" ? " It reproduces the kind of voice (pitch, register, brightness, loudness, pace), not the speaker's identity." : ""}`
      : "The synthesis worker is not reachable right now.";
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    alert.clear();
    saved.textContent = "";
    save.disabled = true;
    try {
      const body = { handle: handle.control.value.trim() || null, display_name: displayName.control.value.trim() || null };
      await api("/api/profile", { method: "PATCH", json: body });
      saved.textContent = "Saved.";
    } catch (error) {
      if (!placeError(error.message, [[handle, /handle/i], [displayName, /display/i]])) alert.show(error.message);
    } finally {
      save.disabled = false;
    }
  });

  try {
    const me = await api("/api/me", { signal });
    if (signal.aborted || !me.signed_in) return;
    who.replaceChildren("Signed in as ", h("strong", {}, me.user.email), me.profile?.created_at ? ` · member since ${day(me.profile.created_at)}` : "");
    handle.control.value = me.profile?.handle ?? "";
    displayName.control.value = me.profile?.display_name ?? "";
  } catch (error) {
    if (error.name !== "AbortError") who.textContent = `Could not load your account: ${error.message}`;
  }
}
