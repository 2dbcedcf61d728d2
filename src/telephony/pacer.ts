/**
 * One clock for every player in the process. Pacing hundreds of calls with one timer costs one
 * wake-up per tick instead of one per call per frame; a player is on the clock only while it has
 * audio queued.
 */

export interface Pumpable {
  /** Sends whatever is due at `now` (performance.now() milliseconds). */
  pump(now: number): void;
}

export class Pacer {
  private readonly active = new Set<Pumpable>();
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly tickMs: number) {}

  register(p: Pumpable): void {
    this.active.add(p);
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.tickMs);
    }
  }

  unregister(p: Pumpable): void {
    this.active.delete(p);
    if (this.active.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  get size(): number {
    return this.active.size;
  }

  close(): void {
    this.active.clear();
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const now = performance.now();
    for (const p of this.active) p.pump(now);
  }
}
