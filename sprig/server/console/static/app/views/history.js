// Sessions and their history (to come).
import { html } from "../ui.js";

export function SessionList() {
  return html`<h1>Sessions</h1><p class="muted">Not built yet.</p>`;
}

export function SessionPage() {
  return html`<h1>Session</h1><p class="muted">Not built yet.</p>`;
}
