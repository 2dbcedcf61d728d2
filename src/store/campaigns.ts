/**
 * Campaign state: the campaign and one row per number, all in the database, so a restart or a
 * crash resumes where it was and several instances share the work. A row is dialled only after
 * it is claimed in a transaction that holds its campaign (so the count of calls in progress is
 * exact across instances) and, on PostgreSQL, locks the rows it takes with `FOR UPDATE SKIP
 * LOCKED`. Each attempt's outbound call id is chosen at the claim, so after a crash the row
 * tells whether its call was placed (see settle and recover).
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Selectable, type SqlBool } from 'kysely';
import type { Engine } from './database.js';
import { withQuickRetries } from './direct.js';
import { FINAL_STATUSES } from './outbound.js';
import type { CampaignRowState, CampaignStatus, CampaignsTable, Database } from './schema.js';

export interface CampaignSettings {
  name: string;
  agent?: string;
  concurrency: number;
  callsPerSecond: number;
  window: { start: string; end: string; timezone: string };
  retry: { on: string[]; maxAttempts: number; afterMs: number };
}

export interface Campaign extends CampaignSettings {
  id: string;
  status: CampaignStatus;
  pauseReason?: string;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface CampaignRow {
  index: number;
  to: string;
  params: Record<string, string>;
  state: CampaignRowState;
  attempts: number;
  nextAtMs: number;
  outcome?: string;
  outboundId?: string;
  callSid?: string;
  /** The answered call's summary, when it has one. */
  summary?: string;
}

export interface ClaimedRow {
  campaignId: string;
  index: number;
  to: string;
  params: Record<string, string>;
  attempts: number;
  outboundId: string;
}

function toCampaign(r: Selectable<CampaignsTable>): Campaign {
  return {
    id: r.id,
    name: r.name,
    ...(r.agent === null ? {} : { agent: r.agent }),
    status: r.status,
    ...(r.pause_reason === null ? {} : { pauseReason: r.pause_reason }),
    concurrency: r.concurrency,
    callsPerSecond: Number(r.calls_per_second),
    window: { start: r.window_start, end: r.window_end, timezone: r.timezone },
    retry: {
      on: JSON.parse(r.retry_on) as string[],
      maxAttempts: r.max_attempts,
      afterMs: Number(r.retry_after_ms),
    },
    createdAtMs: Number(r.created_at_ms),
    updatedAtMs: Number(r.updated_at_ms),
  };
}

const ACTIVE: CampaignRowState[] = ['dialing', 'calling'];

/**
 * True for a row (`r`) claimed by another instance that holds no live lease (it died). Rows
 * this instance (`self`) claimed are never taken as abandoned: it is placing them, however slow
 * its lease renewals are.
 */
function claimerGone(now: number, self: string) {
  return sql<SqlBool>`(r.claimed_by is null or (r.claimed_by <> ${self} and not exists (select 1 from instances i where i.id = r.claimed_by and i.expires_at_ms > ${now})))`;
}

export async function createCampaign(
  db: Kysely<Database>,
  s: CampaignSettings,
  rows: Array<{ to: string; params: Record<string, string> }>,
): Promise<string> {
  const id = randomUUID();
  const now = Date.now();
  await withQuickRetries('createCampaign', () =>
    db.transaction().execute(async (trx) => {
      await trx
        .insertInto('campaigns')
        .values({
          id,
          name: s.name,
          agent: s.agent ?? null,
          status: 'running',
          pause_reason: null,
          concurrency: s.concurrency,
          calls_per_second: s.callsPerSecond,
          window_start: s.window.start,
          window_end: s.window.end,
          timezone: s.window.timezone,
          retry_on: JSON.stringify(s.retry.on),
          max_attempts: s.retry.maxAttempts,
          retry_after_ms: s.retry.afterMs,
          created_at_ms: now,
          updated_at_ms: now,
          last_dial_at_ms: null,
        })
        .execute();
      for (let i = 0; i < rows.length; i += 200) {
        await trx
          .insertInto('campaign_rows')
          .values(
            rows.slice(i, i + 200).map((r, k) => ({
              campaign_id: id,
              idx: i + k,
              to_number: r.to,
              params: JSON.stringify(r.params),
              state: 'pending' as const,
              attempts: 0,
              next_at_ms: now,
              outcome: null,
              outbound_id: null,
              claimed_by: null,
              updated_at_ms: now,
            })),
          )
          .execute();
      }
    }),
  );
  return id;
}

