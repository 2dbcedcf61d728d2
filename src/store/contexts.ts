/**
 * Per-call context kept server side: parameters put before a call and read when it connects. The
 * caller waits on these, so they go straight to the database (see direct.ts). Expired rows are
 * pruned on each put.
 */
import type { Kysely } from 'kysely';
import { withQuickRetries } from './direct.js';
import type { Database } from './schema.js';

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
