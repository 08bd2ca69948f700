// How numbers and times read in the UI.

const numbers = new Intl.NumberFormat("en-US");

export function count(n) {
  return numbers.format(n);
}

/** 65.2 -> "1:05"; used for audio lengths and elapsed time. */
export function clock(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

/** 3.25 -> "3.3 s", 95 -> "1:35". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  return seconds < 60 ? `${seconds.toFixed(1)} s` : clock(seconds);
}

/**
 * Time still to wait, in words: 8 -> "about 8 s left", 47 -> "about 45 s left", 150 ->
 * "about 3 min left". Coarser as it grows, so a fresh estimate each second does not flicker.
 */
export function timeLeft(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return null;
  if (seconds < 1.5) return "almost done";
  if (seconds < 10) return `about ${Math.round(seconds)} s left`;
  if (seconds < 90) return `about ${Math.round(seconds / 5) * 5} s left`;
  return `about ${Math.round(seconds / 60)} min left`;
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });

/** How long ago, in words ("just now", "5 minutes ago"); past a week, the date. */
export function when(iso, now = Date.now()) {
  if (!iso) return "";
  const date = new Date(iso);
  const ago = (now - date.getTime()) / 1000;
  if (ago < 45) return "just now";
  if (ago < 3600) return relative.format(-Math.round(ago / 60), "minute");
  if (ago < 86400) return relative.format(-Math.round(ago / 3600), "hour");
  if (ago < 7 * 86400) return relative.format(-Math.round(ago / 86400), "day");
  return absolute.format(date);
}

const dayOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "long" });

export function day(iso) {
  return iso ? dayOnly.format(new Date(iso)) : "";
}

export function fullDate(iso) {
  return iso ? absolute.format(new Date(iso)) : "";
}

export function percent(fraction) {
  return `${Math.round(Math.max(0, Math.min(1, fraction)) * 100)}%`;
}
