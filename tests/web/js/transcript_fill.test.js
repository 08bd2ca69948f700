// When the clone form's transcript box is filled from a transcription (transcript_fill.js): only
// an empty box or our own untouched fill, only with the latest recording's words.

import assert from "node:assert/strict";
import { test } from "node:test";

import { createTranscriptFill } from "../../../src/vocalis/api/web/transcript_fill.js";

test("an empty box is filled with the words heard, trimmed", () => {
  const fill = createTranscriptFill();
  assert.equal(fill.wants(""), true);
  assert.equal(fill.wants("  \n"), true);
  const token = fill.begin();
  assert.deepEqual(fill.accept(token, "  The quick brown fox. ", ""), { action: "fill", text: "The quick brown fox." });
});

test("words the user typed are never overwritten, not even by an answer already on its way", () => {
  const fill = createTranscriptFill();
  assert.equal(fill.wants("My own words"), false);
  const token = fill.begin(); // the box was empty when the recording was chosen...
  assert.deepEqual(fill.accept(token, "Heard words", "Typed meanwhile"), { action: "kept" }); // ...then typed in
});

test("our own fill, untouched, is replaced by the next recording's; once edited it is kept", () => {
  const fill = createTranscriptFill();
  const first = fill.accept(fill.begin(), "First take", "");
  assert.equal(first.text, "First take");
  assert.equal(fill.wants("First take"), true);
  assert.deepEqual(fill.accept(fill.begin(), "Second take", "First take"), { action: "fill", text: "Second take" });
  assert.equal(fill.wants("Second take, corrected"), false);
  assert.deepEqual(fill.accept(fill.begin(), "Third take", "Second take, corrected"), { action: "kept" });
  assert.equal(fill.wants(""), true, "an edit that empties the box lets the next recording fill it again");
});

test("only the latest recording's answer counts", () => {
  const fill = createTranscriptFill();
  const old = fill.begin();
  const latest = fill.begin();
  assert.equal(fill.isCurrent(old), false);
  assert.deepEqual(fill.accept(old, "Replaced recording", ""), { action: "stale" });
  assert.deepEqual(fill.accept(latest, "Latest recording", ""), { action: "fill", text: "Latest recording" });
});

test("a removed recording's answer fills nothing; silence fills nothing", () => {
  const fill = createTranscriptFill();
  const token = fill.begin();
  fill.cancel();
  assert.deepEqual(fill.accept(token, "Words", ""), { action: "stale" });
  assert.deepEqual(fill.accept(fill.begin(), "   ", ""), { action: "empty" });
  assert.deepEqual(fill.accept(fill.begin(), undefined, ""), { action: "empty" });
});
