// Sign in and sign up against /auth/v1.

import { h } from "../dom.js";
import { field, formAlert } from "../fields.js";
import { isSignedIn, signIn, signUp } from "../session.js";
import { replaceUrl } from "../router.js";

export const title = "Sign in";

function safeNext(params) {
  const next = params.get("next") || "";
  return next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/signin") ? next : "/generate";
}

export function render(root, { params, navigate }) {
  if (isSignedIn()) {
    navigate(safeNext(params), { replace: true });
    return;
  }
  let mode = params.get("mode") === "signup" ? "signup" : "signin";
  const heading = h("h1", { tabindex: "-1" });
  const intro = h("p", { class: "lede" });
  const alert = formAlert();
  const email = field({
    label: "Email",
    control: h("input", { type: "email", name: "email", autocomplete: "email", required: true, spellcheck: "false" }),
  });
  const password = field({
    label: "Password",
    control: h("input", { type: "password", name: "password", required: true, minlength: "8" }),
  });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" });
  const switcher = h("button", { type: "button", class: "link-button" });
  const switchLine = h("p", { class: "switch-line" });
  const form = h("form", { class: "card auth-card", novalidate: true }, alert.el, email.el, password.el, submit, switchLine);

  if (params.get("expired")) alert.show("Your session has ended. Please sign in again.");

  function applyMode() {
    const signup = mode === "signup";
    heading.textContent = signup ? "Create your account" : "Sign in to Vocalis";
    intro.textContent = signup
      ? "Clone and design voices, then turn text into speech."
      : "Welcome back. Your voices and history are waiting.";
    submit.textContent = signup ? "Create account" : "Sign in";
    password.control.autocomplete = signup ? "new-password" : "current-password";
    switchLine.replaceChildren(signup ? "Already have an account? " : "New to Vocalis? ", switcher);
    switcher.textContent = signup ? "Sign in" : "Create an account";
    document.title = `${signup ? "Create account" : "Sign in"} · Vocalis`;
  }

  switcher.addEventListener("click", () => {
    mode = mode === "signup" ? "signin" : "signup";
    alert.clear();
    applyMode();
    const url = new URL(location.href);
    if (mode === "signup") url.searchParams.set("mode", "signup");
    else url.searchParams.delete("mode");
    replaceUrl(url.pathname + url.search);
    heading.focus();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    alert.clear();
    email.clearError();
    password.clearError();
    const address = email.control.value.trim();
    if (!address || !address.includes("@")) {
      email.setError("Please enter your email address.");
      email.control.focus();
      return;
    }
    if (password.control.value.length < (mode === "signup" ? 8 : 1)) {
      password.setError(mode === "signup" ? "Use at least 8 characters." : "Please enter your password.");
      password.control.focus();
      return;
    }
    submit.disabled = true;
    const label = submit.textContent;
    submit.textContent = mode === "signup" ? "Creating account…" : "Signing in…";
    try {
      if (mode === "signup") await signUp(address, password.control.value);
      else await signIn(address, password.control.value);
      navigate(safeNext(params), { replace: true });
    } catch (error) {
      const message = error.message || "Something went wrong.";
      if (/password/i.test(message) && mode === "signup") password.setError(message);
      else if (/email/i.test(message) && !/password/i.test(message)) email.setError(message);
      else alert.show(message);
      submit.disabled = false;
      submit.textContent = label;
    }
  });

  applyMode();
  root.append(h("div", { class: "auth-page" }, heading, intro, form));
}
