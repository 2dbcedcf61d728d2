/**
 * Outbound framing for Exotel: every media message must carry a multiple of 320 bytes of PCM16
 * (10 ms at 8 kHz) and at most 100 KB. A chunk that is not a multiple of 320 leaves a short
 * packet and an audible gap, so the last chunk of an utterance is padded with silence.
 */

import { VoicebotError } from '../errors.js';

/** Every outbound chunk is a multiple of this many bytes. */
export const EXOTEL_CHUNK_ALIGN_BYTES = 320;
/** Largest outbound chunk Exotel accepts in one media message. */
export const EXOTEL_MAX_CHUNK_BYTES = 100_000;

function assertFrameBytes(frameBytes: number): void {
  if (
    !Number.isInteger(frameBytes) ||
    frameBytes <= 0 ||
    frameBytes % EXOTEL_CHUNK_ALIGN_BYTES !== 0 ||
    frameBytes > EXOTEL_MAX_CHUNK_BYTES
  ) {
    throw new VoicebotError(
      'AUDIO_INVALID',
      `frame size ${frameBytes} bytes is not a positive multiple of 320 up to 100000`,
    );
  }
}

/**
 * Bytes of PCM16 mono in `frameMs` milliseconds at `sampleRate` Hz: 320 at 8 kHz, 640 at
 * 16 kHz, 960 at 24 kHz for 20 ms. Throws `AUDIO_INVALID` unless the result is a positive
 * multiple of 320 bytes and at most 100 KB (e.g. 10 ms at 8 kHz is 160 bytes: rejected).
 */
export function frameBytesFor(sampleRate: number, frameMs = 20): number {
  const frameBytes = (sampleRate * 2 * frameMs) / 1000;
  assertFrameBytes(frameBytes);
  return frameBytes;
}

/**
 * Cuts a stream of PCM16 bytes (any chunk sizes) into frames of exactly `frameBytes`.
 * Whole frames inside a pushed chunk are returned as views of it, without copying, so do not
 * modify a chunk after pushing it; only a frame that straddles chunks is copied.
 */
export class FrameSplitter {
  readonly frameBytes: number;
  /** Holds the start of a frame that straddles pushes; allocated on demand. */
  private partial: Buffer | null = null;
  private partialBytes = 0;

  constructor(frameBytes: number) {
    assertFrameBytes(frameBytes);
    this.frameBytes = frameBytes;
  }

  /** Bytes held back until the next push completes a frame (always less than a frame). */
  get pendingBytes(): number {
    return this.partialBytes;
  }

  /** Returns every frame completed by `bytes`, in order; keeps the remainder. */
  push(bytes: Uint8Array): Buffer[] {
    const frames: Buffer[] = [];
    let at = 0;
    const partial = this.partial;
    if (partial !== null && this.partialBytes > 0) {
      const take = Math.min(this.frameBytes - this.partialBytes, bytes.byteLength);
      partial.set(bytes.subarray(0, take), this.partialBytes);
      this.partialBytes += take;
      at = take;
      if (this.partialBytes < this.frameBytes) return frames;
      frames.push(partial);
      this.partial = null;
      this.partialBytes = 0;
    }
    for (; at + this.frameBytes <= bytes.byteLength; at += this.frameBytes) {
      frames.push(Buffer.from(bytes.buffer, bytes.byteOffset + at, this.frameBytes));
    }
    if (at < bytes.byteLength) {
      this.partial ??= Buffer.allocUnsafe(this.frameBytes);
      this.partial.set(bytes.subarray(at), 0);
      this.partialBytes = bytes.byteLength - at;
    }
    return frames;
  }

  /**
   * Returns the held-back remainder padded with zero bytes (silence) up to the next multiple
   * of 320 bytes, which can be shorter than a whole frame; null when nothing is pending.
   */
  flush(): Buffer | null {
    if (this.partial === null || this.partialBytes === 0) return null;
    const padded =
      Math.ceil(this.partialBytes / EXOTEL_CHUNK_ALIGN_BYTES) * EXOTEL_CHUNK_ALIGN_BYTES;
    const out = this.partial.subarray(0, padded).fill(0, this.partialBytes);
    this.partial = null;
    this.partialBytes = 0;
    return out;
  }

  /** Drops the held-back remainder (e.g. on barge-in). */
  reset(): void {
    this.partialBytes = 0;
  }
}
