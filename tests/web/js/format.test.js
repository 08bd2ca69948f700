// How numbers and times read (format.js).

import assert from "node:assert/strict";
import { test } from "node:test";

import { bytes, clock, count, duration, percent, timeLeft, when } from "../../../src/vocalis/api/web/format.js";

test("clock: m:ss, h:mm:ss past an hour, whole seconds down; a dash when unknown", () => {
  assert.equal(clock(65.2), "1:05");
  assert.equal(clock(0), "0:00");
  assert.equal(clock(59.99), "0:59");
  assert.equal(clock(3725), "1:02:05");
  assert.equal(clock(-3), "0:00");
  for (const unknown of [null, undefined, NaN, Infinity]) assert.equal(clock(unknown), "–");
});

test("duration: tenths of a second under a minute, a clock from one minute", () => {
  assert.equal(duration(3.25), "3.3 s");
  assert.equal(duration(0), "0.0 s");
  assert.equal(duration(60), "1:00");
  assert.equal(duration(95), "1:35");
  assert.equal(duration(null), "–");
});

test("timeLeft: seconds, then five-second steps, then minutes; nothing when unknown", () => {
  assert.equal(timeLeft(0), "almost done");
  assert.equal(timeLeft(1.2), "almost done");
  assert.equal(timeLeft(7.6), "about 8 s left");
  assert.equal(timeLeft(47), "about 45 s left");
  assert.equal(timeLeft(88), "about 90 s left");
  assert.equal(timeLeft(150), "about 3 min left");
  assert.equal(timeLeft(3600), "about 60 min left");
  for (const unknown of [null, undefined, NaN, Infinity]) assert.equal(timeLeft(unknown), null);
});

test("bytes, counts and percentages", () => {
  assert.equal(bytes(512), "512 B");
  assert.equal(bytes(2048), "2 KB");
  assert.equal(bytes(5.5 * 1024 * 1024), "5.5 MB");
  assert.equal(count(10000), "10,000");
  assert.equal(percent(0.456), "46%");
  assert.equal(percent(-0.2), "0%");
  assert.equal(percent(1.7), "100%");
});

test("when: words for the last week, then the date", () => {
  const now = Date.parse("2026-03-10T12:00:00Z");
  const ago = (seconds) => new Date(now - seconds * 1000).toISOString();
  assert.equal(when(ago(10), now), "just now");
  assert.equal(when(ago(5 * 60), now), "5 minutes ago");
  assert.equal(when(ago(3 * 3600), now), "3 hours ago");
  assert.equal(when(ago(86400), now), "yesterday");
  assert.equal(when(ago(3 * 86400), now), "3 days ago");
  assert.match(when(ago(30 * 86400), now), /2026/);
  assert.equal(when("", now), "");
  assert.equal(when(null, now), "");
});
