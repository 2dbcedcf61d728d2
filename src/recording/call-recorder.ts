/**
 * The call's recording: a stereo WAV at the stream rate, the caller on the left and the bot on the
 * right, on one timeline as the caller heard it.
 *
 * - The caller's audio is placed by stream position (Exotel streams it in real time, all call
 *   long), from the moment the recorder starts.
 * - The bot's frames are placed at the moment they start playing at Exotel (the player's
 *   timeline), and a `clear` drops what was scheduled after it: audio the caller never heard is
 *   not in the recording. Gaps are silence.
 * - Written as the call goes: every `flushEveryMs` the part of the timeline that can no longer
 *   change (older than `settleMs`) is interleaved and handed to a file stream, so the hot path
 *   only copies bytes into the timeline and never waits for the disk. A crash loses the last
 *   seconds; the header (sizes 0 until `close`) is repaired when the file is served
 *   (`recordings.ts`).
 * - The timeline not yet written is two buffers, one a channel, from sample `written` on: a frame
 *   is copied straight to its place (no allocation per frame), a `clear` zeroes the bot's from
 *   its point, and a flush interleaves the settled part a sample pair at a time and shifts both.
 * - Flushes come every 2 s: half the writes of 1 s, one more second lost in a crash (flushing
 *   every 1, 2 or 4 s measured the same within the noise, `bench/recording.ts`; the kernel's
 *   copy to disk is most of recording's cost). Allocating the interleaved block cost more than
 *   filling it (49 against 11 µs for a second at 16 kHz), so blocks come from a shared pool
 *   once the file has them.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Logger } from '../log.js';
import { wavHeader } from '../audio/wav.js';

export interface CallRecorderOptions {
  /** In a folder that exists (the app makes RECORDINGS_DIR at start-up). */
  path: string;
  sampleRate: number;
  log: Logger;
  /** The clock the player's play times are on; `performance.now` by default. */
  now?: () => number;
  flushEveryMs?: number;
  /** How old a moment must be before it is written (late caller audio, the player's lead). */
  settleMs?: number;
}

/** The unwritten timeline's first size, in seconds: a flush's interval, the settle time and lead. */
const LINE_SECONDS = 3;
/** How often the settled timeline is written, by default. */
const FLUSH_EVERY_MS = 2000;

/**
 * Interleaved blocks the file has finished with, shared by all recorders: a flush takes one big
 * enough and the write's callback gives it back. A block is out only while its write is in
 * flight, so a few serve every call. New blocks get a quarter more room than asked for: a late
 * timer makes a flush a little longer than the last, which must not miss the pool.
 */
const spareBlocks: Uint32Array[] = [];
const SPARE_BLOCKS = 16;

/** A block of at least `n` sample pairs (its contents are stale). */
function takeBlock(n: number): Uint32Array {
  for (let i = spareBlocks.length - 1; i >= 0; i--) {
    const block = spareBlocks[i]!;
    if (block.length < n) continue;
    spareBlocks[i] = spareBlocks[spareBlocks.length - 1]!;
    spareBlocks.pop();
    return block;
  }
  return new Uint32Array(Math.ceil((n * 1.25) / 1024) * 1024);
}

function giveBlock(block: Uint32Array): void {
  if (spareBlocks.length < SPARE_BLOCKS) return void spareBlocks.push(block);
  // Full: keep the larger blocks (they serve any flush).
  let smallest = 0;
  for (let i = 1; i < spareBlocks.length; i++)
    if (spareBlocks[i]!.length < spareBlocks[smallest]!.length) smallest = i;
  if (spareBlocks[smallest]!.length < block.length) spareBlocks[smallest] = block;
}

export class CallRecorder {
  private readonly startAt: number;
  private readonly now: () => number;
  private readonly file: WriteStream;
  private readonly timer: NodeJS.Timeout;
  /**
   * The timeline from `written` on, per channel (index 0 is sample `written`); zero wherever
   * nothing was placed. Grown when a frame lands past the end.
   */
  private left: Int16Array;
  private right: Int16Array;
  /** The same lines as bytes, where frames are copied to (made when a line is). */
  private leftBytes: Uint8Array;
  private rightBytes: Uint8Array;
  /** Caller samples received so far: the next caller frame's place. */
  private callerReceived = 0;
  /** End of the latest bot audio placed, on the timeline (what a `clear` may have to zero). */
  private botEnd = 0;
  /** Timeline samples settled so far (per channel): where the lines start. */
  private written = 0;
  /** Of those, the samples handed to the file (fewer after a write error). */
  private stored = 0;
  private closed = false;
  private failed = false;

  constructor(private readonly opts: CallRecorderOptions) {
    this.left = new Int16Array(opts.sampleRate * LINE_SECONDS);
    this.right = new Int16Array(opts.sampleRate * LINE_SECONDS);
    this.leftBytes = new Uint8Array(this.left.buffer);
    this.rightBytes = new Uint8Array(this.right.buffer);
    this.now = opts.now ?? (() => performance.now());
    this.startAt = this.now();
    this.file = createWriteStream(opts.path);
    this.file.on('error', (err) => {
      if (this.failed) return;
      this.failed = true;
      opts.log.error({ code: 'RECORDING_WRITE_FAILED', detail: err.message }, 'recording failed');
    });
    this.file.write(wavHeader(opts.sampleRate, 2, 0));
    this.timer = setInterval(() => this.flushSettled(), opts.flushEveryMs ?? FLUSH_EVERY_MS);
    this.timer.unref();
  }

