// Chat: pick or start a session, send messages and watch replies stream; each reply shows
// its tool steps, the documents it recalled (with scores), its tokens and its latency, and
// links to the prompt inspector.

import { api, stream } from "../api.js";
import {
  ErrorNote,
  Field,
  JsonEditor,
  Loaded,
  Markdown,
  contentText,
  html,
  ms,
  navigate,
  parseObject,
  score,
  shortId,
  useAsync,
  useEffect,
  useRef,
  useState,
  when,
} from "../ui.js";

const OVERFLOW = ["", "truncate", "summarize", "adaptive"];

export function ChatView({ params: [sessionId], query }) {
  if (!sessionId) return html`<${SessionPicker} agentId=${query.get("agent") || ""} />`;
  return html`<${Conversation} key=${sessionId} sessionId=${sessionId} />`;
}

// ---- choosing a session --------------------------------------------------------------------

function SessionPicker({ agentId: initial }) {
  const agents = useAsync(() => api.get("/agents", { limit: 100 }), []);
  const [agentId, setAgentId] = useState(initial);
  const chosen = agentId || agents.data?.items?.[0]?.id || "";
  return html`<h1>Chat</h1>
    <${Loaded} state=${agents} what="Loading agents">
      ${(data) =>
        data.items.length
          ? html`<div class="field narrow">
                <label for="chat-agent">Agent</label>
                <select id="chat-agent" value=${chosen} onChange=${(e) => setAgentId(e.target.value)}>
                  ${data.items.map((a) => html`<option value=${a.id}>${a.name}</option>`)}
                </select>
              </div>
              ${chosen ? html`<${AgentSessions} key=${chosen} agentId=${chosen} />` : null}`
          : html`<p class="empty">Make an agent first: <a href="#/agents/new">New agent</a>.</p>`}
    <//>`;
}

