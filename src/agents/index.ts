/**
 * Agent profiles: personas kept on the server and picked per call by the custom parameter
 * `agent` (Exotel passes at most three short custom parameters, too little for a persona).
 */
export {
  AGENT_NAME_PATTERN,
  BARGE_IN_MS_RANGE,
  ENDPOINTING_MS_RANGE,
  agentProfileFileSchema,
  checkProfileFile,
  toAgentProfile,
} from './profile.js';
export type { AgentProfile, AgentProfileFile, ProfileCheck, ProfileProblem } from './profile.js';
export { MAX_DOCUMENTS_FILE_BYTES, agentLoadOptions, loadAgentProfiles } from './loader.js';
export type { LoadAgentProfilesOptions } from './loader.js';
export { DEFAULT_AGENT_NAME, createAgentRegistry } from './registry.js';
export type { AgentRegistry } from './registry.js';
export { AGENT_PARAM, agentProfileParams, resolveCallAgent } from './resolve.js';
export type { CallAgentOverrides, ResolvedCallAgent } from './resolve.js';
export { resolveCallPlan } from './call-plan.js';
export type { CallPlan, ResolvedPlan } from './call-plan.js';
