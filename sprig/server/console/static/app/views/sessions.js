// Sessions and their history: the list (by agent and user), and one session's entries in
// order with roles, sources and token counts; summaries show what they replaced.

import { api } from "../api.js";
import {
  ConfirmButton,
  Field,
  Loaded,
  Pager,
  contentText,
  html,
  navigate,
  shortId,
  useAsync,
  useState,
  when,
} from "../ui.js";

const PAGE = 20;

export function SessionList({ query }) {
  const [agent, setAgent] = useState(query.get("agent") || "");
  const [user, setUser] = useState(query.get("user") || "");
  const [offset, setOffset] = useState(0);
  const agents = useAsync(() => api.get("/agents", { limit: 100 }), []);
  const users = useAsync(() => api.get("/users", { limit: 100 }), []);
  const sessions = useAsync(() => api.get("/sessions", { agent_id: agent, user_id: user, limit: PAGE, offset }), [agent, user, offset]);
  const names = Object.fromEntries([...(agents.data?.items ?? []), ...(users.data?.items ?? [])].map((x) => [x.id, x.name]));
  return html`<h1>Sessions</h1>
    <div class="grid2">
      <${Field} label="Agent">${(id) => html`<select id=${id} value=${agent} onChange=${(e) => { setAgent(e.target.value); setOffset(0); }}>
        <option value="">Any agent</option>${(agents.data?.items ?? []).map((a) => html`<option value=${a.id}>${a.name}</option>`)}</select>`}<//>
      <${Field} label="User">${(id) => html`<select id=${id} value=${user} onChange=${(e) => { setUser(e.target.value); setOffset(0); }}>
        <option value="">Any user</option>${(users.data?.items ?? []).map((u) => html`<option value=${u.id}>${u.name}</option>`)}</select>`}<//>
    </div>
    <${Loaded} state=${sessions} what="Loading sessions">
      ${(data) => html`${data.items.length
          ? html`<div class="table-wrap"><table><thead><tr><th scope="col">Session</th><th scope="col">Agents</th><th scope="col">Users</th><th scope="col">Updated</th></tr></thead>
            <tbody>${data.items.map(
              (s) => html`<tr><td><a href=${`#/sessions/${s.id}`}>${s.situation || `Session ${shortId(s.id)}`}</a></td>
                <td>${(s.agents ?? [s.agent]).filter(Boolean).map((a) => names[a] ?? shortId(a)).join(", ")}</td>
                <td>${(s.users ?? [s.user]).filter(Boolean).map((u) => names[u] ?? shortId(u)).join(", ")}</td>
                <td>${when(s.updated_at || s.created_at)}</td></tr>`,
            )}</tbody></table></div>`
          : html`<p class="empty">No sessions.</p>`}
        <${Pager} offset=${offset} limit=${PAGE} count=${data.items.length} onPage=${setOffset} />`}
    <//>`;
}

export function SessionHistory({ params: [sessionId] }) {
  const history = useAsync(() => api.get(`/sessions/${sessionId}/history`, { limit: 1000 }), [sessionId]);
  const clear = async () => {
    await api.del(`/sessions/${sessionId}/history`);
    history.reload();
  };
  const remove = async () => {
    await api.del(`/sessions/${sessionId}`);
    navigate("/sessions");
  };
  return html`<div class="row"><h1>History</h1><span class="spacer"></span><a href=${`#/chat/${sessionId}`}>Chat in it</a></div>
    <p class="muted">Session <span class="mono">${sessionId}</span></p>
    <${Loaded} state=${history} what="Loading the history">
      ${(data) => {
        const entries = data.entries ?? data.items ?? [];
        return entries.length
          ? html`<ol class="history">${entries.map((e) => html`<${Entry} entry=${e} sessionId=${sessionId} />`)}</ol>`
          : html`<p class="empty">No entries.</p>`;
      }}
    <//>
    <div class="row">
      <${ConfirmButton} label="Clear history" confirm="Clear" question="Delete every entry of this session's history? The session stays." onConfirm=${clear} />
      <${ConfirmButton} label="Delete session" confirm="Delete" question="Delete this session with its history? This cannot be undone." onConfirm=${remove} />
    </div>`;
}

function Entry({ entry, sessionId }) {
  const summary = entry.source === "summarizer" || entry.source === "summary";
  return html`<li class=${`entry entry-${entry.role}${summary ? " entry-summary" : ""}`}>
    <div class="row">
      <span class="pill">${entry.role}</span>
      <span class="pill">${entry.source}</span>
      ${entry.token_count != null ? html`<span class="muted">${entry.token_count} tokens</span>` : null}
      <span class="muted">${when(entry.created_at)}</span>
      <span class="spacer"></span>
      ${entry.role === "assistant" && !entry.tool_calls?.length
        ? html`<a href=${`#/sessions/${sessionId}/turns/${entry.id}`}>Inspect</a>`
        : null}
    </div>
    ${entry.tool_calls?.length
      ? html`<p>Tool calls: ${entry.tool_calls.map((c) => html`<code>${c.function?.name}</code> `)}</p>`
      : html`<div class="entry-text">${contentText(entry.content)}</div>`}
    ${summary ? html`<p class="muted">A summary: it stands in the window for the earlier entries it covers.</p>` : null}
  </li>`;
}
