// Memories: an agent's long-term memories (of one user or all), browsed newest first or
// searched (ranked, with scores), each with its history: valid since when, invalidated when,
// what superseded it and what it replaced. Delete one, add one by hand; and a session's
// suggestions. The agent and user are in the URL (#/memories?agent=…&user=…).

import { api } from "../api.js";
import {
  ConfirmButton,
  ErrorNote,
  Field,
  Loaded,
  Pager,
  html,
  navigate,
  score,
  shortId,
  useAsync,
  useState,
  when,
} from "../ui.js";

const PAGE = 20;
const TYPES = ["belief", "episode", "entity"];
const NIL_UUID = "00000000-0000-0000-0000-000000000000";

function memoriesPath(agent, user) {
  const q = new URLSearchParams();
  if (agent) q.set("agent", agent);
  if (user) q.set("user", user);
  const text = q.toString();
  return `/memories${text ? `?${text}` : ""}`;
}

export function MemoriesView({ query }) {
  const agentId = query.get("agent") || "";
  const userId = query.get("user") || "";
  const agents = useAsync(() => api.get("/agents", { limit: 100 }), []);
  const users = useAsync(() => api.get("/users", { limit: 100 }), []);
  const userNames = Object.fromEntries((users.data?.items ?? []).map((u) => [u.id, u.name]));
  return html`<h1>Memories</h1>
    <p class="muted">What an agent remembers, and how each fact changed: a memory is never edited;
      a newer one supersedes it and the old one stays, invalidated.</p>
    <${ErrorNote} error=${agents.error} title="Could not list agents" />
    <${ErrorNote} error=${users.error} title="Could not list users" />
    <div class="grid2 narrow-grid">
      <${Field} label="Agent">
        ${(id) => html`<select id=${id} value=${agentId} onChange=${(e) => navigate(memoriesPath(e.target.value, userId))}>
          <option value="">Choose an agent</option>
          ${(agents.data?.items ?? []).map((a) => html`<option value=${a.id} selected=${a.id === agentId}>${a.name}</option>`)}
        </select>`}
      <//>
      <${Field} label="User" hint="(whose memories)">
        ${(id) => html`<select id=${id} value=${userId} onChange=${(e) => navigate(memoriesPath(agentId, e.target.value))}>
          <option value="">Any user</option>
          ${(users.data?.items ?? []).map((u) => html`<option value=${u.id} selected=${u.id === userId}>${u.name}</option>`)}
        </select>`}
      <//>
    </div>
    ${agentId
      ? html`<${AgentMemories} key=${`${agentId}/${userId}`} agentId=${agentId} userId=${userId} userNames=${userNames} />
          <${Suggestions} key=${`s/${agentId}/${userId}`} agentId=${agentId} userId=${userId} />`
      : html`<p class="empty">Choose an agent to see its memories.</p>`}`;
}

function AgentMemories({ agentId, userId, userNames }) {
  const [types, setTypes] = useState([]);
  const [history, setHistory] = useState(true);
  const [text, setText] = useState("");
  const [searched, setSearched] = useState("");
  const [offset, setOffset] = useState(0);
  const [note, setNote] = useState("");
  const state = useAsync(() => {
    if (searched) {
      return api.post(`/agents/${agentId}/memories/search`, {
        text: searched,
        user_id: userId || null,
        types: types.length ? types : null,
        include_invalidated: history,
        limit: PAGE,
        offset,
      });
    }
    return api.get(`/agents/${agentId}/memories`, {
      user_id: userId,
      types,
      include_invalidated: history,
      limit: PAGE,
      offset,
    });
  }, [agentId, userId, types.join(","), history, searched, offset]);
  const toggleType = (type) => (e) => {
    setOffset(0);
    setTypes(e.target.checked ? [...types, type] : types.filter((t) => t !== type));
  };
  const search = (e) => {
    e.preventDefault();
    setOffset(0);
    setSearched(text.trim());
  };
  const clear = () => {
    setText("");
    setSearched("");
    setOffset(0);
  };
  const changed = (message) => {
    setNote(message);
    state.reload();
  };
  return html`<section aria-labelledby="memories-h">
      <h2 id="memories-h">${searched ? "Search results" : "Browse"}</h2>
      <form class="row memory-search" role="search" onSubmit=${search}>
        <div class="field grow">
          <label for="memory-text">Search memories <span class="hint">(ranked by meaning and words)</span></label>
          <input id="memory-text" type="search" value=${text} onInput=${(e) => setText(e.target.value)} />
        </div>
        <button class="primary" type="submit" disabled=${!text.trim()}>Search</button>
        ${searched ? html`<button type="button" onClick=${clear}>Clear search</button>` : null}
      </form>
      <div class="row memory-filters">
        <fieldset class="inline">
          <legend>Types</legend>
          ${TYPES.map(
            (t) => html`<label class="check"><input type="checkbox" checked=${types.includes(t)} onChange=${toggleType(t)} /> ${t}</label>`,
          )}
        </fieldset>
        <label class="check"><input type="checkbox" checked=${history} onChange=${(e) => { setOffset(0); setHistory(e.target.checked); }} />
          Include invalidated memories (their history)</label>
      </div>
      ${note ? html`<p class="notice" role="status">${note}</p>` : null}
      <${Loaded} state=${state} what=${searched ? "Searching" : "Loading memories"}>
        ${(data) => html`<${MemoryList} items=${data.items} agentId=${agentId} userNames=${userNames} searched=${searched}
            onChanged=${changed} />
          ${searched && data.time != null ? html`<p class="muted">The search took ${(data.time * 1000).toFixed(1)} ms.</p>` : null}
          <${Pager} offset=${offset} limit=${PAGE} count=${data.items.length} onPage=${setOffset} />`}
      <//>
    </section>
    <${AddMemory} agentId=${agentId} userId=${userId} onAdded=${() => changed("Memory added.")} />`;
}

