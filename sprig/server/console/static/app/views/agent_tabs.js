// The tabs of an agent's page after its settings: { id, label, view({ agent }) }.
export const agentTabs = [];
