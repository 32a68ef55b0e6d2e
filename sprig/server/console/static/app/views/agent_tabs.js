// The tabs of an agent's page after its settings: { id, label, view({ agent }) }.
import { AgentDocsTab } from "./documents.js";
import { ToolsTab } from "./tools.js";

export const agentTabs = [
  { id: "tools", label: "Tools", view: ToolsTab },
  { id: "documents", label: "Documents", view: AgentDocsTab },
];