function MemoryList({ items, agentId, userNames, searched, onChanged }) {
  if (!items.length) {
    return html`<p class="empty">${searched ? "No memory matches that search." : "No memories here yet."}</p>`;
  }
  const byId = Object.fromEntries(items.map((m) => [m.id, m]));
  return html`<ol class="memories">
    ${items.map(
      (m) => html`<li key=${m.id}><${MemoryCard} memory=${m} agentId=${agentId} byId=${byId} userNames=${userNames}
        replaced=${items.filter((old) => old.superseded_by === m.id)} onChanged=${onChanged} /></li>`,
    )}
  </ol>`;
}

const entityText = (e) =>
  typeof e === "string" ? e : [e?.name ?? JSON.stringify(e), e?.type ? `(${e.type})` : ""].join(" ").trim();

function showMemory(id) {
  const card = document.getElementById(`memory-${id}`);
  if (!card) return false;
  card.scrollIntoView({ block: "center" });
  card.focus({ preventScroll: true });
  return true;
}

function MemoryCard({ memory: m, agentId, byId, userNames, replaced, onChanged }) {
  const user = m.user_id && m.user_id !== NIL_UUID ? userNames[m.user_id] || shortId(m.user_id) : "none";
  const remove = async () => {
    await api.del(`/agents/${agentId}/memories/${m.id}`);
    onChanged("Memory deleted.");
  };
  const excerpt = m.content.length > 60 ? `${m.content.slice(0, 60)}…` : m.content;
  return html`<article class=${`card memory${m.invalidated_at ? " invalid" : ""}`} id=${`memory-${m.id}`} tabindex="-1"
      aria-label=${`Memory: ${excerpt}`}>
    <div class="row">
      <span class="pill">${m.type}</span>
      ${m.invalidated_at ? html`<span class="pill bad">invalidated</span>` : html`<span class="pill ok">valid</span>`}
      ${m.score != null ? html`<span class="memory-score" data-testid="score">Score <strong>${score(m.score)}</strong></span>` : null}
      <span class="spacer"></span>
      <span class="muted mono" title=${m.id}>${shortId(m.id)}</span>
    </div>
    <p class="memory-content">${m.content}</p>
    <dl class="facts">
      <dt>Entities</dt><dd>${m.entities.length ? m.entities.map(entityText).join(", ") : "none"}</dd>
      <dt>User</dt><dd>${user}</dd>
      <dt>Valid from</dt><dd>${when(m.valid_from) || "—"}</dd>
      <dt>Created</dt><dd>${when(m.created_at)}</dd>
      ${m.session_id ? html`<dt>Session</dt><dd class="mono">${shortId(m.session_id)}</dd>` : null}
      <dt>History</dt>
      <dd class="memory-history">
        ${m.invalidated_at
          ? html`<span>Invalidated ${when(m.invalidated_at)}.</span>
              ${m.superseded_by
                ? html` <${Successor} agentId=${agentId} id=${m.superseded_by} known=${byId[m.superseded_by]} />`
                : html` <span>No memory replaced it.</span>`}`
          : html`<span>Still valid.</span>`}
        ${replaced.length
          ? html`<ul class="replaced">${replaced.map(
              (old) => html`<li>It replaced “${old.content}” (invalidated ${when(old.invalidated_at)}).
                <button type="button" class="link" onClick=${() => showMemory(old.id)}>Show it</button></li>`,
            )}</ul>`
          : null}
      </dd>
    </dl>
    <div class="row end">
      <${ConfirmButton} label="Delete memory" confirm="Delete"
        question=${`Delete the memory “${excerpt}”? This cannot be undone.`} onConfirm=${remove} />
    </div>
  </article>`;
}

