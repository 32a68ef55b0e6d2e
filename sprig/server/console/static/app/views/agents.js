// Agents: the list (search, pages), and one agent's page (its settings; its tools and
// documents in the other tabs).

import { api } from "../api.js";
import {
  ConfirmButton,
  ErrorNote,
  Field,
  JsonEditor,
  Loaded,
  Pager,
  Tabs,
  html,
  navigate,
  parseObject,
  pretty,
  shortId,
  useAsync,
  useId,
  useState,
  when,
} from "../ui.js";
import { agentTabs } from "./agent_tabs.js";

const PAGE = 20;

export function AgentList() {
  const [offset, setOffset] = useState(0);
  const [search, setSearch] = useState("");
  const state = useAsync(() => api.get("/agents", { limit: PAGE, offset }), [offset]);
  const words = search.trim().toLowerCase();
  const shown = (items) =>
    words ? items.filter((a) => `${a.name} ${a.about ?? ""} ${a.id}`.toLowerCase().includes(words)) : items;
  return html`<div class="row"><h1>Agents</h1><span class="spacer"></span>
      <a class="button primary" href="#/agents/new">New agent</a></div>
    <div class="field narrow">
      <label for="agent-search">Search <span class="hint">(this page's agents, by name, about or id)</span></label>
      <input id="agent-search" type="search" value=${search} onInput=${(e) => setSearch(e.target.value)} />
    </div>
    <${Loaded} state=${state} what="Loading agents">
      ${(data) => html`<${AgentTable} agents=${shown(data.items)} />
        <${Pager} offset=${offset} limit=${PAGE} count=${data.items.length} onPage=${setOffset} />`}
    <//>`;
}

function AgentTable({ agents }) {
  if (!agents.length) return html`<p class="empty">No agents here yet. <a href="#/agents/new">Make one</a>.</p>`;
  return html`<div class="table-wrap"><table>
    <thead><tr><th scope="col">Name</th><th scope="col">Model</th><th scope="col">About</th><th scope="col">Created</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
    <tbody>${agents.map(
      (a) => html`<tr>
        <td><a href=${`#/agents/${a.id}`}>${a.name}</a> <span class="muted mono">${shortId(a.id)}</span></td>
        <td class="mono">${a.model}</td>
        <td>${a.about}</td>
        <td>${when(a.created_at)}</td>
        <td><a href=${`#/chat?agent=${a.id}`}>Chat</a></td>
      </tr>`,
    )}</tbody></table></div>`;
}

export function AgentPage({ params: [id], query }) {
  const isNew = id === "new";
  const state = useAsync(() => (isNew ? Promise.resolve(null) : api.get(`/agents/${id}`)), [id]);
  const [tab, setTab] = useState(query.get("tab") || "settings");
  if (isNew) return html`<h1>New agent</h1><${AgentForm} agent=${null} />`;
  return html`<${Loaded} state=${state} what="Loading the agent">
    ${(agent) => {
      const tabs = [{ id: "settings", label: "Settings", view: AgentForm }, ...agentTabs];
      const Current = (tabs.find((t) => t.id === tab) || tabs[0]).view;
      return html`<div class="row"><h1>${agent.name}</h1><span class="spacer"></span>
          <a class="button primary" href=${`#/chat?agent=${agent.id}`}>Chat with it</a></div>
        <p class="muted mono">${agent.id}</p>
        <${Tabs} label="Agent" tabs=${tabs} current=${tab} onSelect=${setTab} />
        <div role="tabpanel" aria-labelledby=${`tab-${tab}`}><${Current} agent=${agent} onSaved=${state.reload} /></div>`;
    }}
  <//>`;
}

const instructionsText = (value) => (Array.isArray(value) ? value.join("\n") : value ?? "");

function AgentForm({ agent, onSaved }) {
  const models = useAsync(() => api.get("/agents/models"), []);
  const [form, setForm] = useState(() => ({
    name: agent?.name ?? "",
    about: agent?.about ?? "",
    instructions: instructionsText(agent?.instructions),
    model: agent?.model ?? "",
    settings: pretty(agent?.default_settings ?? {}),
    metadata: pretty(agent?.metadata ?? {}),
  }));
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(false);
  const set = (name) => (e) => setForm({ ...form, [name]: e.target ? e.target.value : e });
  const settingsId = useId("settings");
  const metadataId = useId("metadata");
  let problem = null;
  for (const [what, text] of [["Default settings", form.settings], ["Metadata", form.metadata]]) {
    try {
      parseObject(text, what);
    } catch (err) {
      problem ??= err.message;
    }
  }
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    setSaved(false);
    const body = {
      name: form.name.trim(),
      about: form.about,
      instructions: form.instructions,
      default_settings: parseObject(form.settings, "Default settings"),
      metadata: parseObject(form.metadata, "Metadata"),
      ...(form.model ? { model: form.model } : {}),
    };
    try {
      const made = agent ? await api.patch(`/agents/${agent.id}`, body) : await api.post("/agents", body);
      if (agent) {
        setSaved(true);
        onSaved?.();
      } else navigate(`/agents/${made.id}`);
    } catch (err) {
      setError(err);
    }
  };
  const remove = async () => {
    await api.del(`/agents/${agent.id}`);
    navigate("/agents");
  };
  const names = models.data?.models?.map((m) => m.id) ?? [];
  return html`<form class="stack" onSubmit=${submit} aria-label="Agent settings">
    <div class="grid2">
      <${Field} label="Name">${(fid) => html`<input id=${fid} required maxlength="255" value=${form.name} onInput=${set("name")} />`}<//>
      <${Field} label="Model" hint=${models.error ? "(could not list models)" : ""}>
        ${(fid) => html`<select id=${fid} value=${form.model} onChange=${set("model")}>
          <option value="">The server's default</option>
          ${[...new Set([...names, ...(form.model ? [form.model] : [])])].map((m) => html`<option value=${m}>${m}</option>`)}
        </select>`}
      <//>
    </div>
    <${Field} label="About">${(fid) => html`<input id=${fid} value=${form.about} onInput=${set("about")} />`}<//>
    <${Field} label="Instructions" hint="(the system prompt's core)">
      ${(fid) => html`<textarea id=${fid} rows="6" value=${form.instructions} onInput=${set("instructions")}></textarea>`}
    <//>
    <div class="grid2">
      <div class="field"><span class="label" id=${`${settingsId}-l`}>Default settings <span class="hint">(JSON: temperature, max_tokens, …)</span></span>
        <${JsonEditor} id=${settingsId} label="Default settings" value=${form.settings} onChange=${set("settings")} /></div>
      <div class="field"><span class="label" id=${`${metadataId}-l`}>Metadata <span class="hint">(a JSON object)</span></span>
        <${JsonEditor} id=${metadataId} label="Metadata" value=${form.metadata} onChange=${set("metadata")} /></div>
    </div>
    ${problem ? html`<p class="alert" role="status">${problem}</p>` : null}
    <${ErrorNote} error=${error} title="Not saved" />
    ${saved ? html`<p class="notice" role="status">Saved.</p>` : null}
    <div class="row">
      <button class="primary" type="submit" disabled=${Boolean(problem) || !form.name.trim()}>${agent ? "Save" : "Create agent"}</button>
      ${agent
        ? html`<span class="spacer"></span><${ConfirmButton} label="Delete agent" confirm="Delete"
            question=${`Delete the agent “${agent.name}” with its tools, documents and sessions? This cannot be undone.`}
            onConfirm=${remove} />`
        : null}
    </div>
  </form>`;
}
