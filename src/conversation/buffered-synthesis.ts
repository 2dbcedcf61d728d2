/**
 * Starts a sentence's TTS at once and buffers its audio, so sentence N+1 is synthesized while
 * sentence N plays; iterating yields the buffered chunks, then live ones as they arrive.
 */
import type { TtsProvider } from '../providers/tts/types.js';

export class BufferedSynthesis implements AsyncIterable<Buffer> {
  private readonly chunks: Buffer[] = [];
  private done = false;
  private error: Error | undefined;
  private wake: (() => void) | undefined;
  requestAt = 0;
  firstByteAt: number | undefined;
  /** Bytes of PCM received so far. */
  bytes = 0;

  constructor(
    private readonly tts: TtsProvider,
    /** The sentence as written (what the record and heard-text keep). */
    readonly text: string,
    voice: string,
    signal: AbortSignal,
    /** What TTS is given: the sentence with its numbers in words. */
    readonly said: string = text,
  ) {
    void this.run(voice, signal);
  }

  get failed(): boolean {
    return this.error !== undefined;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    let i = 0;
    for (;;) {
      const chunk = this.chunks[i];
      if (chunk !== undefined) {
        // Drop our reference once handed out: a long sentence is not held twice.
        this.chunks[i++] = EMPTY;
        yield chunk;
        continue;
      }
      if (this.done) {
        if (this.error !== undefined) throw this.error;
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private async run(voice: string, signal: AbortSignal): Promise<void> {
    this.requestAt = performance.now();
    try {
      for await (const chunk of this.tts.synthesize({ text: this.said, voice, signal })) {
        this.firstByteAt ??= performance.now();
        this.bytes += chunk.length;
        this.chunks.push(chunk);
        this.notify();
      }
    } catch (err) {
      this.error = err instanceof Error ? err : new Error('tts failed', { cause: err });
    } finally {
      this.done = true;
      this.notify();
    }
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}

const EMPTY = Buffer.alloc(0);
