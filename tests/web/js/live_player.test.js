// Listening while it renders (live_player.js): when the stored file takes over from the live
// stream, what the line under the player says, and the bar's two lengths.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { handoverPlan, liveLine, liveScale } from "../../../src/vocalis/api/web/live_player.js";

describe("handoverPlan", () => {
  test("while the stream plays, the file waits: swapping now would be heard", () => {
    assert.deepEqual(handoverPlan({ started: true, paused: false, ended: false, position: 7.2 }), { now: false });
  });

  test("paused: the file takes over at the same place and stays paused", () => {
    assert.deepEqual(handoverPlan({ started: true, paused: true, ended: false, position: 7.2 }), { now: true, at: 7.2, play: false });
  });

  test("played to the end: the file takes over at its end, silent", () => {
    assert.deepEqual(handoverPlan({ started: true, paused: true, ended: true, position: 18.6 }), { now: true, at: 18.6, play: false });
  });

  test("a stream that broke off ended early: the file plays on from there", () => {
    assert.deepEqual(handoverPlan({ started: true, paused: true, ended: true, cut: true, position: 9 }), { now: true, at: 9, play: true });
  });

  test("nothing heard yet: the file starts from the top, playing if the stream was asked to", () => {
    assert.deepEqual(handoverPlan({ started: false, paused: false, ended: false }), { now: true, at: 0, play: true });
    assert.deepEqual(handoverPlan({ started: false, paused: true, ended: false }), { now: true, at: 0, play: false });
  });
});

describe("liveLine", () => {
  test("before the first sentence: it says playback starts with it", () => {
    assert.equal(liveLine({ started: false, paused: false }), "Starts playing as soon as the first sentence is rendered…");
  });

  test("autoplay refused: it asks for a press of play, and says what is ready", () => {
    assert.equal(liveLine({ started: false, paused: true, rendered: 4 }), "Press play to listen while it renders · 0:04 rendered.");
  });

  test("playing: the position, what is rendered, and how far rendering is ahead", () => {
    assert.equal(liveLine({ started: true, paused: false, played: 4.2, rendered: 12.9 }), "Playing 0:04 · 0:12 rendered (9 s ahead)");
    assert.equal(liveLine({ started: true, paused: true, played: 4.2, rendered: 12.9 }), "Paused at 0:04 · 0:12 rendered (9 s ahead)");
  });

  test("playback caught up with rendering: it waits for the next sentence", () => {
    assert.equal(liveLine({ started: true, paused: false, waiting: true, played: 3, rendered: 3 }), "Waiting for the next sentence · 0:03 rendered");
  });

  test("nothing known about rendering (a worker without segments): position only", () => {
    assert.equal(liveLine({ started: true, paused: false, played: 2, rendered: null }), "Playing 0:02");
  });

  test("a broken stream, silent now, says the file will play", () => {
    assert.match(liveLine({ started: true, paused: true, cut: true, played: 2, rendered: 5 }), /broke off/);
    assert.equal(liveLine({ started: true, paused: false, cut: true, played: 2, rendered: 5 }), "Playing 0:02 · 0:05 rendered (3 s ahead)");
  });
});

describe("liveScale", () => {
  test("the whole is estimated from the share of the text done", () => {
    assert.deepEqual(liveScale({ rendered: 10, played: 5, progress: 0.25 }), { rendered: 0.25, played: 0.125 });
  });

  test("without progress, what is rendered fills the bar", () => {
    assert.deepEqual(liveScale({ rendered: 10, played: 5, progress: null }), { rendered: 1, played: 0.5 });
  });

  test("played never shows beyond rendered; nothing rendered is an empty bar", () => {
    assert.deepEqual(liveScale({ rendered: 4, played: 6, progress: 0.5 }), { rendered: 0.5, played: 0.5 });
    assert.deepEqual(liveScale({ rendered: 0, played: 0, progress: 0.5 }), { rendered: 0, played: 0 });
  });
});
