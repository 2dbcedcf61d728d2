/**
 * The part of the store that loses nothing while the database is down. Writes wait in one FIFO
 * (order matters: a call is created before it is updated) and are applied in small batches, each
 * in one transaction. A batch that fails because the database is unreachable or busy stays at the
 * head and is retried with exponential backoff and jitter, for as long as the process lives.
 *
 * Bounds: at most `maxPending` writes wait in memory. Beyond that, NEW writes are dropped (and
 * logged as STORE_QUEUE_FULL): the oldest writes are kept because they hold the call rows the
 * later ones describe, and because dropping the newest keeps memory flat however long the outage.
 * A write the database rejects while it is up (a bug, not an outage) is dropped alone after one
 * retry on its own, so it cannot block the queue.
 *
 * Logs: one warning when the database goes down, one info when it comes back, never personal
 * data (only counts, op kinds and error codes).
 */
import type { Logger } from '../log.js';
import { describeDbError } from './db-errors.js';

export interface WriteQueueOptions<T> {
  /** Writes the batch in one transaction; all or nothing. */
  apply(batch: readonly T[]): Promise<void>;
  /** True when `err` means "the database is unreachable or busy" rather than "this write is bad". */
  isUnavailable(err: unknown): Promise<boolean>;
  /** A log-safe name for an op (its kind, never its content). */
  describe(op: T): string;
  logger: Logger;
  maxPending: number;
  retryMinMs: number;
  retryMaxMs: number;
  batchSize: number;
}

const DROP_LOG_INTERVAL_MS = 10_000;

export class WriteQueue<T> {
  readonly #o: WriteQueueOptions<T>;
  readonly #items: T[] = [];
  #busy = false;
  #draining: Promise<void> = Promise.resolve();
  #retryTimer: NodeJS.Timeout | undefined;
  #failures = 0;
  #downSince: number | undefined;
  #closed = false;
  #stopped = false;
  #dropped = 0;
  #droppedUnlogged = 0;
  #lastDropLogAt: number | undefined;
  readonly #idleWaiters = new Set<() => void>();

  constructor(options: WriteQueueOptions<T>) {
    this.#o = options;
  }

  /** Writes waiting in memory, including the batch being written. */
  get pending(): number {
    return this.#items.length;
  }

  /** Queues a write; returns false (and logs) when it was dropped. Never throws. */
  push(op: T): boolean {
    if (this.#closed || this.#items.length >= this.#o.maxPending) {
      this.#noteDrop(op);
      return false;
    }
    this.#items.push(op);
    this.#kick();
    return true;
  }

