// Documents: an agent's Documents tab (its docs, with delete) and the documents page
// (#/documents?owner=agents/<id>): choose an owner (an agent, a user or a session), then add
// text or upload files (each file one doc: its name the title, its text the content, read in
// the browser and sent as JSON with progress).

import { api, upload } from "../api.js";
import {
  ConfirmButton,
  ErrorNote,
  Field,
  Loaded,
  html,
  navigate,
  shortId,
  useAsync,
  useId,
  useRef,
  useState,
  when,
} from "../ui.js";

export const OWNER_KINDS = [
  ["agents", "Agent"],
  ["users", "User"],
  ["sessions", "Session"],
];

const ownerName = (kind, item) =>
  kind === "sessions" ? `${item.situation || "Session"} · ${shortId(item.id)}` : `${item.name} · ${shortId(item.id)}`;

/** "agents/<id>" -> ["agents", "<id>"], or [null, null] when it is not an owner. */
export function parseOwner(owner) {
  const [kind, id] = String(owner || "").split("/");
  return OWNER_KINDS.some(([k]) => k === kind) && id ? [kind, id] : [null, null];
}

/** Pick an owner of documents: its kind, then one of that kind's (the first 100). */
export function OwnerPicker({ owner, onChange }) {
  const [ownerKind, ownerId] = parseOwner(owner);
  const [kind, setKind] = useState(ownerKind || "agents");
  const list = useAsync(() => api.get(`/${kind}`, { limit: 100 }), [kind]);
  const items = list.data?.items ?? [];
  return html`<fieldset class="owner-picker">
    <legend>Owner of the documents</legend>
    <div class="grid2">
      <${Field} label="Owner kind">
        ${(id) => html`<select id=${id} value=${kind} onChange=${(e) => { setKind(e.target.value); onChange(""); }}>
          ${OWNER_KINDS.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
        </select>`}
      <//>
      <${Field} label="Owner">
        ${(id) => html`<select id=${id} value=${kind === ownerKind ? ownerId : ""}
          onChange=${(e) => onChange(e.target.value ? `${kind}/${e.target.value}` : "")}>
          <option value="">${list.loading ? "Loading…" : items.length ? `Choose one of ${items.length}…` : "None yet"}</option>
          ${items.map((item) => html`<option value=${item.id}>${ownerName(kind, item)}</option>`)}
        </select>`}
      <//>
    </div>
    <${ErrorNote} error=${list.error} title="Could not list them" />
  </fieldset>`;
}

// ---- the list ------------------------------------------------------------------------------

/** The docs of `owner` ("agents/<id>"), newest first, with delete. */
export function DocList({ owner, version = 0, heading = "Documents" }) {
  const state = useAsync(() => api.get(`/${owner}/docs`, { limit: 100, sort_by: "created_at", direction: "desc" }), [owner, version]);
  const headingId = useId("docs-h");
  return html`<section aria-labelledby=${headingId}>
    <h2 id=${headingId}>${heading}</h2>
    <${Loaded} state=${state} what="Loading the documents">
      ${(data) =>
        data.items.length
          ? html`<div class="table-wrap"><table class="docs">
              <thead><tr><th scope="col">Title</th><th scope="col">Length</th><th scope="col">Created</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
              <tbody>${data.items.map(
                (d) => html`<tr data-doc=${d.id}>
                  <th scope="row">${d.title}</th>
                  <td>${docLength(d.content)}</td>
                  <td>${when(d.created_at)}</td>
                  <td><${ConfirmButton} label=${`Delete ${d.title}`} confirm="Delete"
                    question=${`Delete the document “${d.title}”? Searches will no longer find it.`}
                    onConfirm=${async () => {
                      await api.del(`/${owner}/docs/${d.id}`);
                      state.reload();
                    }} /></td>
                </tr>`,
              )}</tbody></table></div>`
          : html`<p class="empty">No documents yet.</p>`}
    <//>
  </section>`;
}

function docLength(content) {
  const n = Array.isArray(content) ? content.join("").length : String(content ?? "").length;
  return `${n.toLocaleString()} characters`;
}

/** An agent's Documents tab. */
export function AgentDocsTab({ agent }) {
  return html`<div class="row"><span class="spacer"></span>
      <a class="button" href=${`#/documents?owner=agents/${agent.id}`}>Add documents</a>
      <a class="button" href=${`#/search?owner=agents/${agent.id}`}>Search them</a></div>
    <${DocList} owner=${`agents/${agent.id}`} />`;
}

// ---- the page ------------------------------------------------------------------------------

export function DocumentsPage({ query }) {
  const owner = parseOwner(query.get("owner"))[0] ? query.get("owner") : "";
  const [version, setVersion] = useState(0);
  const changed = () => setVersion((v) => v + 1);
  return html`<h1>Documents</h1>
    <${OwnerPicker} owner=${owner} onChange=${(next) => navigate(next ? `/documents?owner=${next}` : "/documents")} />
    ${owner
      ? html`<div class="grid2 doc-panels">
            <${TextDoc} owner=${owner} onAdded=${changed} />
            <${FileDocs} owner=${owner} onAdded=${changed} />
          </div>
          <${DocList} owner=${owner} version=${version} heading="Its documents" />
          <p><a href=${`#/search?owner=${owner}`}>Search these documents</a></p>`
      : html`<p class="empty">Choose an owner to see and add its documents.</p>`}`;
}

function TextDoc({ owner, onAdded }) {
  const [title, setTitle] = useState("");
  const [content, setContent] = useState("");
  const [error, setError] = useState(null);
  const [added, setAdded] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    setAdded(null);
    setBusy(true);
    try {
      const made = await api.post(`/${owner}/docs`, { title: title.trim(), content });
      setAdded(made.title);
      setTitle("");
      setContent("");
      onAdded();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="stack card doc-panel" onSubmit=${submit} aria-labelledby="text-doc-h">
    <h3 id="text-doc-h">Add text</h3>
    <${Field} label="Title">${(id) => html`<input id=${id} required value=${title} onInput=${(e) => setTitle(e.target.value)} />`}<//>
    <${Field} label="Text">${(id) => html`<textarea id=${id} rows="6" required value=${content} onInput=${(e) => setContent(e.target.value)}></textarea>`}<//>
    <${ErrorNote} error=${error} title="Not added" />
    ${added ? html`<p class="notice" role="status">Added “${added}”.</p>` : null}
    <div class="row"><button class="primary" type="submit" disabled=${busy || !title.trim() || !content}>Add document</button></div>
  </form>`;
}

let uploads = 0;

function FileDocs({ owner, onAdded }) {
  const input = useRef(null);
  const [files, setFiles] = useState([]); // { key, name, size, progress, state, error }
  const [over, setOver] = useState(false);
  const inputId = useId("files");
  const update = (key, change) => setFiles((all) => all.map((f) => (f.key === key ? { ...f, ...change } : f)));

  const send = async (key, file) => {
    try {
      const text = await file.text();
      if (text.includes("\u0000")) throw new Error("This is not a text file");
      update(key, { state: "sending" });
      await upload(`/${owner}/docs`, { title: file.name, content: text }, (fraction) => update(key, { progress: fraction }));
      update(key, { state: "stored", progress: 1 });
      onAdded();
    } catch (err) {
      update(key, { state: "failed", error: err.message || String(err) });
    }
  };
  const take = (list) => {
    const picked = [...(list || [])].map((file) => ({ file, key: ++uploads }));
    if (!picked.length) return;
    setFiles((all) => [
      ...picked.map(({ file, key }) => ({ key, name: file.name, size: file.size, progress: 0, state: "reading", error: null })),
      ...all,
    ]);
    picked.forEach(({ file, key }) => send(key, file));
  };

  const active = files.filter((f) => f.state === "reading" || f.state === "sending").length;
  const stored = files.filter((f) => f.state === "stored").length;
  const failed = files.filter((f) => f.state === "failed").length;
  return html`<section class="stack card doc-panel" aria-labelledby="file-docs-h">
    <h3 id="file-docs-h">Upload files</h3>
    <div class="field">
      <label for=${inputId}>Files <span class="hint">(text files; each becomes a document titled with its name)</span></label>
      <input id=${inputId} ref=${input} type="file" multiple
        onChange=${(e) => { take(e.target.files); e.target.value = ""; }} />
    </div>
    <button type="button" class=${`dropzone${over ? " over" : ""}`} data-testid="dropzone"
      onClick=${() => input.current?.click()}
      onDragEnter=${(e) => { e.preventDefault(); setOver(true); }}
      onDragOver=${(e) => { e.preventDefault(); setOver(true); }}
      onDragLeave=${() => setOver(false)}
      onDrop=${(e) => { e.preventDefault(); setOver(false); take(e.dataTransfer?.files); }}>
      Drop files here, or press to choose them
    </button>
    <p class="muted" role="status">${files.length
      ? `${stored} of ${files.length} uploaded${active ? `, ${active} in progress` : ""}${failed ? `, ${failed} failed` : ""}.`
      : ""}</p>
    ${files.length
      ? html`<ul class="uploads">${files.map(
          (f) => html`<li data-upload=${f.name} data-state=${f.state}>
            <div class="row"><span class="upload-name">${f.name}</span><span class="spacer"></span>
              <span class=${`pill ${f.state === "stored" ? "ok" : f.state === "failed" ? "bad" : ""}`}>${f.state}</span></div>
            <progress max="1" value=${f.progress} aria-label=${`Upload of ${f.name}`}>${Math.round(f.progress * 100)}%</progress>
            ${f.error ? html`<p class="error" role="alert">${f.name}: ${f.error}</p>` : null}
          </li>`,
        )}</ul>`
      : null}
  </section>`;
}
