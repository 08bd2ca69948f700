// The live stream of a generation into an <audio> element. The response is read with fetch()
// and its MP3 bytes appended to a MediaSource as they arrive, so playback starts with the first
// finished segment: given the same URL as its src, Chromium buffers several seconds of a
// stream before it plays a note (measured: nothing played while the first 3 s of audio had
// arrived and the render waited). Where MediaSource cannot take MP3, the URL goes straight to
// <audio src>, which starts later but still plays while the rest renders.

import { fetchMedia } from "./api.js";

export const STREAM_TYPE = "audio/mpeg";

/** Whether this MediaSource (window.MediaSource, or a stand-in) can be fed the MP3 stream. */
export function canFeed(MediaSourceClass) {
  return Boolean(MediaSourceClass?.isTypeSupported?.(STREAM_TYPE));
}

/**
 * Appends chunks to a SourceBuffer, which takes one append at a time: append(chunk) resolves
 * once that chunk is in, so the reader waits for the buffer and the server for the reader.
 * end() ends the media source (the element learns its duration and can play to the end).
 */
export function createAppender({ mediaSource, sourceBuffer }) {
  let done = null;
  sourceBuffer.addEventListener("updateend", () => {
    const resolve = done;
    done = null;
    resolve?.();
  });
  return {
    async append(chunk) {
      if (mediaSource.readyState !== "open") throw new DOMException("The player let go of the stream.", "InvalidStateError");
      const appended = new Promise((resolve) => {
        done = resolve;
      });
      sourceBuffer.appendBuffer(chunk);
      await appended;
    },
    end() {
      if (mediaSource.readyState === "open" && !sourceBuffer.updating) mediaSource.endOfStream();
    },
  };
}

/**
 * Play `url` (the generation's /stream) through `audio`. Resolves when the whole stream is in
 * the element, rejects when it breaks off (an aborted `signal` rejects with an AbortError).
 * Either way the element keeps what it already has, and plays it.
 */
export async function feedStream(audio, url, { signal, MediaSourceClass = globalThis.MediaSource } = {}) {
  if (!canFeed(MediaSourceClass)) {
    audio.src = url; // the cookie authorises a plain GET
    return;
  }
  const mediaSource = new MediaSourceClass();
  const objectUrl = URL.createObjectURL(mediaSource);
  const opened = new Promise((resolve) => {
    mediaSource.addEventListener("sourceopen", resolve, { once: true });
  });
  audio.src = objectUrl;
  await opened;
  URL.revokeObjectURL(objectUrl);
  const appender = createAppender({ mediaSource, sourceBuffer: mediaSource.addSourceBuffer(STREAM_TYPE) });
  try {
    const response = await fetchMedia(url, { signal });
    const reader = response.body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      await appender.append(value);
    }
  } finally {
    // Broken off or not, what arrived can play to its end (and the element says "ended").
    appender.end();
  }
}
