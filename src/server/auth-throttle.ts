/**
 * Back-off for guessed keys: after a few wrong keys from one client, that client waits before
 * it may try again, twice as long after each further wrong key (up to a ceiling); a right key
 * clears its record. Bounded: the oldest records go first past `maxClients`.
 */

export interface AuthThrottleOptions {
  /** Wrong keys allowed before the first wait. Default 5. */
  freeFailures?: number;
  /** The first wait. Default 1 s. */
  baseMs?: number;
  /** The longest wait. Default 5 minutes. */
  maxMs?: number;
  maxClients?: number;
  now?: () => number;
}

interface Record {
  failures: number;
  blockedUntil: number;
}

export class AuthThrottle {
  private readonly clients = new Map<string, Record>();
  private readonly free: number;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly maxClients: number;
  private readonly now: () => number;

  constructor(opts: AuthThrottleOptions = {}) {
    this.free = opts.freeFailures ?? 5;
    this.baseMs = opts.baseMs ?? 1_000;
    this.maxMs = opts.maxMs ?? 5 * 60 * 1000;
    this.maxClients = opts.maxClients ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** Milliseconds this client must still wait before a key is even checked (0: go ahead). */
  waitMs(client: string): number {
    const r = this.clients.get(client);
    return r ? Math.max(0, r.blockedUntil - this.now()) : 0;
  }

  failed(client: string): void {
    const r = this.clients.get(client) ?? { failures: 0, blockedUntil: 0 };
    this.clients.delete(client);
    r.failures++;
    const over = r.failures - this.free;
    if (over >= 0) r.blockedUntil = this.now() + Math.min(this.maxMs, this.baseMs * 2 ** over);
    this.clients.set(client, r);
    if (this.clients.size > this.maxClients) {
      const oldest = this.clients.keys().next().value;
      if (oldest !== undefined) this.clients.delete(oldest);
    }
  }

  succeeded(client: string): void {
    this.clients.delete(client);
  }
}
