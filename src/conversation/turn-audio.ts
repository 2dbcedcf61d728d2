/**
 * The caller's recent inbound audio for the turn detector, addressed by stream sample index.
 * The detector says how far back it may still need (`keepFrom`: the pre-roll while idle, the
 * turn's first sample during a turn); older samples are dropped lazily, only when the buffer is
 * full, so appending a frame is one `set()` and a move of the kept part happens about once per
 * buffer's worth of audio. It grows by doubling during a long turn and is cut back to its idle
 * size by `release()` when the turn ends.
 */

export class TurnAudioBuffer {
  /** Stream sample index of `#data[0]`. */
  #base = 0;
  /** Samples held, from `#base`. */
  #length = 0;
  #keepFrom = 0;
  #data: Int16Array;
  readonly #idleCapacity: number;
  readonly #maxCapacity: number;

  /**
   * `idleCapacity`: samples to hold while idle (the pre-roll plus room for a few frames);
   * `maxCapacity`: the most a turn can need, so doubling stops there (only frames larger than the
   * margin included in it could push past it).
   */
  constructor(idleCapacity: number, maxCapacity = Infinity) {
    this.#idleCapacity = Math.max(1, Math.ceil(idleCapacity));
    this.#maxCapacity = Math.max(this.#idleCapacity, Math.ceil(maxCapacity));
    this.#data = new Int16Array(this.#idleCapacity);
  }

  /** Stream sample index one past the newest sample. */
  get end(): number {
    return this.#base + this.#length;
  }

  /** Samples currently allocated (for tests and memory figures). */
  get capacity(): number {
    return this.#data.length;
  }

  /** Samples before `sample` may be dropped from now on; never moves backwards. */
  keepFrom(sample: number): void {
    if (sample > this.#keepFrom) this.#keepFrom = sample;
  }

  /** Copies `pcm` in (the caller may reuse it afterwards). */
  append(pcm: Int16Array): void {
    if (this.#length + pcm.length > this.#data.length) this.#makeRoom(pcm.length);
    this.#data.set(pcm, this.#length);
    this.#length += pcm.length;
  }

  /** A new array with samples [from, to) of the stream; both must still be held. */
  copy(from: number, to: number): Int16Array {
    if (from < this.#base || to > this.end || from > to) {
      throw new RangeError(`audio [${from}, ${to}) is not held ([${this.#base}, ${this.end}))`);
    }
    return this.#data.slice(from - this.#base, to - this.#base);
  }

  /** Drops what is no longer needed and, after a long turn, returns to the idle size. */
  release(): void {
    this.#drop();
    if (this.#data.length > 2 * this.#idleCapacity && this.#length <= this.#idleCapacity / 2) {
      const data = new Int16Array(this.#idleCapacity);
      data.set(this.#data.subarray(0, this.#length));
      this.#data = data;
    }
  }

  #drop(): void {
    const drop = Math.min(Math.max(this.#keepFrom - this.#base, 0), this.#length);
    if (drop === 0) return;
    this.#data.copyWithin(0, drop, this.#length);
    this.#base += drop;
    this.#length -= drop;
  }

  #makeRoom(incoming: number): void {
    this.#drop();
    const needed = this.#length + incoming;
    // Grow unless at least a quarter stays free, so a buffer that is nearly all kept audio is not
    // shuffled on every frame.
    if (needed <= 0.75 * this.#data.length) return;
    if (needed <= this.#data.length && this.#data.length >= this.#maxCapacity) return;
    const data = new Int16Array(
      Math.max(needed, Math.min(2 * this.#data.length, this.#maxCapacity)),
    );
    data.set(this.#data.subarray(0, this.#length));
    this.#data = data;
  }
}
