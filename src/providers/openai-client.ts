/**
 * The one OpenAI SDK client of the process and the one place that turns SDK errors into our
 * coded errors. Retries are ours (see `isRetryable`), so the SDK's own retries are off.
 */
import OpenAI, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  PermissionDeniedError,
  RateLimitError,
} from 'openai';
import { Agent } from 'undici';
import { VoicebotError, networkCode } from '../errors.js';
import { requestFetch } from './request-fetch.js';

/**
 * How long an idle connection to the API is kept for the next request. Node's fetch keeps one
 * for 4 s unless the server says otherwise, and a caller usually talks for longer than that
 * between two LLM requests, so every turn would open a new TLS connection (several round trips
 * from India to the API: hundreds of ms on the critical path). A server that closes earlier
 * announces it (`Keep-Alive: timeout=N`), which undici honours.
 */
export const KEEP_ALIVE_MS = 60_000;

/** One connection pool for the process, shared by STT, LLM and TTS. */
let sharedDispatcher: Agent | undefined;

export function createOpenAIClient(opts: { apiKey: string; baseUrl?: string | undefined }): OpenAI {
  sharedDispatcher ??= new Agent({
    keepAliveTimeout: KEEP_ALIVE_MS,
    keepAliveMaxTimeout: 10 * KEEP_ALIVE_MS,
  });
  return new OpenAI({
    apiKey: opts.apiKey,
    baseURL: opts.baseUrl,
    maxRetries: 0,
    // The SDK's own logger would print raw response data (transcripts) on a malformed stream.
    logLevel: 'off',
    // undici's request under fetch's signature: about 40 % less CPU a turn than Node's fetch.
    fetch: requestFetch(sharedDispatcher),
  });
}

/** Maps anything an SDK call can throw to a VoicebotError with a stable code. */
export function toProviderError(err: unknown, stage: string): VoicebotError {
  if (err instanceof VoicebotError) return err;
  const msg = (detail: string) => `${stage}: ${detail}`;
  if (err instanceof APIUserAbortError)
    return new VoicebotError('PROVIDER_ABORTED', msg('aborted'), { cause: err });
  if (err instanceof APIConnectionTimeoutError)
    return new VoicebotError('PROVIDER_TIMEOUT', msg('timed out'), { retryable: true, cause: err });
  if (err instanceof APIConnectionError)
    return new VoicebotError('PROVIDER_CONNECTION', msg('connection failed'), {
      retryable: true,
      cause: err,
    });
  if (err instanceof RateLimitError)
    return new VoicebotError('PROVIDER_RATE_LIMITED', msg('rate limited (429)'), {
      retryable: true,
      cause: err,
    });
  if (err instanceof AuthenticationError || err instanceof PermissionDeniedError)
    return new VoicebotError('PROVIDER_AUTH', msg(`not authorised (${err.status})`), {
      cause: err,
    });
  if (err instanceof APIError) {
    const status: number = typeof err.status === 'number' ? err.status : 0;
    if (status >= 500)
      return new VoicebotError('PROVIDER_SERVER_ERROR', msg(`server error (${status})`), {
        retryable: true,
        cause: err,
      });
    return new VoicebotError('PROVIDER_CLIENT_ERROR', msg(`request rejected (${status})`), {
      cause: err,
    });
  }
  if (err instanceof Error && err.name === 'AbortError')
    return new VoicebotError('PROVIDER_ABORTED', msg('aborted'), { cause: err });
  // Failures while the body streams in come from undici itself (the SDK wraps only the request):
  // a connection closed or reset mid-response, or a body that stopped coming.
  const code = networkCode(err);
  if (code !== undefined && LOST_CONNECTION.has(code))
    return new VoicebotError('PROVIDER_CONNECTION', msg(`connection lost mid-response (${code})`), {
      retryable: true,
      cause: err,
    });
  if (code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT')
    return new VoicebotError('PROVIDER_TIMEOUT', msg(`timed out (${code})`), {
      retryable: true,
      cause: err,
    });
  // A truncated JSON body or SSE event: the SDK's JSON.parse throws a plain SyntaxError.
  if (err instanceof SyntaxError)
    return new VoicebotError('PROVIDER_BAD_RESPONSE', msg('malformed response'), {
      retryable: true,
      cause: err,
    });
  return new VoicebotError('PROVIDER_BAD_RESPONSE', msg('unexpected failure'), { cause: err });
}

/** Codes of a connection that went away under a response (undici's, and the socket's own). */
const LOST_CONNECTION = new Set([
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
]);
