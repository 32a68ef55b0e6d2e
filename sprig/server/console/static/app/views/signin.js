// Sign-in: an API key, checked with GET /me, kept in this tab's sessionStorage only.

import { api, session } from "../api.js";
import { ErrorNote, html, useState } from "../ui.js";

export function SignIn({ error: initial, onSignedIn }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState(initial);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    session.signIn(key.trim());
    try {
      onSignedIn(await api.get("/me"));
    } catch (err) {
      session.signOut();
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="signin card" id="main">
    <h1><img src="static/sprig.svg" alt="" /> Sprig Console</h1>
    <p class="muted">Sign in with an API key. <code>sprig serve</code> prints one at its first start,
      and <code>sprig keys create NAME</code> makes one for another tenant.</p>
    <form class="stack" onSubmit=${submit}>
      <div class="field">
        <label for="api-key">API key</label>
        <input id="api-key" name="api-key" type="password" autocomplete="off" spellcheck="false"
          required value=${key} onInput=${(e) => setKey(e.target.value)} />
      </div>
      <${ErrorNote} error=${error} title="Could not sign in" />
      <button class="primary" type="submit" disabled=${busy || !key.trim()}>Sign in</button>
      <p class="hint">The key stays in this browser tab (session storage) and is sent only to this server.</p>
    </form>
  </main>`;
}