function AgentSessions({ agentId }) {
  const sessions = useAsync(() => api.get("/sessions", { agent_id: agentId, limit: 20 }), [agentId]);
  return html`<h2>Recent sessions</h2>
    <${Loaded} state=${sessions} what="Loading sessions">
      ${(data) =>
        data.items.length
          ? html`<ul class="session-list">${data.items.map(
              (s) => html`<li><a href=${`#/chat/${s.id}`}>${s.situation || `Session ${shortId(s.id)}`}</a>
                <span class="muted"> ${when(s.updated_at || s.created_at)}</span></li>`,
            )}</ul>`
          : html`<p class="muted">No sessions with this agent yet.</p>`}
    <//>
    <h2>New session</h2>
    <${NewSession} agentId=${agentId} />`;
}

function NewSession({ agentId }) {
  const users = useAsync(() => api.get("/users", { limit: 100 }), []);
  const [form, setForm] = useState({ user: "", situation: "", overflow: "", budget: "", tools: true });
  const [error, setError] = useState(null);
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.type === "checkbox" ? e.target.checked : e.target.value });
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    const body = { agent: agentId, auto_run_tools: form.tools };
    if (form.user) body.user = form.user;
    if (form.situation.trim()) body.situation = form.situation;
    if (form.overflow) body.context_overflow = form.overflow;
    if (form.budget) body.token_budget = Number(form.budget);
    try {
      const made = await api.post("/sessions", body);
      navigate(`/chat/${made.id}`);
    } catch (err) {
      setError(err);
    }
  };
  return html`<form class="stack card" onSubmit=${submit} aria-label="New session">
    <div class="grid2">
      <${Field} label="User" hint="(optional)">
        ${(id) => html`<select id=${id} value=${form.user} onChange=${set("user")}>
          <option value="">No user</option>
          ${(users.data?.items ?? []).map((u) => html`<option value=${u.id}>${u.name}</option>`)}
        </select>`}
      <//>
      <${Field} label="Context overflow">
        ${(id) => html`<select id=${id} value=${form.overflow} onChange=${set("overflow")}>
          ${OVERFLOW.map((o) => html`<option value=${o}>${o || "The server's default"}</option>`)}
        </select>`}
      <//>
      <${Field} label="Token budget" hint="(optional)">
        ${(id) => html`<input id=${id} type="number" min="1" value=${form.budget} onInput=${set("budget")} />`}
      <//>
    </div>
    <${Field} label="Situation" hint="(added to the system prompt)">
      ${(id) => html`<textarea id=${id} rows="3" value=${form.situation} onInput=${set("situation")}></textarea>`}
    <//>
    <label class="check"><input type="checkbox" checked=${form.tools} onChange=${set("tools")} /> Run the agent's server-side tools</label>
    <${ErrorNote} error=${error} title="Could not start the session" />
    <div><button class="primary" type="submit">Start chatting</button></div>
  </form>`;
}

// ---- the conversation ------------------------------------------------------------------------

/** History entries as turns: a user message, or a reply with the tool steps before it. */
function turnsOf(entries) {
  const turns = [];
  let steps = [];
  for (const e of entries) {
    if (e.role === "user" || e.role === "system") {
      turns.push({ kind: "user", id: e.id, role: e.role, text: contentText(e.content) });
      steps = [];
    } else if (e.role === "tool") {
      steps.push({ kind: "result", id: e.tool_call_id, text: contentText(e.content) });
    } else if (e.tool_calls?.length) {
      steps.push({ kind: "calls", calls: e.tool_calls });
    } else {
      turns.push({ kind: "reply", id: e.id, text: contentText(e.content), steps, tokens: e.token_count, model: e.model });
      steps = [];
    }
  }
  return turns;
}

function Conversation({ sessionId }) {
  const session = useAsync(() => api.get(`/sessions/${sessionId}`), [sessionId]);
  const history = useAsync(() => api.get(`/sessions/${sessionId}/history`, { limit: 1000 }), [sessionId]);
  const [turns, setTurns] = useState(null);
  const [busy, setBusy] = useState(null); // the AbortController of the reply streaming
  const [error, setError] = useState(null);
  const end = useRef(null);
  useEffect(() => {
    if (history.data) setTurns(turnsOf(history.data.entries ?? history.data.items ?? []));
  }, [history.data]);
  useEffect(() => end.current?.scrollIntoView?.({ block: "end" }), [turns]);
  const send = async (text, format) => {
    setError(null);
    const control = new AbortController();
    setBusy(control);
    const reply = { kind: "reply", text: "", steps: [], docs: [], streaming: true, started: performance.now() };
    const update = (change) => setTurns((all) => [...all.slice(0, -1), { ...all.at(-1), ...change }]);
    setTurns((all) => [...all, { kind: "user", role: "user", text }, reply]);
    const body = { messages: [{ role: "user", content: text }], stream: true };
    if (format) body.response_format = format;
    let current = { ...reply };
    try {
      for await (const chunk of stream(`/sessions/${sessionId}/chat`, body, { signal: control.signal })) {
        current = absorb(current, chunk);
        update(current);
      }
    } catch (err) {
      if (err.name !== "AbortError") setError(err);
      else current = { ...current, stopped: true };
    } finally {
      update({ ...current, streaming: false, total: performance.now() - reply.started });
      setBusy(null);
    }
  };
  return html`<${Loaded} state=${session} what="Loading the session">
    ${(s) => html`<div class="row"><h1>Chat</h1><span class="spacer"></span>
        <a href=${`#/sessions/${s.id}`}>History</a></div>
      <p class="muted">Session <span class="mono">${s.id}</span>${s.situation ? html` · ${s.situation}` : null}</p>
      <section class="chat-log" aria-label="Conversation" aria-live="polite">
        ${turns === null
          ? html`<${Loaded} state=${history} what="Loading the history">${() => null}<//>`
          : turns.length
            ? turns.map((t) => html`<${Turn} turn=${t} sessionId=${s.id} />`)
            : html`<p class="empty">No messages yet: say something.</p>`}
        <div ref=${end}></div>
      </section>
      <${ErrorNote} error=${error} title="The reply failed" />
      <${Composer} busy=${busy} onSend=${send} />`}
  <//>`;
}

/** Fold one streamed event into the reply being shown. */
function absorb(reply, chunk) {
  const next = { ...reply, id: chunk.id || reply.id };
  if (chunk.docs) next.docs = chunk.docs;
  if (chunk.usage) next.usage = chunk.usage;
  const choice = chunk.choices?.[0];
  const delta = choice?.delta ?? {};
  if (delta.role === "tool") {
    next.steps = [...next.steps, { kind: "result", id: delta.tool_call_id, text: contentText(delta.content) }];
  } else {
    if (delta.tool_calls?.length) next.steps = [...next.steps, { kind: "calls", calls: delta.tool_calls }];
    if (delta.content) {
      next.text += contentText(delta.content);
      next.ttft ??= performance.now() - reply.started;
    }
  }
  if (choice?.finish_reason) next.finish = choice.finish_reason;
  return next;
}

function Turn({ turn, sessionId }) {
  if (turn.kind === "user") {
    return html`<article class="msg msg-user" aria-label=${`${turn.role} message`}>
      <div class="msg-role">${turn.role === "system" ? "System" : "You"}</div>
      <div class="msg-text">${turn.text}</div>
    </article>`;
  }
  return html`<article class="msg msg-reply" aria-label="Reply" aria-busy=${turn.streaming ? "true" : "false"}>
    <div class="msg-role">Agent</div>
    ${turn.steps.map((step) => html`<${Step} step=${step} />`)}
    ${turn.text ? html`<${Markdown} text=${turn.text} />` : turn.streaming ? html`<p class="muted" role="status">Thinking…</p>` : null}
    ${turn.stopped ? html`<p class="muted" role="status">Stopped.</p>` : null}
    ${turn.docs?.length ? html`<${Recalled} docs=${turn.docs} />` : null}
    <${TurnFacts} turn=${turn} sessionId=${sessionId} />
  </article>`;
}

function Step({ step }) {
  if (step.kind === "calls") {
    return step.calls.map(
      (c) => html`<details class="step"><summary>Tool call: <code>${c.function?.name}</code></summary>
        <pre>${c.function?.arguments}</pre></details>`,
    );
  }
  return html`<details class="step"><summary>Tool result${step.id ? html` <span class="muted mono">${step.id}</span>` : null}</summary>
    <pre>${step.text}</pre></details>`;
}

function Recalled({ docs }) {
  return html`<details class="recalled" open><summary>Recalled ${docs.length} document${docs.length === 1 ? "" : "s"}</summary>
    <ol>${docs.map(
      (d) => html`<li><strong>${d.title || shortId(d.id)}</strong> <span class="pill" title="score">score ${score(d.score ?? d.relevance)}</span>
        <div class="muted snippet">${d.snippet?.content}</div></li>`,
    )}</ol></details>`;
}

function TurnFacts({ turn, sessionId }) {
  const facts = [];
  if (turn.usage) facts.push(`${turn.usage.prompt_tokens} tokens in, ${turn.usage.completion_tokens} out`);
  else if (turn.tokens) facts.push(`${turn.tokens} tokens`);
  if (turn.ttft != null) facts.push(`first token ${ms(turn.ttft)}`);
  if (turn.total != null) facts.push(`total ${ms(turn.total)}`);
  return html`<div class="turn-facts muted">
    ${facts.join(" · ")}
    ${turn.id && !turn.streaming ? html` <a href=${`#/sessions/${sessionId}/turns/${turn.id}`}>Inspect</a>` : null}
  </div>`;
}

function Composer({ busy, onSend }) {
  const [text, setText] = useState("");
  const [format, setFormat] = useState("text");
  const [schema, setSchema] = useState('{\n  "type": "object",\n  "properties": {"answer": {"type": "string"}},\n  "required": ["answer"]\n}');
  const [problem, setProblem] = useState(null);
  const submit = (e) => {
    e.preventDefault();
    if (!text.trim() || busy) return;
    let chosen = null;
    try {
      if (format === "json_object") chosen = { type: "json_object" };
      if (format === "json_schema") chosen = { type: "json_schema", json_schema: { name: "reply", schema: parseObject(schema, "The schema") } };
    } catch (err) {
      setProblem(err.message);
      return;
    }
    setProblem(null);
    onSend(text, chosen);
    setText("");
  };
  const keys = (e) => {
    if (e.key === "Enter" && !e.shiftKey) submit(e);
  };
  return html`<form class="composer stack" onSubmit=${submit} aria-label="Send a message">
    <div class="field">
      <label for="chat-message">Message <span class="hint">(Enter sends, Shift+Enter for a new line)</span></label>
      <textarea id="chat-message" rows="3" value=${text} onInput=${(e) => setText(e.target.value)} onKeyDown=${keys}></textarea>
    </div>
    <div class="row">
      <label for="chat-format" class="inline">Output</label>
      <select id="chat-format" class="auto" value=${format} onChange=${(e) => setFormat(e.target.value)}>
        <option value="text">Text</option>
        <option value="json_object">JSON object</option>
        <option value="json_schema">JSON with a schema</option>
      </select>
      <span class="spacer"></span>
      ${busy
        ? html`<button type="button" class="danger" onClick=${() => busy.abort()}>Stop</button>`
        : html`<button class="primary" type="submit" disabled=${!text.trim()}>Send</button>`}
    </div>
    ${format === "json_schema"
      ? html`<div class="field"><span class="label">Schema <span class="hint">(JSON Schema the reply must follow)</span></span>
          <${JsonEditor} id="chat-schema" label="Schema" value=${schema} onChange=${setSchema} /></div>`
      : null}
    ${problem ? html`<p class="alert" role="alert">${problem}</p>` : null}
  </form>`;
}
