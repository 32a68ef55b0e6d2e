// What the console shows at each route (the URL's fragment), and its navigation. A view is
// called with `params` (the pattern's groups) and `query` (URLSearchParams).

import { AgentList, AgentPage } from "./views/agents.js";
import { JobsView } from "./views/jobs.js";
import { MemoriesView } from "./views/memories.js";

export const routes = [
  [/^\/agents$/, AgentList, "Agents"],
  [/^\/agents\/([^/]+)$/, AgentPage, "Agent"],
  [/^\/memories$/, MemoriesView, "Memories"],
  [/^\/jobs$/, JobsView, "Jobs"],
];

export const nav = [
  { href: "#/agents", label: "Agents", match: /^\/agents/ },
  { href: "#/memories", label: "Memories", match: /^\/memories/ },
  { href: "#/jobs", label: "Jobs", match: /^\/jobs/ },
];