  /** Seconds of the recording so far, in ms. */
  get durationMs(): number {
    return Math.round((this.stored / this.opts.sampleRate) * 1000);
  }

  /** Inbound audio: s16le mono at the stream rate, placed by stream position. */
  caller(pcm: Buffer): void {
    if (this.closed || pcm.length < 2) return;
    const at = this.callerReceived;
    this.callerReceived += pcm.length >> 1;
    this.place('left', pcm, at);
  }

  /** A bot frame (s16le mono at the stream rate) that starts playing at `playAt` (player clock). */
  botFrame(pcm: Buffer, playAt: number): void {
    if (this.closed || pcm.length < 2) return;
    const at = Math.max(this.written, this.sampleAt(playAt));
    this.place('right', pcm, at);
    this.botEnd = Math.max(this.botEnd, at + (pcm.length >> 1));
  }

  /** A `clear` at `at` (player clock): the bot audio scheduled from then on was never heard. */
  cleared(at: number): void {
    const cut = Math.max(this.sampleAt(at), this.written);
    if (cut >= this.botEnd) return;
    this.right.fill(0, cut - this.written, this.botEnd - this.written);
    this.botEnd = cut;
  }

  /**
   * Writes everything up to now and finalises the header in the background: the recording's
   * length in ms at once (for the call record, which must not wait for a disk), and `written`.
   */
  close(): { durationMs: number; written: Promise<void> } {
    if (this.closed) return { durationMs: this.durationMs, written: Promise.resolve() };
    this.closed = true;
    clearInterval(this.timer);
    // Bot audio queued at Exotel past the hang-up was never heard.
    const now = this.now();
    this.cleared(now);
    this.writeUpTo(Math.max(this.callerReceived, this.sampleAt(now)));
    return { durationMs: this.durationMs, written: this.finalise() };
  }

  private async finalise(): Promise<void> {
    await new Promise<void>((resolve) => this.file.end(resolve));
    if (this.failed) return;
    try {
      const fh = await open(this.opts.path, 'r+');
      try {
        await fh.write(wavHeader(this.opts.sampleRate, 2, this.stored * 4), 0, 44, 0);
      } finally {
        await fh.close();
      }
    } catch (err) {
      this.opts.log.error(
        { code: 'RECORDING_WRITE_FAILED', detail: (err as Error).message },
        'recording header not written',
      );
    }
  }

  private sampleAt(t: number): number {
    return Math.max(0, Math.round(((t - this.startAt) * this.opts.sampleRate) / 1000));
  }

  private flushSettled(): void {
    this.writeUpTo(this.sampleAt(this.now() - (this.opts.settleMs ?? 500)));
  }

  /**
   * Copies s16le `pcm` onto a channel's line from timeline sample `at` (the part before
   * `written` is too late to place), growing the lines if it ends past them.
   */
  private place(channel: 'left' | 'right', pcm: Buffer, at: number): void {
    const n = pcm.length >> 1;
    const skip = Math.max(0, this.written - at);
    if (skip >= n) return;
    this.reach(at + n);
    const bytes = channel === 'left' ? this.leftBytes : this.rightBytes;
    // Most frames land whole: no view to make for them.
    const whole = skip === 0 && pcm.length === n * 2;
    bytes.set(whole ? pcm : pcm.subarray(skip * 2, n * 2), (at + skip - this.written) * 2);
  }

  /** Grows both lines (doubling) so that they reach timeline sample `end`. */
  private reach(end: number): void {
    const need = end - this.written;
    if (need <= this.left.length) return;
    const size = Math.max(need, this.left.length * 2);
    const grow = (line: Int16Array) => {
      const bigger = new Int16Array(size);
      bigger.set(line);
      return bigger;
    };
    this.left = grow(this.left);
    this.right = grow(this.right);
    this.leftBytes = new Uint8Array(this.left.buffer);
    this.rightBytes = new Uint8Array(this.right.buffer);
  }

  /**
   * Interleaves [written, end) into the file and moves the timeline past it (after a write
   * error, only moves it: the call's audio is not kept in memory for a file that cannot take it).
   */
  private writeUpTo(end: number): void {
    const n = end - this.written;
    if (n <= 0) return;
    this.reach(end);
    const { left, right } = this;
    let out: Uint32Array | undefined;
    if (!this.failed) {
      // A stereo sample pair is one 32-bit word: the caller's sample in its low half (first in
      // memory on a little-endian host, as everything here assumes), the bot's in its high half.
      out = takeBlock(n);
      for (let i = 0; i < n; i++) out[i] = (left[i]! & 0xffff) | (right[i]! << 16);
    }
    left.copyWithin(0, n);
    left.fill(0, left.length - n);
    right.copyWithin(0, n);
    right.fill(0, right.length - n);
    this.written = end;
    this.botEnd = Math.max(this.botEnd, end);
    if (!out) return;
    this.stored += n;
    const block = out;
    this.file.write(Buffer.from(block.buffer, block.byteOffset, n * 4), () => giveBlock(block));
  }
}
