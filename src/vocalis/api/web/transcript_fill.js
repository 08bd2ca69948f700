// When the clone form may fill its transcript box from a transcription: only while the box is
// empty or still holds our own last fill (the user's words are never overwritten), and only
// with the answer for the latest recording (a slow answer for a replaced one is dropped).
// Pure logic, so the rules are unit-tested in Node.

/**
 * createTranscriptFill() -> {wants(current), begin(), isCurrent(token), cancel(), accept(token,
 * text, current)}. `current` is what the box holds now.
 */
export function createTranscriptFill() {
  let filled = null; // the text this put in the box last
  let latest = 0; // the token of the recording whose transcription may fill the box

  /** May a transcription fill a box holding `current`? */
  function wants(current) {
    return !current.trim() || current === filled;
  }

  /** A new recording is being transcribed: answers for earlier ones no longer count. */
  function begin() {
    latest += 1;
    return latest;
  }

  function isCurrent(token) {
    return token === latest;
  }

  /** The recording was removed or replaced by none: no answer may fill the box. */
  function cancel() {
    latest += 1;
  }

  /**
   * What to do with a finished transcription: {action: "fill", text} puts `text` in the box;
   * "stale" (a later recording replaced this one), "kept" (the user typed their own words) and
   * "empty" (no words were heard) leave the box as it is.
   */
  function accept(token, text, current) {
    if (!isCurrent(token)) return { action: "stale" };
    if (!wants(current)) return { action: "kept" };
    const words = String(text ?? "").trim();
    if (!words) return { action: "empty" };
    filled = words;
    return { action: "fill", text: words };
  }

  return { wants, begin, isCurrent, cancel, accept };
}
