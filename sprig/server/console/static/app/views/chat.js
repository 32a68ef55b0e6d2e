// Chat: pick an agent, then one of its recent sessions or a new one; talk with it, the reply
// streamed token by token (Stop aborts it), its tool steps, recalled docs and memories, usage
// and timing under it (chat_turns.js), and a link to the turn's prompt inspector; preview the
// prompt the next message would make (POST /sessions/{id}/render).

import { api, stream } from "../api.js";
import {
  ErrorNote,
  Field,
  JsonEditor,
  Loaded,
  contentText,
  html,
  navigate,
  shortId,
  useAsync,
  useEffect,
  useId,
  useRef,
  useState,
  when,
} from "../ui.js";
import { ReplyTurn, UserTurn, sessionTraces, turnTrace, turnsOf, withTraces } from "./chat_turns.js";
import { PromptPreview } from "./inspector.js";

export function ChatView({ params: [sessionId], query }) {
  if (sessionId) return html`<${SessionChat} id=${sessionId} />`;
  return html`<${ChatStart} agentId=${query.get("agent") || ""} />`;
}

// ---- choosing an agent and a session ------------------------------------------------------

function ChatStart({ agentId }) {
  const agents = useAsync(() => api.get("/agents", { limit: 100 }), []);
  const [agent, setAgent] = useState(agentId);
  useEffect(() => setAgent(agentId), [agentId]);
  const choose = (e) => {
    setAgent(e.target.value);
    navigate(e.target.value ? `/chat?agent=${e.target.value}` : "/chat");
  };
  return html`<h1>Chat</h1>
    <${Loaded} state=${agents} what="Loading agents">
      ${(data) =>
        data.items.length
          ? html`<div class="field narrow">
              <label for="chat-agent">Agent</label>
              <select id="chat-agent" value=${agent} onChange=${choose}>
                <option value="">Choose an agent…</option>
                ${data.items.map((a) => html`<option value=${a.id}>${a.name} (${shortId(a.id)})</option>`)}
              </select>
            </div>`
          : html`<p class="empty">No agents yet. <a href="#/agents/new">Make one</a> to chat with it.</p>`}
    <//>
    ${agent ? html`<${AgentSessions} key=${agent} agentId=${agent} />` : null}`;
}

