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
 *   only copies buffers and never waits for the disk. A crash loses the last seconds; the header
 *   (sizes 0 until `close`) is repaired when the file is served (`recordings.ts`).
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

interface BotFrame {
  /** First sample on the recording's timeline. */
  at: number;
  samples: Int16Array;
}

export class CallRecorder {
  private readonly startAt: number;
  private readonly now: () => number;
  private readonly file: WriteStream;
  private readonly timer: NodeJS.Timeout;
  /** Caller samples received and not yet written, from `callerFrom` on. */
  private callerChunks: Int16Array[] = [];
  private callerFrom = 0;
  private callerReceived = 0;
  private bot: BotFrame[] = [];
  /** Samples written so far (per channel). */
  private written = 0;
  private closed = false;
  private failed = false;

  constructor(private readonly opts: CallRecorderOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.startAt = this.now();
    this.file = createWriteStream(opts.path);
    this.file.on('error', (err) => {
      if (this.failed) return;
      this.failed = true;
      opts.log.error({ code: 'RECORDING_WRITE_FAILED', detail: err.message }, 'recording failed');
    });
    this.file.write(wavHeader(opts.sampleRate, 2, 0));
    this.timer = setInterval(() => this.flushSettled(), opts.flushEveryMs ?? 1000);
    this.timer.unref();
  }

  /** Seconds of the recording so far, in ms. */
  get durationMs(): number {
    return Math.round((this.written / this.opts.sampleRate) * 1000);
  }

  /** Inbound audio: s16le mono at the stream rate. */
  caller(pcm: Buffer): void {
    if (this.closed || pcm.length < 2) return;
    const samples = toSamples(pcm);
    this.callerChunks.push(samples);
    this.callerReceived += samples.length;
  }

  /** A bot frame (s16le mono at the stream rate) that starts playing at `playAt` (player clock). */
  botFrame(pcm: Buffer, playAt: number): void {
    if (this.closed || pcm.length < 2) return;
    const samples = toSamples(pcm);
    this.bot.push({ at: Math.max(this.written, this.sampleAt(playAt)), samples });
  }

  /** A `clear` at `at` (player clock): the bot audio scheduled from then on was never heard. */
  cleared(at: number): void {
    const cut = this.sampleAt(at);
    this.bot = this.bot.flatMap((f) => {
      if (f.at >= cut) return [];
      if (f.at + f.samples.length <= cut) return [f];
      return [{ at: f.at, samples: f.samples.subarray(0, cut - f.at) }];
    });
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
        await fh.write(wavHeader(this.opts.sampleRate, 2, this.written * 4), 0, 44, 0);
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

  /** Interleaves [written, end) into the file and forgets it. */
  private writeUpTo(end: number): void {
    const from = this.written;
    const n = end - from;
    if (n <= 0 || this.failed) return;
    const out = new Int16Array(n * 2);
    // Left: the caller, by stream position.
    let pos = this.callerFrom;
    const keep: Int16Array[] = [];
    for (const chunk of this.callerChunks) {
      const chunkEnd = pos + chunk.length;
      const a = Math.max(pos, from);
      const b = Math.min(chunkEnd, end);
      for (let s = a; s < b; s++) out[(s - from) * 2] = chunk[s - pos]!;
      if (chunkEnd > end) keep.push(b > pos ? chunk.subarray(b - pos) : chunk);
      pos = chunkEnd;
    }
    const consumed =
      this.callerChunks.reduce((a, c) => a + c.length, 0) - keep.reduce((a, c) => a + c.length, 0);
    this.callerChunks = keep;
    this.callerFrom += consumed;
    // Right: the bot, where each frame plays.
    const pending: BotFrame[] = [];
    for (const f of this.bot) {
      const fEnd = f.at + f.samples.length;
      const a = Math.max(f.at, from);
      const b = Math.min(fEnd, end);
      for (let s = a; s < b; s++) out[(s - from) * 2 + 1] = f.samples[s - f.at]!;
      if (fEnd > end) pending.push(b > f.at ? { at: b, samples: f.samples.subarray(b - f.at) } : f);
    }
    this.bot = pending;
    this.written = end;
    this.file.write(Buffer.from(out.buffer, out.byteOffset, out.byteLength));
  }
}

/** s16le bytes as samples on a little-endian host, as src/audio/pcm.ts (a copy: the frame may be unaligned). */
function toSamples(pcm: Buffer): Int16Array {
  const samples = new Int16Array(pcm.length >> 1);
  new Uint8Array(samples.buffer).set(pcm.subarray(0, samples.length * 2));
  return samples;
}