export function getCampaign(
  db: Kysely<Database>,
  id: string,
): Promise<{ campaign: Campaign; rows: CampaignRow[] } | undefined> {
  return withQuickRetries('getCampaign', async () => {
    const c = await db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
    if (!c) return undefined;
    const rows = await db
      .selectFrom('campaign_rows as r')
      .leftJoin('outbound_calls as o', 'o.id', 'r.outbound_id')
      .leftJoin('calls as k', (j) =>
        j.onRef('k.call_sid', '=', 'o.exotel_call_sid').on('o.exotel_call_sid', 'is not', null),
      )
      .select([
        'r.idx',
        'r.to_number',
        'r.params',
        'r.state',
        'r.attempts',
        'r.next_at_ms',
        'r.outcome',
        'r.outbound_id',
        'o.exotel_call_sid',
        'k.summary',
      ])
      .where('r.campaign_id', '=', id)
      .orderBy('r.idx')
      .execute();
    const seen = new Set<number>();
    const out: CampaignRow[] = [];
    for (const r of rows) {
      if (seen.has(r.idx)) continue; // a CallSid with two records (never in practice)
      seen.add(r.idx);
      out.push({
        index: r.idx,
        to: r.to_number,
        params: JSON.parse(r.params) as Record<string, string>,
        state: r.state,
        attempts: r.attempts,
        nextAtMs: Number(r.next_at_ms),
        ...(r.outcome === null ? {} : { outcome: r.outcome }),
        ...(r.outbound_id === null ? {} : { outboundId: r.outbound_id }),
        ...(r.exotel_call_sid ? { callSid: r.exotel_call_sid } : {}),
        ...(r.summary ? { summary: r.summary } : {}),
      });
    }
    return { campaign: toCampaign(c), rows: out };
  });
}

export function campaignsWithStatus(
  db: Kysely<Database>,
  status: CampaignStatus,
): Promise<Campaign[]> {
  return withQuickRetries('campaignsWithStatus', async () =>
    (await db.selectFrom('campaigns').selectAll().where('status', '=', status).execute()).map(
      toCampaign,
    ),
  );
}

export function setCampaignStatus(
  db: Kysely<Database>,
  id: string,
  status: CampaignStatus,
  opts: { reason?: string; from?: CampaignStatus[] } = {},
): Promise<boolean> {
  return withQuickRetries('setCampaignStatus', async () => {
    let q = db
      .updateTable('campaigns')
      .set({ status, pause_reason: opts.reason ?? null, updated_at_ms: Date.now() })
      .where('id', '=', id);
    if (opts.from) q = q.where('status', 'in', opts.from);
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  });
}

/**
 * Claims up to `max` due rows of a running campaign for `instance`, within its concurrency and
 * calls-per-second budget, counting calls in progress on every instance.
 */
export function claimRows(
  db: Kysely<Database>,
  engine: Engine,
  campaignId: string,
  instance: string,
  now: number,
): Promise<ClaimedRow[]> {
  return withQuickRetries('claimRows', () =>
    db.transaction().execute(async (trx) => {
      // Holding the campaign row serialises claims for it across instances (PostgreSQL); SQLite
      // serialises writers anyway.
      let cq = trx.selectFrom('campaigns').selectAll().where('id', '=', campaignId);
      if (engine === 'postgres') cq = cq.forUpdate();
      const c = await cq.executeTakeFirst();
      if (!c || c.status !== 'running') return [];
      const active = await trx
        .selectFrom('campaign_rows')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('campaign_id', '=', campaignId)
        .where('state', 'in', ACTIVE)
        .executeTakeFirst();
      const slots = c.concurrency - Number(active?.n ?? 0);
      const cps = Number(c.calls_per_second);
      const last = c.last_dial_at_ms === null ? undefined : Number(c.last_dial_at_ms);
      const paced =
        last === undefined ? Math.max(1, Math.floor(cps)) : Math.floor(((now - last) / 1000) * cps);
      const n = Math.min(slots, paced, Math.max(1, Math.ceil(cps)));
      if (n <= 0) return [];
      let rq = trx
        .selectFrom('campaign_rows')
        .selectAll()
        .where('campaign_id', '=', campaignId)
        .where('state', '=', 'pending')
        .where('next_at_ms', '<=', now)
        .orderBy('idx')
        .limit(n);
      if (engine === 'postgres') rq = rq.forUpdate().skipLocked();
      const rows = await rq.execute();
      const claimed: ClaimedRow[] = [];
      for (const r of rows) {
        const outboundId = randomUUID();
        await trx
          .updateTable('campaign_rows')
          .set({
            state: 'dialing',
            attempts: r.attempts + 1,
            outbound_id: outboundId,
            claimed_by: instance,
            updated_at_ms: now,
          })
          .where('campaign_id', '=', campaignId)
          .where('idx', '=', r.idx)
          .execute();
        claimed.push({
          campaignId,
          index: r.idx,
          to: r.to_number,
          params: JSON.parse(r.params) as Record<string, string>,
          attempts: r.attempts + 1,
          outboundId,
        });
      }
      if (claimed.length > 0) {
        await trx
          .updateTable('campaigns')
          .set({ last_dial_at_ms: now, updated_at_ms: now })
          .where('id', '=', campaignId)
          .execute();
      }
      return claimed;
    }),
  );
}

