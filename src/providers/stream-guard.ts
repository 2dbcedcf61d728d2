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
  const fire = (ms: number, code: 'PROVIDER_TIMEOUT' | 'PROVIDER_STALLED') => {
    timedOut = new VoicebotError(
      code,
      code === 'PROVIDER_TIMEOUT'
        ? `${opts.stage}: no data within ${ms} ms`
        : `${opts.stage}: stream stalled for ${ms} ms`,
      { retryable: true },
    );
    controller.abort(timedOut);
  };
  // The idle limit is one timer for the whole stream, not one a chunk (a TTS stream brings dozens
  // of chunks a second): each chunk only notes its time, and the timer, when it comes, waits
  // again for whatever is left of the limit since the latest chunk.
  let lastChunkAt = 0;
  const checkIdle = () => {
    const left = lastChunkAt + opts.idleMs - performance.now();
    if (left > 0) timer = setTimeout(checkIdle, Math.ceil(left));
    else fire(opts.idleMs, 'PROVIDER_STALLED');
  };
  if (opts.firstChunkMs > 0)
    timer = setTimeout(() => fire(opts.firstChunkMs, 'PROVIDER_TIMEOUT'), opts.firstChunkMs);
  let first = true;
  try {
    for await (const chunk of source) {
      if (timedOut) break;
      lastChunkAt = performance.now();
      if (first) {
        first = false;
        clearTimeout(timer);
        timer = opts.idleMs > 0 ? setTimeout(checkIdle, opts.idleMs) : undefined;
      }
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
