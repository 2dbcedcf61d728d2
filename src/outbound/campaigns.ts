/**
 * Campaigns: many calls from one request, within a concurrency limit, a calls-per-second pace,
 * a calling window (09:00–21:00 India time by default: TRAI's window for commercial calls) and a
 * retry policy. All state is in the database (store/campaigns.ts); each instance runs this loop:
 *
 * 1. settle: rows whose call reached a final status are retried per the policy, or done;
 * 2. recover: rows a dead instance left mid-dial are put right (placed → calling, never
 *    handed to Exotel → pending again, attempt given back);
 * 3. dial: for each running campaign inside its window, claim due rows and place their calls;
 * 4. campaigns with nothing left are completed; one whose calls mostly fail pauses itself.
 */
import type { AgentRegistry } from '../agents/index.js';
import { errorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { Campaign, CampaignSettings, CallStore, ClaimedRow } from '../store/index.js';
import { NOT_PLACED, OutboundRequestError, type OutboundCalls } from './outbound-calls.js';
import { normaliseIndianNumber } from './phone-number.js';

/** Outcomes a campaign may retry (all of them unless `retry.on` says otherwise). */
export const RETRYABLE = ['busy', 'no-answer', 'failed', 'voicemail'] as const;
/**
 * A row left in `dialing` by an instance whose lease lapsed is recovered at once; one left this
 * long by a live instance too (its placement hung).
 */
const STALE_DIALING_MS = 120_000;
/** Auto-pause: of the last AUTO_PAUSE_OF settled attempts, this many failed. */
const AUTO_PAUSE_OF = 10;
const AUTO_PAUSE_FAILED = 8;

/** Local minutes since midnight in `timezone`. */
function localMinutes(now: number, timezone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(now);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return get('hour') * 60 + get('minute');
}

const minutes = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
};

/**
 * Whether `now` is inside the window: start inclusive, end exclusive; it may cross midnight
 * (22:00–06:00), and equal start and end mean all day.
 */
export function inWindow(now: number, w: CampaignSettings['window']): boolean {
  const t = localMinutes(now, w.timezone);
  const start = minutes(w.start);
  const end = minutes(w.end);
  if (start === end) return true;
  return start < end ? t >= start && t < end : t >= start || t < end;
}

export interface CampaignInput {
  settings: CampaignSettings;
  rows: Array<{ to: string; params: Record<string, string> }>;
  /** Rows refused, by their 1-based number in the input, with why. */
  rejected: Array<{ row: number; to?: string; reason: string }>;
}

