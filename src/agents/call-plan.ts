/**
 * A call's plan: everything the conversation needs to know about this call, resolved once when
 * its `start` arrives from the server's configuration, the agent profile and the custom
 * parameters (see resolve.ts for how those two merge). Typed and frozen; nothing downstream
 * reads a custom parameter by name again.
 */
import type { Config } from '../config/index.js';
import { buildSystemPrompt, languageHint } from '../conversation/persona.js';
import type { TurnDetectorOptions } from '../conversation/turn-detector.js';
import { numberStyleFor, type NumberStyle } from '../speech/numbers.js';
import type { HttpTool } from '../tools/toolbox.js';
import type { AgentRegistry } from './registry.js';
import { resolveCallAgent } from './resolve.js';

export interface CallPlan {
  /** The profile used, when one was found. */
  readonly agent: string | undefined;
  /** The custom parameters with the profile's persona fields under them: what the record keeps. */
  readonly params: Readonly<Record<string, string>>;
  readonly systemPrompt: string;
  /** The persona's language as written ("Hinglish", "hi-IN"), for the summary. */
  readonly language: string | undefined;
  /** ISO-639-1 hint for speech to text; undefined lets the model detect it. */
  readonly sttLanguage: string | undefined;
  readonly voice: string;
  /** How numbers are read aloud (the `numbers` parameter, the profile's, or the language's). */
  readonly numbers: NumberStyle;
  readonly greeting: string;
  /** Said when a provider fails; synthesized ahead and cached. */
  readonly fallbackText: string;
  readonly models: { readonly llm: string; readonly stt: string; readonly tts: string };
  readonly turn: Readonly<TurnDetectorOptions> & {
    readonly vad: 'silero' | 'webrtc';
    /** Start the reply on the preemptive transcript, held until the endpoint confirms it. */
    readonly speculate: boolean;
  };
  readonly limits: {
    /** Exchanges kept in the LLM's context. */
    readonly maxHistoryTurns: number;
    /** Keypad digits are handed over this long after the last one (or at `#`). */
    readonly dtmfTimeoutMs: number;
    /** The call ends (with the goodbye line) this long after it started. */
    readonly maxCallMs: number;
    /** A transcription still pending this long gets a second request (0: never hedged). */
    readonly sttHedgeMs: number;
    /** From the end of speech: the filler line when nothing was heard yet (0: never). */
    readonly holdAfterMs: number;
    /** From the end of speech: the fallback line when no reply audio started (0: never). */
    readonly turnTimeoutMs: number;
  };
  readonly tools: {
    readonly http: readonly HttpTool[];
    /** Offer `end_call`. */
    readonly endCall: boolean;
    /** LLM rounds with tools in one turn; the last one must answer in words. */
    readonly maxRounds: number;
    readonly maxResultBytes: number;
    /** A silent wait for a tool this long after the caller stopped gets the filler line. */
    readonly fillerAfterMs: number;
    /** The filler line when the tool has no `message` of its own. */
    readonly fillerText: string;
  };
  /** Offer `transfer_call` to this number (needs the call's CallSid for the flow to find it). */
  readonly transfer: { readonly number: string; readonly message: string } | undefined;
  /**
   * An outbound call's first seconds (OUTBOUND_VOICEMAIL_CHECK_MS): the bot waits for the callee
   * to speak (or `greetAfterMs` of silence) before greeting, and ends the call as `voicemail` when
   * what it hears in the first `windowMs` is a machine. Undefined: greet at once, no check.
   */
  readonly answerCheck: { readonly windowMs: number; readonly greetAfterMs: number } | undefined;
  /** Said when the bot ends the call without words of its own. */
  readonly goodbyeText: string;
  /** After `afterMs` of silence (0: never) the prompt is said, `prompts` times, then goodbye. */
  readonly idle: { readonly afterMs: number; readonly prompts: number; readonly message: string };
}

export interface ResolvedPlan {
  plan: CallPlan;
  /** Log-safe notes on ignored input (unknown agent, out-of-range setting). */
  warnings: string[];
}

