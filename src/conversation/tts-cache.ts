/**
 * Cache of synthesized audio at the stream rate, keyed by everything that changes the sound
 * (text, voice, model, rate). A repeated greeting or fallback line costs no TTS call and starts
 * at once. Least recently used entries go first once `maxBytes` is reached.
 */

export function ttsCacheKey(
  text: string,
  voice: string,
  model: string,
  sampleRate: number,
): string {
  return JSON.stringify([model, voice, sampleRate, text]);
}

export class TtsCache {
  private readonly entries = new Map<string, Buffer>();
  private readonly filling = new Map<string, Promise<void>>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(readonly maxBytes: number) {}

  get(key: string): Buffer | undefined {
    const hit = this.entries.get(key);
    if (!hit) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit;
  }

  /** Presence check that does not count as a hit or a miss. */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  set(key: string, pcm: Buffer): void {
    if (pcm.length > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old) {
      this.bytes -= old.length;
      this.entries.delete(key);
    }
    this.entries.set(key, pcm);
    this.bytes += pcm.length;
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= v.length;
    }
  }

  /**
   * Makes the entry with `make` unless it is there or already being made (calls starting
   * together share one synthesis). Rejects with `make`'s error; nothing is stored then.
   */
  fill(key: string, make: () => Promise<Buffer | undefined>): Promise<void> {
    if (this.entries.has(key)) return Promise.resolve();
    let pending = this.filling.get(key);
    if (!pending) {
      pending = make()
        .then((pcm) => {
          if (pcm) this.set(key, pcm);
        })
        .finally(() => this.filling.delete(key));
      this.filling.set(key, pending);
    }
    return pending;
  }

  get size(): number {
    return this.entries.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }
}
