// The Account page's API keys: list them (name, prefix, created, last used), create one (the
// key is shown this once, with a Copy button), revoke one after a confirmation. Keys can only
// be managed from a signed-in session, which is what the web app has.

import { api } from "./api.js";
import { confirmDialog } from "./dialog.js";
import { announce, h } from "./dom.js";
import { field, formAlert, placeError } from "./fields.js";
import { fullDate, when } from "./format.js";

function moment(iso, never) {
  return iso ? h("time", { datetime: iso, title: fullDate(iso) }, when(iso)) : never;
}

/** apiKeysSection({signal}) -> the section element; it loads the keys itself. */
export function apiKeysSection({ signal }) {
  const alert = formAlert();
  const name = field({
    label: "Key name",
    control: h("input", { type: "text", name: "key_name", maxlength: "100", autocomplete: "off", spellcheck: "false" }),
    hint: "What will use it, e.g. “Open WebUI” or “nightly script”.",
  });
  const create = h("button", { type: "submit", class: "btn btn-primary" }, "Create key");
  const form = h("form", { class: "form", novalidate: true }, alert.el, name.el, h("div", { class: "form-actions" }, create));
  const fresh = h("div", { class: "new-key", hidden: true });
  const status = h("p", { class: "sr-only", role: "status" });
  const body = h("tbody");
  const table = h("table", { class: "keys" },
    h("caption", { class: "sr-only" }, "Your API keys"),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Key"), h("th", { scope: "col", class: "key-created" }, "Created"),
      h("th", { scope: "col" }, "Last used"), h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Actions")))),
    body);
  const empty = h("p", { class: "muted", hidden: true }, "No API keys yet.");
  const listError = h("p", { class: "alert alert-error", role: "alert", hidden: true });
  const section = h("section", { class: "card", "aria-labelledby": "api-keys-heading" },
    h("h2", { id: "api-keys-heading" }, "API keys"),
    h("p", {}, "Programs use a key instead of your password: send it as ",
      h("code", {}, "Authorization: Bearer vk_…"), " to the API (", h("a", { href: "/api/docs" }, "its documentation"),
      ") or give it to an OpenAI client pointed at ", h("code", {}, `${location.origin}/v1`), ". A key acts with your rights until you revoke it."),
    fresh, form, status, listError, h("div", { class: "table-scroll" }, table), empty);

  function row(key) {
    const revoke = h("button", { type: "button", class: "btn btn-small btn-danger-quiet", "aria-label": `Revoke key ${key.name}` }, "Revoke");
    const tr = h("tr", { dataset: { keyId: key.id } },
      h("td", { class: "key-name" }, key.name),
      h("td", {}, h("code", {}, `${key.prefix}…`)),
      h("td", { class: "key-created" }, moment(key.created_at, "")),
      h("td", {}, moment(key.last_used_at, h("span", { class: "muted" }, "Never"))),
      h("td", { class: "key-actions" }, revoke));
    revoke.addEventListener("click", async () => {
      const ok = await confirmDialog({
        title: `Revoke “${key.name}”?`,
        message: "Programs using this key are refused from now on. This cannot be undone; you can create a new key.",
        confirmLabel: "Revoke key",
      });
      if (!ok) return;
      revoke.disabled = true;
      try {
        await api(`/api/api-keys/${encodeURIComponent(key.id)}`, { method: "DELETE" });
        announce(`Revoked the key ${key.name}.`);
        await load();
        name.control.focus();
      } catch (error) {
        revoke.disabled = false;
        listError.textContent = `Could not revoke “${key.name}”: ${error.message}`;
        listError.hidden = false;
      }
    });
    return tr;
  }

  async function load() {
    try {
      const data = await api("/api/api-keys", { signal });
      if (signal.aborted) return;
      listError.hidden = true;
      body.replaceChildren(...data.api_keys.map(row));
      table.hidden = !data.api_keys.length;
      empty.hidden = data.api_keys.length > 0;
    } catch (error) {
      if (error.name === "AbortError") return;
      listError.textContent = `Could not load your API keys: ${error.message}`;
      listError.hidden = false;
    }
  }

  function showKey(created) {
    const value = h("input", { type: "text", readonly: true, value: created.key, class: "key-value", spellcheck: "false", "aria-label": `The new key ${created.name}` });
    const copied = h("span", { class: "saved", role: "status" });
    const copy = h("button", { type: "button", class: "btn btn-primary" }, "Copy");
    const done = h("button", { type: "button", class: "btn" }, "Done");
    copy.addEventListener("click", async () => {
      value.select();
      try {
        await navigator.clipboard.writeText(created.key);
        copied.textContent = "Copied.";
      } catch {
        // No clipboard access (an insecure origin, or denied): it stays selected for Ctrl+C.
        copied.textContent = "Selected: press Ctrl+C (⌘C) to copy it.";
      }
    });
    done.addEventListener("click", () => {
      fresh.hidden = true;
      fresh.replaceChildren(); // the key leaves the page
      name.control.focus();
    });
    const heading = h("h3", { tabindex: "-1" }, `Your new key “${created.name}”`);
    fresh.replaceChildren(heading,
      h("p", { class: "field-warning" }, "Copy it now: it will not be shown again. Keep it secret, like a password."),
      h("div", { class: "key-copy" }, value, copy), h("div", { class: "form-actions" }, copied, done));
    fresh.hidden = false;
    heading.focus();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    alert.clear();
    const wanted = name.control.value.trim();
    if (!wanted) {
      name.setError("Please name the key (for example, the program that will use it).");
      name.control.focus();
      return;
    }
    create.disabled = true;
    try {
      const created = await api("/api/api-keys", { method: "POST", json: { name: wanted } });
      name.control.value = "";
      showKey(created);
      await load();
    } catch (error) {
      if (!placeError(error.message, [[name, /\bname\b/i]])) alert.show(error.message);
    } finally {
      create.disabled = false;
    }
  });

  load();
  return section;
}
