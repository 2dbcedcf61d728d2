/**
 * Reads `process.env` once (plus `.env` when present), validates it and freezes the result.
 * Nothing else in the project reads `process.env`.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { addressList } from '../addresses.js';
import { VoicebotError } from '../errors.js';
import { configSchema } from './schema.js';

export interface Config {
  readonly port: number;
  readonly host: string;
  /** Public https base (e.g. `https://bot.example.com`), used to build the wss URL. */
  readonly publicUrl: string | undefined;
  readonly openai: { readonly apiKey: string; readonly baseUrl: string | undefined };
  readonly tts: {
    readonly model: string;
    readonly voice: string;
    /** Time allowed until the first audio byte. */
    readonly timeoutMs: number;
    /** Longest silence allowed between two chunks of a streaming response. */
    readonly stallMs: number;
    readonly cacheMaxBytes: number;
    /** 0: no folder (memory only). */
    readonly cacheDiskMaxBytes: number;
    readonly prewarm: boolean;
  };
  readonly greetingText: string;
  readonly logLevel: string;
  /** Write personal data (under `pii`) to the logs instead of redacting it. */
  readonly logPii: boolean;
  readonly playback: {
    readonly frameMs: number;
    /** Most audio in one outbound `media` message (whole frames; at least `frameMs`). */
    readonly messageMs: number;
    readonly prebufferMs: number;
    readonly leadMs: number;
    /** The lead grows up to this after the pacer's clock stalls (below `leadMs`: no growth). */
    readonly maxLeadMs: number;
    readonly startMs: number;
    /** The start cushion is learned from recent TTS streams, up to `startMs` (start-cushion.ts). */
    readonly startAdaptive: boolean;
    readonly tickMs: number;
  };
  readonly ws: {
    readonly maxPayloadBytes: number;
    readonly pingIntervalMs: number;
    readonly maxBufferedBytes: number;
    /** An upgraded socket that sends no `start` this long is closed (1008 START_TIMEOUT). */
    readonly startTimeoutMs: number;
    /** A started call whose peer sends nothing this long is closed (1008 NO_MEDIA). */
    readonly inboundIdleTimeoutMs: number;
  };
  /** An HTTP connection with no traffic this long is closed (not WebSockets once upgraded). */
  readonly httpIdleTimeoutMs: number;
  /** WebSockets this instance holds at once; more get 503 at the upgrade. */
  readonly maxCalls: number;
  /** WebSockets one client address may hold at once; more get 503 at the upgrade. */
  readonly maxConnectionsPerIp: number;
  readonly shutdownGraceMs: number;
  readonly llm: {
    readonly model: string;
    /** Time allowed until the first token. */
    readonly timeoutMs: number;
    readonly stallMs: number;
    readonly maxTokens: number;
    readonly maxHistoryTurns: number;
  };
  readonly stt: {
    readonly model: string;
    readonly timeoutMs: number;
    /** A transcription still pending this long gets a second request; the first answer wins. */
    readonly hedgeMs: number;
  };
  readonly turn: {
    readonly vad: 'silero' | 'webrtc';
    /** Silero inference threads in each server process (0: on the event loop). */
    readonly vadThreads: number;
    /** Longest a small Silero batch is held for more streams under load (0: never). */
    readonly vadBatchHoldMs: number;
    /** Start the reply on the preemptive transcript, held until the endpoint confirms it. */
    readonly speculate: boolean;
    readonly endpointingMs: number;
    readonly preemptMs: number;
    readonly minSpeechMs: number;
    readonly preRollMs: number;
    readonly maxUtteranceMs: number;
    readonly bargeInMs: number;
  };
  readonly maxDocumentChars: number;
  readonly dtmfTimeoutMs: number;
  readonly fallbackText: string;
  /** Said when the bot ends the call without words of its own. */
  readonly goodbyeText: string;
  /** Said before a transfer when the model said nothing itself. */
  readonly transferText: string;
  /** Prompts after caller silence (`afterMs` 0: never), then a goodbye. */
  readonly idle: { readonly afterMs: number; readonly prompts: number; readonly text: string };
  readonly maxCallMs: number;
  readonly tools: {
    readonly timeoutMs: number;
    readonly maxRounds: number;
    readonly maxResultBytes: number;
    /** A silent wait for a tool this long after the caller stopped gets the filler line. */
    readonly fillerAfterMs: number;
    readonly fillerText: string;
  };
  /** No dead air on faults, counted from the end of the caller's speech (0: off). */
  readonly deadlines: {
    /** Nothing of the turn heard by then: the filler line is said. */
    readonly holdAfterMs: number;
    /** No reply audio by then (and no tool running): the fallback line is said. */
    readonly turnTimeoutMs: number;
  };
  /**
   * Reads any other environment variable (agent profiles' `${NAME}` secrets). The one door to
   * the environment outside this module; never logged.
   */
  readonly env: (name: string) => string | undefined;
  readonly recording: {
    readonly enabled: boolean;
    readonly dir: string;
    /** Recordings older than this are deleted (0: kept). */
    readonly retentionDays: number;
  };
  readonly store: {
    /** Unset: SQLite under `dataDir`. */
    readonly databaseUrl: string | undefined;
    readonly dataDir: string;
    /** How long per-call context from /voicebot/init is kept. */
    readonly contextTtlMs: number;
    /** An instance's lease lapses this long after its last renewal (then its calls are swept). */
    readonly leaseTtlMs: number;
  };
  /** Unset: the admin API answers 503. */
  readonly adminApiKey: string | undefined;
  /** Exotel's REST API for outbound calls; `api` undefined until the account is configured. */
  readonly outbound: {
    readonly api:
      | {
          readonly baseUrl: string;
          readonly accountSid: string;
          readonly apiKey: string;
          readonly apiToken: string;
          readonly perMinute: number;
        }
      | undefined;
    readonly callerId: string | undefined;
    readonly flowAppId: string | undefined;
    readonly maxCalls: number;
    readonly timeLimitS: number;
    readonly sampleRate: number;
    readonly checkAfterMs: number;
    /** Voicemail check on outbound calls: how long it listens (0: off), when the bot greets first. */
    readonly voicemail: { readonly checkMs: number; readonly greetAfterMs: number };
    readonly campaignTickMs: number;
  };
  /** The console shows times, and reads its date filters, in this zone. */
  readonly consoleTimeZone: string;
  /** Set: `/metrics` wants `Authorization: Bearer <token>`. */
  readonly metricsToken: string | undefined;
  /** Who may use the Exotel-facing routes (`/was`, `/voicebot/init`, `/exotel/*`); off when empty. */
  readonly exotelAuth: {
    readonly basicAuth: string | undefined;
    readonly ipAllowlist: readonly string[];
  };
  /** Proxies whose `X-Forwarded-*` headers are believed (addresses and CIDRs). */
  readonly trustedProxies: readonly string[];
  readonly webhook: { readonly url: string | undefined; readonly secret: string | undefined };
  /** Calls whose summary and webhook run at once; the others wait their turn. */
  readonly postCallConcurrency: number;
  readonly agents: { readonly dir: string; readonly defaultAgent: string | undefined };
  /** Server processes sharing the port (1: no cluster). */
  readonly workers: number;
}

