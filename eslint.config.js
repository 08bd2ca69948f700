// ESLint for the web app (src/vocalis/api/web: plain ES modules run by the browser) and its
// Node unit tests. The rules catch bugs — undefined names, unused code, misspelt globals,
// comparisons that cannot be true — not style. `npm run lint`; CI runs it from .ci/js.

import js from "@eslint/js";
import globals from "globals";

// Browser globals that are easy to use by accident: a forgotten `const status` or a handler
// that reads `event` instead of its argument still "works" through window.status/window.event.
const CONFUSING_BROWSER_GLOBALS = [
  "blur", "close", "closed", "event", "external", "find", "focus", "frames", "length", "name",
  "open", "opener", "origin", "parent", "print", "screen", "scroll", "self", "status", "stop", "top",
].map((name) => ({ name, message: `Use a local variable, or window.${name} if the global is meant.` }));

export default [
  { ignores: ["node_modules/", ".venv/", "**/.venv/", "build/", "dist/"] },
  js.configs.recommended,
  {
    rules: {
      "array-callback-return": "error",
      eqeqeq: ["error", "always", { null: "ignore" }],
      "no-eval": "error",
      "no-implied-eval": "error",
      "no-promise-executor-return": "error",
      "no-self-compare": "error",
      "no-sequences": "error",
      "no-template-curly-in-string": "error",
      "no-throw-literal": "error",
      "no-unmodified-loop-condition": "error",
      "no-unreachable-loop": "error",
      // Same-scope use before a `let`/`const` is a TDZ error at run time; closures are fine.
      "no-use-before-define": ["error", { functions: false, classes: false, variables: false }],
      "no-var": "error",
      "prefer-promise-reject-errors": "error",
    },
  },
  {
    files: ["src/vocalis/api/web/**/*.js"],
    languageOptions: { globals: globals.browser },
    rules: { "no-restricted-globals": ["error", ...CONFUSING_BROWSER_GLOBALS] },
  },
  {
    // Evaluated inside the page by the browser tests, as a function body: a script, not a module.
    files: ["tests/web/checks.js"],
    languageOptions: { sourceType: "script", globals: globals.browser },
  },
  {
    files: ["tests/web/js/**/*.js", "eslint.config.js"],
    languageOptions: { globals: globals.node },
  },
];
