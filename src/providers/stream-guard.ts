/**
 * Guards a streaming provider response: a time limit until the first chunk and an idle limit
 * between chunks. The SDK's own timeout stops at the response headers, so a stream that stalls
 * after them would otherwise hang a turn forever.
 */
import { VoicebotError } from '../errors.js';

export interface StreamGuardOptions {
  /** Time allowed from the request until the first chunk. */
  firstChunkMs: number;
  /** Longest gap allowed between two chunks. */
  idleMs: number;
  stage: string;
}

/**
 * Iterates `source`, aborting `controller` and throwing PROVIDER_TIMEOUT / PROVIDER_STALLED when a
 * limit is hit. `controller` must be the one whose signal the request was made with.
 */
export async function* guardStream<T>(
  source: AsyncIterable<T>,
  controller: AbortController,
  opts: StreamGuardOptions,
): AsyncGenerator<T> {
  let timedOut: VoicebotError | undefined;
  let timer: NodeJS.Timeout | undefined;
  const arm = (ms: number, code: 'PROVIDER_TIMEOUT' | 'PROVIDER_STALLED') => {
    clearTimeout(timer);
    if (ms <= 0) return;
    timer = setTimeout(() => {
      timedOut = new VoicebotError(
        code,
        code === 'PROVIDER_TIMEOUT'
          ? `${opts.stage}: no data within ${ms} ms`
          : `${opts.stage}: stream stalled for ${ms} ms`,
        { retryable: true },
      );
      controller.abort(timedOut);
    }, ms);
  };
  arm(opts.firstChunkMs, 'PROVIDER_TIMEOUT');
  try {
    for await (const chunk of source) {
      arm(opts.idleMs, 'PROVIDER_STALLED');
      yield chunk;
    }
  } catch (err) {
    if (timedOut) throw timedOut;
    throw err;
  } finally {
    clearTimeout(timer);
  }
  if (timedOut) throw timedOut;
}
