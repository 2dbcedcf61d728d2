/**
 * How many WebSockets this instance holds, in all and per client address. A connection counts
 * from the upgrade request to the socket's close, whether or not it ever starts a call, so a
 * flood of idle upgrades meets the same limits as real calls.
 */

export type Refusal = 'max_calls' | 'per_ip';

export class ConnectionLimiter {
  private total = 0;
  private readonly byIp = new Map<string, number>();

  constructor(
    private readonly maxCalls: number,
    private readonly maxPerIp: number,
  ) {}

  /** Takes a place for a connection from `ip`; returns the reason when there is none. */
  acquire(ip: string): Refusal | undefined {
    if (this.total >= this.maxCalls) return 'max_calls';
    const fromIp = this.byIp.get(ip) ?? 0;
    if (fromIp >= this.maxPerIp) return 'per_ip';
    this.total++;
    this.byIp.set(ip, fromIp + 1);
    return undefined;
  }

  release(ip: string): void {
    const fromIp = this.byIp.get(ip);
    if (fromIp === undefined) return;
    this.total--;
    if (fromIp <= 1) this.byIp.delete(ip);
    else this.byIp.set(ip, fromIp - 1);
  }

  get size(): number {
    return this.total;
  }
}
