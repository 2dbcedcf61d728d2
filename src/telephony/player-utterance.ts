/**
 * One utterance on the Exotel player: PCM written at any rate is resampled to the stream rate,
 * cut into frames and queued on its host (the player); `end()` queues its mark. It keeps its own
 * playback state (where it starts on the stream's timeline, how much was sent); the player tells
 * it what happened through the `on*` methods and never writes its fields.
 */
import { FrameSplitter, bytesFromPcm, pcmFromBytes, type StreamResampler } from '../audio/index.js';
import type { PlaybackResult, Utterance, UtteranceKind } from '../conversation/audio-output.js';
import { StartMeter } from './start-cushion.js';

/** What an utterance needs of the player that plays it. */
export interface UtteranceHost {
  enqueueFrames(utt: PlayerUtterance, frames: Buffer[]): void;
  enqueueMark(utt: PlayerUtterance): void;
  cancelQueued(utt: PlayerUtterance): void;
  /** Resolves when the player's queue has room for more audio. */
  waitForRoom(): Promise<void>;
  releaseResampler(r: StreamResampler): void;
  /** The utterance settled: the player stops tracking it. */
  forget(utt: PlayerUtterance): void;
  /** The timeline position the caller has heard up to. */
  playedMs(): number;
}

export class PlayerUtterance implements Utterance {
  #startMs: number | undefined;
  #endMs: number | undefined;
  #firstFrameAt: number | undefined;
  #firstQueuedAt: number | undefined;
  #sentAudioMs = 0;
  #queuedAudioMs = 0;
  readonly played: Promise<PlaybackResult>;
  /**
   * How its audio arrived: what start cushion it needed (the end's flush is not an arrival).
   * Only when the player learns its cushion.
   */
  readonly startMeter: StartMeter | undefined;

  #resampler: StreamResampler | undefined;
  readonly #splitter: FrameSplitter;
  readonly #captured: Buffer[] | undefined;
  #ended = false;
  #settled = false;
  #resolvePlayed!: (r: PlaybackResult) => void;

  constructor(
    private readonly host: UtteranceHost,
    readonly name: string,
    readonly kind: UtteranceKind,
    frameBytes: number,
    resampler: StreamResampler,
    capture: boolean,
    meterStart = false,
  ) {
    this.startMeter = meterStart ? new StartMeter() : undefined;
    this.#splitter = new FrameSplitter(frameBytes);
    this.#resampler = resampler;
    this.#captured = capture ? [] : undefined;
    this.played = new Promise((resolve) => (this.#resolvePlayed = resolve));
  }

  /** Timeline position of its first frame; undefined until sent. */
  get startMs(): number | undefined {
    return this.#startMs;
  }
  /** Timeline position after its last frame (known once the mark is sent). */
  get endMs(): number | undefined {
    return this.#endMs;
  }
  get firstFrameAt(): number | undefined {
    return this.#firstFrameAt;
  }
  /** The player's clock when its first frame was queued. */
  get firstQueuedAt(): number | undefined {
    return this.#firstQueuedAt;
  }
  get sentAudioMs(): number {
    return this.#sentAudioMs;
  }
  /** Milliseconds of its audio in the player's queue. */
  get queuedAudioMs(): number {
    return this.#queuedAudioMs;
  }
  get closed(): boolean {
    return this.#ended || this.#settled;
  }

  async writeBytes(bytes: Buffer): Promise<void> {
    if (this.closed || !this.#resampler) return;
    this.#queue(bytesFromPcm(this.#resampler.push(pcmFromBytes(bytes))));
    await this.host.waitForRoom();
  }

  end(): void {
    if (this.closed || !this.#resampler) return;
    this.#ended = true;
    this.#queue(bytesFromPcm(this.#resampler.flush()));
    const last = this.#splitter.flush();
    if (last) this.host.enqueueFrames(this, [last]);
    this.#release();
    this.host.enqueueMark(this);
  }

  cancel(): void {
    if (this.#settled) return;
    this.#ended = true;
    this.#release();
    this.host.cancelQueued(this);
    this.finish({ completed: false, heardMs: this.#sentAudioMs, cleared: false });
  }

  capturedAudio(): Buffer | undefined {
    return this.#captured ? Buffer.concat(this.#captured) : undefined;
  }

  heardMs(): number {
    return this.heardAt(this.host.playedMs());
  }

  /** Milliseconds of it heard when the timeline reached `position`. */
  heardAt(position: number): number {
    if (this.#startMs === undefined) return 0;
    return Math.min(this.#sentAudioMs, Math.max(0, position - this.#startMs));
  }

  // Told by the player.

  onQueued(ms: number, now: number): void {
    if (!this.#ended) this.startMeter?.onAudio(ms, now);
    this.#firstQueuedAt ??= now;
    this.#queuedAudioMs += ms;
  }

  onUnqueued(ms: number): void {
    this.#queuedAudioMs -= ms;
  }

  onSent(ms: number, position: number, now: number): void {
    this.#startMs ??= position;
    this.#firstFrameAt ??= now;
    this.#queuedAudioMs -= ms;
    this.#sentAudioMs += ms;
  }

  onMarkSent(position: number): void {
    this.#endMs = position;
  }

  finish(result: PlaybackResult): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#release();
    this.host.forget(this);
    this.#resolvePlayed(result);
  }

  #queue(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.#captured?.push(Buffer.from(bytes));
    const frames = this.#splitter.push(bytes);
    if (frames.length > 0) this.host.enqueueFrames(this, frames);
  }

  #release(): void {
    if (this.#resampler) this.host.releaseResampler(this.#resampler);
    this.#resampler = undefined;
  }
}
