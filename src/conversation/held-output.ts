/**
 * The output of a speculative reply (see Conversation): the reply runs, its TTS is requested and
 * buffered, but nothing reaches the caller until the turn is confirmed. Opening an utterance
 * waits for `release()`; `discard()` fails every open that waits (and any later one), so the
 * reply's chain ends instead of hanging. Until released the caller hears nothing from it, so
 * `isSpeaking()` is false and `clear()` leaves the real output alone.
 */
import type { AudioOutput, Utterance, UtteranceKind } from './audio-output.js';

export class HeldOutput implements AudioOutput {
  readonly sampleRate: number;
  #state: 'held' | 'released' | 'discarded' = 'held';
  #gate: Promise<void>;
  #open!: () => void;
  #fail!: (err: Error) => void;

  constructor(private readonly output: AudioOutput) {
    this.sampleRate = output.sampleRate;
    this.#gate = new Promise<void>((resolve, reject) => {
      this.#open = resolve;
      this.#fail = reject;
    });
    // Nobody may be waiting when it is discarded.
    this.#gate.catch(() => undefined);
  }

  /** Resolves on `release()`, rejects on `discard()`. */
  get released(): Promise<void> {
    return this.#gate;
  }

  get held(): boolean {
    return this.#state === 'held';
  }

  release(): void {
    if (this.#state !== 'held') return;
    this.#state = 'released';
    this.#open();
  }

  discard(): void {
    if (this.#state !== 'held') return;
    this.#state = 'discarded';
    const err = new Error('speculative reply discarded');
    err.name = 'AbortError';
    this.#fail(err);
  }

  async startUtterance(
    kind: UtteranceKind,
    inputRate: number,
    opts?: { capture?: boolean },
  ): Promise<Utterance> {
    await this.#gate;
    return this.output.startUtterance(kind, inputRate, opts);
  }

  async playPcm(kind: UtteranceKind, pcm: Buffer): Promise<Utterance> {
    await this.#gate;
    return this.output.playPcm(kind, pcm);
  }

  clear(): void {
    if (this.#state === 'released') this.output.clear();
  }

  isSpeaking(): boolean {
    return this.#state === 'released' && this.output.isSpeaking();
  }

  /** The call's output is the call's to close. */
  close(): void {}
}
