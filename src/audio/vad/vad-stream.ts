/**
 * The per-call streaming VAD: takes inbound audio in whatever frame sizes the carrier sends, at
 * the stream rate, resamples it to the detector's rate if needed, cuts it into the detector's
 * windows and reports one decision per window. Quiet windows are settled by the energy gate
 * without running the detector. Windows are decided strictly in order, one at a time.
 */
import { VoicebotError } from '../../errors.js';
import { createEnergyGate, energyLimit, meanSquare, soundEnd } from './energy-gate.js';
import type {
  StreamSampleRate,
  VadDecision,
  VadKind,
  VadStream,
  VadStreamStats,
  VoiceActivityDetector,
} from './types.js';

/** Default energy gate: far below telephone speech (-20..-35 dBFS), above a quiet line. */
export const DEFAULT_ENERGY_GATE_DBFS = -50;
/** The blocks a speech window's end of sound is found to (`VadDecision.soundEndSample`). */
const SOUND_BLOCK_MS = 4;
/** Decided windows kept for reuse (a 100 ms frame makes at most 4 Silero or WebRTC windows). */
const MAX_SPARE_WINDOWS = 8;

export interface VadStreamOptions {
  /** Probability at which speech starts; default 0.5. */
  threshold?: number;
  /** Probability below which speech ends; default `threshold - 0.15` (Silero's own rule). */
  negThreshold?: number;
  /**
   * Windows whose RMS level is below this (dBFS) count as silence without running the detector;
   * `null` turns the gate off. Default -50.
   */
  energyGateDbfs?: number | null;
}

/** The part of audio/resample.ts's stream resampler that the VAD uses. */
export interface VadResampler {
  push(pcm: Int16Array): Int16Array;
  destroy(): void;
}

interface PendingWindow {
  /** First sample, at the detector's rate, from the start of the stream. */
  start: number;
  samples: Int16Array;
}

export class DetectorVadStream implements VadStream {
  readonly kind: VadKind;
  readonly sampleRate: StreamSampleRate;
  readonly windowMs: number;
  readonly stats: VadStreamStats = { windows: 0, modelCalls: 0 };
  readonly #detector: VoiceActivityDetector;
  readonly #resampler: VadResampler | null;
  readonly #isQuiet: (frame: Int16Array) => boolean;
  /** The gate's mean square, for the end of sound in a speech window; null with the gate off. */
  readonly #soundLimit: number | null;
  readonly #soundBlock: number;
  readonly #threshold: number;
  readonly #negThreshold: number;
  // The window being filled, and how far the stream has got, both at the detector's rate.
  #window: Int16Array;
  #filled = 0;
  #position = 0;
  #speech = false;
  #closed = false;
  #tail: Promise<unknown> = Promise.resolve();
  #quietEnd: number | null = null;
  /**
   * Windows already decided, for the window being filled to reuse: a window is a small typed
   * array of its own, and making one per window (3-4 a 100 ms frame) was most of the stream's cost.
   */
  readonly #spare: Int16Array[] = [];

  /** Takes ownership of `detector` and `resampler` (closed by `close()`). */
  constructor(
    kind: VadKind,
    sampleRate: StreamSampleRate,
    detector: VoiceActivityDetector,
    resampler: VadResampler | null,
    options: VadStreamOptions = {},
  ) {
    const threshold = options.threshold ?? 0.5;
    const negThreshold = options.negThreshold ?? Math.max(threshold - 0.15, 0.01);
    if (!(threshold > 0 && threshold <= 1 && negThreshold > 0 && negThreshold <= threshold)) {
      throw new VoicebotError('CONFIG_INVALID', 'VAD needs 0 < negThreshold <= threshold <= 1');
    }
    if ((resampler === null) !== (detector.sampleRate === sampleRate)) {
      throw new VoicebotError('SAMPLE_RATE_UNSUPPORTED', 'VAD resampler does not match its rates');
    }
    this.kind = kind;
    this.sampleRate = sampleRate;
    this.windowMs = (detector.frameSamples * 1000) / detector.sampleRate;
    this.#detector = detector;
    this.#resampler = resampler;
    const gateDbfs =
      options.energyGateDbfs === undefined ? DEFAULT_ENERGY_GATE_DBFS : options.energyGateDbfs;
    this.#isQuiet = createEnergyGate(gateDbfs);
    this.#soundLimit = energyLimit(gateDbfs);
    this.#soundBlock = Math.max(1, Math.round((detector.sampleRate * SOUND_BLOCK_MS) / 1000));
    this.#threshold = threshold;
    this.#negThreshold = negThreshold;
    this.#window = new Int16Array(detector.frameSamples);
  }

