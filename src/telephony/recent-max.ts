/**
 * The largest value recorded in the last `memoryMs`, kept as the largest of each `bucketMs` bucket
 * of time: constant memory and work however many values come in (hundreds of calls' replies or a
 * pacer tick every 20 ms), at the price of forgetting a value up to one bucket late. The pacer
 * keeps its clock's stalls this way and the start cushion its replies' needs.
 */
export class RecentMax {
  /** The largest value of each bucket still remembered, keyed by bucket number. */
  readonly #buckets = new Map<number, number>();
  readonly #bucketMs: number;
  readonly #count: number;

  constructor(memoryMs: number, bucketMs = 5_000) {
    this.#bucketMs = bucketMs;
    this.#count = Math.max(1, Math.ceil(memoryMs / bucketMs));
  }

  record(value: number, now: number): void {
    const bucket = Math.floor(now / this.#bucketMs);
    if (!this.#buckets.has(bucket)) {
      for (const old of this.#buckets.keys()) {
        if (old <= bucket - this.#count) this.#buckets.delete(old);
      }
    }
    if (value > (this.#buckets.get(bucket) ?? -Infinity)) this.#buckets.set(bucket, value);
  }

  /** The largest value recorded in the memory as of `now`; undefined when there is none. */
  max(now: number): number | undefined {
    const oldest = Math.floor(now / this.#bucketMs) - this.#count + 1;
    let max: number | undefined;
    for (const [bucket, value] of this.#buckets) {
      if (bucket >= oldest && (max === undefined || value > max)) max = value;
    }
    return max;
  }
}
