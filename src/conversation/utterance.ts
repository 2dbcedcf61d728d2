/**
 * One thing the bot says: PCM written at any rate is resampled to the stream rate, cut into
 * frames and queued on the player; `end()` queues its mark. `played` settles once the caller has
 * heard it all (mark echoed), or it was cleared (barge-in), cancelled, or the call ended.
 */
import { FrameSplitter, bytesFromPcm, pcmFromBytes, type StreamResampler } from '../audio/index.js';
import type { OutboundPlayer } from './player.js';

export type UtteranceKind = 'greeting_done' | 'response_done' | 'fallback_done';

export interface PlaybackResult {
  /** Exotel confirmed playing all of it. */
  completed: boolean;
  /** Milliseconds of this utterance the caller heard (from mark echoes and the playback clock). */
  heardMs: number;
  /** Ended by clear() (barge-in). */
  cleared: boolean;
}

export class Utterance {
  /** Timeline position of the first frame sent; undefined until then. */
  startMs: number | undefined;
  /** Timeline position after the last frame (set when the mark is sent). */
  endMs: number | undefined;
  /** performance.now() when the first frame went to the socket. */
  firstFrameAt: number | undefined;
  /** Milliseconds of audio sent to Exotel so far. */
  sentAudioMs = 0;
  /** @internal Milliseconds of this utterance's audio in the player's queue. */
  queuedAudioMs = 0;
  /** @internal now() when its first frame was queued. */
  firstQueuedAt: number | undefined;
  readonly played: Promise<PlaybackResult>;

  private resampler: StreamResampler | undefined;
  private readonly splitter: FrameSplitter;
  private readonly captured: Buffer[] | undefined;
  private ended = false;
  private settled = false;
  private resolvePlayed!: (r: PlaybackResult) => void;

  constructor(
    private readonly player: OutboundPlayer,
    readonly markName: string,
    readonly kind: UtteranceKind,
    frameBytes: number,
    capture: boolean,
  ) {
    this.splitter = new FrameSplitter(frameBytes);
    this.captured = capture ? [] : undefined;
    this.played = new Promise((resolve) => (this.resolvePlayed = resolve));
  }

  /** @internal The resampler is the player's, lent for the utterance's lifetime. */
  attach(resampler: StreamResampler): void {
    this.resampler = resampler;
  }

  /** True once ended, cancelled or finished: further writes are ignored. */
  get closed(): boolean {
    return this.ended || this.settled;
  }

  /** Writes s16le PCM at the input rate; resolves when the player has room for more. */
  async writeBytes(bytes: Buffer): Promise<void> {
    if (this.closed || !this.resampler) return;
    const out = this.resampler.push(pcmFromBytes(bytes));
    this.queue(bytesFromPcm(out));
    await this.player.waitForRoom();
  }

  /** Flushes the resampler, pads the last frame with silence and queues the mark. */
  end(): void {
    if (this.closed || !this.resampler) return;
    this.queue(bytesFromPcm(this.resampler.flush()));
    const last = this.splitter.flush();
    if (last) this.player.enqueueFrames(this, [last]);
    this.ended = true;
    this.release();
    this.player.enqueueMark(this);
  }

  /** Abandons the utterance: unsent audio and its mark are dropped. */
  cancel(): void {
    if (this.settled) return;
    this.ended = true;
    this.release();
    this.player.cancelQueued(this);
    this.finish({ completed: false, heardMs: this.sentAudioMs, cleared: false });
  }

  /** Stream-rate audio written so far (only when created with capture). */
  capturedAudio(): Buffer | undefined {
    return this.captured ? Buffer.concat(this.captured) : undefined;
  }

  /** Milliseconds of this utterance heard when the timeline reached `position`. */
  heardAt(position: number): number {
    if (this.startMs === undefined) return 0;
    return Math.min(this.sentAudioMs, Math.max(0, position - this.startMs));
  }

  /** @internal */
  finish(result: PlaybackResult): void {
    if (this.settled) return;
    this.settled = true;
    this.release();
    this.player.forget(this);
    this.resolvePlayed(result);
  }

  private queue(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.captured?.push(Buffer.from(bytes));
    const frames = this.splitter.push(bytes);
    if (frames.length > 0) this.player.enqueueFrames(this, frames);
  }

  private release(): void {
    if (this.resampler) this.player.releaseResampler(this.resampler);
    this.resampler = undefined;
  }
}