/** Where a row goes next: its state, and the outcome and due time that come with it. */
export interface RowMove {
  state: CampaignRowState;
  outcome?: string | null;
  nextAtMs?: number;
  /** Give the attempt back (it never reached Exotel). */
  uncount?: boolean;
}

/** Moves a row from `from` to the given state (a no-op when another instance moved it first). */
export function moveRow(
  db: Kysely<Database>,
  campaignId: string,
  index: number,
  from: CampaignRowState,
  to: RowMove,
): Promise<boolean> {
  return withQuickRetries('moveRow', async () => {
    const res = await db
      .updateTable('campaign_rows')
      .set((eb) => ({
        state: to.state,
        updated_at_ms: Date.now(),
        ...(to.outcome !== undefined ? { outcome: to.outcome } : {}),
        ...(to.nextAtMs !== undefined ? { next_at_ms: to.nextAtMs } : {}),
        ...(to.uncount ? { attempts: eb('attempts', '-', 1) } : {}),
      }))
      .where('campaign_id', '=', campaignId)
      .where('idx', '=', index)
      .where('state', '=', from)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  });
}

export interface FinishedAttempt {
  campaignId: string;
  index: number;
  state: CampaignRowState;
  attempts: number;
  /** The outbound call's final status. */
  status: string;
  /** Why it failed, coded (`OUTBOUND_NOT_PLACED: …`). */
  error?: string;
  campaignStatus: CampaignStatus;
  retryOn: string[];
  maxAttempts: number;
  retryAfterMs: number;
}

/**
 * Rows whose attempt has a final outbound status, to be settled by the retry policy. A row still
 * `dialing` under a live instance is left to it: that instance is placing the call and moves
 * the row itself (a failure it retries is not an attempt).
 */
export function finishedAttempts(
  db: Kysely<Database>,
  now: number,
  self: string,
): Promise<FinishedAttempt[]> {
  return withQuickRetries('finishedAttempts', async () => {
    const rows = await db
      .selectFrom('campaign_rows as r')
      .innerJoin('outbound_calls as o', 'o.id', 'r.outbound_id')
      .innerJoin('campaigns as c', 'c.id', 'r.campaign_id')
      .select([
        'r.campaign_id',
        'r.idx',
        'r.state',
        'r.attempts',
        'o.status',
        'o.error',
        'c.status as campaign_status',
        'c.retry_on',
        'c.max_attempts',
        'c.retry_after_ms',
      ])
      .where('o.status', 'in', FINAL_STATUSES)
      .where((eb) =>
        eb.or([
          eb('r.state', '=', 'calling'),
          eb.and([eb('r.state', '=', 'dialing'), claimerGone(now, self)]),
        ]),
      )
      .limit(500)
      .execute();
    return rows.map((r) => ({
      campaignId: r.campaign_id,
      index: r.idx,
      state: r.state,
      attempts: r.attempts,
      status: r.status,
      ...(r.error === null ? {} : { error: r.error }),
      campaignStatus: r.campaign_status,
      retryOn: JSON.parse(r.retry_on) as string[],
      maxAttempts: r.max_attempts,
      retryAfterMs: Number(r.retry_after_ms),
    }));
  });
}

