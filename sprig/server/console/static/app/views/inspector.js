// The prompt inspector: one chat turn's stored trace (GET /sessions/{id}/turns/{entry}/trace):
// where its time went, the model and settings, what was recalled, the tools, and the prompt
// the model got (system prompt and message window). PromptPreview shows the prompt a message
// would make now (POST /sessions/{id}/render), for the chat.

import { api } from "../api.js";
import { Loaded, contentText, html, ms, pretty, shortId, useAsync } from "../ui.js";
import { DocItem, MemoryItem } from "./chat_turns.js";

export function InspectorView({ params: [sessionId, entryId] }) {
  const state = useAsync(() => api.get(`/sessions/${sessionId}/turns/${entryId}/trace`), [sessionId, entryId]);
  return html`<div class="row"><h1>Prompt inspector</h1><span class="spacer"></span>
      <a class="button" href=${`#/chat/${sessionId}`}>Back to the chat</a>
      <a class="button" href=${`#/sessions/${sessionId}`}>History</a></div>
    <p class="muted">Turn answered by entry <span class="mono">${entryId}</span></p>
    <${Loaded} state=${state} what="Loading the trace">${(trace) => html`<${Trace} trace=${trace} />`}<//>`;
}

function Trace({ trace }) {
  const messages = trace.prompt?.messages ?? [];
  const system = messages.filter((m) => m.role === "system");
  const window = messages.filter((m) => m.role !== "system");
  return html`<section aria-labelledby="t-summary">
      <h2 id="t-summary">Summary</h2>
      <dl class="facts">
        <dt>Model</dt><dd class="mono">${trace.model}</dd>
        <dt>Agent</dt><dd>${trace.agent?.name ?? ""} <span class="muted mono">${shortId(trace.agent?.id)}</span></dd>
        <dt>Outcome</dt><dd>${trace.outcome}, finished by ${trace.finish_reason}${trace.stop_reason ? ` (${trace.stop_reason})` : ""}</dd>
        <dt>Time</dt><dd>${ms(trace.duration_ms)} in all: model ${ms(trace.model_ms)}, Sprig ${ms(trace.overhead_ms)}</dd>
        <dt>Tokens</dt><dd>${trace.usage.prompt_tokens} prompt + ${trace.usage.completion_tokens} completion = ${trace.usage.total_tokens}</dd>
        <dt>Window</dt><dd>${trace.prompt ? `${trace.prompt.window.count} entries, ${trace.prompt.window.tokens} tokens of a ${trace.prompt.token_budget}-token budget${trace.prompt.window.missing ? `; ${trace.prompt.window.missing} since removed` : ""}` : ""}</dd>
        ${trace.response_format ? html`<dt>Response format</dt><dd class="mono">${JSON.stringify(trace.response_format)}</dd>` : null}
      </dl>
      <details><summary>Settings</summary><pre>${pretty(trace.settings)}</pre></details>
    </section>
    <section aria-labelledby="t-phases">
      <h2 id="t-phases">Phases</h2>
      <${Phases} phases=${trace.phases} total=${trace.duration_ms} />
    </section>
    <section aria-labelledby="t-system">
      <h2 id="t-system">System prompt</h2>
      <${SystemPrompt} messages=${system} />
    </section>
    <section aria-labelledby="t-window">
      <h2 id="t-window">Message window (${window.length})</h2>
      <${PromptWindow} messages=${window} level="3" />
    </section>
    <${Recalled} recall=${trace.recall} />
    <section aria-labelledby="t-tools">
      <h2 id="t-tools">Tools</h2>
      <h3>Offered (${trace.prompt?.tools?.length ?? 0})</h3>
      <${OfferedTools} tools=${trace.prompt?.tools ?? []} />
      <h3>Called (${trace.tool_calls.length + trace.client_tool_calls.length})</h3>
      ${trace.tool_calls.map(
        (c) => html`<details class="tool-step"><summary>Tool call: <span class="mono">${c.name}</span></summary>
          <h4>Arguments</h4><pre>${c.arguments}</pre><h4>Result</h4><pre>${c.result ?? ""}</pre></details>`,
      )}
      ${trace.client_tool_calls.map(
        (c) => html`<details class="tool-step"><summary>Returned to the client: <span class="mono">${c.function?.name ?? c.name ?? ""}</span></summary><pre>${pretty(c)}</pre></details>`,
      )}
    </section>`;
}

