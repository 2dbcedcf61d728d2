/**
 * Silero VAD v5 for one call: the recurrent state and the 64-sample (32 at 8 kHz) context that the
 * model expects in front of each 32 ms window, as in silero-vad's own OnnxWrapper. The model itself
 * is shared (see silero-model.ts). Native rates are 8000 and 16000 Hz.
 */
import { VoicebotError } from '../../errors.js';
import {
  SILERO_CONTEXT_SAMPLES,
  SILERO_STATE_FLOATS,
  SILERO_WINDOW_SAMPLES,
  type SileroScorer,
  type SileroRate,
} from './silero-model.js';
import type { VoiceActivityDetector } from './types.js';

export class SileroDetector implements VoiceActivityDetector {
  readonly sampleRate: SileroRate;
  readonly frameSamples: number;
  readonly #model: SileroScorer;
  readonly #context: number;
  // Context + window as floats; the last `#context` values carry over to the next window.
  #input: Float32Array;
  #state = new Float32Array(SILERO_STATE_FLOATS);
  // Bumped by reset(), so a window already in flight cannot restore the state it started from.
  #generation = 0;
  #busy = false;
  #closed = false;

  constructor(model: SileroScorer, sampleRate: SileroRate) {
    if (sampleRate !== 8000 && sampleRate !== 16000) {
      throw new VoicebotError('SAMPLE_RATE_UNSUPPORTED', `Silero runs at 8000 or 16000 Hz`);
    }
    this.#model = model;
    this.sampleRate = sampleRate;
    this.frameSamples = SILERO_WINDOW_SAMPLES[sampleRate];
    this.#context = SILERO_CONTEXT_SAMPLES[sampleRate];
    this.#input = new Float32Array(this.#context + this.frameSamples);
  }

  async process(frame: Int16Array): Promise<number> {
    return (await this.processMany([frame]))[0] ?? 0;
  }

  /**
   * The next `frames.length` windows, scored in one go (`SileroScorer.inferMany`: on the pool, one
   * round trip to a thread for all of them); the same probabilities as `process` one at a time.
   */
  async processMany(frames: readonly Int16Array[]): Promise<number[]> {
    if (this.#closed) throw new VoicebotError('AUDIO_INVALID', 'VAD detector is closed');
    for (const frame of frames) {
      if (frame.length !== this.frameSamples) {
        throw new VoicebotError(
          'AUDIO_INVALID',
          `Silero window must be ${this.frameSamples} samples, got ${frame.length}`,
        );
      }
    }
    if (this.#busy) {
      throw new VoicebotError('AUDIO_INVALID', 'VAD windows must be processed one at a time');
    }
    this.#busy = true;
    try {
      const width = this.#input.length;
      const inputs = new Float32Array(frames.length * width);
      // Each window is the previous window's last `#context` samples and its own.
      let previous = this.#input;
      let at = 0;
      for (const frame of frames) {
        inputs.set(previous.subarray(this.frameSamples), at);
        for (let i = 0; i < frame.length; i++) inputs[at + this.#context + i] = frame[i]! / 32768;
        previous = inputs.subarray(at, at + width);
        at += width;
      }
      this.#input = previous.slice();
      const state = this.#state.slice();
      const generation = this.#generation;
      const probabilities = await this.#model.inferMany(
        this.sampleRate,
        inputs,
        frames.length,
        state,
      );
      if (generation === this.#generation) this.#state = state;
      return Array.from(probabilities);
    } finally {
      this.#busy = false;
    }
  }

  reset(): void {
    this.#generation += 1;
    this.#input = new Float32Array(this.#input.length);
    this.#state = new Float32Array(SILERO_STATE_FLOATS);
  }

  close(): void {
    this.#closed = true;
  }
}
