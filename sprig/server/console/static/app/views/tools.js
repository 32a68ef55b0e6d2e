// An agent's tools: the list (type, description, what each one does) with delete, and a form
// to add a function tool (a JSON schema for its parameters), an api_call tool (method, URL,
// headers) or a system tool (one of Sprig's own operations, sprig/server/tools/system.py).

import { api } from "../api.js";
import {
  ConfirmButton,
  ErrorNote,
  Field,
  JsonEditor,
  Loaded,
  html,
  parseObject,
  pretty,
  useAsync,
  useId,
  useState,
  when,
} from "../ui.js";

const TYPES = [
  ["function", "Function (the client runs it)"],
  ["api_call", "API call (the server makes an HTTP request)"],
  ["system", "System (one of Sprig's own operations)"],
];
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/** The system operations Sprig runs, by resource: [label, subresource, operation]. */
export const SYSTEM_OPERATIONS = {
  agent: [["get", null, "get"], ["doc.list", "doc", "list"], ["doc.create", "doc", "create"], ["doc.search", "doc", "search"]],
  user: [["get", null, "get"], ["doc.list", "doc", "list"], ["doc.create", "doc", "create"], ["doc.search", "doc", "search"]],
  session: [["get", null, "get"], ["history", null, "history"]],
};

const EMPTY_SCHEMA = pretty({ type: "object", properties: {}, required: [] });

export function ToolsTab({ agent }) {
  const state = useAsync(() => api.get(`/agents/${agent.id}/tools`, { limit: 100 }), [agent.id]);
  const [editing, setEditing] = useState(null); // the tool in the form, or null: a new one
  const done = () => {
    setEditing(null);
    state.reload();
  };
  return html`<section aria-labelledby="tools-heading">
    <h2 id="tools-heading">Tools</h2>
    <${Loaded} state=${state} what="Loading the tools">
      ${(data) => html`<${ToolTable} agent=${agent} tools=${data.items} onChanged=${state.reload} onEdit=${setEditing} />`}
    <//>
    <${ToolForm} key=${editing?.id ?? "new"} agent=${agent} tool=${editing} onAdded=${done} onCancel=${() => setEditing(null)} />
  </section>`;
}

/** What a tool does, in a line: its parameters, request or operation. */
function toolDetail(tool) {
  if (tool.type === "function") {
    const props = Object.keys(tool.function?.parameters?.properties ?? {});
    return props.length ? `parameters: ${props.join(", ")}` : "no parameters";
  }
  if (tool.type === "api_call") return `${tool.api_call?.method ?? "GET"} ${tool.api_call?.url ?? ""}`;
  if (tool.type === "system") {
    const s = tool.system ?? {};
    return [s.resource, s.subresource, s.operation].filter(Boolean).join(".");
  }
  return "";
}

function ToolTable({ agent, tools, onChanged, onEdit }) {
  if (!tools.length) return html`<p class="empty">This agent has no tools yet. Add one below.</p>`;
  return html`<div class="table-wrap"><table class="tools">
    <caption class="sr-only">The agent's tools</caption>
    <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Description</th><th scope="col">Does</th><th scope="col">Created</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
    <tbody>${tools.map(
      (t) => html`<tr data-tool=${t.name}>
        <th scope="row" class="mono">${t.name}</th>
        <td><span class="pill">${t.type}</span></td>
        <td>${t.description ?? ""}</td>
        <td class="mono">${toolDetail(t)}</td>
        <td>${when(t.created_at)}</td>
        <td class="row"><button type="button" onClick=${() => onEdit(t)}>Edit ${t.name}</button>
          <${ConfirmButton} label=${`Delete ${t.name}`} confirm="Delete"
          question=${`Delete the tool “${t.name}”? The agent will no longer be offered it.`}
          onConfirm=${async () => {
            await api.del(`/agents/${agent.id}/tools/${t.id}`);
            onChanged();
          }} /></td>
      </tr>`,
    )}</tbody></table></div>`;
}

function blankForm() {
  return {
    type: "function",
    name: "",
    description: "",
    parameters: EMPTY_SCHEMA,
    method: "GET",
    url: "",
    headers: "{}",
    resource: "agent",
    operation: "doc.search",
  };
}

/** A stored tool as the form's fields (to edit it). */
function formFrom(tool) {
  const form = { ...blankForm(), type: tool.type, name: tool.name, description: tool.description ?? "" };
  if (tool.type === "function") form.parameters = pretty(tool.function?.parameters ?? {});
  if (tool.type === "api_call") {
    Object.assign(form, { method: tool.api_call?.method ?? "GET", url: tool.api_call?.url ?? "", headers: pretty(tool.api_call?.headers ?? {}) });
  }
  if (tool.type === "system" && SYSTEM_OPERATIONS[tool.system?.resource]) {
    const { resource, subresource = null, operation } = tool.system;
    const found = SYSTEM_OPERATIONS[resource].find(([, sub, op]) => sub === subresource && op === operation);
    Object.assign(form, { resource, operation: found ? found[0] : SYSTEM_OPERATIONS[resource][0][0] });
  }
  return form;
}

