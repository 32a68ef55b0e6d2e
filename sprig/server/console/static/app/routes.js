// What the console shows at each route (the URL's fragment), and its navigation. A view is
// called with `params` (the pattern's groups) and `query` (URLSearchParams).

import { AgentList, AgentPage } from "./views/agents.js";

export const routes = [
  [/^\/agents$/, AgentList, "Agents"],
  [/^\/agents\/([^/]+)$/, AgentPage, "Agent"],
];

export const nav = [{ href: "#/agents", label: "Agents", match: /^\/agents/ }];
