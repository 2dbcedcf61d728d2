/**
 * The configuration contract: every environment variable the server reads, with its default.
 * Names are a contract with operators and scripts; durations are in milliseconds.
 */
import { availableParallelism } from 'node:os';
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const ms = (def: number) => z.coerce.number().int().min(0).default(def);
const positiveInt = (def: number) => z.coerce.number().int().min(1).default(def);
/** A comma-separated list (spaces allowed), empty when unset. */
const list = z
  .string()
  .optional()
  .transform((s) =>
    (s ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );
const optionalUrl = z
  .string()
  .trim()
  .optional()
  .transform((s) => (s === '' ? undefined : s))
  .pipe(z.url().optional());

export const configSchema = z.object({
  PORT: port.default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  PUBLIC_URL: optionalUrl,
  OPENAI_API_KEY: z
    .string({
      error:
        'OPENAI_API_KEY is required: set it to your OpenAI API key (or any key your OPENAI_BASE_URL server accepts)',
    })
    .trim()
    .min(
      1,
      'OPENAI_API_KEY is required: set it to your OpenAI API key (or any key your OPENAI_BASE_URL server accepts)',
    ),
  OPENAI_BASE_URL: optionalUrl,
  TTS_MODEL: z.string().min(1).default('tts-1-hd'),
  TTS_VOICE: z.string().min(1).default('shimmer'),
  GREETING_TEXT: z.string().min(1).default('Namaste! How can I help you today?'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PII: z
    .enum(['true', 'false', '1', '0', ''], { error: 'LOG_PII must be true or false' })
    .default('false')
    .transform((v) => v === 'true' || v === '1'),

  TTS_TIMEOUT_MS: ms(4_000),
  TTS_STALL_MS: ms(4_000),
  TTS_CACHE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(64 * 1024 * 1024),
  /** The synthesized-lines folder under DATA_DIR, shared by workers and kept across restarts. */
  TTS_CACHE_DISK_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(256 * 1024 * 1024),
  /** Synthesize every profile's greeting and fixed lines at start-up. */
  TTS_PREWARM: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
  PLAYBACK_FRAME_MS: z.coerce
    .number()
    .int()
    .refine(
      (v) => v > 0 && v % 10 === 0 && v <= 1000,
      'PLAYBACK_FRAME_MS must be a multiple of 10 between 10 and 1000',
    )
    .default(20),
  PLAYBACK_MESSAGE_MS: z.coerce
    .number()
    .int()
    .refine(
      (v) => v > 0 && v % 10 === 0 && v <= 1000,
      'PLAYBACK_MESSAGE_MS must be a multiple of 10 between 10 and 1000',
    )
    .default(100),
  PLAYBACK_PREBUFFER_MS: ms(200),
  PLAYBACK_LEAD_MS: ms(200),
  PLAYBACK_LEAD_MAX_MS: ms(400),
  PLAYBACK_START_MS: ms(60),
  /**
   * Learn the start cushion from how TTS streams, up to PLAYBACK_START_MS (false: always it).
   * Off by default: under load it let through a few more audible underruns (README, Performance).
   */
  PLAYBACK_START_ADAPTIVE: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  PLAYBACK_TICK_MS: positiveInt(20),
  WS_MAX_PAYLOAD_BYTES: positiveInt(64 * 1024),
  WS_PING_INTERVAL_MS: ms(15_000),
  WS_MAX_BUFFERED_BYTES: positiveInt(512 * 1024),
  SHUTDOWN_GRACE_MS: ms(10_000),
  HTTP_IDLE_TIMEOUT_MS: positiveInt(10_000),
  START_TIMEOUT_MS: positiveInt(5_000),
  INBOUND_IDLE_TIMEOUT_MS: positiveInt(30_000),
  MAX_CALLS: positiveInt(500),
  MAX_CONNECTIONS_PER_IP: positiveInt(250),

  OPENAI_MODEL: z.string().min(1).default('gpt-4o-mini'),
  STT_MODEL: z.string().min(1).default('whisper-1'),
  VAD: z.enum(['silero', 'webrtc']).default('silero'),
  /** Silero inference threads per server process; unset: from the cores and WORKERS. */
  VAD_THREADS: z.coerce.number().int().min(0).max(16).optional(),
  /** Longest a small Silero batch waits for more calls' windows under load (0: never). */
  VAD_BATCH_HOLD_MS: z.coerce.number().int().min(0).max(50).default(5),
  ENDPOINTING_MS: ms(500),
  PREEMPT_MS: ms(200),
  /** Start the reply on the preemptive transcript before the endpoint (audio held until then). */
  SPECULATIVE_REPLY: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
  MIN_SPEECH_MS: ms(100),
  PRE_ROLL_MS: ms(300),
  MAX_UTTERANCE_MS: positiveInt(15_000),
  BARGE_IN_MS: ms(200),
  STT_TIMEOUT_MS: positiveInt(8_000),
  STT_HEDGE_MS: ms(1_000),
  LLM_TIMEOUT_MS: positiveInt(4_000),
  LLM_STALL_MS: positiveInt(5_000),
  LLM_MAX_TOKENS: positiveInt(300),
  MAX_DOCUMENT_CHARS: positiveInt(6_000),
  MAX_HISTORY_TURNS: positiveInt(20),
  DTMF_TIMEOUT_MS: positiveInt(1_500),
  FALLBACK_TEXT: z
    .string()
    .min(1)
    .default("Sorry, I didn't catch that. Could you please say it again?"),

  GOODBYE_TEXT: z.string().min(1).default('Thank you for calling. Goodbye!'),
  TRANSFER_TEXT: z.string().min(1).default('Please hold, I am connecting you to a colleague.'),
  IDLE_AFTER_MS: ms(10_000),
  IDLE_PROMPTS: z.coerce.number().int().min(0).max(10).default(2),
  IDLE_TEXT: z.string().min(1).default('Hello, are you still there?'),
  MAX_CALL_MS: z.coerce
    .number()
    .int()
    .min(10_000, 'MAX_CALL_MS must be at least 10000')
    .max(4 * 60 * 60 * 1000, 'MAX_CALL_MS must be at most 14400000 (4 hours)')
    .default(60 * 60 * 1000),
  FILLER_TEXT: z.string().min(1).default('One moment, please.'),
  FILLER_AFTER_MS: ms(1_000),
  HOLD_AFTER_MS: ms(2_500),
  TURN_TIMEOUT_MS: ms(8_000),
  TOOL_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  TOOL_MAX_ROUNDS: z.coerce.number().int().min(1).max(10).default(3),
  TOOL_RESULT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(256)
    .max(1024 * 1024)
    .default(16 * 1024),

  DATABASE_URL: z
    .string()
    .trim()
    .optional()
    .transform((s) => (s === '' ? undefined : s))
    .refine(
      (s) => s === undefined || /^(postgres|postgresql|sqlite|file):/.test(s),
      'DATABASE_URL must be postgres://..., postgresql://..., sqlite:///path or file:path (unset: SQLite under DATA_DIR)',
    ),
  DATA_DIR: z.string().min(1).default('./data'),
  RECORD_CALLS: z
    .enum(['true', 'false', '1', '0'], { error: 'RECORD_CALLS must be true or false' })
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
  RECORDINGS_DIR: z.string().optional(),
  RECORDING_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(30),
  ADMIN_API_KEY: z
    .string()
    .optional()
    .transform((s) => (s === '' ? undefined : s))
    .refine(
      (s) => s === undefined || s.length >= 16,
      'ADMIN_API_KEY must be at least 16 characters',
    ),
  EXOTEL_API_URL: z.url().default('https://api.in.exotel.com'),
  EXOTEL_ACCOUNT_SID: z.string().trim().optional(),
  EXOTEL_API_KEY: z.string().trim().optional(),
  EXOTEL_API_TOKEN: z.string().trim().optional(),
  /** The ExoPhone outbound calls show. */
  EXOTEL_CALLER_ID: z.string().trim().optional(),
  /** Set: outbound calls start this Exotel flow (its Voicebot applet) instead of streaming straight. */
  EXOTEL_FLOW_APP_ID: z.string().trim().optional(),
  EXOTEL_API_PER_MINUTE: positiveInt(200),
  OUTBOUND_MAX_CALLS: positiveInt(10),
  OUTBOUND_TIME_LIMIT_S: z.coerce.number().int().min(60).max(14_400).default(3600),
  OUTBOUND_SAMPLE_RATE: z.enum(['8000', '16000', '24000']).default('8000').transform(Number),
  /** An outbound call without news this long is looked up with Exotel's call details API. */
  OUTBOUND_CHECK_AFTER_MS: ms(120_000),
  /** Outbound calls listen this long from the answer for a voicemail greeting (0: no check). */
  OUTBOUND_VOICEMAIL_CHECK_MS: ms(8_000),
  /** With the check on, the bot waits for the callee's "hello" this long before greeting first. */
  OUTBOUND_GREET_AFTER_MS: ms(2_000),
  /** How often each instance looks for campaign rows to dial and calls to settle. */
  CAMPAIGN_TICK_MS: positiveInt(500),
  CONSOLE_TIMEZONE: z
    .string()
    .default('Asia/Kolkata')
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en-IN', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'CONSOLE_TIMEZONE must be an IANA time zone such as Asia/Kolkata'),
  METRICS_TOKEN: z
    .string()
    .optional()
    .transform((s) => (s === '' ? undefined : s))
    .refine(
      (s) => s === undefined || s.length >= 16,
      'METRICS_TOKEN must be at least 16 characters',
    ),
  EXOTEL_STREAM_BASIC_AUTH: z
    .string()
    .optional()
    .transform((s) => (s === '' ? undefined : s))
    .refine(
      (s) => s === undefined || /^[^:]+:.+$/.test(s),
      'EXOTEL_STREAM_BASIC_AUTH must be key:token (what the applet URL carries as wss://key:token@host)',
    ),
  EXOTEL_IP_ALLOWLIST: list,
  TRUSTED_PROXIES: list,
  CALL_WEBHOOK_URL: optionalUrl,
  CALL_WEBHOOK_SECRET: z
    .string()
    .optional()
    .transform((s) => (s === '' ? undefined : s)),
  POST_CALL_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(4),
  AGENTS_DIR: z.string().min(1).default('./agents'),
  DEFAULT_AGENT: z
    .string()
    .optional()
    .transform((s) => (s === '' ? undefined : s)),
  CONTEXT_TTL_MS: positiveInt(2 * 60 * 60 * 1000),
  LEASE_TTL_MS: z.coerce
    .number()
    .int()
    .min(1000, 'LEASE_TTL_MS must be at least 1000')
    .default(15_000),
  /**
   * Half the cores: each worker's event loop gets a core and its Silero threads the other (on a
   * 2-core box one worker held as many calls as two or more; README, Performance).
   */
  WORKERS: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .default(Math.max(1, Math.floor(availableParallelism() / 2))),
});

export type RawConfig = z.infer<typeof configSchema>;
