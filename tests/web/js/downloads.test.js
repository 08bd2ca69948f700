// Download links (downloads.js): one URL per format, and file names that match the server's.

import assert from "node:assert/strict";
import { test } from "node:test";

import { DOWNLOAD_FORMATS, downloadHref, downloadName } from "../../../src/vocalis/api/web/downloads.js";

test("the four formats, WAV first", () => {
  assert.deepEqual(DOWNLOAD_FORMATS.map((f) => f.format), ["wav", "mp3", "opus", "flac"]);
});

test("WAV is the plain audio URL (its redirect to the file); the others ask the server to encode", () => {
  assert.equal(downloadHref("g1", "wav"), "/api/generations/g1/audio");
  assert.equal(downloadHref("g1", "mp3"), "/api/generations/g1/audio?format=mp3");
  assert.equal(downloadHref("g1", "opus"), "/api/generations/g1/audio?format=opus");
  assert.equal(downloadHref("a/b", "flac"), "/api/generations/a%2Fb/audio?format=flac");
});

test("names follow the server's <voice>-<date>.<ext> (transcode.download_name)", () => {
  assert.equal(downloadName("Lighthouse keeper", "2026-03-10T12:00:00Z", "wav"), "Lighthouse-keeper-2026-03-10.wav");
  assert.equal(downloadName("  Zoë & Co. ", "2026-03-10T12:00:00Z", "mp3"), "Zo-Co-2026-03-10.mp3");
  assert.equal(downloadName("under_score-dash", "2026-03-10T12:00:00Z", "flac"), "under_score-dash-2026-03-10.flac");
});

test("the date is the UTC day, as the server writes it", () => {
  assert.equal(downloadName("V", "2026-03-10T23:30:00-02:00", "wav"), "V-2026-03-11.wav");
  assert.equal(downloadName("V", "2026-03-10T01:00:00+00:00", "opus"), "V-2026-03-10.opus");
});

test("no voice name, or one with nothing usable, reads as speech; a bad date is left out", () => {
  assert.equal(downloadName(null, "2026-03-10T12:00:00Z", "wav"), "speech-2026-03-10.wav");
  assert.equal(downloadName("日本語", "2026-03-10T12:00:00Z", "mp3"), "speech-2026-03-10.mp3");
  assert.equal(downloadName("V", "not a date", "wav"), "V.wav");
});
