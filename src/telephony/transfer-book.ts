/**
 * Where a call's transfer decision is kept between the moment the bot hands the caller over and
 * the moment Exotel's flow asks for it (Passthru, then Connect): the database, so any instance
 * can answer, and a short-lived copy in this process, so the instance that decided can answer
 * even while the database is down.
 */
import { errorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { CallStore, TransferDecision } from '../store/index.js';

/** How long a decision is kept in memory: the flow asks within seconds. */
const KEEP_MS = 10 * 60 * 1000;
const MAX_KEPT = 10_000;

export class TransferBook {
  private readonly recent = new Map<string, TransferDecision>();

  constructor(
    private readonly store: CallStore,
    private readonly log: Logger,
  ) {}

  /** Keeps the decision; resolves once the database has it (or has failed to take it). */
  async record(t: TransferDecision): Promise<void> {
    this.prune(t.at);
    this.recent.set(t.callSid, t);
    try {
      await this.store.putTransfer(t);
    } catch (err) {
      this.log.error(
        { code: 'TRANSFER_NOT_STORED', cause: errorCode(err) },
        'transfer decision kept in this process only',
      );
    }
  }

  /** The decision for this call, if it asked for a person. Throws STORE_UNAVAILABLE. */
  async find(callSid: string): Promise<TransferDecision | undefined> {
    return this.recent.get(callSid) ?? (await this.store.getTransfer(callSid));
  }

  private prune(now: number): void {
    for (const [sid, t] of this.recent) {
      if (now - t.at < KEEP_MS && this.recent.size < MAX_KEPT) break;
      this.recent.delete(sid);
    }
  }
}
