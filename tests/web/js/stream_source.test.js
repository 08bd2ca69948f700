// Feeding the live stream into a MediaSource (stream_source.js). Node has no MediaSource, so a
// SourceBuffer stand-in behaves as the browser's does where it matters here: one append at a
// time (a second one while updating throws), "updateend" after each, and endOfStream only while
// open. The real one runs in the browser test (tests/web/test_listening.py).

import assert from "node:assert/strict";
import { test } from "node:test";

import { canFeed, createAppender, feedStream } from "../../../src/vocalis/api/web/stream_source.js";
import { settle } from "./support.js";

class SourceBuffer extends EventTarget {
  updating = false;
  chunks = [];

  appendBuffer(chunk) {
    if (this.updating) throw new DOMException("still updating", "InvalidStateError");
    this.updating = true;
    setImmediate(() => {
      this.chunks.push(chunk);
      this.updating = false;
      this.dispatchEvent(new Event("updateend"));
    });
  }
}

class MediaSource {
  readyState = "open";
  ended = 0;

  endOfStream() {
    if (this.readyState !== "open") throw new DOMException("not open", "InvalidStateError");
    this.readyState = "ended";
    this.ended += 1;
  }
}

test("chunks go in one at a time, in order, each append resolving once it is in", async () => {
  const sourceBuffer = new SourceBuffer();
  const appender = createAppender({ mediaSource: new MediaSource(), sourceBuffer });
  const first = appender.append("a");
  assert.equal(sourceBuffer.updating, true);
  assert.deepEqual(sourceBuffer.chunks, []);
  await first;
  await appender.append("b");
  await appender.append("c");
  assert.deepEqual(sourceBuffer.chunks, ["a", "b", "c"]);
});

test("the reader waits for each append: reading faster than the buffer takes would throw", async () => {
  const sourceBuffer = new SourceBuffer();
  const appender = createAppender({ mediaSource: new MediaSource(), sourceBuffer });
  appender.append("a");
  assert.throws(() => sourceBuffer.appendBuffer("b"), { name: "InvalidStateError" });
  await settle();
  assert.deepEqual(sourceBuffer.chunks, ["a"]);
});

test("end() ends an open source once, and leaves one the player let go of alone", async () => {
  const mediaSource = new MediaSource();
  const appender = createAppender({ mediaSource, sourceBuffer: new SourceBuffer() });
  await appender.append("a");
  appender.end();
  appender.end();
  assert.equal(mediaSource.ended, 1);

  const closed = new MediaSource();
  closed.readyState = "closed";
  const late = createAppender({ mediaSource: closed, sourceBuffer: new SourceBuffer() });
  late.end();
  assert.equal(closed.ended, 0);
  await assert.rejects(late.append("a"), { name: "InvalidStateError" });
});

test("MP3 into MediaSource only where the browser says it can take it", () => {
  assert.equal(canFeed(undefined), false);
  assert.equal(canFeed({ isTypeSupported: (type) => type === "audio/mpeg" }), true);
  assert.equal(canFeed({ isTypeSupported: () => false }), false);
});

test("without MediaSource, the stream's URL is the element's src (the cookie authorises it)", async () => {
  const audio = {};
  await feedStream(audio, "/api/generations/g/stream?format=mp3", { MediaSourceClass: undefined });
  assert.equal(audio.src, "/api/generations/g/stream?format=mp3");
});
