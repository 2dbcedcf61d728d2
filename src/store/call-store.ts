/**
 * The call-record store the server uses. Writes are queued and return at once (the call's audio
 * never waits on the database, and an outage loses nothing: see write-queue.ts); reads and
 * per-call context go straight to the database.
 */
import type { TurnRecord } from '../conversation/turn-record.js';
import type { Logger } from '../log.js';
import { putContext, getContext } from './contexts.js';
import { getTransfer, putTransfer, type TransferDecision } from './transfers.js';
import { releaseLease, renewLease, sweepAbandoned } from './leases.js';
import type { Db } from './database.js';
import { isUnavailableError, toStoreError } from './db-errors.js';
import {
  getCall,
  listCalls,
  type CallDetail,
  type CallListRow,
  type ListCallsQuery,
} from './reads.js';
import {
  campaignsWithStatus,
  claimRows,
  completeFinished,
  createCampaign,
  finishedAttempts,
  getCampaign,
  moveRow,
  recentOutcomes,
  setCampaignStatus,
  staleDialing,
  type Campaign,
  type CampaignRow,
  type CampaignSettings,
  type CampaignSummary,
  type ClaimedRow,
  listCampaigns,
  type FinishedAttempt,
  type RowMove,
  cancelCampaign,
} from './campaigns.js';
import type { CampaignRowState, CampaignStatus } from './schema.js';
import {
  countActiveOutbound,
  getOutbound,
  insertOutbound,
  listOutbound,
  knownOutboundSids,
  quietOutbound,
  updateOutbound,
  type OutboundCall,
  type OutboundUpdate,
} from './outbound.js';
import { applyOp, type WriteOp } from './write-ops.js';
import { WriteQueue } from './write-queue.js';

/** The fields a write of this kind carries (one definition, shared with the write ops). */
type Op<K extends WriteOp['kind']> = Extract<WriteOp, { kind: K }>;
type OpFields<K extends WriteOp['kind']> = Omit<Op<K>, 'kind' | 'id'>;

export interface CallStore {
  // Writes: queued; return at once; never throw. Idempotent, so a retried batch is harmless.
  callConnected(c: Omit<Op<'callConnected'>, 'kind'>): void;
  callStarted(id: string, s: OpFields<'callStarted'>): void;
  callStopped(id: string, s: OpFields<'callStopped'>): void;
  callEnded(id: string, e: OpFields<'callEnded'>): void;
  turnRecorded(callId: string, turn: TurnRecord): void;
  eventRecorded(
    callId: string,
    e: { at: number; kind: string; code?: string; detail?: string },
  ): void;
  summaryUpdated(
    callId: string,
    s: { summary?: string; status: 'pending' | 'done' | 'failed' },
  ): void;

  // Reads: direct; throw STORE_UNAVAILABLE when the database is down.
  listCalls(q: ListCallsQuery): Promise<{ calls: CallListRow[]; nextCursor?: string }>;
  /** The call with that session id or Exotel CallSid, with its turns and events. */
  getCall(callSidOrId: string): Promise<CallDetail | undefined>;

  // Per-call context: direct, with a couple of quick retries.
  putContext(id: string, params: Record<string, string>, expiresAtMs: number): Promise<void>;
  /** Undefined when missing or expired at `nowMs`. */
  getContext(id: string, nowMs: number): Promise<Record<string, string> | undefined>;

  // Transfer decisions by CallSid: direct, with a couple of quick retries.
  putTransfer(t: TransferDecision): Promise<void>;
  getTransfer(callSid: string): Promise<TransferDecision | undefined>;

  // Instance leases (see leases.ts): direct, with a couple of quick retries.
  renewLease(id: string, ttlMs: number): Promise<void>;
  releaseLease(id: string): Promise<void>;
  /** Finalises live calls whose owner's lease lapsed; returns how many. */
  sweepAbandoned(orphanAfterMs: number): Promise<number>;

  /** Outbound calls (see outbound.ts): direct, with a couple of quick retries. */
  readonly outbound: {
    insert(c: {
      id: string;
      to: string;
      agent?: string;
      params: Record<string, string>;
      contextId?: string;
    }): Promise<void>;
    update(id: string, u: OutboundUpdate): Promise<void>;
    get(id: string): Promise<OutboundCall | undefined>;
    countActive(): Promise<number>;
    /** The newest `limit`, newest first. */
    list(limit: number): Promise<OutboundCall[]>;
    /** Not final, no news since `beforeMs`, not checked since `checkedBeforeMs`. */
    quiet(beforeMs: number, checkedBeforeMs: number, limit: number): Promise<OutboundCall[]>;
    /** Which of these CallSids some outbound row already has. */
    knownSids(sids: string[]): Promise<Set<string>>;
  };

  /** Campaigns (see campaigns.ts): direct, with a couple of quick retries. */
  readonly campaigns: {
    create(
      s: CampaignSettings,
      rows: Array<{ to: string; params: Record<string, string> }>,
    ): Promise<string>;
    get(id: string): Promise<{ campaign: Campaign; rows: CampaignRow[] } | undefined>;
    withStatus(status: CampaignStatus): Promise<Campaign[]>;
    setStatus(
      id: string,
      status: CampaignStatus,
      opts?: { reason?: string; from?: CampaignStatus[] },
    ): Promise<boolean>;
    claim(campaignId: string, instance: string, now: number): Promise<ClaimedRow[]>;
    moveRow: (
      campaignId: string,
      index: number,
      from: CampaignRowState,
      to: RowMove,
    ) => Promise<boolean>;
    /** `self`: this instance's lease id (its own rows are never taken as abandoned). */
    finishedAttempts(now: number, self: string): Promise<FinishedAttempt[]>;
    cancel(id: string): Promise<boolean>;
    staleDialing(
      now: number,
      beforeMs: number,
      self: string,
    ): Promise<Array<{ campaignId: string; index: number; placed: boolean; exists: boolean }>>;
    completeFinished(): Promise<string[]>;
    recentOutcomes(campaignId: string, n: number): Promise<string[]>;
    list(limit: number): Promise<CampaignSummary[]>;
  };