  push(pcm: Int16Array): Promise<VadDecision[]> {
    if (this.#closed) return Promise.reject(new VoicebotError('AUDIO_INVALID', 'VAD is closed'));
    // Cutting into windows happens now, so the caller may reuse `pcm` once push returns.
    const windows = this.#cut(this.#resampler === null ? pcm : this.#resampler.push(pcm));
    this.#quietEnd = this.#quietTail();
    const run = this.#tail.then(() => this.#decide(windows));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  get quietEnd(): number | null {
    return this.#quietEnd;
  }

  reset(): void {
    this.#position += this.#filled;
    this.#filled = 0;
    this.#quietEnd = null;
    this.#speech = false;
    if (!this.#closed) this.#detector.reset();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#detector.close();
    this.#resampler?.destroy();
  }

  /** The end of the window being filled, if what it holds so far is below the gate. */
  #quietTail(): number | null {
    if (this.#soundLimit === null || this.#filled === 0) return null;
    if (meanSquare(this.#window.subarray(0, this.#filled)) >= this.#soundLimit) return null;
    return Math.round(
      ((this.#position + this.#filled) * this.sampleRate) / this.#detector.sampleRate,
    );
  }

  #cut(pcm: Int16Array): PendingWindow[] {
    const windows: PendingWindow[] = [];
    const size = this.#window.length;
    let offset = 0;
    while (offset < pcm.length) {
      const take = Math.min(size - this.#filled, pcm.length - offset);
      this.#window.set(pcm.subarray(offset, offset + take), this.#filled);
      this.#filled += take;
      offset += take;
      if (this.#filled === size) {
        windows.push({ start: this.#position, samples: this.#window });
        this.#window = this.#spare.pop() ?? new Int16Array(size);
        this.#position += size;
        this.#filled = 0;
      }
    }
    return windows;
  }

  async #decide(windows: PendingWindow[]): Promise<VadDecision[]> {
    const decisions: VadDecision[] = [];
    const nativeRate = this.#detector.sampleRate;
    // The gate judges each window by its own level, so which windows the detector scores is known
    // up front; a detector that scores several at once (Silero on its threads) gets them together.
    const gates: boolean[] = [];
    const scored: Int16Array[] = [];
    for (const w of windows) {
      const quiet = this.#isQuiet(w.samples);
      gates.push(quiet);
      if (!quiet) scored.push(w.samples);
    }
    let scores: number[] | undefined;
    if (scored.length > 1 && this.#detector.processMany && !this.#closed) {
      scores = await this.#detector.processMany(scored);
      this.stats.modelCalls += scored.length;
    }
    let next = 0;
    for (let i = 0; i < windows.length; i++) {
      const { start, samples } = windows[i]!;
      if (this.#closed) break;
      const gated = gates[i]!;
      let probability = 0;
      if (!gated && scores) {
        probability = scores[next++]!;
      } else if (!gated) {
        this.stats.modelCalls += 1;
        probability = await this.#detector.process(samples);
      }
      this.stats.windows += 1;
      this.#speech = this.#speech
        ? probability >= this.#negThreshold
        : probability >= this.#threshold;
      const decision: Mutable<VadDecision> = {
        startSample: Math.round((start * this.sampleRate) / nativeRate),
        startMs: (start * 1000) / nativeRate,
        durationMs: this.windowMs,
        probability,
        speech: this.#speech,
        gated,
      };
      if (this.#speech && this.#soundLimit !== null) {
        const end = soundEnd(samples, this.#soundLimit, this.#soundBlock);
        if (end < samples.length) {
          decision.soundEndSample = Math.round(((start + end) * this.sampleRate) / nativeRate);
        }
      }
      decisions.push(decision);
    }
    // The detectors copy a window before they return (into WASM memory, or the batch sent to a
    // thread) and no decision holds one, so all of them can be filled again.
    for (const w of windows)
      if (this.#spare.length < MAX_SPARE_WINDOWS) this.#spare.push(w.samples);
    return decisions;
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
