// The prompt inspector: what the model saw for one turn (its stored trace): the system
// prompt, the window of history, the recalled documents and memories with their scores, the
// tools, the settings, and where the turn's time went.

import { api } from "../api.js";
import { Loaded, contentText, html, ms, pretty, score, shortId, useAsync } from "../ui.js";

export function InspectorView({ params: [sessionId, entryId] }) {
  const trace = useAsync(() => api.get(`/sessions/${sessionId}/turns/${entryId}/trace`), [sessionId, entryId]);
  return html`<div class="row"><h1>Prompt inspector</h1><span class="spacer"></span>
      <a href=${`#/chat/${sessionId}`}>Back to the chat</a></div>
    <p class="muted">Turn <span class="mono">${entryId}</span></p>
    <${Loaded} state=${trace} what="Loading the turn's trace">${(t) => html`<${Trace} trace=${t} />`}<//>`;
}

function Trace({ trace }) {
  const system = trace.prompt.messages.filter((m) => m.role === "system");
  const window = trace.prompt.messages.filter((m) => m.role !== "system");
  return html`<dl class="facts">
      <dt>Model</dt><dd class="mono">${trace.model}</dd>
      <dt>Outcome</dt><dd>${trace.outcome} (${trace.finish_reason}${trace.stop_reason ? `, ${trace.stop_reason}` : ""})</dd>
      <dt>Tokens</dt><dd>${trace.usage.prompt_tokens} in, ${trace.usage.completion_tokens} out</dd>
      <dt>Time</dt><dd>${ms(trace.duration_ms)} in all: model ${ms(trace.model_ms)}, Sprig ${ms(trace.overhead_ms)}</dd>
    </dl>
    <h2>Phases</h2>
    <${Phases} phases=${trace.phases} total=${trace.duration_ms} />
    <h2>System prompt</h2>
    ${system.length ? system.map((m) => html`<pre class="prompt">${contentText(m.content)}</pre>`) : html`<p class="muted">None.</p>`}
    <h2>Window <span class="hint">(${trace.prompt.window.count} entries, ${trace.prompt.window.tokens} tokens, budget ${trace.prompt.token_budget})</span></h2>
    <ol class="window">${window.map(
      (m) => html`<li><span class="pill">${m.role}</span> ${m.tool_calls ? html`<code>${m.tool_calls.map((c) => c.function?.name).join(", ")}</code> ` : null}<span class="window-text">${contentText(m.content)}</span></li>`,
    )}</ol>
    <h2>Recalled</h2>
    ${trace.recall.query ? html`<p class="muted">Searched with: “${trace.recall.query}”</p>` : html`<p class="muted">No recall in this turn.</p>`}
    ${trace.recall.docs.length
      ? html`<h3>Documents</h3><ol>${trace.recall.docs.map(
          (d) => html`<li><strong>${d.title || shortId(d.id)}</strong> <span class="pill">score ${score(d.score ?? d.relevance)}</span>
            <div class="muted snippet">${d.snippet?.content}</div></li>`,
        )}</ol>`
      : null}
    ${trace.recall.memories.length
      ? html`<h3>Memories</h3><ol>${trace.recall.memories.map(
          (m) => html`<li>${m.content} <span class="pill">${m.type}</span> <span class="pill">score ${score(m.score)}</span></li>`,
        )}</ol>`
      : null}
    <h2>Tools</h2>
    ${trace.prompt.tools.length
      ? html`<ul>${trace.prompt.tools.map((t) => html`<li><code>${t.function?.name ?? t.name}</code> <span class="muted">${t.function?.description ?? ""}</span></li>`)}</ul>`
      : html`<p class="muted">No tools offered.</p>`}
    ${trace.tool_calls.length
      ? html`<h3>Calls the server ran</h3>${trace.tool_calls.map(
          (c) => html`<details class="step"><summary><code>${c.name}</code> ${c.arguments}</summary><pre>${c.result}</pre></details>`,
        )}`
      : null}
    <h2>Settings</h2>
    <pre>${pretty({ ...trace.settings, ...(trace.response_format ? { response_format: trace.response_format } : {}) })}</pre>`;
}

function Phases({ phases, total }) {
  if (!phases.length) return html`<p class="muted">No phases recorded.</p>`;
  const longest = Math.max(total, ...phases.map((p) => p.start_ms + p.duration_ms));
  return html`<table class="phases"><thead><tr><th scope="col">Phase</th><th scope="col">Took</th><th scope="col">Share of the turn</th></tr></thead>
    <tbody>${phases.map(
      (p) => html`<tr><td>${p.name}${p.detail ? html` <span class="muted">${p.detail}</span>` : null}</td>
        <td>${ms(p.duration_ms)}</td>
        <td><meter min="0" max=${longest} value=${p.duration_ms} aria-label=${`${p.name}: ${ms(p.duration_ms)}`}></meter></td></tr>`,
    )}</tbody></table>`;
}
