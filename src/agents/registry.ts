/**
 * The set of agent profiles loaded at start-up, looked up by name for each call. Immutable.
 */
import type { AgentProfile } from './profile.js';

export interface AgentRegistry {
  /** The profile with exactly this name (names are case-sensitive, like the files). */
  get(name: string): AgentProfile | undefined;
  /** Every profile name, sorted. */
  names(): string[];
  /** The agent a call gets when it names none: the configured default, else `default` if present. */
  readonly default: string | undefined;
}

/** The profile used when a call names no agent and no default is configured. */
export const DEFAULT_AGENT_NAME = 'default';

/**
 * A registry over `profiles`. `defaultAgent`, when given, must name one of them (the loader
 * checks this and reports it with the other problems); otherwise a profile named `default`
 * is the default, and with none there is no default agent.
 */
export function createAgentRegistry(
  profiles: readonly AgentProfile[],
  defaultAgent?: string,
): AgentRegistry {
  const byName = new Map(profiles.map((p) => [p.name, p] as const));
  const names = [...byName.keys()].sort();
  const fallback = byName.has(DEFAULT_AGENT_NAME) ? DEFAULT_AGENT_NAME : undefined;
  return Object.freeze({
    get: (name: string) => byName.get(name),
    names: () => [...names],
    default: defaultAgent ?? fallback,
  });
}
