/**
 * This instance's lease: renewed every third of its TTL while the server runs, released on a
 * clean stop. And the sweeper: at start-up and every half TTL, live calls whose owner's lease has
 * lapsed (an instance that was killed or crashed) are finalised as `abandoned`. With several
 * instances (or workers) each keeps its own lease and any of them sweeps.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { errorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { CallStore } from '../store/index.js';

export class LeaseKeeper {
  /** What this instance's live calls record as their owner. */
  readonly id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private renewTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly store: CallStore,
    private readonly ttlMs: number,
    private readonly log: Logger,
  ) {}

  /** Takes the lease and sweeps once; then keeps both going. Never throws. */
  async start(): Promise<void> {
    await this.renew();
    await this.sweep();
    this.renewTimer = setInterval(() => void this.renew(), Math.max(500, this.ttlMs / 3));
    this.sweepTimer = setInterval(() => void this.sweep(), this.ttlMs / 2);
    this.renewTimer.unref();
    this.sweepTimer.unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.renewTimer);
    clearInterval(this.sweepTimer);
    await this.store.releaseLease(this.id).catch((err: unknown) => {
      this.log.warn({ code: errorCode(err) }, 'lease not released (it will lapse)');
    });
  }

  private async renew(): Promise<void> {
    if (this.closed) return;
    try {
      await this.store.renewLease(this.id, this.ttlMs);
    } catch (err) {
      this.log.error({ code: errorCode(err) }, 'lease not renewed: the database is unreachable');
    }
  }

  private async sweep(): Promise<void> {
    if (this.closed) return;
    try {
      const abandoned = await this.store.sweepAbandoned(this.ttlMs * 2);
      if (abandoned > 0) {
        this.log.warn(
          { code: 'CALLS_ABANDONED', calls: abandoned },
          'finalised the calls of a lost instance',
        );
      }
    } catch (err) {
      this.log.warn({ code: errorCode(err) }, 'sweep for abandoned calls failed; will retry');
    }
  }
}
