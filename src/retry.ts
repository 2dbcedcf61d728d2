/**
 * The one retry mechanism of the project. A caller says how many attempts in all, which failures
 * may be tried again (by default the ones our error tree marks retryable) and how long to wait
 * between attempts; the helper owns the loop, the waits and the abort. Waits use the global
 * timers, so tests drive them on a virtual clock.
 */
import { isRetryable } from './errors.js';

export interface RetryOptions {
  /** Attempts in all, the first included (1: no retry). */
  attempts: number;
  /**
   * Whether the failure of attempt `attempt` (1-based) may be tried again; asked only when an
   * attempt is left. Default: `isRetryable(err)`.
   */
  retryIf?: (err: unknown, attempt: number) => boolean;
  /** Wait before attempt `attempt + 1`, in ms. Default: none. */
  delayMs?: (attempt: number) => number;
  /** Stops the waits and the loop; the attempt's own work must take the signal too. */
  signal?: AbortSignal;
  /** Told about each failure that will be retried (for a log line). */
  onRetry?: (err: unknown, attempt: number) => void;
}

/**
 * Runs `attempt(n)` (n from 1) until it resolves, then resolves with its value. Rethrows the
 * failure when no attempt is left, when `retryIf` says no, or when `signal` aborted.
 */
export async function retry<T>(attempt: (n: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const retryIf = opts.retryIf ?? isRetryable;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (n >= opts.attempts || opts.signal?.aborted || !retryIf(err, n)) throw err;
      opts.onRetry?.(err, n);
      const wait = opts.delayMs?.(n) ?? 0;
      if (wait > 0) await sleep(wait, opts.signal);
      if (opts.signal?.aborted) throw err;
    }
  }
}

/** Exponential backoff: `baseMs` before the second attempt, doubling, never above `maxMs`. */
export function backoff(baseMs: number, maxMs = Infinity): (attempt: number) => number {
  return (attempt) => Math.min(maxMs, baseMs * 2 ** (attempt - 1));
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** `promise`, or a rejection with the signal's reason as soon as `signal` aborts. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
