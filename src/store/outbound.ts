/**
 * Outbound calls: one row per call we asked Exotel to place, from the request to its final
 * status (ringing, answered, busy, no-answer, failed…), whether or not it ever reached `/was`.
 * Direct, not queued: the API answers with what was stored.
 */
import type { Kysely, Selectable, Updateable } from 'kysely';
import { withQuickRetries } from './direct.js';
import type { Database, OutboundCallsTable, OutboundStatus } from './schema.js';

export interface OutboundCall {
  id: string;
  to: string;
  agent?: string;
  params: Record<string, string>;
  contextId?: string;
  callSid?: string;
  status: OutboundStatus;
  error?: string;
  createdAtMs: number;
  updatedAtMs: number;
  answeredAtMs?: number;
  endedAtMs?: number;
  checkedAtMs?: number;
}

export const FINAL_STATUSES: readonly OutboundStatus[] = [
  'completed',
  'busy',
  'no-answer',
  'failed',
  'canceled',
  'voicemail',
];

export interface OutboundUpdate {
  callSid?: string;
  status?: OutboundStatus;
  error?: string;
  answeredAtMs?: number;
  endedAtMs?: number;
  checkedAtMs?: number;
}

const opt = <V>(v: V | null): V | undefined => (v === null ? undefined : v);

function toOutbound(r: Selectable<OutboundCallsTable>): OutboundCall {
  const out: OutboundCall = {
    id: r.id,
    to: r.to_number,
    params: JSON.parse(r.params) as Record<string, string>,
    status: r.status,
    createdAtMs: Number(r.created_at_ms),
    updatedAtMs: Number(r.updated_at_ms),
  };
  const set = <K extends keyof OutboundCall>(k: K, v: OutboundCall[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set('agent', opt(r.agent));
  set('contextId', opt(r.context_id));
  set('callSid', opt(r.exotel_call_sid));
  set('error', opt(r.error));
  const num = (v: number | null) => (v === null ? undefined : Number(v));
  set('answeredAtMs', num(r.answered_at_ms));
  set('endedAtMs', num(r.ended_at_ms));
  set('checkedAtMs', num(r.checked_at_ms));
  return out;
}

export function insertOutbound(
  db: Kysely<Database>,
  c: { id: string; to: string; agent?: string; params: Record<string, string>; contextId?: string },
): Promise<void> {
  const now = Date.now();
  return withQuickRetries('insertOutbound', async () => {
    await db
      .insertInto('outbound_calls')
      .values({
        id: c.id,
        to_number: c.to,
        agent: c.agent ?? null,
        params: JSON.stringify(c.params),
        context_id: c.contextId ?? null,
        exotel_call_sid: null,
        status: 'queued',
        error: null,
        created_at_ms: now,
        updated_at_ms: now,
        answered_at_ms: null,
        ended_at_ms: null,
        checked_at_ms: null,
      })
      .execute();
  });
}

/**
 * Applies `u` to the call `id`. A final status is never replaced by a non-final one (a late
 * "answered" callback after "completed"), and the first final status stays, except that our own
 * `voicemail` replaces Exotel's `completed` (the same call, known better).
 */
export function updateOutbound(db: Kysely<Database>, id: string, u: OutboundUpdate): Promise<void> {
  return withQuickRetries('updateOutbound', () =>
    db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('outbound_calls')
        .select(['status'])
        .where('id', '=', id)
        .executeTakeFirst();
      if (!row) return;
      const final =
        FINAL_STATUSES.includes(row.status) &&
        !(row.status === 'completed' && u.status === 'voicemail');
      const set: Updateable<OutboundCallsTable> = { updated_at_ms: Date.now() };
      if (u.status !== undefined && !final) set.status = u.status;
      if (u.callSid !== undefined) set.exotel_call_sid = u.callSid;
      if (u.error !== undefined) set.error = u.error;
      if (u.answeredAtMs !== undefined) set.answered_at_ms = u.answeredAtMs;
      if (u.endedAtMs !== undefined && !final) set.ended_at_ms = u.endedAtMs;
      if (u.checkedAtMs !== undefined) set.checked_at_ms = u.checkedAtMs;
      await trx.updateTable('outbound_calls').set(set).where('id', '=', id).execute();
    }),
  );
}

export function getOutbound(db: Kysely<Database>, id: string): Promise<OutboundCall | undefined> {
  return withQuickRetries('getOutbound', async () => {
    const row = await db
      .selectFrom('outbound_calls')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toOutbound(row) : undefined;
  });
}

/** Calls not yet final: how many (for the concurrency limit). */
export function countActiveOutbound(db: Kysely<Database>): Promise<number> {
  return withQuickRetries('countActiveOutbound', async () => {
    const row = await db
      .selectFrom('outbound_calls')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', 'not in', FINAL_STATUSES)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  });
}

/** Calls not final whose last news is older than `beforeMs` and not checked since `checkedBeforeMs`. */
export function quietOutbound(
  db: Kysely<Database>,
  beforeMs: number,
  checkedBeforeMs: number,
  limit: number,
): Promise<OutboundCall[]> {
  return withQuickRetries('quietOutbound', async () => {
    const rows = await db
      .selectFrom('outbound_calls')
      .selectAll()
      .where('status', 'not in', FINAL_STATUSES)
      .where('updated_at_ms', '<', beforeMs)
      .where((eb) =>
        eb.or([eb('checked_at_ms', 'is', null), eb('checked_at_ms', '<', checkedBeforeMs)]),
      )
      .orderBy('updated_at_ms')
      .limit(limit)
      .execute();
    return rows.map(toOutbound);
  });
}

/** Which of `sids` are stored on an outbound row. */
export function knownOutboundSids(db: Kysely<Database>, sids: string[]): Promise<Set<string>> {
  if (sids.length === 0) return Promise.resolve(new Set());
  return withQuickRetries('knownOutboundSids', async () => {
    const rows = await db
      .selectFrom('outbound_calls')
      .select('exotel_call_sid')
      .where('exotel_call_sid', 'in', sids)
      .execute();
    return new Set(rows.map((r) => r.exotel_call_sid).filter((s): s is string => s !== null));
  });
}

/** The newest outbound calls, newest first. */
export function listOutbound(db: Kysely<Database>, limit: number): Promise<OutboundCall[]> {
  return withQuickRetries('listOutbound', async () => {
    const rows = await db
      .selectFrom('outbound_calls')
      .selectAll()
      .orderBy('created_at_ms', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toOutbound);
  });
}
