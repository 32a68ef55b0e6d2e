// The prompt inspector: one chat turn's stored trace (GET /sessions/{id}/turns/{entry}/trace):
// where its time went, the model and settings, what was recalled, the tools, and the prompt
// the model got (system prompt and message window).

import { api } from "../api.js";
import { Loaded, contentText, html, ms, pretty, score, shortId, useAsync } from "../ui.js";

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
      ${system.length ? system.map((m) => html`<pre class="system-prompt">${contentText(m.content)}</pre>`) : html`<p class="muted">None.</p>`}
    </section>
    <section aria-labelledby="t-window">
      <h2 id="t-window">Message window (${window.length})</h2>
      ${window.length
        ? window.map(
            (m) => html`<div class="prompt-msg">
              <h3 class="msg-who">${m.role}${m.name ? ` (${m.name})` : ""}${m.tool_call_id ? ` · ${m.tool_call_id}` : ""}</h3>
              ${m.content != null && m.content !== "" ? html`<pre>${contentText(m.content)}</pre>` : null}
              ${m.tool_calls?.length ? html`<pre>${pretty(m.tool_calls)}</pre>` : null}
            </div>`,
          )
        : html`<p class="muted">No messages.</p>`}
    </section>
    <${Recalled} recall=${trace.recall} />
    <section aria-labelledby="t-tools">
      <h2 id="t-tools">Tools</h2>
      <h3>Offered (${trace.prompt?.tools?.length ?? 0})</h3>
      ${trace.prompt?.tools?.length
        ? html`<ul class="plain-list">${trace.prompt.tools.map(
            (t) => html`<li><details><summary><span class="mono">${t.function?.name ?? t.name}</span> ${t.function?.description ?? ""}</summary><pre>${pretty(t)}</pre></details></li>`,
          )}</ul>`
        : html`<p class="muted">None.</p>`}
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
      ? html`<ul class="plain-list">${recall.docs.map(
          (d) => html`<li><strong>${d.title || shortId(d.id)}</strong> <span class="pill">score ${score(d.score)}</span>
            <span class="muted"> ${d.owner?.role ?? ""}</span><br /><span class="muted">${d.snippet?.content ?? ""}</span></li>`,
        )}</ul>`
      : html`<p class="muted">None.</p>`}
    <h3>Memories (${recall.memories.length})</h3>
    ${recall.memories.length
      ? html`<ul class="plain-list">${recall.memories.map(
          (m) => html`<li>${m.content ?? m.text ?? m.fact ?? JSON.stringify(m)} ${m.score != null ? html`<span class="pill">score ${score(m.score)}</span>` : null}</li>`,
        )}</ul>`
      : html`<p class="muted">None.</p>`}
  </section>`;
}
