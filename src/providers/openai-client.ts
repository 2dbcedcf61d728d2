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
import { VoicebotError } from '../errors.js';

export function createOpenAIClient(opts: { apiKey: string; baseUrl?: string | undefined }): OpenAI {
  // The SDK's own logger would print raw response data (transcripts) on a malformed stream.
  return new OpenAI({ apiKey: opts.apiKey, baseURL: opts.baseUrl, maxRetries: 0, logLevel: 'off' });
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
  // A truncated JSON body or SSE event: the SDK's JSON.parse throws a plain SyntaxError.
  if (err instanceof SyntaxError)
    return new VoicebotError('PROVIDER_BAD_RESPONSE', msg('malformed response'), {
      retryable: true,
      cause: err,
    });
  return new VoicebotError('PROVIDER_BAD_RESPONSE', msg('unexpected failure'), { cause: err });
}
