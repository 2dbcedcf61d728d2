/**
 * When an idle inference thread should take a small batch at once, and when it should hold it a
 * few milliseconds for more streams. A thread's round trip costs about the same for one stream as
 * for several (a message each way, a thread woken, one model run a step for the whole batch), so
 * with callers out of step, where a frame needing Silero arrives every millisecond or so and the
 * thread is idle between them, batches of one or two cost two to three times the CPU a window of
 * a batch of eight does (`npm run bench:silero`).
 *
 * The rule: hold a batch smaller than `fullBatch` until its oldest run has waited `holdMs`, but
 * only while the arrival rate says another stream is due before then. A lone call (ten frames a
 * second) is never held, so one call's endpoint is not delayed; a loaded server delays a window's
 * decision by at most `holdMs`.
 *
 * The rate is an exponentially decaying count of arrivals (time constant `tauMs`): at a steady
 * rate of r arrivals a millisecond it settles at r, and it follows a change within about `tauMs`.
 */
export interface BatchHoldOptions {
  /** Longest a run waits for company; 0 never holds. */
  holdMs: number;
  /** A batch this large goes at once. */
  fullBatch: number;
  /** The rate's memory, ms. */
  tauMs?: number;
}

export class BatchHold {
  readonly holdMs: number;
  readonly fullBatch: number;
  readonly #tauMs: number;
  /** Arrivals a millisecond as of `#at`. */
  #rate = 0;
  #at = 0;

  constructor(options: BatchHoldOptions) {
    this.holdMs = Math.max(0, options.holdMs);
    this.fullBatch = Math.max(1, options.fullBatch);
    this.#tauMs = options.tauMs ?? 1000;
  }

  /** Notes one run's arrival at `now` (ms, any monotonic clock). */
  arrived(now: number): void {
    this.#rate = this.rate(now) + 1 / this.#tauMs;
    this.#at = now;
  }

  /** Arrivals expected a millisecond, as of `now`. */
  rate(now: number): number {
    const dt = now - this.#at;
    return dt <= 0 ? this.#rate : this.#rate * Math.exp(-dt / this.#tauMs);
  }

  /**
   * How long to hold a batch of `queued` runs whose oldest arrived at `oldestAt`: 0 sends it now
   * (the hold is off, the batch is full, its oldest has waited long enough, or nobody else is
   * expected before the hold would end).
   */
  wait(queued: number, oldestAt: number, now: number): number {
    if (this.holdMs === 0 || queued >= this.fullBatch) return 0;
    const left = oldestAt + this.holdMs - now;
    if (left <= 0) return 0;
    return this.rate(now) * left >= 1 ? left : 0;
  }
}
