/**
 * The project's error tree: every error we raise has a stable code (for logs, metrics and the
 * call record) and says whether trying again could help. One place (`isRetryable`) decides.
 */

export type ErrorCode =
  // Configuration
  | 'CONFIG_INVALID'
  // Agent profiles (see agents/loader.ts)
  | 'AGENT_INVALID'
  // HTTP surface
  | 'INIT_PARAMS_INVALID'
  // Exotel frames (see telephony/exotel-codec.ts)
  | 'FRAME_BINARY'
  | 'FRAME_JSON'
  | 'FRAME_SHAPE'
  | 'FRAME_UNKNOWN_EVENT'
  | 'FRAME_BASE64'
  | 'FRAME_ORDER'
  | 'FRAME_TOO_LARGE'
  | 'SAMPLE_RATE_UNSUPPORTED'
  // Providers
  | 'PROVIDER_RATE_LIMITED'
  | 'PROVIDER_SERVER_ERROR'
  | 'PROVIDER_CLIENT_ERROR'
  | 'PROVIDER_AUTH'
  | 'PROVIDER_TIMEOUT'
  | 'PROVIDER_STALLED'
  | 'PROVIDER_BAD_RESPONSE'
  | 'PROVIDER_CONNECTION'
  | 'PROVIDER_ABORTED'
  // Conversation: no reply audio by TURN_TIMEOUT_MS after the caller stopped
  | 'TURN_TIMEOUT'
  // Audio
  | 'AUDIO_INVALID'
  // The Silero inference threads died or could not load (see audio/vad/silero-pool.ts)
  | 'VAD_UNAVAILABLE'
  // Store (see store/)
  | 'STORE_UNAVAILABLE'
  | 'STORE_QUEUE_FULL'
  | 'STORE_INVALID_URL'
  // Exotel's REST API (see outbound/exotel-api.ts)
  | 'EXOTEL_REJECTED'
  | 'EXOTEL_RATE_LIMITED'
  | 'EXOTEL_UNAVAILABLE'
  // A call placement whose answer was lost (timeout, reset, 5xx): Exotel may have taken it, so
  // it is not sent again; the call list settles it (see outbound/outbound-calls.ts)
  | 'EXOTEL_UNCERTAIN';

export class VoicebotError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    options: { retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VoicebotError';
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

export function isRetryable(err: unknown): boolean {
  return err instanceof VoicebotError && err.retryable;
}

/** A short, log-safe description of any thrown value (never includes payloads). */
export function errorCode(err: unknown): string {
  if (err instanceof VoicebotError) return err.code;
  if (err instanceof Error && err.name === 'AbortError') return 'PROVIDER_ABORTED';
  return 'INTERNAL';
}

/**
 * The network code (`ECONNREFUSED`, `UND_ERR_SOCKET`...) of an error or of its cause: undici's own
 * errors carry `code`; Node's fetch wraps them (`TypeError: fetch failed` or `terminated`, the
 * socket error as `cause`).
 */
export function networkCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}
