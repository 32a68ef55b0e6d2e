// What the console shows at each route (the URL's fragment), and its navigation. A view is
// called with `params` (the pattern's groups) and `query` (URLSearchParams).

import { AgentList, AgentPage } from "./views/agents.js";
import { DocumentsPage } from "./views/documents.js";
import { SearchPage } from "./views/search.js";

export const routes = [
  [/^\/agents$/, AgentList, "Agents"],
  [/^\/agents\/([^/]+)$/, AgentPage, "Agent"],
  [/^\/documents$/, DocumentsPage, "Documents"],
  [/^\/search$/, SearchPage, "Search playground"],
];

export const nav = [
  { href: "#/agents", label: "Agents", match: /^\/agents/ },
  { href: "#/documents", label: "Documents", match: /^\/documents/ },
  { href: "#/search", label: "Search", match: /^\/search/ },
];