/** Checks a campaign request (JSON, or CSV already parsed into records); throws on bad settings. */
export function checkCampaign(
  body: Record<string, unknown>,
  records: Array<Record<string, unknown>>,
  agents: AgentRegistry,
): CampaignInput {
  const bad = (message: string) => new OutboundRequestError(400, 'CAMPAIGN_BAD_REQUEST', message);
  const name = typeof body.name === 'string' && body.name.trim() ? body.name.trim() : undefined;
  if (!name || name.length > 100) throw bad('"name" must be 1 to 100 characters');
  const agent = body.agent;
  if (agent !== undefined && (typeof agent !== 'string' || !agents.get(agent))) {
    throw bad(`"agent" must name a loaded profile (${agents.names().join(', ') || 'none'})`);
  }
  const int = (v: unknown, def: number, min: number, max: number, what: string) => {
    const n = v === undefined || v === '' ? def : Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw bad(`${what} must be an integer from ${min} to ${max}`);
    return n;
  };
  const concurrency = int(body.concurrency, 1, 1, 100, '"concurrency"');
  const cps = body.calls_per_second === undefined ? 1 : Number(body.calls_per_second);
  if (!(cps > 0 && cps <= 10)) throw bad('"calls_per_second" must be above 0 and at most 10');
  const w = (body.window ?? {}) as Record<string, unknown>;
  const hhmm = /^([01]\d|2[0-3]):[0-5]\d$/;
  const start = w.start === undefined ? '09:00' : w.start;
  const end = w.end === undefined ? '21:00' : w.end;
  if (
    typeof start !== 'string' ||
    !hhmm.test(start) ||
    typeof end !== 'string' ||
    !hhmm.test(end)
  ) {
    throw bad('"window.start" and "window.end" must be HH:MM (24-hour)');
  }
  const timezone = w.timezone === undefined ? 'Asia/Kolkata' : w.timezone;
  try {
    if (typeof timezone !== 'string') throw new TypeError('not a string');
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    throw bad('"window.timezone" must be an IANA time zone such as Asia/Kolkata');
  }
  const r = (body.retry ?? {}) as Record<string, unknown>;
  const on = r.on === undefined ? [...RETRYABLE] : r.on;
  if (!Array.isArray(on) || on.some((o) => !RETRYABLE.includes(o as never))) {
    throw bad(`"retry.on" must list outcomes from ${RETRYABLE.join(', ')}`);
  }
  const maxAttempts = int(r.max_attempts, 3, 1, 10, '"retry.max_attempts"');
  const afterMs = int(r.after_ms, 1_800_000, 0, 7 * 24 * 3_600_000, '"retry.after_ms"');
  if (records.length === 0) throw bad('the campaign has no rows');
  if (records.length > 100_000) throw bad('a campaign takes at most 100,000 rows');

  const rows: CampaignInput['rows'] = [];
  const rejected: CampaignInput['rejected'] = [];
  const seen = new Set<string>();
  records.forEach((rec, i) => {
    const to = rec.to ?? rec.number ?? rec.phone;
    if (typeof to !== 'string' && typeof to !== 'number') {
      rejected.push({ row: i + 1, reason: 'no number ("to")' });
      return;
    }
    const number = normaliseIndianNumber(String(to));
    if (!number.ok) {
      rejected.push({ row: i + 1, to: String(to), reason: `the number ${number.reason}` });
      return;
    }
    if (seen.has(number.e164)) {
      rejected.push({ row: i + 1, to: String(to), reason: 'the same number is on an earlier row' });
      return;
    }
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(rec)) {
      if (
        k === 'to' ||
        k === 'number' ||
        k === 'phone' ||
        v === undefined ||
        v === null ||
        v === ''
      )
        continue;
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        rejected.push({ row: i + 1, to: String(to), reason: `"${k}" must be text or a number` });
        return;
      }
      params[k] = String(v);
    }
    seen.add(number.e164);
    rows.push({ to: number.e164, params });
  });
  return {
    settings: {
      name,
      ...(typeof agent === 'string' ? { agent } : {}),
      concurrency,
      callsPerSecond: cps,
      window: { start, end, timezone },
      retry: { on: on as string[], maxAttempts, afterMs },
    },
    rows,
    rejected,
  };
}

export class CampaignRunner {
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private closed = false;
  private readonly dialing = new Set<Promise<void>>();

  constructor(
    private readonly deps: {
      store: CallStore;
      outbound: OutboundCalls;
      instanceId: string;
      logger: Logger;
      tickMs: number;
      now?: () => number;
    },
  ) {}

  /**
   * Ticks every `tickMs`, give or take a fifth at random: instances that tick in lockstep would
   * let the one whose timer runs a little earlier claim every row that frees up.
   */
  start(): void {
    this.closed = false;
    const next = () => {
      if (this.closed) return;
      this.timer = setTimeout(
        () => void this.tick().finally(next),
        this.deps.tickMs * (0.8 + 0.4 * Math.random()),
      );
      this.timer.unref();
    };
    next();
  }