function ToolForm({ agent, tool, onAdded, onCancel }) {
  const [form, setForm] = useState(() => (tool ? formFrom(tool) : blankForm()));
  const [round, setRound] = useState(0); // a new round resets the JSON editors
  const [error, setError] = useState(null);
  const [added, setAdded] = useState(null);
  const [busy, setBusy] = useState(false);
  const paramsId = useId("params");
  const headersId = useId("headers");
  const set = (name) => (e) => setForm((f) => ({ ...f, [name]: e?.target ? e.target.value : e }));

  let problem = null;
  try {
    if (form.type === "function") parseObject(form.parameters, "The parameters schema");
    if (form.type === "api_call") parseObject(form.headers, "Headers");
  } catch (err) {
    problem = err.message;
  }

  const body = () => {
    const tool = { name: form.name.trim(), type: form.type, description: form.description.trim() || undefined };
    if (form.type === "function") {
      tool.function = { parameters: parseObject(form.parameters, "The parameters schema") };
    } else if (form.type === "api_call") {
      tool.api_call = { method: form.method, url: form.url.trim(), headers: parseObject(form.headers, "Headers") };
    } else {
      const [, subresource, operation] =
        SYSTEM_OPERATIONS[form.resource].find(([label]) => label === form.operation) ?? SYSTEM_OPERATIONS[form.resource][0];
      tool.system = { resource: form.resource, operation, ...(subresource ? { subresource } : {}) };
    }
    return tool;
  };

  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    setAdded(null);
    setBusy(true);
    try {
      const made = tool
        ? await api.patch(`/agents/${agent.id}/tools/${tool.id}`, body())
        : await api.post(`/agents/${agent.id}/tools`, body());
      setAdded(tool ? `Saved the tool ${made.name}.` : `Added the tool ${made.name}.`);
      setForm(blankForm());
      setRound((r) => r + 1);
      onAdded();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const operations = SYSTEM_OPERATIONS[form.resource];
  return html`<form class="stack card tool-form" onSubmit=${submit} aria-labelledby="add-tool-heading">
    <h3 id="add-tool-heading">${tool ? `Edit the tool ${tool.name}` : "Add a tool"}</h3>
    <div class="grid2">
      <${Field} label="Tool type">
        ${(id) => html`<select id=${id} value=${form.type} onChange=${set("type")}>
          ${TYPES.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
        </select>`}
      <//>
      <${Field} label="Tool name" hint="(letters, digits and _; no spaces)">
        ${(id) => html`<input id=${id} required maxlength="64" autocomplete="off" value=${form.name} onInput=${set("name")} />`}
      <//>
    </div>
    <${Field} label="Tool description" hint="(what the model reads to choose it)">
      ${(id) => html`<textarea id=${id} rows="2" value=${form.description} onInput=${set("description")}></textarea>`}
    <//>
    ${form.type === "function"
      ? html`<div class="field"><span class="label">Parameters <span class="hint">(a JSON schema of an object)</span></span>
          <${JsonEditor} key=${`params-${round}`} id=${paramsId} label="Parameters schema" value=${form.parameters} onChange=${set("parameters")} /></div>`
      : null}
    ${form.type === "api_call"
      ? html`<div class="grid2">
            <${Field} label="HTTP method">
              ${(id) => html`<select id=${id} value=${form.method} onChange=${set("method")}>
                ${METHODS.map((m) => html`<option value=${m}>${m}</option>`)}
              </select>`}
            <//>
            <${Field} label="URL" hint="(http or https; {name} takes an argument)">
              ${(id) => html`<input id=${id} type="url" required placeholder="https://api.example.com/items/{id}" value=${form.url} onInput=${set("url")} />`}
            <//>
          </div>
          <div class="field"><span class="label">Headers <span class="hint">(a JSON object of names to values)</span></span>
            <${JsonEditor} key=${`headers-${round}`} id=${headersId} label="Headers" rows="4" value=${form.headers} onChange=${set("headers")} /></div>`
      : null}
    ${form.type === "system"
      ? html`<div class="grid2">
          <${Field} label="Resource">
            ${(id) => html`<select id=${id} value=${form.resource}
              onChange=${(e) => setForm((f) => ({ ...f, resource: e.target.value, operation: SYSTEM_OPERATIONS[e.target.value][0][0] }))}>
              ${Object.keys(SYSTEM_OPERATIONS).map((r) => html`<option value=${r}>${r}</option>`)}
            </select>`}
          <//>
          <${Field} label="Operation">
            ${(id) => html`<select id=${id} value=${form.operation} onChange=${set("operation")}>
              ${operations.map(([label]) => html`<option value=${label}>${label}</option>`)}
            </select>`}
          <//>
        </div>`
      : null}
    ${problem ? html`<p class="alert" role="status">${problem}</p>` : null}
    <${ErrorNote} error=${error} title=${tool ? "Not saved" : "Not added"} />
    ${added ? html`<p class="notice" role="status">${added}</p>` : null}
    <div class="row">
      <button class="primary" type="submit" disabled=${busy || Boolean(problem) || !form.name.trim()}>${tool ? "Save tool" : "Add tool"}</button>
      ${tool ? html`<button type="button" onClick=${onCancel}>Cancel</button>` : null}
    </div>
  </form>`;
}