/** The memory that superseded another: from the page when it is there, else from the API. */
function Successor({ agentId, id, known }) {
  const state = useAsync(() => (known ? Promise.resolve(known) : api.get(`/agents/${agentId}/memories/${id}`)), [id, Boolean(known)]);
  const what = state.error
    ? html`<span class="mono">${shortId(id)}</span> <span class="muted">(${state.error.message})</span>`
    : state.data
      ? html`<span class="quoted">“${state.data.content}”</span>`
      : html`<span class="mono">${shortId(id)}</span>`;
  return html`<span class="successor">Superseded by ${what}.${known
    ? html` <button type="button" class="link" onClick=${() => showMemory(id)}>Show it</button>`
    : null}</span>`;
}

function AddMemory({ agentId, userId, onAdded }) {
  const [form, setForm] = useState({ content: "", type: "belief", entities: "" });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.value });
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.post(`/agents/${agentId}/memories`, {
        content: form.content,
        type: form.type,
        user_id: userId || null,
        entities: form.entities.split(",").map((s) => s.trim()).filter(Boolean),
      });
      setForm({ content: "", type: form.type, entities: "" });
      onAdded();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<section aria-labelledby="add-memory-h">
    <h2 id="add-memory-h">Add a memory</h2>
    <form class="stack card" onSubmit=${submit}>
      <${Field} label="Content">${(id) => html`<textarea id=${id} rows="3" required value=${form.content} onInput=${set("content")}></textarea>`}<//>
      <div class="grid2">
        <${Field} label="Type">
          ${(id) => html`<select id=${id} value=${form.type} onChange=${set("type")}>
            ${TYPES.map((t) => html`<option value=${t}>${t}</option>`)}
          </select>`}
        <//>
        <${Field} label="Entities" hint="(names, separated by commas)">
          ${(id) => html`<input id=${id} value=${form.entities} onInput=${set("entities")} />`}
        <//>
      </div>
      <p class="hint">${userId ? "It will be about the user chosen above." : "It will be about no user (choose a user above to add one about them)."}</p>
      <${ErrorNote} error=${error} title="Not added" />
      <div class="row"><button class="primary" type="submit" disabled=${busy || !form.content.trim()}>Add memory</button></div>
    </form>
  </section>`;
}

function Suggestions({ agentId, userId }) {
  const sessions = useAsync(() => api.get("/sessions", { agent_id: agentId, user_id: userId, limit: 100 }), [agentId, userId]);
  const [sessionId, setSessionId] = useState("");
  const suggestions = useAsync(
    () => (sessionId ? api.get(`/sessions/${sessionId}/suggestions`) : Promise.resolve(null)),
    [sessionId],
  );
  const label = (s) => `${s.situation ? s.situation.slice(0, 50) : "Session"} · ${shortId(s.id)} · ${when(s.created_at)}`;
  return html`<section aria-labelledby="suggestions-h">
    <h2 id="suggestions-h">Suggestions</h2>
    <p class="muted">After a turn, Sprig may suggest follow-ups for the user and actions for the agent.</p>
    <${Loaded} state=${sessions} what="Loading sessions">
      ${(data) =>
        data.items.length
          ? html`<div class="field narrow">
              <label for="suggestion-session">Session</label>
              <select id="suggestion-session" value=${sessionId} onChange=${(e) => setSessionId(e.target.value)}>
                <option value="">Choose a session</option>
                ${data.items.map((s) => html`<option value=${s.id}>${label(s)}</option>`)}
              </select>
            </div>`
          : html`<p class="empty">This agent has no sessions${userId ? " with this user" : ""}.</p>`}
    <//>
    ${sessionId
      ? html`<${Loaded} state=${suggestions} what="Loading suggestions">
          ${(data) =>
            data?.items?.length
              ? html`<ul class="suggestions">${data.items.map(
                  (s) => html`<li><span class="pill">${s.target}</span> ${s.content} <span class="muted">${when(s.created_at)}</span></li>`,
                )}</ul>`
              : html`<p class="empty">No suggestions for this session.</p>`}
        <//>`
      : null}
  </section>`;
}
