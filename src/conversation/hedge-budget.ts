/**
 * How many hedged requests (a second, speculative STT request for a first one that is slow) a
 * process may make. Each first request earns `ratio` of a hedge, up to `burst` saved; a hedge
 * spends one. When the provider is slow for everybody (its outage, or this server overloaded),
 * hedging every request would double the load exactly when it hurts most; with the budget the
 * hedges stay near `ratio` of the requests ("The Tail at Scale", Dean and Barroso, 2013).
 * Retrying a request that failed is not a hedge and is not counted here.
 */
export class HedgeBudget {
  private tokens: number;

  constructor(
    private readonly ratio = 0.1,
    private readonly burst = 10,
  ) {
    this.tokens = burst;
  }

  /** A first request was made. */
  earn(): void {
    this.tokens = Math.min(this.burst, this.tokens + this.ratio);
  }

  /** Whether a hedge may be made now (and if so, it is counted). */
  take(): boolean {
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** The process's budget, shared by its calls. */
export const PROCESS_HEDGE_BUDGET = new HedgeBudget();
