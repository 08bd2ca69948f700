// fetch for the JSON API: adds the Bearer token, retries once after a refresh on 401, and
// turns {"detail": ...} errors into ApiError with a message meant for a person.

import { accessToken, expire, refresh } from "./session.js";

export class ApiError extends Error {
  constructor(message, status, body = null) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

const OFFLINE = "Cannot reach the server. Check your connection and try again.";

function withQuery(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, value);
  }
  const text = params.toString();
  return text ? `${path}${path.includes("?") ? "&" : "?"}${text}` : path;
}

export function detailOf(body, status) {
  const detail = body?.detail;
  if (typeof detail === "string" && detail) return detail;
  if (Array.isArray(detail) && detail.length) {
    return detail.map((d) => (d.loc ? `${d.loc.slice(1).join(".")}: ${d.msg}` : d.msg)).join("; ");
  }
  if (status === 413) return "The file is too large.";
  if (status === 429) return "Too many requests. Please wait a moment and try again.";
  if (status >= 500) return `The server had a problem (${status}). Please try again.`;
  return `Request failed (${status}).`;
}

async function parse(response) {
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json().catch(() => null) : null;
  if (!response.ok) throw new ApiError(detailOf(body, response.status), response.status, body);
  return body;
}

/**
 * api("/api/voices", {query: {page: 2}}) -> parsed JSON.
 * Options: method, json (a body to send as JSON), form (FormData), query, signal.
 */
export async function api(path, { method = "GET", json, form, query, signal } = {}) {
  const url = withQuery(path, query);
  for (let attempt = 0; ; attempt += 1) {
    const token = await accessToken().catch(() => null);
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    } else if (form) {
      body = form;
    }
    let response;
    try {
      response = await fetch(url, { method, headers, body, signal, credentials: "same-origin" });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new ApiError(OFFLINE, 0);
    }
    if (response.status === 401 && token) {
      if (attempt === 0) {
        const renewed = await refresh(token).catch(() => null);
        if (renewed) continue;
      }
      expire();
    }
    return parse(response);
  }
}

/**
 * A multipart upload with progress (fetch cannot report upload progress).
 * onProgress(fraction) is called while the body is sent; then the server works on it.
 */
export async function upload(path, form, { onProgress, signal } = {}) {
  for (let attempt = 0; ; attempt += 1) {
    const token = await accessToken().catch(() => null);
    const result = await new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", path);
      xhr.setRequestHeader("Accept", "application/json");
      if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
      xhr.responseType = "text";
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total);
      });
      xhr.upload.addEventListener("load", () => onProgress?.(1));
      xhr.addEventListener("load", () => {
        let body;
        try {
          body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
        } catch {
          body = null;
        }
        resolve({ status: xhr.status, body });
      });
      xhr.addEventListener("error", () => reject(new ApiError(OFFLINE, 0)));
      xhr.addEventListener("abort", () => reject(new DOMException("Upload cancelled.", "AbortError")));
      signal?.addEventListener("abort", () => xhr.abort(), { once: true });
      xhr.send(form);
    });
    if (result.status === 401 && token) {
      if (attempt === 0 && (await refresh(token).catch(() => null))) continue;
      expire();
    }
    if (result.status < 200 || result.status >= 300) {
      throw new ApiError(detailOf(result.body, result.status), result.status, result.body);
    }
    return result.body;
  }
}

/** Fetch a media URL (cookie- or Bearer-authorised GET that redirects to a signed URL). */
export async function fetchMedia(url, { signal } = {}) {
  const token = await accessToken().catch(() => null);
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  let response;
  try {
    response = await fetch(url, { headers, signal, credentials: "same-origin" });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(OFFLINE, 0);
  }
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    throw new ApiError(detailOf(body, response.status), response.status, body);
  }
  return response;
}

/** Every page of a paginated list (voice pickers need them all). */
export async function allPages(path, key, query = {}) {
  const items = [];
  for (let page = 1; page <= 50; page += 1) {
    const data = await api(path, { query: { ...query, page, per_page: 100 } });
    items.push(...data[key]);
    if (page >= (data.pagination?.pages ?? 1)) break;
  }
  return items;
}
