// The chat's turns: history entries grouped into a user's message and the reply (its tool
// steps and text), and how each is shown: the reply in Markdown, tool calls and results as
// collapsible steps, the recalled docs and memories with their scores, tokens and timings
// (measured in the browser, and the server's from the turn's stored trace).

import { ApiError, api } from "../api.js";
import { Markdown, contentText, html, ms, score, shortId } from "../ui.js";

/** History entries as turns: a user's message, then the reply (its tool steps and text). */
export function turnsOf(entries) {
  const turns = [];
  let reply = null;
  for (const e of entries) {
    if (e.role === "user") {
      reply = null;
      turns.push({ kind: "user", key: e.id, text: contentText(e.content) });
    } else if (e.role === "assistant" || e.role === "tool") {
      if (!reply) {
        reply = { kind: "reply", key: e.id, steps: [], text: "", done: true };
        turns.push(reply);
      }
      if (e.role === "tool") reply.steps.push({ kind: "result", id: e.tool_call_id, text: contentText(e.content) });
      else {
        if (e.tool_calls?.length) reply.steps.push({ kind: "calls", calls: e.tool_calls });
        const text = contentText(e.content);
        if (text) reply.text = reply.text ? `${reply.text}\n\n${text}` : text;
        reply.id = e.id;
        reply.partial = e.partial;
      }
    }
  }
  return turns;
}

/** Each reply with its stored trace (by the reply's entry id), when the server kept one. */
export function withTraces(turns, traces) {
  const byId = Object.fromEntries(traces.map((t) => [t.id, t]));
  return turns.map((t) => (t.kind === "reply" && byId[t.id] ? { ...t, trace: byId[t.id] } : t));
}

/** A session's stored traces, newest first; none when the server keeps none (or fails). */
export async function sessionTraces(sessionId) {
  try {
    return (await api.get(`/sessions/${sessionId}/traces`, { limit: 100 })).items;
  } catch {
    return [];
  }
}

/** A turn's trace once its reply is saved; null when there is none (traces off, expired). */
export async function turnTrace(sessionId, entryId) {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await api.get(`/sessions/${sessionId}/turns/${entryId}/trace`);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 404) return null;
      await new Promise((done) => setTimeout(done, 250));
    }
  }
  return null;
}

export function UserTurn({ turn }) {
  return html`<article class="msg user" aria-label="You">
    <h2 class="msg-who">You</h2>
    <p class="msg-text">${turn.text}</p>
  </article>`;
}

function ToolSteps({ steps }) {
  return steps.map((s, i) =>
    s.kind === "calls"
      ? s.calls.map(
          (c, j) => html`<details class="tool-step" key=${`${i}-${j}`}>
            <summary>Tool call: <span class="mono">${c.function?.name ?? c.name}</span>${s.returned ? " (returned to the client)" : ""}</summary>
            <pre>${prettyArgs(c.function?.arguments ?? c.arguments)}</pre>
          </details>`,
        )
      : html`<details class="tool-step" key=${i}>
          <summary>Tool result${s.id ? html` <span class="muted mono">${s.id}</span>` : null}</summary>
          <pre>${s.text}</pre>
        </details>`,
  );
}

function prettyArgs(args) {
  if (typeof args !== "string") return JSON.stringify(args ?? {}, null, 2);
  try {
    return JSON.stringify(JSON.parse(args), null, 2);
  } catch {
    return args;
  }
}

/** Recalled docs and memories, each with its score (shared with the prompt inspector). */
export function DocItem({ doc }) {
  return html`<li><strong>${doc.title || shortId(doc.id)}</strong> <span class="pill">score ${score(doc.score)}</span>
    <span class="muted"> ${doc.owner?.role ?? ""}</span><br /><span class="muted">${doc.snippet?.content ?? ""}</span></li>`;
}

export function MemoryItem({ memory }) {
  return html`<li>${memory.content ?? ""}${memory.score != null ? html` <span class="pill">score ${score(memory.score)}</span>` : null}
    ${memory.type ? html` <span class="muted">${memory.type}</span>` : null}</li>`;
}

const count = (n, one, many) => (n ? `${n} ${n === 1 ? one : many}` : "");

function Recalled({ docs, memories }) {
  if (!docs.length && !memories.length) return null;
  const parts = [count(docs.length, "doc", "docs"), count(memories.length, "memory", "memories")];
  return html`<details class="recalled">
    <summary>Recalled: ${parts.filter(Boolean).join(", ")}</summary>
    ${docs.length
      ? html`<h3 class="recalled-h">Docs</h3><ul class="plain-list" aria-label="Recalled docs">${docs.map((d) => html`<${DocItem} doc=${d} />`)}</ul>`
      : null}
    ${memories.length
      ? html`<h3 class="recalled-h">Memories</h3><ul class="plain-list" aria-label="Recalled memories">${memories.map((m) => html`<${MemoryItem} memory=${m} />`)}</ul>`
      : null}
  </details>`;
}

/** The server's side of a turn, from its trace: all, the model's, and its first token. */
function serverTimes(trace) {
  const first = trace.phases?.find((p) => p.name === "ttft");
  const parts = [`${ms(trace.duration_ms)} (model ${ms(trace.model_ms)}, Sprig ${ms(trace.overhead_ms)})`];
  if (first) parts.push(`first token at ${ms(first.start_ms + first.duration_ms)}`);
  return parts.join(", ");
}

export function ReplyTurn({ turn, sessionId }) {
  const trace = turn.trace;
  const docs = turn.docs?.length ? turn.docs : trace?.recall?.docs ?? [];
  const memories = trace?.recall?.memories ?? [];
  const usage = turn.usage ?? trace?.usage;
  return html`<article class="msg reply" aria-label="Reply" aria-busy=${turn.done ? "false" : "true"}>
    <h2 class="msg-who">Agent</h2>
    <${ToolSteps} steps=${turn.steps} />
    ${turn.text ? html`<${Markdown} text=${turn.text} />` : turn.done ? null : html`<p class="muted">…</p>`}
    ${turn.stopped ? html`<p class="muted">Stopped.</p>` : turn.partial ? html`<p class="muted">Cut short (partial).</p>` : null}
    <${Recalled} docs=${docs} memories=${memories} />
    <p class="msg-meta muted">
      ${usage ? html`<span>Tokens: ${usage.prompt_tokens} in, ${usage.completion_tokens} out</span>` : null}
      ${turn.ttft != null ? html`<span>First token ${ms(turn.ttft)}</span>` : null}
      ${turn.total != null ? html`<span>Total ${ms(turn.total)}</span>` : null}
      ${trace ? html`<span>Server ${serverTimes(trace)}</span>` : null}
      ${turn.finish && turn.finish !== "stop" ? html`<span>Finished: ${turn.finish}${turn.stopReason ? ` (${turn.stopReason})` : ""}</span>` : null}
      ${turn.done && turn.id && !turn.stopped ? html`<a href=${`#/sessions/${sessionId}/turns/${turn.id}`}>Inspect</a>` : null}
    </p>
  </article>`;
}