  /** Writes waiting in memory. */
  readonly pending: number;
  /** True once every queued write is written; false if `timeoutMs` passes first. */
  flush(timeoutMs: number): Promise<boolean>;
  /** Flushes (default 5 s), logs any writes left unwritten, then closes the database. */
  close(timeoutMs?: number): Promise<void>;
}

export interface CallStoreOptions {
  logger: Logger;
  /** Writes held in memory before new ones are dropped; default 50 000 (tens of MB at most). */
  maxPending?: number;
  /** First retry delay after the database fails; default 100 ms, doubling up to `retryMaxMs`. */
  retryMinMs?: number;
  /** Longest retry delay; default 5 000 ms. */
  retryMaxMs?: number;
}

const BATCH_SIZE = 50;

export function createCallStore(db: Db, opts: CallStoreOptions): CallStore {
  const logger = opts.logger.child({ component: 'store', engine: db.engine });
  const queue = new WriteQueue<WriteOp>({
    apply: (batch) =>
      db.kysely.transaction().execute(async (trx) => {
        for (const op of batch) await applyOp(trx, op);
      }),
    // A failure while the database still answers `select 1` is the write's fault.
    isUnavailable: async (err) => isUnavailableError(err) || !(await db.ping()),
    describe: (op) => op.kind,
    logger,
    maxPending: opts.maxPending ?? 50_000,
    retryMinMs: opts.retryMinMs ?? 100,
    retryMaxMs: opts.retryMaxMs ?? 5_000,
    batchSize: BATCH_SIZE,
  });
  const push = (op: WriteOp): void => {
    queue.push(op); // false = dropped, already logged by the queue
  };
  const read = async <R>(what: string, run: () => Promise<R>): Promise<R> => {
    try {
      return await run();
    } catch (err) {
      throw toStoreError(err, what);
    }
  };
  let closing: Promise<void> | undefined;

  let eventSeq = 0;
  return {
    callConnected: (c) => push({ kind: 'callConnected', ...c }),
    callStarted: (id, s) => push({ kind: 'callStarted', id, ...s }),
    callStopped: (id, s) => push({ kind: 'callStopped', id, ...s }),
    callEnded: (id, e) => push({ kind: 'callEnded', id, ...e }),
    turnRecorded: (id, turn) => push({ kind: 'turn', id, at: Date.now(), turn }),
    eventRecorded: (id, e) =>
      push({
        kind: 'event',
        id,
        at: e.at,
        seq: ++eventSeq,
        event: e.kind,
        code: e.code,
        detail: e.detail,
      }),
    summaryUpdated: (id, s) => push({ kind: 'summary', id, at: Date.now(), ...s }),
    listCalls: (q) => read('listCalls', () => listCalls(db.kysely, q)),
    getCall: (key) => read('getCall', () => getCall(db.kysely, key)),
    putContext: (id, params, expiresAtMs) => putContext(db.kysely, id, params, expiresAtMs),
    getContext: (id, nowMs) => getContext(db.kysely, id, nowMs),
    putTransfer: (t) => putTransfer(db.kysely, t),
    getTransfer: (callSid) => getTransfer(db.kysely, callSid),
    renewLease: (id, ttlMs) => renewLease(db.kysely, id, Date.now(), ttlMs),
    releaseLease: (id) => releaseLease(db.kysely, id),
    sweepAbandoned: (orphanAfterMs) => sweepAbandoned(db.kysely, Date.now(), orphanAfterMs),
    outbound: {
      insert: (c) => insertOutbound(db.kysely, c),
      update: (id, u) => updateOutbound(db.kysely, id, u),
      get: (id) => getOutbound(db.kysely, id),
      countActive: () => countActiveOutbound(db.kysely),
      list: (limit) => listOutbound(db.kysely, limit),
      quiet: (before, checkedBefore, limit) =>
        quietOutbound(db.kysely, before, checkedBefore, limit),
      knownSids: (sids) => knownOutboundSids(db.kysely, sids),
    },
    campaigns: {
      create: (settings, rows) => createCampaign(db.kysely, settings, rows),
      get: (id) => getCampaign(db.kysely, id),
      withStatus: (status) => campaignsWithStatus(db.kysely, status),
      setStatus: (id, status, opts) => setCampaignStatus(db.kysely, id, status, opts),
      claim: (id, instance, now) => claimRows(db.kysely, db.engine, id, instance, now),
      moveRow: (id, index, from, to) => moveRow(db.kysely, id, index, from, to),
      finishedAttempts: (now, self) => finishedAttempts(db.kysely, now, self),
      cancel: (id) => cancelCampaign(db.kysely, id),
      staleDialing: (now, before, self) => staleDialing(db.kysely, now, before, self),
      completeFinished: () => completeFinished(db.kysely),
      recentOutcomes: (id, n) => recentOutcomes(db.kysely, id, n),
      list: (limit) => listCampaigns(db.kysely, limit),
    },
    get pending() {
      return queue.pending;
    },
    flush: (timeoutMs) => queue.flush(timeoutMs),
    close(timeoutMs = 5_000) {
      closing ??= (async () => {
        await queue.close(timeoutMs);
        await db.close();
      })();
      return closing;
    },
  };
}
