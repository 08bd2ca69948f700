// The message a person sees when the API says no (api.js detailOf).

import assert from "node:assert/strict";
import { test } from "node:test";

import { detailOf } from "../../../src/vocalis/api/web/api.js";

test("the server's own words come first", () => {
  assert.equal(detailOf({ detail: "Voice not found." }, 404), "Voice not found.");
});

test("validation errors name the field, without the 'body' prefix", () => {
  const body = { detail: [{ loc: ["body", "text"], msg: "Field required" }, { loc: ["body", "options", "speed"], msg: "too fast" }, { msg: "bad" }] };
  assert.equal(detailOf(body, 422), "text: Field required; options.speed: too fast; bad");
});

test("without a detail, the status says what happened", () => {
  assert.equal(detailOf(null, 413), "The file is too large.");
  assert.equal(detailOf({}, 429), "Too many requests. Please wait a moment and try again.");
  assert.equal(detailOf(null, 502), "The server had a problem (502). Please try again.");
  assert.equal(detailOf({ detail: "" }, 400), "Request failed (400).");
});
