// Sessions: the list (by agent and user), and one session's history: its entries in order
// with role, source and tokens, summaries with the entries they replaced; clear the history
// or delete the session.

import { api } from "../api.js";
import {
  ConfirmButton,
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
  const state = useAsync(
    () => api.get("/sessions", { agent_id: agent, user_id: user, limit: PAGE, offset }),
    [agent, user, offset],
  );
  const names = (list) => Object.fromEntries((list.data?.items ?? []).map((x) => [x.id, x.name || shortId(x.id)]));
  const agentName = names(agents);
  const userName = names(users);
  const filter = (set) => (e) => {
    set(e.target.value);
    setOffset(0);
  };
  return html`<h1>Sessions</h1>
    <div class="filters" role="search" aria-label="Filter sessions">
      <div class="field"><label for="s-agent">Agent</label>
        <select id="s-agent" value=${agent} onChange=${filter(setAgent)}>
          <option value="">Any agent</option>
          ${(agents.data?.items ?? []).map((a) => html`<option value=${a.id}>${a.name}</option>`)}
        </select></div>
      <div class="field"><label for="s-user">User</label>
        <select id="s-user" value=${user} onChange=${filter(setUser)}>
          <option value="">Any user</option>
          ${(users.data?.items ?? []).map((u) => html`<option value=${u.id}>${u.name || shortId(u.id)}</option>`)}
        </select></div>
    </div>
    <${Loaded} state=${state} what="Loading sessions">
      ${(data) => html`${data.items.length
          ? html`<div class="table-wrap"><table>
              <thead><tr><th scope="col">Session</th><th scope="col">Agent</th><th scope="col">User</th><th scope="col">Situation</th><th scope="col">Created</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
              <tbody>${data.items.map(
                (s) => html`<tr>
                  <td><a href=${`#/sessions/${s.id}`}>Session ${shortId(s.id)}</a></td>
                  <td>${s.agent_id ? agentName[s.agent_id] ?? shortId(s.agent_id) : ""}</td>
                  <td>${s.user_id ? userName[s.user_id] ?? shortId(s.user_id) : ""}</td>
                  <td>${s.situation ?? ""}</td>
                  <td>${when(s.created_at)}</td>
                  <td><a href=${`#/chat/${s.id}`}>Chat</a></td>
                </tr>`,
              )}</tbody></table></div>`
          : html`<p class="empty">No sessions${agent || user ? " match these filters" : " yet"}.</p>`}
        <${Pager} offset=${offset} limit=${PAGE} count=${data.items.length} onPage=${setOffset} />`}
    <//>`;
}

export function SessionPage({ params: [id] }) {
  const state = useAsync(
    () => Promise.all([api.get(`/sessions/${id}`), api.get(`/sessions/${id}/history`)]),
    [id],
  );
  const [note, setNote] = useState("");
  const clear = async () => {
    await api.del(`/sessions/${id}/history`);
    setNote("History cleared.");
    state.reload();
  };
  const remove = async () => {
    await api.del(`/sessions/${id}`);
    navigate("/sessions");
  };
  return html`<div class="row"><h1>Session ${shortId(id)}</h1><span class="spacer"></span>
      <a class="button primary" href=${`#/chat/${id}`}>Chat</a></div>
    <p class="muted mono">${id}</p>
    <${Loaded} state=${state} what="Loading the session">
      ${([session, history]) => html`
        <dl class="facts">
          <dt>Agent</dt><dd>${session.agent_id ? html`<a href=${`#/agents/${session.agent_id}`}><${NameOf} path="/agents" id=${session.agent_id} /></a>` : "none"}</dd>
          <dt>User</dt><dd>${session.user_id ? html`<${NameOf} path="/users" id=${session.user_id} />` : "none"}</dd>
          ${session.situation ? html`<dt>Situation</dt><dd>${session.situation}</dd>` : null}
          <dt>Context overflow</dt><dd>${session.context_overflow ?? "the server's default"}</dd>
          <dt>Token budget</dt><dd>${session.token_budget ?? "the model's"}</dd>
          <dt>Created</dt><dd>${when(session.created_at)}</dd>
        </dl>
        <div class="row end">
          <${ConfirmButton} label="Clear history" question="Remove every entry of this session's history? The session stays." confirm="Clear" onConfirm=${clear} />
          <${ConfirmButton} label="Delete session" question="Delete this session and its history?" confirm="Delete" onConfirm=${remove} />
        </div>
        <p role="status" class="muted">${note}</p>
        <h2>History (${history.entries.length} entries)</h2>
        <${Entries} sessionId=${id} history=${history} />`}
    <//>`;
}

/** An agent's or user's name (its short id until it loads, or if it cannot be read). */
function NameOf({ path, id }) {
  const state = useAsync(() => api.get(`${path}/${id}`), [path, id]);
  return state.data?.name || shortId(id);
}

function Entries({ sessionId, history }) {
  if (!history.entries.length) return html`<p class="empty">No entries.</p>`;
  const seq = Object.fromEntries(history.entries.map((e, i) => [e.id, i + 1]));
  const replaced = {}; // summary id -> the entries it replaced
  const summarizedBy = {}; // entry id -> its summary
  for (const r of history.relations) {
    if (r.relation !== "summary_of") continue;
    (replaced[r.head] ??= []).push(r.tail);
    summarizedBy[r.tail] = r.head;
  }
  return html`<div class="table-wrap"><table class="entries">
    <thead><tr><th scope="col">#</th><th scope="col">Role</th><th scope="col">Source</th><th scope="col">Tokens</th><th scope="col">Content</th><th scope="col">Time</th></tr></thead>
    <tbody>${history.entries.map(
      (e, i) => html`<tr class=${summarizedBy[e.id] ? "summarized" : ""}>
        <td>${i + 1}</td>
        <td>${e.role}${e.name ? html` <span class="muted">(${e.name})</span>` : null}${e.partial ? html` <span class="pill">partial</span>` : null}</td>
        <td class="mono">${e.source}</td>
        <td>${e.token_count}</td>
        <td class="entry-text">${entryText(e)}
          ${replaced[e.id] ? html`<p class="muted">Summary replacing ${replaced[e.id].length} entries: ${replaced[e.id].map((t) => (seq[t] ? `#${seq[t]}` : shortId(t))).join(", ")}</p>` : null}
          ${summarizedBy[e.id] ? html`<p class="muted">Replaced by the summary ${seq[summarizedBy[e.id]] ? `#${seq[summarizedBy[e.id]]}` : shortId(summarizedBy[e.id])}</p>` : null}
          ${e.role === "assistant" && e.source === "api_response" ? html`<p><a href=${`#/sessions/${sessionId}/turns/${e.id}`}>Inspect</a></p>` : null}
        </td>
        <td>${when(e.timestamp)}</td>
      </tr>`,
    )}</tbody></table></div>`;
}

function entryText(e) {
  const text = contentText(e.content);
  const calls = (e.tool_calls ?? []).map((c) => `${c.function?.name ?? c.name}(${c.function?.arguments ?? c.arguments ?? ""})`);
  return [text, ...calls].filter(Boolean).join("\n");
}
