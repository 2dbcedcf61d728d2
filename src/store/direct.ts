/**
 * Reads and writes a caller is waiting on (per-call context, transfer decisions) go straight to
 * the database, not through the write queue, with a couple of quick retries; then
 * STORE_UNAVAILABLE.
 */
import { retry } from '../retry.js';
import { isUnavailableError, toStoreError } from './db-errors.js';

const RETRY_DELAYS_MS = [50, 200];

export async function withQuickRetries<R>(what: string, run: () => Promise<R>): Promise<R> {
  try {
    return await retry(run, {
      attempts: RETRY_DELAYS_MS.length + 1,
      delayMs: (attempt) => RETRY_DELAYS_MS[attempt - 1] ?? 0,
      retryIf: isUnavailableError,
    });
  } catch (err) {
    throw toStoreError(err, what);
  }
}
