// The prompt inspector (to come).
import { html } from "../ui.js";

export function InspectorView() {
  return html`<h1>Prompt inspector</h1><p class="muted">Not built yet.</p>`;
}
