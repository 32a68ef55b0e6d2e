// What the console shows at each route (the URL's fragment), and its navigation. A view is
// called with `params` (the pattern's groups) and `query` (URLSearchParams).

import { AgentList, AgentPage } from "./views/agents.js";
import { ChatView } from "./views/chat.js";
import { DocumentsPage } from "./views/documents.js";
import { SessionList, SessionPage } from "./views/history.js";
import { InspectorView } from "./views/inspector.js";
import { JobsView } from "./views/jobs.js";
import { MemoriesView } from "./views/memories.js";
import { SearchPage } from "./views/search.js";

export const routes = [
  [/^\/agents$/, AgentList, "Agents"],
  [/^\/agents\/([^/]+)$/, AgentPage, "Agent"],
  [/^\/chat$/, ChatView, "Chat"],
  [/^\/chat\/([^/]+)$/, ChatView, "Chat"],
  [/^\/sessions$/, SessionList, "Sessions"],
  [/^\/sessions\/([^/]+)$/, SessionPage, "Session"],
  [/^\/sessions\/([^/]+)\/turns\/([^/]+)$/, InspectorView, "Prompt inspector"],
  [/^\/documents$/, DocumentsPage, "Documents"],
  [/^\/search$/, SearchPage, "Search playground"],
  [/^\/memories$/, MemoriesView, "Memories"],
  [/^\/jobs$/, JobsView, "Jobs"],
];

export const nav = [
  { href: "#/agents", label: "Agents", match: /^\/agents/ },
  { href: "#/chat", label: "Chat", match: /^\/chat/ },
  { href: "#/sessions", label: "Sessions", match: /^\/sessions/ },
  { href: "#/documents", label: "Documents", match: /^\/documents/ },
  { href: "#/search", label: "Search", match: /^\/search/ },
  { href: "#/memories", label: "Memories", match: /^\/memories/ },
  { href: "#/jobs", label: "Jobs", match: /^\/jobs/ },
];
