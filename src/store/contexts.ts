/**
 * Per-call context kept server side: parameters put before a call and read when it connects. The
 * caller waits on these, so they go straight to the database (not through the write queue) with
 * a couple of quick retries; then STORE_UNAVAILABLE. Expired rows are pruned on each put.
 */
import type { Kysely } from 'kysely';
import { retry } from '../retry.js';
import { isUnavailableError, toStoreError } from './db-errors.js';
import type { Database } from './schema.js';

const RETRY_DELAYS_MS = [50, 200];

async function withQuickRetries<R>(what: string, run: () => Promise<R>): Promise<R> {
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

export function putContext(
  db: Kysely<Database>,
  id: string,
  params: Record<string, string>,
  expiresAtMs: number,
): Promise<void> {
  const now = Date.now();
  const row = {
    id,
    params: JSON.stringify(params),
    created_at_ms: now,
    expires_at_ms: expiresAtMs,
  };
  return withQuickRetries('putContext', () =>
    db.transaction().execute(async (trx) => {
      await trx
        .insertInto('call_contexts')
        .values(row)
        .onConflict((oc) =>
          oc.column('id').doUpdateSet({ params: row.params, expires_at_ms: row.expires_at_ms }),
        )
        .execute();
      await trx.deleteFrom('call_contexts').where('expires_at_ms', '<=', now).execute();
    }),
  );
}

/** The parameters, or undefined when there are none or they expired at or before `nowMs`. */
export function getContext(
  db: Kysely<Database>,
  id: string,
  nowMs: number,
): Promise<Record<string, string> | undefined> {
  return withQuickRetries('getContext', async () => {
    const row = await db
      .selectFrom('call_contexts')
      .select('params')
      .where('id', '=', id)
      .where('expires_at_ms', '>', nowMs)
      .executeTakeFirst();
    return row === undefined ? undefined : (JSON.parse(row.params) as Record<string, string>);
  });
}