  /** Resolves true once every queued write is written, false when `timeoutMs` passes first. */
  flush(timeoutMs: number): Promise<boolean> {
    if (this.#items.length === 0) return Promise.resolve(true);
    if (this.#retryTimer !== undefined) {
      clearTimeout(this.#retryTimer); // someone is waiting: try now rather than after the backoff
      this.#retryTimer = undefined;
    }
    this.#kick();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#idleWaiters.delete(done);
        resolve(true);
      };
      // Not unref'd: whoever awaits a flush (shutdown) must still be running when it answers.
      const timer = setTimeout(() => {
        this.#idleWaiters.delete(done);
        resolve(false);
      }, timeoutMs);
      this.#idleWaiters.add(done);
    });
  }

  /**
   * Flushes for up to `timeoutMs`, then stops retrying. Returns how many writes were left
   * unwritten (and logs them as an error: they are lost). Later pushes are dropped.
   */
  async close(timeoutMs: number): Promise<number> {
    this.#closed = true;
    const flushed = await this.flush(timeoutMs);
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    await this.#draining;
    this.#logDrops();
    const unwritten = this.#items.length;
    if (!flushed && unwritten > 0) {
      this.#o.logger.error(
        { code: 'STORE_UNAVAILABLE', unwritten, timeoutMs },
        'store closed before every write was written; these writes are lost',
      );
    }
    return unwritten;
  }

  #kick(): void {
    if (this.#busy || this.#stopped || this.#retryTimer !== undefined) return;
    if (this.#items.length === 0) return;
    this.#busy = true;
    this.#draining = this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#items.length > 0 && !this.#stopped) {
        const batch = this.#items.slice(0, this.#o.batchSize);
        if (!(await this.#attempt(batch))) {
          this.#scheduleRetry();
          return;
        }
      }
      if (this.#items.length === 0) for (const done of [...this.#idleWaiters]) done();
    } catch (err) {
      // Only a bug in this class lands here; keep the writes and try again later.
      this.#o.logger.error({ ...describeDbError(err) }, 'store write queue failed');
      this.#scheduleRetry();
    } finally {
      this.#busy = false;
    }
  }

  /** Writes the head batch; false when the database is unavailable (the batch stays queued). */
  async #attempt(batch: readonly T[]): Promise<boolean> {
    try {
      await this.#o.apply(batch);
      this.#written(batch.length);
      return true;
    } catch (err) {
      if (await this.#unavailable(err)) return this.#down(err);
    }
    // The database is up but refused the batch: find the bad write by writing them one by one.
    for (const op of batch) {
      try {
        await this.#o.apply([op]);
        this.#written(1);
      } catch (err) {
        if (await this.#unavailable(err)) return this.#down(err);
        this.#items.shift();
        this.#o.logger.error(
          { ...describeDbError(err), op: this.#o.describe(op), pending: this.#items.length },
          'store write rejected by the database; dropped',
        );
      }
    }
    return true;
  }

  async #unavailable(err: unknown): Promise<boolean> {
    try {
      return await this.#o.isUnavailable(err);
    } catch {
      return true; // cannot tell: waiting is the choice that loses nothing
    }
  }

  #written(count: number): void {
    this.#items.splice(0, count);
    this.#failures = 0;
    if (this.#downSince !== undefined) {
      this.#o.logger.info(
        { written: count, pending: this.#items.length, downMs: Date.now() - this.#downSince },
        'store available again; writing held writes',
      );
      this.#downSince = undefined;
    }
    if (this.#droppedUnlogged > 0) this.#logDrops();
  }

  #down(err: unknown): false {
    this.#failures += 1;
    if (this.#downSince === undefined) {
      this.#downSince = Date.now();
      this.#o.logger.warn(
        { code: 'STORE_UNAVAILABLE', ...describeDbError(err), pending: this.#items.length },
        'store unavailable; holding writes in memory',
      );
    }
    return false;
  }

  #scheduleRetry(): void {
    if (this.#stopped) return;
    const exp = this.#o.retryMinMs * 2 ** Math.min(this.#failures - 1, 16);
    const ceiling = Math.min(this.#o.retryMaxMs, Math.max(this.#o.retryMinMs, exp));
    const delay = ceiling / 2 + (Math.random() * ceiling) / 2; // "equal jitter"
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#kick();
    }, delay);
    this.#retryTimer.unref();
  }

  #noteDrop(op: T): void {
    this.#dropped += 1;
    this.#droppedUnlogged += 1;
    const now = Date.now();
    if (this.#lastDropLogAt === undefined || now - this.#lastDropLogAt >= DROP_LOG_INTERVAL_MS) {
      this.#logDrops(this.#o.describe(op));
    }
  }

  #logDrops(op?: string): void {
    if (this.#droppedUnlogged === 0) return;
    this.#o.logger.error(
      {
        code: 'STORE_QUEUE_FULL',
        dropped: this.#droppedUnlogged,
        droppedTotal: this.#dropped,
        maxPending: this.#o.maxPending,
        closed: this.#closed,
        ...(op === undefined ? {} : { op }),
      },
      this.#closed ? 'store closed; write dropped' : 'store write queue full; write dropped',
    );
    this.#droppedUnlogged = 0;
    this.#lastDropLogAt = Date.now();
  }
}
