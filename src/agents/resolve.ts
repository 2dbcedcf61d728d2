/**
 * Which persona a call gets: the profile named by the custom parameter `agent` (else the
 * default agent), flattened into the seed's custom-parameter names, with every other custom
 * parameter laid over it one by one. A call with no profile therefore behaves exactly as in
 * the seed, and a call with one can still change a single field (say `customer_name`). Pure:
 * problems become warnings for the caller to log, never exceptions.
 */
import { AGENT_NAME_PATTERN, BARGE_IN_MS_RANGE, ENDPOINTING_MS_RANGE } from './profile.js';
import type { AgentProfile } from './profile.js';
import type { AgentRegistry } from './registry.js';

/** Per-call settings that replace the server's configured ones when present. */
export interface CallAgentOverrides {
  endpointingMs?: number;
  bargeInMs?: number;
  llmModel?: string;
  sttModel?: string;
  ttsModel?: string;
  fallbackText?: string;
  voice?: string;
}

export interface ResolvedCallAgent {
  /** The profile used, when one was found. */
  agent?: string;
  /** The seed's flat persona fields (`persona_name`, ..., `greeting_text`, `voice_id`). */
  params: Record<string, string>;
  overrides: CallAgentOverrides;
  /** Log-safe notes on ignored input (unknown agent, out-of-range setting). */
  warnings: string[];
}

/** The custom parameter that picks a profile; it is not itself a persona field. */
export const AGENT_PARAM = 'agent';

/** A profile as the seed's flat custom parameters. */
export function agentProfileParams(profile: AgentProfile): Record<string, string> {
  return {
    persona_name: profile.personaName,
    persona_age: profile.personaAge,
    tone: profile.tone,
    gender: profile.gender,
    city: profile.city,
    language: profile.language,
    documents: profile.documents,
    ...(profile.customerName === undefined ? {} : { customer_name: profile.customerName }),
    greeting_text: profile.greetingText,
    voice_id: profile.voice,
  };
}

const isBlank = (value: string | undefined): boolean => !value?.trim();

function pickProfile(
  registry: AgentRegistry,
  requested: string | undefined,
  defaultAgent: string | undefined,
  warnings: string[],
): AgentProfile | undefined {
  const fromCall = !isBlank(requested);
  const name = fromCall ? requested?.trim() : (defaultAgent ?? registry.default);
  if (name === undefined) return undefined;
  const profile = registry.get(name);
  if (profile) return profile;
  const source = fromCall ? 'custom parameter agent' : 'default agent';
  // Only a well-formed name is echoed: the value came off the network.
  warnings.push(
    AGENT_NAME_PATTERN.test(name)
      ? `${source} "${name}" has no profile; using the custom parameters alone`
      : `${source} is not a valid agent name; using the custom parameters alone`,
  );
  return undefined;
}

/** A custom parameter as a whole number of milliseconds within `range`, else a warning. */
function msParam(
  params: Record<string, string>,
  key: string,
  range: { min: number; max: number },
  warnings: string[],
): number | undefined {
  const raw = params[key]?.trim();
  if (!raw) return undefined;
  const value = /^\d{1,6}$/.test(raw) ? Number(raw) : NaN;
  if (value >= range.min && value <= range.max) return value;
  warnings.push(
    `custom parameter ${key} ignored: expected an integer from ${range.min} to ${range.max}`,
  );
  return undefined;
}

/**
 * The persona and settings for a call. `customParameters.agent` picks the profile, else
 * `defaultAgent`, else `registry.default`; an unknown name is a warning and no profile. Every
 * other custom parameter then replaces the profile's field of the same name, except that a
 * blank value never replaces a profile's value. `voice` is accepted as an alias of `voice_id`
 * (`voice_id` wins), and `endpointing_ms` / `barge_in_ms` / `fallback_text` replace the
 * profile's settings when valid.
 */
export function resolveCallAgent(
  registry: AgentRegistry,
  customParameters: Record<string, string>,
  defaultAgent: string | undefined,
): ResolvedCallAgent {
  const warnings: string[] = [];
  const profile = pickProfile(registry, customParameters[AGENT_PARAM], defaultAgent, warnings);

  // A Map, then Object.fromEntries: keys such as "__proto__" stay plain data.
  const merged = new Map(Object.entries(profile ? agentProfileParams(profile) : {}));
  const custom = Object.entries(customParameters).filter(([key]) => key !== AGENT_PARAM);
  if (!Object.hasOwn(customParameters, 'voice_id') && customParameters['voice'] !== undefined) {
    custom.push(['voice_id', customParameters['voice']]);
  }
  for (const [key, value] of custom) {
    if (isBlank(value) && !isBlank(merged.get(key))) continue;
    merged.set(key, value);
  }
  const params = Object.fromEntries(merged);

  const endpointingMs =
    msParam(params, 'endpointing_ms', ENDPOINTING_MS_RANGE, warnings) ?? profile?.endpointingMs;
  const bargeInMs =
    msParam(params, 'barge_in_ms', BARGE_IN_MS_RANGE, warnings) ?? profile?.bargeInMs;
  const fallbackText = params['fallback_text']?.trim() || profile?.fallbackText;
  const voice = params['voice_id']?.trim() || undefined;

  const overrides: CallAgentOverrides = {
    ...(endpointingMs === undefined ? {} : { endpointingMs }),
    ...(bargeInMs === undefined ? {} : { bargeInMs }),
    ...(profile?.models.llm === undefined ? {} : { llmModel: profile.models.llm }),
    ...(profile?.models.stt === undefined ? {} : { sttModel: profile.models.stt }),
    ...(profile?.models.tts === undefined ? {} : { ttsModel: profile.models.tts }),
    ...(fallbackText === undefined ? {} : { fallbackText }),
    ...(voice === undefined ? {} : { voice }),
  };
  return { ...(profile ? { agent: profile.name } : {}), params, overrides, warnings };
}
