// The console's frame: sign-in, the top bar, the navigation and the routed view.

import { api, session } from "./api.js";
import { nav, routes } from "./routes.js";
import { ErrorNote, Loading, currentPath, currentQuery, html, render, useEffect, useState } from "./ui.js";
import { SignIn } from "./views/signin.js";

const THEME = "sprig.console.theme";
const THEMES = ["system", "light", "dark"];

function applyTheme(theme) {
  if (theme === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

function ThemeButton() {
  const [theme, setTheme] = useState(localStorage.getItem(THEME) || "system");
  useEffect(() => {
    applyTheme(theme);
    localStorage.setItem(THEME, theme);
  }, [theme]);
  const next = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length];
  return html`<button type="button" onClick=${() => setTheme(next)} title="Switch the theme"
    aria-label=${`Theme: ${theme}. Switch to ${next}`}>Theme: ${theme}</button>`;
}

function useRoute() {
  const [path, setPath] = useState(currentPath());
  const [query, setQuery] = useState(currentQuery());
  useEffect(() => {
    const moved = () => {
      setPath(currentPath());
      setQuery(currentQuery());
    };
    window.addEventListener("hashchange", moved);
    return () => window.removeEventListener("hashchange", moved);
  }, []);
  return { path, query };
}

function View({ path, query }) {
  for (const [pattern, Component, title] of routes) {
    const match = path.match(pattern);
    if (match) {
      document.title = `${title} · Sprig Console`;
      return html`<${Component} key=${path} params=${match.slice(1).map((p) => (p === undefined ? undefined : decodeURIComponent(p)))} query=${query} />`;
    }
  }
  document.title = "Not found · Sprig Console";
  return html`<h1>Not found</h1><p>Nothing is at <code>${path}</code>. <a href="#/agents">Go to the agents</a>.</p>`;
}

function Shell({ me, onSignOut }) {
  const { path, query } = useRoute();
  useEffect(() => {
    document.getElementById("main")?.focus({ preventScroll: true });
  }, [path]);
  return html`<a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById("main").focus(); }}>Skip to content</a>
    <div class="shell">
      <header class="topbar">
        <a class="brand" href="#/agents"><img src="static/sprig.svg" alt="" /> Sprig Console</a>
        <span class="spacer"></span>
        <span class="tenant" data-testid="tenant">Tenant <strong>${me.tenant}</strong></span>
        <${ThemeButton} />
        <button type="button" onClick=${onSignOut}>Sign out</button>
      </header>
      <nav class="side" aria-label="Sections">
        <ul>
          ${nav.map(
            (item) => html`<li><a href=${item.href} aria-current=${item.match.test(path) ? "page" : undefined}>${item.label}</a></li>`,
          )}
        </ul>
      </nav>
      <main id="main" tabindex="-1"><${View} path=${path} query=${query} /></main>
    </div>`;
}

function App() {
  const [me, setMe] = useState(null);
  const [checking, setChecking] = useState(Boolean(session.key()));
  const [error, setError] = useState(null);
  useEffect(() => {
    if (!session.key()) return;
    api
      .get("/me")
      .then(setMe, (err) => {
        session.signOut();
        setError(err);
      })
      .finally(() => setChecking(false));
  }, []);
  useEffect(() => {
    let checking = false;
    const expired = () => {
      if (!session.key() || checking) return;
      checking = true; // only a refused key signs out (a 403 may be about what was asked)
      api
        .get("/me")
        .catch((err) => {
          if (err.status !== 401 && err.status !== 403) return;
          session.signOut();
          setError(err);
          setMe(null);
        })
        .finally(() => {
          checking = false;
        });
    };
    window.addEventListener("sprig:unauthorized", expired);
    return () => window.removeEventListener("sprig:unauthorized", expired);
  }, []);
  if (checking) return html`<${Loading} what="Signing in" />`;
  if (!me) return html`<${SignIn} error=${error} onSignedIn=${setMe} />`;
  const signOut = () => {
    session.signOut();
    setError(null);
    setMe(null);
  };
  return html`<${Shell} me=${me} onSignOut=${signOut} />`;
}

applyTheme(localStorage.getItem(THEME) || "system");
const root = document.getElementById("app");
root.textContent = ""; // the loading line
try {
  render(html`<${App} />`, root);
} catch (err) {
  render(html`<${ErrorNote} error=${err} title="The console failed to start" />`, root);
}
