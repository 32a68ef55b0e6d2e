// The search playground (#/search?owner=agents/<id>): an owner's documents searched by text,
// vector or hybrid ranking with the request's knobs (sprig/server/search/options.py), the
// results ranked with their scores and the query's words marked in each snippet.

import { api } from "../api.js";
import { ErrorNote, Field, html, navigate, score, useState } from "../ui.js";
import { OwnerPicker, parseOwner } from "./documents.js";

const MODES = [
  ["hybrid", "Hybrid (text and vector, fused)"],
  ["text", "Text (full-text ranking)"],
  ["vector", "Vector (embeddings)"],
];
// Which knobs each mode's request takes (the v1 schemas: TextOnlyDocSearch, VectorDocSearch, HybridDocSearch).
const KNOBS = {
  hybrid: ["alpha", "confidence", "mmr_strength"],
  vector: ["confidence", "mmr_strength"],
  text: [],
};

/** The query's words (2+ letters or digits), longest first so longer matches win. */
export function queryWords(text) {
  const words = String(text || "").toLowerCase().match(/[\p{L}\p{N}]{2,}/gu) || [];
  return [...new Set(words)].sort((a, b) => b.length - a.length);
}

/** `text` as segments: [{ text, hit }], hits where a query word occurs (any case). */
export function segments(text, words) {
  const source = String(text ?? "");
  if (!words.length) return [{ text: source, hit: false }];
  const escaped = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const pattern = new RegExp(`(${escaped.join("|")})`, "giu");
  return source
    .split(pattern)
    .map((part, i) => ({ text: part, hit: i % 2 === 1 }))
    .filter((s) => s.text !== "");
}

/** A snippet with the query's words in <mark> elements (built as elements, never HTML text). */
function Highlighted({ text, words }) {
  return html`<p class="snippet">${segments(text, words).map((s) => (s.hit ? html`<mark>${s.text}</mark>` : s.text))}</p>`;
}

function Slider({ label, hint, min, max, step, value, onChange, disabled }) {
  return html`<${Field} label=${label} hint=${hint}>
    ${(id) => html`<div class="slider">
      <input id=${id} type="range" min=${min} max=${max} step=${step} value=${value} disabled=${disabled}
        onInput=${(e) => onChange(Number(e.target.value))} />
      <output for=${id} class="mono">${value}</output>
    </div>`}
  <//>`;
}

const snippetText = (snippet) => (typeof snippet === "string" ? snippet : snippet?.content ?? "");

export function SearchPage({ query }) {
  const owner = parseOwner(query.get("owner"))[0] ? query.get("owner") : "";
  const [form, setForm] = useState({ text: "", mode: "hybrid", alpha: 0.5, confidence: 0, mmr_strength: 0, limit: 10 });
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (name) => (value) => setForm((f) => ({ ...f, [name]: value?.target ? value.target.value : value }));
  const knobs = KNOBS[form.mode];

  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    const body = { text: form.text, mode: form.mode, limit: form.limit };
    for (const knob of knobs) body[knob] = form[knob];
    try {
      const found = await api.post(`/${owner}/search`, body);
      setResult({ ...found, words: queryWords(form.text), mode: form.mode });
    } catch (err) {
      setResult(null);
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return html`<h1>Search playground</h1>
    <${OwnerPicker} owner=${owner} onChange=${(next) => { setResult(null); navigate(next ? `/search?owner=${next}` : "/search"); }} />
    ${owner
      ? html`<form class="stack card search-form" onSubmit=${submit} aria-labelledby="search-form-h">
          <h2 id="search-form-h">Query</h2>
          <${Field} label="Query text">
            ${(id) => html`<input id=${id} type="search" required maxlength="10000" value=${form.text} onInput=${set("text")} />`}
          <//>
          <${Field} label="Mode">
            ${(id) => html`<select id=${id} value=${form.mode} onChange=${set("mode")}>
              ${MODES.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
            </select>`}
          <//>
          <div class="grid2">
            <${Slider} label="Alpha" hint="(hybrid: 0 all text, 1 all vector)" min="0" max="1" step="0.05"
              value=${form.alpha} onChange=${set("alpha")} disabled=${!knobs.includes("alpha")} />
            <${Slider} label="Confidence" hint="(the lowest vector similarity kept)" min="-1" max="1" step="0.05"
              value=${form.confidence} onChange=${set("confidence")} disabled=${!knobs.includes("confidence")} />
            <${Slider} label="MMR strength" hint="(0 off; higher favours variety)" min="0" max="0.95" step="0.05"
              value=${form.mmr_strength} onChange=${set("mmr_strength")} disabled=${!knobs.includes("mmr_strength")} />
            <${Slider} label="Limit" hint="(results, 1 to 50)" min="1" max="50" step="1"
              value=${form.limit} onChange=${set("limit")} />
          </div>
          <div class="row"><button class="primary" type="submit" disabled=${busy || !form.text.trim()}>Search</button></div>
        </form>
        <${ErrorNote} error=${error} title="Search failed" />
        ${result ? html`<${Results} result=${result} />` : null}`
      : html`<p class="empty">Choose an owner to search its documents.</p>`}`;
}

function Results({ result }) {
  const { docs, words, time, mode } = result;
  return html`<section aria-labelledby="results-h">
    <h2 id="results-h">Results</h2>
    <p class="muted" role="status">${docs.length} found by ${mode} search in ${(time * 1000).toFixed(1)} ms.</p>
    ${docs.length
      ? html`<ol class="results">${docs.map(
          (d) => html`<li class="card result" data-doc=${d.id}>
            <div class="row"><h3>${d.title}</h3><span class="spacer"></span>
              <span class="pill" title="score">score <span class="mono" data-testid="score">${score(d.score)}</span></span>
              ${d.distance != null ? html`<span class="pill">distance <span class="mono">${score(d.distance)}</span></span>` : null}</div>
            <${Highlighted} text=${snippetText(d.snippet)} words=${words} />
          </li>`,
        )}</ol>`
      : html`<p class="empty">Nothing matched.</p>`}
  </section>`;
}