/**
 * The plan for a call with these custom parameters (`agent` picks the profile). A call without a
 * CallSid cannot be transferred (the flow finds the decision by it), so it is not offered.
 */
export function resolveCallPlan(
  config: Config,
  agents: AgentRegistry,
  customParameters: Record<string, string>,
  call: { callSid?: string | undefined } = {},
): ResolvedPlan {
  const resolved = resolveCallAgent(agents, customParameters, config.agents.defaultAgent);
  const { params, overrides: o } = resolved;
  const profile = resolved.agent === undefined ? undefined : agents.get(resolved.agent);
  const warnings = [...resolved.warnings];
  const transfer = profile?.transfer;
  if (transfer && !call.callSid)
    warnings.push('transfer_call not offered: the call has no CallSid');
  const plan: CallPlan = {
    agent: resolved.agent,
    params,
    systemPrompt: buildSystemPrompt(params, { maxDocumentChars: config.maxDocumentChars }),
    language: params['language'],
    sttLanguage: languageHint(params['language']),
    voice: o.voice ?? config.tts.voice,
    numbers: numberStyle(params['numbers'], profile?.numbers, params['language'], warnings),
    greeting: params['greeting_text']?.trim() || config.greetingText,
    fallbackText: o.fallbackText ?? config.fallbackText,
    models: {
      llm: o.llmModel ?? config.llm.model,
      stt: o.sttModel ?? config.stt.model,
      tts: o.ttsModel ?? config.tts.model,
    },
    turn: {
      ...config.turn,
      endpointingMs: o.endpointingMs ?? config.turn.endpointingMs,
      bargeInMs: o.bargeInMs ?? config.turn.bargeInMs,
    },
    limits: {
      maxHistoryTurns: config.llm.maxHistoryTurns,
      dtmfTimeoutMs: config.dtmfTimeoutMs,
      maxCallMs: profile?.maxCallMs ?? config.maxCallMs,
      sttHedgeMs: config.stt.hedgeMs,
      holdAfterMs: config.deadlines.holdAfterMs,
      turnTimeoutMs: config.deadlines.turnTimeoutMs,
    },
    tools: {
      http: profile?.tools ?? [],
      endCall: profile?.endCall ?? true,
      maxRounds: config.tools.maxRounds,
      maxResultBytes: config.tools.maxResultBytes,
      fillerAfterMs: config.tools.fillerAfterMs,
      fillerText: config.tools.fillerText,
    },
    transfer:
      transfer && call.callSid
        ? { number: transfer.number, message: transfer.message ?? config.transferText }
        : undefined,
    answerCheck:
      customParameters['outbound_id'] && config.outbound.voicemail.checkMs > 0
        ? {
            windowMs: config.outbound.voicemail.checkMs,
            greetAfterMs: Math.min(
              config.outbound.voicemail.greetAfterMs,
              config.outbound.voicemail.checkMs,
            ),
          }
        : undefined,
    goodbyeText: profile?.goodbyeText ?? config.goodbyeText,
    idle: {
      afterMs: profile?.idle?.afterMs ?? config.idle.afterMs,
      prompts: profile?.idle?.prompts ?? config.idle.prompts,
      message: profile?.idle?.message ?? config.idle.text,
    },
  };
  return { plan: deepFreeze(plan), warnings };
}

/** The `numbers` parameter when it is valid, else the profile's, else the language's. */
function numberStyle(
  param: string | undefined,
  profile: NumberStyle | undefined,
  language: string | undefined,
  warnings: string[],
): NumberStyle {
  if (param === 'english' || param === 'hindi') return param;
  if (param !== undefined) warnings.push('numbers must be english or hindi: ignored');
  return profile ?? numberStyleFor(language);
}

/** Freezes the plan's own records; the profile's objects are frozen already. */
function deepFreeze<T extends object>(obj: T): T {
  for (const v of Object.values(obj)) {
    if (v && typeof v === 'object' && !Object.isFrozen(v)) deepFreeze(v as object);
  }
  return Object.freeze(obj);
}
