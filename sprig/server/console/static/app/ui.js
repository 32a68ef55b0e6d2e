// Shared pieces of the console's views. Templates are htm: everything interpolated is text
// (escaped by Preact), except Markdown, which goes through DOMPurify first.

import {
  DOMPurify,
  html,
  marked,
  useCallback,
  useEffect,
  useRef,
  useState,
} from "../vendor/vendor.js";

export { html };
export * from "../vendor/vendor.js";

// ---- navigation --------------------------------------------------------------------------

/** The route: the part of the URL after '#', without its query ('/agents/123'). */
export function currentPath() {
  return (location.hash.replace(/^#/, "") || "/agents").split("?")[0];
}

/** The route's query (`#/search?owner=agents/1` -> URLSearchParams). */
export function currentQuery() {
  const hash = location.hash.replace(/^#/, "");
  return new URLSearchParams(hash.includes("?") ? hash.slice(hash.indexOf("?") + 1) : "");
}

export function navigate(path) {
  location.hash = path.startsWith("#") ? path : `#${path}`;
}

// ---- data --------------------------------------------------------------------------------

/** Run `load()` when `deps` change: { data, error, loading, reload }. */
export function useAsync(load, deps) {
  const [state, setState] = useState({ data: undefined, error: null, loading: true });
  const run = useRef(0);
  const reload = useCallback(() => {
    const mine = ++run.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    Promise.resolve()
      .then(load)
      .then(
        (data) => mine === run.current && setState({ data, error: null, loading: false }),
        (error) => mine === run.current && setState({ data: undefined, error, loading: false }),
      );
  }, deps);
  useEffect(reload, [reload]);
  return { ...state, reload };
}

/** Parse JSON text that must be an object (metadata, settings): throws with a clear message. */
export function parseObject(text, what) {
  if (!text.trim()) return {};
  let value;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${what} is not valid JSON: ${err.message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error(`${what} must be a JSON object, like {"key": "value"}`);
  }
  return value;
}

export const pretty = (value) => JSON.stringify(value ?? {}, null, 2);

// ---- formatting --------------------------------------------------------------------------

export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

export const ms = (value) => (value == null ? "" : value < 10 ? `${value.toFixed(2)} ms` : `${Math.round(value)} ms`);
export const shortId = (id) => (id ? String(id).slice(-8) : "");
export const score = (value) => (value == null ? "" : Number(value).toFixed(3));

/** A message's content as text (a string, or ChatML parts: their text, an image as [image]). */
export function contentText(content) {
  if (content == null) return "";
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((p) => (typeof p === "string" ? p : p?.text ?? (p?.type?.includes("image") ? "[image]" : JSON.stringify(p))))
      .join("\n");
  }
  return JSON.stringify(content);
}

// ---- components --------------------------------------------------------------------------

export function ErrorNote({ error, title = "Error" }) {
  if (!error) return null;
  return html`<div class="alert" role="alert"><strong>${title}:</strong> ${error.message || String(error)}</div>`;
}

export function Loading({ what = "Loading" }) {
  return html`<p class="muted" role="status">${what}…</p>`;
}

/** A result that loads: the error as the API said it, a status line, or `children(data)`. */
export function Loaded({ state, children, what }) {
  if (state.error) return html`<${ErrorNote} error=${state.error} />`;
  if (state.loading && state.data === undefined) return html`<${Loading} what=${what} />`;
  return children(state.data);
}

let fieldIds = 0;
export function useId(prefix = "f") {
  const id = useRef(null);
  if (id.current === null) id.current = `${prefix}-${++fieldIds}`;
  return id.current;
}

/** A labelled form field: `children(id)` renders the control with that id. */
export function Field({ label, hint, error, children }) {
  const id = useId();
  return html`<div class="field">
    <label for=${id}>${label}${hint ? html` <span class="hint">${hint}</span>` : null}</label>
    ${children(id)}
    ${error ? html`<span class="error" role="alert">${error}</span>` : null}
  </div>`;
}

export function Pager({ offset, limit, count, onPage }) {
  return html`<div class="row end" role="navigation" aria-label="Pages">
    <button type="button" disabled=${offset === 0} onClick=${() => onPage(Math.max(0, offset - limit))}>Previous</button>
    <span class="muted">${count ? `${offset + 1}–${offset + count}` : "none"}</span>
    <button type="button" disabled=${count < limit} onClick=${() => onPage(offset + limit)}>Next</button>
  </div>`;
}

/** A button that asks first, in a modal dialog. */
export function ConfirmButton({ label, question, confirm = label, onConfirm, className = "danger" }) {
  const dialog = useRef(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const go = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      dialog.current?.close();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<button type="button" class=${className} onClick=${() => dialog.current.showModal()}>${label}</button>
    <dialog ref=${dialog} aria-label=${label}>
      <p>${question}</p>
      <${ErrorNote} error=${error} />
      <div class="row end">
        <button type="button" onClick=${() => dialog.current.close()}>Cancel</button>
        <button type="button" class="danger" disabled=${busy} onClick=${go}>${confirm}</button>
      </div>
    </dialog>`;
}

/** Tabs with arrow-key movement (WAI-ARIA tabs pattern). */
export function Tabs({ tabs, current, onSelect, label }) {
  const keys = (e) => {
    const i = tabs.findIndex((t) => t.id === current);
    const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
    if (!step) return;
    const next = tabs[(i + step + tabs.length) % tabs.length];
    onSelect(next.id);
    e.currentTarget.querySelector(`[data-tab="${next.id}"]`)?.focus();
  };
  return html`<div class="tabs" role="tablist" aria-label=${label} onKeyDown=${keys}>
    ${tabs.map(
      (t) => html`<button type="button" role="tab" data-tab=${t.id} id=${`tab-${t.id}`}
        aria-selected=${t.id === current} tabindex=${t.id === current ? 0 : -1}
        onClick=${() => onSelect(t.id)}>${t.label}</button>`,
    )}
  </div>`;
}

// ---- markdown ----------------------------------------------------------------------------

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});

/** Markdown to sanitised HTML (no scripts, handlers, styles or forms survive). */
export function markdownHtml(text) {
  const raw = marked.parse(String(text ?? ""), { async: false, gfm: true, breaks: true });
  return DOMPurify.sanitize(raw, { USE_PROFILES: { html: true }, FORBID_TAGS: ["style", "form", "input"] });
}

export function Markdown({ text }) {
  return html`<div class="md" dangerouslySetInnerHTML=${{ __html: markdownHtml(text) }}></div>`;
}

// ---- JSON editor -------------------------------------------------------------------------

/** The page's style nonce (the server's policy allows CodeMirror's styles with it). */
const styleNonce = () => document.querySelector('meta[name="sprig-style-nonce"]')?.content ?? "";

let editorModule = null;
const loadEditor = () => (editorModule ??= import("../vendor/editor.js"));

/**
 * A JSON editor (CodeMirror, loaded on first use; a plain textarea until then), labelled by
 * `label`. It starts from `value` (text) and reports every edit with `onChange(text)`; it does
 * not follow later changes of `value` (give it a new `key` to start it again from another).
 * The linter marks bad JSON.
 */
export function JsonEditor({ value, onChange, label, id, rows = 8 }) {
  const host = useRef(null);
  const view = useRef(null);
  const latest = useRef({ value, onChange });
  latest.current = { value, onChange };
  const [ready, setReady] = useState(false);
  useEffect(() => {
    let gone = false;
    loadEditor().then((cm) => {
      if (gone || !host.current) return;
      const typing = host.current.parentNode.querySelector("textarea") === document.activeElement;
      view.current = new cm.EditorView({
        parent: host.current,
        state: cm.EditorState.create({
          doc: latest.current.value ?? "", // what the textarea holds by now
          extensions: [
            cm.lineNumbers(),
            cm.history(),
            cm.bracketMatching(),
            cm.syntaxHighlighting(cm.defaultHighlightStyle),
            cm.json(),
            cm.linter(cm.jsonParseLinter()),
            cm.keymap.of([...cm.defaultKeymap, ...cm.historyKeymap]),
            cm.EditorView.lineWrapping,
            cm.EditorView.cspNonce.of(styleNonce()),
            cm.EditorView.contentAttributes.of({ "aria-label": label, id: id || "" }),
            cm.EditorView.updateListener.of((u) => u.docChanged && latest.current.onChange?.(u.state.doc.toString())),
          ],
        }),
      });
      if (typing) {
        // someone was typing in the stand-in: carry on in the editor, where they were
        const end = view.current.state.doc.length;
        view.current.dispatch({ selection: { anchor: end } });
        view.current.focus();
      }
      setReady(true);
    });
    return () => {
      gone = true;
      view.current?.destroy();
    };
  }, []);
  return html`<div class="json-editor" data-ready=${ready ? "true" : "false"}>
    <div ref=${host}></div>
    ${ready ? null : html`<textarea id=${id} aria-label=${label} rows=${rows} value=${value} onInput=${(e) => onChange(e.target.value)}></textarea>`}
  </div>`;
}
