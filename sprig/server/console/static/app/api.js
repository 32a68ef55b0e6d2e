// The console's only way to the server: the REST API, with the key the person signed in
// with (kept in this tab's sessionStorage, sent as a bearer token; never in a URL or a
// cookie). Errors carry the API's own words (its one error shape).

const STORE = "sprig.console.key";

/** The API's root: one level above the console's own URL (/console/ -> /, /api/console/ -> /api/). */
export const apiRoot = new URL("../", document.baseURI);

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

export const session = {
  key: () => sessionStorage.getItem(STORE),
  signIn: (key) => sessionStorage.setItem(STORE, key),
  signOut: () => sessionStorage.removeItem(STORE),
};

/** A URL under the API root, with query parameters (lists repeat the name; empty ones are left out). */
export function apiUrl(path, query) {
  const url = new URL(path.replace(/^\//, ""), apiRoot);
  for (const [name, value] of Object.entries(query || {})) {
    if (value === undefined || value === null || value === "") continue;
    for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(name, String(v));
  }
  return url;
}

function headers(extra) {
  const key = session.key();
  return { Accept: "application/json", ...(key ? { Authorization: `Bearer ${key}` } : {}), ...extra };
}

/** The API's words for a failed response: error.message, else detail, else the status. */
export async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    /* not JSON: a proxy's page, say */
  }
  const said = body?.error?.message ?? (typeof body?.detail === "string" ? body.detail : null);
  const message = said || `${response.status} ${response.statusText || "error"}`;
  const error = new ApiError(response.status, message, body);
  refused(error);
  return error;
}

/**
 * Tell the app when the key itself may have been refused: a 401, or a 403 of the
 * authentication kind (a key revoked while signed in). The app checks the key with
 * GET /me and signs out if that is refused too.
 */
function refused(error) {
  const auth = error.status === 401 || (error.status === 403 && error.body?.error?.type === "authentication_error");
  if (auth) window.dispatchEvent(new CustomEvent("sprig:unauthorized", { detail: error }));
}

export async function request(method, path, { query, body, signal, raw } = {}) {
  const init = { method, headers: headers(), signal };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(apiUrl(path, query), init);
  if (!response.ok) throw await errorOf(response);
  if (raw) return response;
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

export const api = {
  get: (path, query, options) => request("GET", path, { ...options, query }),
  post: (path, body, options) => request("POST", path, { ...options, body }),
  put: (path, body, options) => request("PUT", path, { ...options, body }),
  patch: (path, body, options) => request("PATCH", path, { ...options, body }),
  del: (path, options) => request("DELETE", path, options),
};

/**
 * POST a body and read the server-sent events of the answer: yields each `data:` event's
 * JSON until `[DONE]`. Abort with `signal` (the reply stops; what the server saved stays).
 * An event in the error shape (a failure after the stream started) is thrown as ApiError.
 */
export async function* stream(path, body, { signal } = {}) {
  const response = await fetch(apiUrl(path), {
    method: "POST",
    headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
    body: JSON.stringify(body),
    signal,
  });
  if (!response.ok) throw await errorOf(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let cut;
    while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, "");
      const data = event
        .split(/\r?\n/)
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, ""))
        .join("\n");
      if (!data) continue;
      if (data === "[DONE]") return;
      const parsed = JSON.parse(data);
      if (parsed?.error && !parsed.choices) throw new ApiError(500, parsed.error.message || "The reply failed", parsed);
      yield parsed;
    }
  }
}

/**
 * POST with upload progress (fetch has none): `body` is FormData (sent as multipart) or any
 * other value (sent as JSON). Resolves to the parsed JSON answer; `onProgress(fraction)` as
 * bytes leave.
 */
export function upload(path, body, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", apiUrl(path));
    for (const [name, value] of Object.entries(headers())) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress?.(e.loaded / e.total);
    xhr.onerror = () => reject(new ApiError(0, "The upload failed: the server could not be reached", null));
    xhr.onload = () => {
      let answer = null;
      try {
        answer = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON */
      }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(answer);
      const error = new ApiError(xhr.status, answer?.error?.message || answer?.detail || `${xhr.status} error`, answer);
      refused(error);
      reject(error);
    };
    if (body instanceof FormData) xhr.send(body);
    else {
      xhr.setRequestHeader("Content-Type", "application/json");
      xhr.send(JSON.stringify(body));
    }
  });
}
