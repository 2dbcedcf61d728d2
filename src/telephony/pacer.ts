/**
 * One clock for every player in the process. Pacing hundreds of calls with one timer costs one
 * wake-up per tick instead of one per call per frame; a player is on the clock only while it has
 * audio queued.
 *
 * The clock also watches itself: a tick that comes late means the event loop was held (a long
 * task, a collection, a busy machine taking the core away), and for that long no call's audio
 * went out. Players keep at least the longest recent stall queued ahead at Exotel
 * (`leadFor`), so that the next stall of that size is ridden out instead of heard as a gap.
 */

import { RecentMax } from './recent-max.js';

export interface Pumpable {
  /** Sends whatever is due at `now` (performance.now() milliseconds). */
  pump(now: number): void;
}

/** Stalls are remembered this long (in 5 s buckets) after they happen. */
export const STALL_MEMORY_MS = 60_000;

export class Pacer {
  private readonly active = new Set<Pumpable>();
  private timer: NodeJS.Timeout | undefined;
  private lastTickAt: number | undefined;
  /** The longest stalls of the last STALL_MEMORY_MS. */
  private readonly stalls = new RecentMax(STALL_MEMORY_MS);

  constructor(readonly tickMs: number) {}

  register(p: Pumpable): void {
    this.active.add(p);
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(performance.now()), this.tickMs);
    }
  }

  unregister(p: Pumpable): void {
    this.active.delete(p);
    if (this.active.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.lastTickAt = undefined; // an idle clock is not a stalled one
    }
  }

  get size(): number {
    return this.active.size;
  }

  close(): void {
    this.active.clear();
    clearInterval(this.timer);
    this.timer = undefined;
    this.lastTickAt = undefined;
  }

  /** One tick: pumps every player. The interval timer calls it; tests drive it by hand. */
  tick(now: number): void {
    if (this.lastTickAt !== undefined) this.noteStall(now, now - this.lastTickAt - this.tickMs);
    this.lastTickAt = now;
    for (const p of this.active) p.pump(now);
  }

  /** The longest stall (ms the clock came late) in the last `STALL_MEMORY_MS`; 0 for none. */
  recentStallMs(now: number): number {
    return this.stalls.max(now) ?? 0;
  }

  /**
   * The audio a player should keep queued ahead of real time: `baseMs`, or enough to ride out
   * the longest recent stall and the tick after it, up to `maxMs`.
   */
  leadFor(baseMs: number, maxMs: number, now: number): number {
    const stall = this.recentStallMs(now);
    if (stall === 0) return baseMs;
    return Math.min(Math.max(baseMs, stall + this.tickMs), Math.max(baseMs, maxMs));
  }

  private noteStall(now: number, lateMs: number): void {
    if (lateMs > 0) this.stalls.record(lateMs, now);
  }
}