/** Cancels a campaign: its pending rows end as `canceled`; calls in progress finish. */
export function cancelCampaign(db: Kysely<Database>, id: string): Promise<boolean> {
  return withQuickRetries('cancelCampaign', () =>
    db.transaction().execute(async (trx) => {
      const now = Date.now();
      const res = await trx
        .updateTable('campaigns')
        .set({ status: 'canceled', updated_at_ms: now })
        .where('id', '=', id)
        .where('status', 'in', ['running', 'paused'])
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) return false;
      await trx
        .updateTable('campaign_rows')
        .set({ state: 'done', outcome: 'canceled', updated_at_ms: now })
        .where('campaign_id', '=', id)
        .where('state', '=', 'pending')
        .execute();
      return true;
    }),
  );
}

/**
 * Rows left in `dialing` by an instance whose lease has lapsed (it died while placing them), or
 * by any instance since before `beforeMs` (a placement that hung).
 */
export function staleDialing(
  db: Kysely<Database>,
  now: number,
  beforeMs: number,
  self: string,
): Promise<Array<{ campaignId: string; index: number; placed: boolean; exists: boolean }>> {
  return withQuickRetries('staleDialing', async () => {
    const rows = await db
      .selectFrom('campaign_rows as r')
      .leftJoin('outbound_calls as o', 'o.id', 'r.outbound_id')
      .select(['r.campaign_id', 'r.idx', 'o.id as oid', 'o.exotel_call_sid'])
      .where('r.state', '=', 'dialing')
      // Never this instance's own rows: it is placing them and moves them itself.
      .where('r.claimed_by', '<>', self)
      .where((eb) => eb.or([eb('r.updated_at_ms', '<', beforeMs), claimerGone(now, self)]))
      .limit(500)
      .execute();
    return rows.map((r) => ({
      campaignId: r.campaign_id,
      index: r.idx,
      exists: r.oid !== null,
      placed: r.exotel_call_sid !== null,
    }));
  });
}

/** Marks running campaigns with nothing left to do as completed; returns their ids. */
export function completeFinished(db: Kysely<Database>): Promise<string[]> {
  return withQuickRetries('completeFinished', async () => {
    const done = await db
      .selectFrom('campaigns as c')
      .select('c.id')
      .where('c.status', '=', 'running')
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('campaign_rows as r')
              .select(sql`1`.as('one'))
              .whereRef('r.campaign_id', '=', 'c.id')
              .where('r.state', '!=', 'done'),
          ),
        ),
      )
      .execute();
    for (const { id } of done) {
      await db
        .updateTable('campaigns')
        .set({ status: 'completed', updated_at_ms: Date.now() })
        .where('id', '=', id)
        .where('status', '=', 'running')
        .execute();
    }
    return done.map((d) => d.id);
  });
}

/** The outcomes of the campaign's most recently settled attempts, newest first. */
export function recentOutcomes(
  db: Kysely<Database>,
  campaignId: string,
  n: number,
): Promise<string[]> {
  return withQuickRetries('recentOutcomes', async () =>
    (
      await db
        .selectFrom('campaign_rows')
        .select('outcome')
        .where('campaign_id', '=', campaignId)
        .where('outcome', 'is not', null)
        .orderBy('updated_at_ms', 'desc')
        .limit(n)
        .execute()
    ).map((r) => r.outcome!),
  );
}

export interface CampaignSummary extends Campaign {
  counts: { total: number; done: number; active: number; pending: number };
}

/** The newest campaigns with their row counts, newest first. */
export function listCampaigns(db: Kysely<Database>, limit: number): Promise<CampaignSummary[]> {
  return withQuickRetries('listCampaigns', async () => {
    const campaigns = await db
      .selectFrom('campaigns')
      .selectAll()
      .orderBy('created_at_ms', 'desc')
      .limit(limit)
      .execute();
    if (campaigns.length === 0) return [];
    const counts = await db
      .selectFrom('campaign_rows')
      .select(['campaign_id', 'state', (eb) => eb.fn.countAll<number>().as('n')])
      .where(
        'campaign_id',
        'in',
        campaigns.map((c) => c.id),
      )
      .groupBy(['campaign_id', 'state'])
      .execute();
    return campaigns.map((c) => {
      const mine = counts.filter((k) => k.campaign_id === c.id);
      const n = (states: CampaignRowState[]) =>
        mine.filter((k) => states.includes(k.state)).reduce((a, k) => a + Number(k.n), 0);
      return {
        ...toCampaign(c),
        counts: {
          total: n(['pending', 'dialing', 'calling', 'done']),
          done: n(['done']),
          active: n(['dialing', 'calling']),
          pending: n(['pending']),
        },
      };
    });
  });
}
