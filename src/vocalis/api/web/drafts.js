// Form drafts in localStorage, per signed-in user, so a refresh restores what you typed.
// Signing out clears them: the next person at this browser does not see your text.

import { currentUser } from "./session.js";

const PREFIX = "vocalis.draft.";

function key(name) {
  const user = currentUser();
  return user ? `${PREFIX}${name}.${user.id}` : null;
}

export function loadDraft(name) {
  const where = key(name);
  try {
    return (where && JSON.parse(localStorage.getItem(where) || "null")) || {};
  } catch {
    return {};
  }
}

export function saveDraft(name, value) {
  const where = key(name);
  if (!where) return;
  try {
    localStorage.setItem(where, JSON.stringify(value));
  } catch {
    // storage full or disabled: the form still works, it just will not come back
  }
}

/** Forget every saved draft (app.js calls this at sign-out). */
export function clearDrafts() {
  for (const stored of Object.keys(localStorage)) {
    if (stored.startsWith(PREFIX)) localStorage.removeItem(stored);
  }
}
