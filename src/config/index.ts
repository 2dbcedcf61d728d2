/**
 * Reads `process.env` once (plus `.env` when present), validates it and freezes the result.
 * Nothing else in the project reads `process.env`.
 */
import { existsSync } from 'node:fs';
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
  };
  readonly greetingText: string;
  readonly logLevel: string;
  readonly playback: {
    readonly frameMs: number;
    readonly prebufferMs: number;
    readonly leadMs: number;
    readonly tickMs: number;
  };
  readonly ws: {
    readonly maxPayloadBytes: number;
    readonly pingIntervalMs: number;
    readonly maxBufferedBytes: number;
  };
  readonly shutdownGraceMs: number;
}

/** Validates an environment and returns a frozen Config; throws CONFIG_INVALID naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new VoicebotError('CONFIG_INVALID', `Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
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
    },
    greetingText: e.GREETING_TEXT,
    logLevel: e.LOG_LEVEL,
    playback: {
      frameMs: e.PLAYBACK_FRAME_MS,
      prebufferMs: e.PLAYBACK_PREBUFFER_MS,
      leadMs: e.PLAYBACK_LEAD_MS,
      tickMs: e.PLAYBACK_TICK_MS,
    },
    ws: {
      maxPayloadBytes: e.WS_MAX_PAYLOAD_BYTES,
      pingIntervalMs: e.WS_PING_INTERVAL_MS,
      maxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
    },
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
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