  /** Stops claiming; calls being placed are waited for (bounded by the caller). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await Promise.allSettled([...this.dialing]);
  }

  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    const { store, logger } = this.deps;
    const now = (this.deps.now ?? Date.now)();
    try {
      await this.recover(now);
      for (const c of await store.campaigns.withStatus('running')) {
        if (!inWindow(now, c.window)) continue;
        if (await this.tooManyFailures(c)) continue;
        for (const row of await store.campaigns.claim(c.id, this.deps.instanceId, now)) {
          const p = this.dial(c, row).finally(() => this.dialing.delete(p));
          this.dialing.add(p);
        }
      }
      // Settled after claiming: a slot this instance frees is claimed on a later tick by
      // whichever instance comes first, not kept by this one (it settles its own rows).
      await this.settle(now);
      for (const id of await store.campaigns.completeFinished()) {
        logger.info({ campaignId: id }, 'campaign completed');
      }
    } catch (err) {
      logger.warn({ code: errorCode(err) }, 'campaign tick failed; next tick retries');
    } finally {
      this.ticking = false;
    }
  }

  private async settle(now: number): Promise<void> {
    const { store } = this.deps;
    for (const a of await store.campaigns.finishedAttempts(now, this.deps.instanceId)) {
      if (a.error?.startsWith(NOT_PLACED)) {
        // Exotel never got the call (its server died first): not an attempt; dial it again.
        await store.campaigns.moveRow(
          a.campaignId,
          a.index,
          a.state,
          a.campaignStatus === 'canceled'
            ? { state: 'done', outcome: 'canceled' }
            : { state: 'pending', nextAtMs: now, uncount: true },
        );
        continue;
      }
      const retry =
        a.campaignStatus !== 'canceled' &&
        a.retryOn.includes(a.status) &&
        a.attempts < a.maxAttempts;
      await store.campaigns.moveRow(
        a.campaignId,
        a.index,
        a.state,
        retry
          ? { state: 'pending', outcome: a.status, nextAtMs: now + a.retryAfterMs }
          : { state: 'done', outcome: a.status },
      );
    }
  }

  private async recover(now: number): Promise<void> {
    const { store } = this.deps;
    for (const r of await store.campaigns.staleDialing(
      now,
      now - STALE_DIALING_MS,
      this.deps.instanceId,
    )) {
      if (r.placed) {
        await store.campaigns.moveRow(r.campaignId, r.index, 'dialing', { state: 'calling' });
      } else if (!r.exists) {
        // Claimed, never stored as an outbound call, so never sent to Exotel: dial it again.
        await store.campaigns.moveRow(r.campaignId, r.index, 'dialing', {
          state: 'pending',
          nextAtMs: now,
          uncount: true,
        });
      }
      // Stored but without a CallSid: outbound's quiet-call check finds it in Exotel's call
      // list, or marks it never placed (OUTBOUND_NOT_PLACED), and settle dials it again.
    }
  }

  private async tooManyFailures(c: Campaign): Promise<boolean> {
    const recent = await this.deps.store.campaigns.recentOutcomes(c.id, AUTO_PAUSE_OF);
    const failed = recent.filter((o) => o === 'failed').length;
    if (recent.length < AUTO_PAUSE_OF || failed < AUTO_PAUSE_FAILED) return false;
    const reason = `${failed} of the last ${recent.length} calls failed; paused so that nothing is wasted (check Exotel's account, the numbers and the caller id, then resume)`;
    if (await this.deps.store.campaigns.setStatus(c.id, 'paused', { reason, from: ['running'] })) {
      this.deps.logger.warn({ code: 'CAMPAIGN_AUTO_PAUSED', campaignId: c.id }, 'campaign paused');
    }
    return true;
  }

  private async dial(c: Campaign, row: ClaimedRow): Promise<void> {
    const { store, outbound, logger } = this.deps;
    try {
      await outbound.place(
        { to: row.to, agent: c.agent, params: { ...row.params, campaign: c.name } },
        { id: row.outboundId, waitForBudget: true },
      );
      await store.campaigns.moveRow(c.id, row.index, 'dialing', { state: 'calling' });
    } catch (err) {
      const code = err instanceof OutboundRequestError ? err.code : errorCode(err);
      if (err instanceof OutboundRequestError && err.status === 502) {
        // Exotel refused this number: an attempt, whose outbound row is `failed`; settle
        // applies the retry policy once the row is handed to it.
        await store.campaigns
          .moveRow(c.id, row.index, 'dialing', { state: 'calling' })
          .catch(() => undefined);
        return;
      }
      // Not an attempt (no capacity, Exotel or the database unavailable): try again shortly.
      logger.warn({ code, campaignId: c.id, row: row.index }, 'campaign call not placed; retrying');
      await store.campaigns
        .moveRow(c.id, row.index, 'dialing', {
          state: 'pending',
          nextAtMs: Date.now() + 5_000,
          uncount: true,
        })
        .catch(() => undefined);
    }
  }
}
