// Jobs: the tenant's recent background jobs (embedding documents, forming memories,
// summaries, …) newest first, by state and kind, with progress, attempts and the error of
// the last failed attempt. Refreshed on demand or every few seconds.

import { api } from "../api.js";
import { Field, Loaded, Pager, html, shortId, useAsync, useEffect, useState, when } from "../ui.js";

const PAGE = 25;
const STATES = ["pending", "in_progress", "retrying", "succeeded", "aborted", "failed"];
const EVERY_MS = 5000;
const stateLabel = (s) => s.replace("_", " ");
const stateClass = (s) => (s === "succeeded" ? "pill ok" : s === "failed" || s === "aborted" ? "pill bad" : "pill");

export function JobsView({ query }) {
  const [state, setState] = useState(query.get("state") || "");
  const [kind, setKind] = useState(query.get("kind") || "");
  const [kindText, setKindText] = useState(kind);
  const [offset, setOffset] = useState(0);
  const [auto, setAuto] = useState(false);
  const [at, setAt] = useState(null);
  const jobs = useAsync(async () => {
    const answer = await api.get("/jobs", { limit: PAGE, offset, state, kind });
    setAt(new Date());
    return answer;
  }, [offset, state, kind]);
  useEffect(() => {
    if (!auto) return undefined;
    const timer = setInterval(jobs.reload, EVERY_MS);
    return () => clearInterval(timer);
  }, [auto, jobs.reload]);
  const pick = (e) => {
    setOffset(0);
    setState(e.target.value);
  };
  const filterKind = (e) => {
    e.preventDefault();
    setOffset(0);
    setKind(kindText.trim());
  };
  return html`<h1>Jobs</h1>
    <p class="muted">The background work of this tenant: documents embedded, memories formed,
      sessions summarised. A job that fails is retried until it has used its attempts.</p>
    <div class="row jobs-controls">
      <${Field} label="State">
        ${(id) => html`<select id=${id} value=${state} onChange=${pick}>
          <option value="">Any state</option>
          ${STATES.map((s) => html`<option value=${s}>${stateLabel(s)}</option>`)}
        </select>`}
      <//>
      <form class="row" onSubmit=${filterKind}>
        <div class="field">
          <label for="job-kind">Kind <span class="hint">(exact, e.g. embed_docs)</span></label>
          <input id="job-kind" value=${kindText} onInput=${(e) => setKindText(e.target.value)} />
        </div>
        <button type="submit">Filter</button>
      </form>
      <span class="spacer"></span>
      <label class="check"><input type="checkbox" checked=${auto} onChange=${(e) => setAuto(e.target.checked)} /> Refresh every 5 s</label>
      <button type="button" onClick=${jobs.reload} disabled=${jobs.loading}>Refresh</button>
    </div>
    <p class="muted" role="status">${jobs.loading ? "Loading jobs…" : at ? `Updated ${at.toLocaleTimeString()}.` : ""}</p>
    <${Loaded} state=${jobs} what="Loading jobs">
      ${(data) => html`<${JobTable} jobs=${data.items} filtered=${Boolean(state || kind)} />
        <${Pager} offset=${offset} limit=${PAGE} count=${data.items.length} onPage=${setOffset} />`}
    <//>`;
}

function JobTable({ jobs, filtered }) {
  if (!jobs.length) return html`<p class="empty">${filtered ? "No job matches these filters." : "No jobs yet."}</p>`;
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label="Jobs (scrolls sideways on a narrow screen)"><table class="jobs">
    <thead><tr>
      <th scope="col">Job</th><th scope="col">State</th><th scope="col">Progress</th><th scope="col">Attempts</th>
      <th scope="col">Created</th><th scope="col">Updated</th><th scope="col">Error</th>
    </tr></thead>
    <tbody>${jobs.map(
      (j) => html`<tr key=${j.id} data-testid="job">
        <td><strong>${j.name}</strong><br /><span class="muted mono">${j.kind}</span><br /><span class="muted mono" title=${j.id}>${shortId(j.id)}</span></td>
        <td><span class=${stateClass(j.state)}>${stateLabel(j.state)}</span></td>
        <td>${j.has_progress || j.state === "succeeded"
          ? html`<progress max="1" value=${j.state === "succeeded" ? 1 : j.progress} aria-label=${`Progress of ${j.name}`}></progress>
              <span class="muted"> ${Math.round((j.state === "succeeded" ? 1 : j.progress) * 100)}%</span>`
          : html`<span class="muted">—</span>`}</td>
        <td>${j.attempts} of ${j.max_attempts}</td>
        <td>${when(j.created_at)}</td>
        <td>${when(j.updated_at)}</td>
        <td class="reason">${j.reason ? html`<span class="job-error">${j.reason}</span>` : html`<span class="muted">—</span>`}</td>
      </tr>`,
    )}</tbody></table></div>`;
}
