/**
 * Instance leases. Each running server instance (each worker) holds a row in `instances` that it
 * renews; its live calls name it as `owner`. When an instance dies without finishing its calls
 * (SIGKILL, a crash, a lost machine), its lease lapses, and whoever is alive finalises those
 * calls as `abandoned`: ended when they were last written, turns kept. Direct, not queued.
 */
import type { Kysely } from 'kysely';
import { withQuickRetries } from './direct.js';
import type { Database } from './schema.js';

export async function renewLease(
  db: Kysely<Database>,
  id: string,
  now: number,
  ttlMs: number,
): Promise<void> {
  const row = { id, started_at_ms: now, renewed_at_ms: now, expires_at_ms: now + ttlMs };
  await withQuickRetries('renewLease', async () => {
    await db
      .insertInto('instances')
      .values(row)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({ renewed_at_ms: now, expires_at_ms: now + ttlMs }),
      )
      .execute();
  });
}

export async function releaseLease(db: Kysely<Database>, id: string): Promise<void> {
  await withQuickRetries('releaseLease', async () => {
    await db.deleteFrom('instances').where('id', '=', id).execute();
  });
}

/**
 * Finalises the live calls whose owner's lease has lapsed (or that have no owner and have not
 * been written for `orphanAfterMs`): `abandoned`, ended at their last recorded activity (the
 * call row, its last turn or event). Forgets lapsed leases. Returns the calls finalised.
 */
export async function sweepAbandoned(
  db: Kysely<Database>,
  now: number,
  orphanAfterMs: number,
): Promise<number> {
  return withQuickRetries('sweepAbandoned', () =>
    db.transaction().execute(async (trx) => {
      const alive = trx.selectFrom('instances').select('id').where('expires_at_ms', '>', now);
      const lapsed = await trx
        .selectFrom('calls')
        .select(['id', 'connected_at_ms', 'updated_at_ms'])
        .where('status', '=', 'live')
        .where((eb) =>
          eb.or([
            eb.and([eb('owner', 'is not', null), eb('owner', 'not in', alive)]),
            eb.and([eb('owner', 'is', null), eb('updated_at_ms', '<', now - orphanAfterMs)]),
          ]),
        )
        .execute();
      const ids = lapsed.map((c) => c.id);
      const last = new Map<string, number>();
      if (ids.length > 0) {
        for (const table of ['turns', 'call_events'] as const) {
          const rows = await trx
            .selectFrom(table)
            .select(['call_id', (eb) => eb.fn.max('at_ms').as('at')])
            .where('call_id', 'in', ids)
            .groupBy('call_id')
            .execute();
          for (const r of rows)
            last.set(r.call_id, Math.max(last.get(r.call_id) ?? 0, Number(r.at)));
        }
      }
      for (const c of lapsed) {
        const ended = Math.max(c.updated_at_ms, last.get(c.id) ?? 0);
        await trx
          .updateTable('calls')
          .set({
            status: 'abandoned',
            end_reason: 'server_lost',
            hangup_by: 'unknown',
            ended_at_ms: ended,
            duration_ms: ended - c.connected_at_ms,
            updated_at_ms: now,
          })
          .where('id', '=', c.id)
          .where('status', '=', 'live')
          .execute();
      }
      await trx.deleteFrom('instances').where('expires_at_ms', '<=', now).execute();
      return lapsed.length;
    }),
  );
}