function Phases({ phases, total }) {
  if (!phases?.length) return html`<p class="muted">No phases recorded.</p>`;
  const max = Math.max(total || 0, ...phases.map((p) => p.start_ms + p.duration_ms), 0.001);
  return html`<ul class="phases" aria-label="Phase timings">
    ${phases.map(
      (p) => html`<li>
        <span>${p.name}${p.detail ? html` <span class="muted mono">${p.detail}</span>` : null}</span>
        <meter min="0" max=${max} value=${p.duration_ms} aria-label=${`${p.name}: ${ms(p.duration_ms)}, from ${ms(p.start_ms)}`}></meter>
        <span class="mono">${ms(p.duration_ms)}</span>
      </li>`,
    )}
  </ul>`;
}

function Recalled({ recall }) {
  return html`<section aria-labelledby="t-recall">
    <h2 id="t-recall">Recalled</h2>
    <p class="muted">${recall.query == null ? "No recall for this turn." : html`Searched with: <q>${recall.query}</q>`}</p>
    <h3>Docs (${recall.docs.length})</h3>
    ${recall.docs.length
      ? html`<ul class="plain-list">${recall.docs.map((d) => html`<${DocItem} doc=${d} />`)}</ul>`
      : html`<p class="muted">None.</p>`}
    <h3>Memories (${recall.memories.length})</h3>
    ${recall.memories.length
      ? html`<ul class="plain-list">${recall.memories.map((m) => html`<${MemoryItem} memory=${m} />`)}</ul>`
      : html`<p class="muted">None.</p>`}
  </section>`;
}

// ---- the parts of a prompt (a trace's or a preview's) ---------------------------------------

function SystemPrompt({ messages }) {
  if (!messages.length) return html`<p class="muted">None.</p>`;
  return messages.map((m) => html`<pre class="system-prompt">${contentText(m.content)}</pre>`);
}

/** The messages after the system prompt; each headed at `level` (3 or 4). */
function PromptWindow({ messages, level }) {
  if (!messages.length) return html`<p class="muted">No messages.</p>`;
  const H = `h${level}`;
  return messages.map(
    (m) => html`<div class="prompt-msg">
      <${H} class="msg-who">${m.role}${m.name ? ` (${m.name})` : ""}${m.tool_call_id ? ` · ${m.tool_call_id}` : ""}<//>
      ${m.content != null && m.content !== "" ? html`<pre>${contentText(m.content)}</pre>` : null}
      ${m.tool_calls?.length ? html`<pre>${pretty(m.tool_calls)}</pre>` : null}
    </div>`,
  );
}

function OfferedTools({ tools }) {
  if (!tools.length) return html`<p class="muted">None.</p>`;
  return html`<ul class="plain-list">${tools.map(
    (t) => html`<li><details><summary><span class="mono">${t.function?.name ?? t.name}</span> ${t.function?.description ?? ""}</summary><pre>${pretty(t)}</pre></details></li>`,
  )}</ul>`;
}

/** What the model would get for `body` (a chat request) now: POST /sessions/{id}/render. */
export function PromptPreview({ sessionId, body }) {
  const state = useAsync(() => api.post(`/sessions/${sessionId}/render`, body), [sessionId, body]);
  return html`<${Loaded} state=${state} what="Rendering the prompt">
    ${(r) => {
      const system = r.messages.filter((m) => m.role === "system");
      const window = r.messages.filter((m) => m.role !== "system");
      return html`<dl class="facts">
          <dt>Model</dt><dd class="mono">${r.model}</dd>
          <dt>Messages</dt><dd>${r.messages.length} (the history window: ${r.token_budget} tokens)</dd>
        </dl>
        <details class="preview-settings"><summary>Settings</summary><pre>${pretty(r.settings)}</pre></details>
        <h3>System prompt</h3>
        <${SystemPrompt} messages=${system} />
        <h3>Message window (${window.length})</h3>
        <${PromptWindow} messages=${window} level="4" />
        <h3>Docs (${r.docs.length})</h3>
        ${r.docs.length ? html`<ul class="plain-list">${r.docs.map((d) => html`<${DocItem} doc=${d} />`)}</ul>` : html`<p class="muted">None.</p>`}
        <h3>Tools (${r.tools.length})</h3>
        <${OfferedTools} tools=${r.tools} />`;
    }}
  <//>`;
}