/** Validates an environment and returns a frozen Config; throws CONFIG_INVALID naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new VoicebotError('CONFIG_INVALID', `Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  // Unusable addresses fail here, naming the variable, not at the first request.
  addressList(e.EXOTEL_IP_ALLOWLIST, 'EXOTEL_IP_ALLOWLIST');
  addressList(e.TRUSTED_PROXIES, 'TRUSTED_PROXIES');
  return deepFreeze({
    port: e.PORT,
    host: e.HOST,
    publicUrl: e.PUBLIC_URL,
    openai: { apiKey: e.OPENAI_API_KEY, baseUrl: e.OPENAI_BASE_URL },
    tts: {
      model: e.TTS_MODEL,
      voice: e.TTS_VOICE,
      timeoutMs: e.TTS_TIMEOUT_MS,
      stallMs: e.TTS_STALL_MS,
      cacheMaxBytes: e.TTS_CACHE_MAX_BYTES,
      cacheDiskMaxBytes: e.TTS_CACHE_DISK_MAX_BYTES,
      prewarm: e.TTS_PREWARM,
    },
    greetingText: e.GREETING_TEXT,
    logLevel: e.LOG_LEVEL,
    logPii: e.LOG_PII,
    playback: {
      frameMs: e.PLAYBACK_FRAME_MS,
      messageMs: e.PLAYBACK_MESSAGE_MS,
      prebufferMs: e.PLAYBACK_PREBUFFER_MS,
      leadMs: e.PLAYBACK_LEAD_MS,
      maxLeadMs: e.PLAYBACK_LEAD_MAX_MS,
      startMs: e.PLAYBACK_START_MS,
      startAdaptive: e.PLAYBACK_START_ADAPTIVE,
      tickMs: e.PLAYBACK_TICK_MS,
    },
    ws: {
      maxPayloadBytes: e.WS_MAX_PAYLOAD_BYTES,
      pingIntervalMs: e.WS_PING_INTERVAL_MS,
      maxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
      startTimeoutMs: e.START_TIMEOUT_MS,
      inboundIdleTimeoutMs: e.INBOUND_IDLE_TIMEOUT_MS,
    },
    httpIdleTimeoutMs: e.HTTP_IDLE_TIMEOUT_MS,
    maxCalls: e.MAX_CALLS,
    maxConnectionsPerIp: e.MAX_CONNECTIONS_PER_IP,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    llm: {
      model: e.OPENAI_MODEL,
      timeoutMs: e.LLM_TIMEOUT_MS,
      stallMs: e.LLM_STALL_MS,
      maxTokens: e.LLM_MAX_TOKENS,
      maxHistoryTurns: e.MAX_HISTORY_TURNS,
    },
    stt: { model: e.STT_MODEL, timeoutMs: e.STT_TIMEOUT_MS, hedgeMs: e.STT_HEDGE_MS },
    turn: {
      vad: e.VAD,
      vadThreads: e.VAD_THREADS ?? defaultVadThreads(e.WORKERS),
      vadBatchHoldMs: e.VAD_BATCH_HOLD_MS,
      speculate: e.SPECULATIVE_REPLY,
      endpointingMs: e.ENDPOINTING_MS,
      preemptMs: e.PREEMPT_MS,
      minSpeechMs: e.MIN_SPEECH_MS,
      preRollMs: e.PRE_ROLL_MS,
      maxUtteranceMs: e.MAX_UTTERANCE_MS,
      bargeInMs: e.BARGE_IN_MS,
    },
    maxDocumentChars: e.MAX_DOCUMENT_CHARS,
    dtmfTimeoutMs: e.DTMF_TIMEOUT_MS,
    fallbackText: e.FALLBACK_TEXT,
    goodbyeText: e.GOODBYE_TEXT,
    transferText: e.TRANSFER_TEXT,
    idle: { afterMs: e.IDLE_AFTER_MS, prompts: e.IDLE_PROMPTS, text: e.IDLE_TEXT },
    maxCallMs: e.MAX_CALL_MS,
    tools: {
      timeoutMs: e.TOOL_TIMEOUT_MS,
      maxRounds: e.TOOL_MAX_ROUNDS,
      maxResultBytes: e.TOOL_RESULT_MAX_BYTES,
      fillerAfterMs: e.FILLER_AFTER_MS,
      fillerText: e.FILLER_TEXT,
    },
    deadlines: { holdAfterMs: e.HOLD_AFTER_MS, turnTimeoutMs: e.TURN_TIMEOUT_MS },
    env: (name: string) => env[name],
    recording: {
      enabled: e.RECORD_CALLS,
      dir: e.RECORDINGS_DIR || join(e.DATA_DIR, 'recordings'),
      retentionDays: e.RECORDING_RETENTION_DAYS,
    },
    store: {
      databaseUrl: e.DATABASE_URL,
      dataDir: e.DATA_DIR,
      contextTtlMs: e.CONTEXT_TTL_MS,
      leaseTtlMs: e.LEASE_TTL_MS,
    },
    adminApiKey: e.ADMIN_API_KEY,
    consoleTimeZone: e.CONSOLE_TIMEZONE,
    outbound: {
      api:
        e.EXOTEL_ACCOUNT_SID && e.EXOTEL_API_KEY && e.EXOTEL_API_TOKEN
          ? {
              baseUrl: e.EXOTEL_API_URL,
              accountSid: e.EXOTEL_ACCOUNT_SID,
              apiKey: e.EXOTEL_API_KEY,
              apiToken: e.EXOTEL_API_TOKEN,
              perMinute: e.EXOTEL_API_PER_MINUTE,
            }
          : undefined,
      callerId: e.EXOTEL_CALLER_ID || undefined,
      flowAppId: e.EXOTEL_FLOW_APP_ID || undefined,
      maxCalls: e.OUTBOUND_MAX_CALLS,
      timeLimitS: e.OUTBOUND_TIME_LIMIT_S,
      sampleRate: e.OUTBOUND_SAMPLE_RATE,
      checkAfterMs: e.OUTBOUND_CHECK_AFTER_MS,
      voicemail: {
        checkMs: e.OUTBOUND_VOICEMAIL_CHECK_MS,
        greetAfterMs: e.OUTBOUND_GREET_AFTER_MS,
      },
      campaignTickMs: e.CAMPAIGN_TICK_MS,
    },
    metricsToken: e.METRICS_TOKEN,
    exotelAuth: { basicAuth: e.EXOTEL_STREAM_BASIC_AUTH, ipAllowlist: e.EXOTEL_IP_ALLOWLIST },
    trustedProxies: e.TRUSTED_PROXIES,
    webhook: { url: e.CALL_WEBHOOK_URL, secret: e.CALL_WEBHOOK_SECRET },
    postCallConcurrency: e.POST_CALL_CONCURRENCY,
    agents: { dir: e.AGENTS_DIR, defaultAgent: e.DEFAULT_AGENT },
    workers: e.WORKERS,
  });
}

/** Loads `.env` from the working directory into process.env when the file exists (existing vars win). */
export function loadDotEnv(path = '.env'): boolean {
  if (!existsSync(path)) return false;
  process.loadEnvFile(path);
  return true;
}

function deepFreeze<T extends object>(obj: T): T {
  for (const v of Object.values(obj)) if (v && typeof v === 'object') deepFreeze(v as object);
  return Object.freeze(obj);
}

/**
 * Silero threads for one server process: the cores its share of `WORKERS` leaves beside its own
 * event loop, at least one and at most four.
 */
export function defaultVadThreads(workers: number): number {
  return Math.max(1, Math.min(4, Math.floor(availableParallelism() / Math.max(1, workers)) - 1));
}