function AgentSessions({ agentId }) {
  const sessions = useAsync(() => api.get("/sessions", { agent_id: agentId, limit: 10 }), [agentId]);
  return html`<div class="grid2 chat-start">
    <section class="card" aria-labelledby="recent-h">
      <h2 id="recent-h">Recent sessions</h2>
      <${Loaded} state=${sessions} what="Loading sessions">
        ${(data) =>
          data.items.length
            ? html`<ul class="plain-list">${data.items.map(
                (s) => html`<li><a href=${`#/chat/${s.id}`}>${s.situation ? s.situation.slice(0, 60) : `Session ${shortId(s.id)}`}</a>
                  <span class="muted"> ${when(s.created_at)}</span></li>`,
              )}</ul>`
            : html`<p class="muted">No sessions with this agent yet.</p>`}
      <//>
    </section>
    <section class="card" aria-labelledby="new-h">
      <h2 id="new-h">New session</h2>
      <${NewSession} agentId=${agentId} />
    </section>
  </div>`;
}

function NewSession({ agentId }) {
  const users = useAsync(() => api.get("/users", { limit: 100 }), []);
  const [form, setForm] = useState({ user: "", situation: "", overflow: "", budget: "" });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.value });
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    const body = { agent: agentId };
    if (form.user) body.user = form.user;
    if (form.situation.trim()) body.situation = form.situation;
    if (form.overflow) body.context_overflow = form.overflow;
    if (form.budget) body.token_budget = Number(form.budget);
    try {
      const made = await api.post("/sessions", body);
      navigate(`/chat/${made.id}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return html`<form class="stack" onSubmit=${submit} aria-label="New session">
    <${Field} label="User" hint=${users.error ? "(could not list users)" : "(optional)"}>
      ${(id) => html`<select id=${id} value=${form.user} onChange=${set("user")}>
        <option value="">No user</option>
        ${(users.data?.items ?? []).map((u) => html`<option value=${u.id}>${u.name || shortId(u.id)}</option>`)}
      </select>`}
    <//>
    <${Field} label="Situation" hint="(optional: added to the system prompt)">
      ${(id) => html`<textarea id=${id} rows="3" value=${form.situation} onInput=${set("situation")}></textarea>`}
    <//>
    <div class="grid2">
      <${Field} label="Context overflow">
        ${(id) => html`<select id=${id} value=${form.overflow} onChange=${set("overflow")}>
          <option value="">The server's default</option>
          <option value="truncate">truncate</option>
          <option value="summarize">summarize</option>
          <option value="adaptive">adaptive</option>
        </select>`}
      <//>
      <${Field} label="Token budget" hint="(optional)">
        ${(id) => html`<input id=${id} type="number" min="1" step="1" value=${form.budget} onInput=${set("budget")} />`}
      <//>
    </div>
    <${ErrorNote} error=${error} />
    <div class="row end"><button type="submit" class="primary" disabled=${busy}>Start session</button></div>
  </form>`;
}

// ---- a session's chat ---------------------------------------------------------------------

function SessionChat({ id }) {
  const state = useAsync(
    () => Promise.all([api.get(`/sessions/${id}`), api.get(`/sessions/${id}/history`), sessionTraces(id)]),
    [id],
  );
  return html`<${Loaded} state=${state} what="Loading the session">
    ${([session, history, traces]) => html`<${ChatRoom} session=${session} history=${history} traces=${traces} />`}
  <//>`;
}

function ChatRoom({ session, history, traces }) {
  const agent = useAsync(() => (session.agent_id ? api.get(`/agents/${session.agent_id}`) : null), [session.agent_id]);
  const [turns, setTurns] = useState(() => withTraces(turnsOf(history.entries), traces));
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState("");
  const [error, setError] = useState(null);
  const [jsonMode, setJsonMode] = useState("off");
  const [schema, setSchema] = useState('{\n  "type": "object",\n  "properties": {"answer": {"type": "string"}}\n}');
  const [preview, setPreview] = useState(null); // the request whose prompt is shown
  const previewHead = useRef(null);
  useEffect(() => {
    if (preview) previewHead.current?.focus();
  }, [preview]);
  const abort = useRef(null);
  const schemaId = useId("schema");
  useEffect(() => () => abort.current?.abort(), []);

  const update = (key, change) => setTurns((all) => all.map((t) => (t.key === key ? { ...t, ...change(t) } : t)));

  /** The chat request for `message` with the output chosen; null (and the error shown) if the schema is not JSON. */
  const request = (message) => {
    const body = { messages: [{ role: "user", content: message }] };
    if (jsonMode === "object") body.response_format = { type: "json_object" };
    if (jsonMode === "schema") {
      try {
        body.response_format = { type: "json_schema", json_schema: { name: "reply", schema: JSON.parse(schema) } };
      } catch (err) {
        setError(new Error(`The JSON schema is not valid JSON: ${err.message}`));
        return null;
      }
    }
    return body;
  };

  const showPreview = () => {
    setError(null);
    const body = request(text.trim());
    if (body) setPreview(body);
  };

  const send = async (e) => {
    e.preventDefault();
    const message = text.trim();
    if (!message || busy) return;
    setError(null);
    const body = request(message);
    if (!body) return;
    body.stream = true;
    setPreview(null);
    const key = `r${Date.now()}`;
    setTurns((all) => [
      ...all,
      { kind: "user", key: `u${key}`, text: message },
      { kind: "reply", key, steps: [], text: "", docs: [], done: false },
    ]);
    setText("");
    setBusy(true);
    setStatus("Replying…");
    const controller = new AbortController();
    abort.current = controller;
    const started = performance.now();
    let first = null;
    let replyId = null;
    try {
      for await (const chunk of stream(`/sessions/${session.id}/chat`, body, { signal: controller.signal })) {
        replyId = chunk.id || replyId;
        const choice = chunk.choices?.[0];
        const delta = choice?.delta ?? {};
        if (first === null && delta.role !== "tool" && !delta.tool_calls?.length && delta.content) {
          first = performance.now() - started;
        }
        const ttft = first;
        update(key, (t) => {
          const next = { id: chunk.id || t.id };
          if (chunk.docs) next.docs = chunk.docs;
          if (delta.tool_calls?.length) next.steps = [...t.steps, { kind: "calls", calls: delta.tool_calls, returned: !!choice.finish_reason }];
          else if (delta.role === "tool") next.steps = [...t.steps, { kind: "result", id: delta.tool_call_id, text: contentText(delta.content) }];
          else if (delta.content) next.text = t.text + contentText(delta.content);
          if (ttft !== null) next.ttft = ttft;
          if (choice?.finish_reason) {
            next.finish = choice.finish_reason;
            next.usage = chunk.usage;
            next.stopReason = chunk.stop_reason;
          }
          return next;
        });
      }
      update(key, () => ({ done: true, total: performance.now() - started }));
      setStatus("Reply finished.");
      if (replyId) turnTrace(session.id, replyId).then((trace) => trace && update(key, () => ({ trace })));
    } catch (err) {
      const stopped = err.name === "AbortError";
      update(key, () => ({ done: true, stopped, total: performance.now() - started }));
      if (stopped) setStatus("Stopped.");
      else {
        setStatus("");
        setError(err);
      }
    } finally {
      abort.current = null;
      setBusy(false);
    }
  };

  const keys = (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) send(e);
  };

  return html`<div class="row"><h1>Chat${agent.data ? html` with ${agent.data.name}` : null}</h1><span class="spacer"></span>
      <a class="button" href=${`#/sessions/${session.id}`}>History</a>
      <a class="button" href=${session.agent_id ? `#/chat?agent=${session.agent_id}` : "#/chat"}>Other sessions</a></div>
    <p class="muted">Session <span class="mono">${session.id}</span>${session.situation ? html` · ${session.situation}` : null}</p>
    <section class="chat-log" aria-label="Conversation">
      ${turns.length ? turns.map((t) => (t.kind === "user" ? html`<${UserTurn} key=${t.key} turn=${t} />` : html`<${ReplyTurn} key=${t.key} turn=${t} sessionId=${session.id} />`)) : html`<p class="empty">No messages yet: say something.</p>`}
    </section>
    <p class="sr-only" role="status">${status}</p>
    <${ErrorNote} error=${error} />
    <form class="stack chat-compose" onSubmit=${send} aria-label="Composer">
      <div class="field">
        <label for="chat-message">Message <span class="hint">(Ctrl+Enter sends)</span></label>
        <textarea id="chat-message" rows="3" value=${text} onInput=${(e) => setText(e.target.value)} onKeyDown=${keys}></textarea>
      </div>
      <fieldset class="json-mode">
        <legend>Output</legend>
        ${[
          ["off", "Text"],
          ["object", "JSON object"],
          ["schema", "JSON with a schema"],
        ].map(
          ([value, label]) => html`<label class="inline"><input type="radio" name="json-mode" value=${value}
            checked=${jsonMode === value} onChange=${() => setJsonMode(value)} /> ${label}</label>`,
        )}
      </fieldset>
      ${jsonMode === "schema"
        ? html`<div class="field"><span class="label">JSON schema</span>
            <${JsonEditor} id=${schemaId} label="JSON schema" value=${schema} onChange=${setSchema} /></div>`
        : null}
      <div class="row end">
        ${busy ? html`<button type="button" class="danger" onClick=${() => abort.current?.abort()}>Stop</button>` : null}
        <button type="button" disabled=${!text.trim()} onClick=${showPreview}>Preview prompt</button>
        <button type="submit" class="primary" disabled=${busy || !text.trim()}>Send</button>
      </div>
    </form>
    ${preview
      ? html`<section class="card prompt-preview" aria-labelledby="preview-h">
          <div class="row"><h2 id="preview-h" tabindex="-1" ref=${previewHead}>Prompt preview</h2><span class="spacer"></span>
            <button type="button" onClick=${() => setPreview(null)}>Close the preview</button></div>
          <p class="muted">What the model would get if this message were sent now (nothing is sent or saved).</p>
          <${PromptPreview} sessionId=${session.id} body=${preview} />
        </section>`
      : null}`;
}

