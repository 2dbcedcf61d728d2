/**
 * WebRTC VAD (libfvad compiled to WASM by @echogarden/fvad-wasm): a Gaussian-mixture detector that
 * answers speech / no speech for 10, 20 or 30 ms frames at 8, 16, 32 or 48 kHz. It is much cheaper
 * than Silero and much easier to fool with noise. The WASM module is loaded once per process; each
 * detector owns an fvad instance and a frame buffer inside it, which `close()` frees.
 */
import createFvadModule, { type FvadModule } from '@echogarden/fvad-wasm';
import { VoicebotError } from '../../errors.js';
import type { VoiceActivityDetector } from './types.js';

export type WebRtcRate = 8000 | 16000 | 32000 | 48000;
export type WebRtcFrameMs = 10 | 20 | 30;
/** 0 = quality (most speech kept) ... 3 = very aggressive (fewest false positives). */
export type WebRtcMode = 0 | 1 | 2 | 3;

export interface WebRtcOptions {
  /** Aggressiveness; default 3, because phone lines are noisy. */
  mode?: WebRtcMode;
  /** Frame length; default 30 ms. */
  frameMs?: WebRtcFrameMs;
}

let shared: Promise<FvadModule> | undefined;

/** The process-wide fvad WASM module, instantiated on first use. */
export function loadFvadModule(): Promise<FvadModule> {
  if (shared === undefined) {
    const loading = createFvadModule();
    shared = loading;
    loading.catch(() => {
      if (shared === loading) shared = undefined;
    });
  }
  return shared;
}

export class WebRtcDetector implements VoiceActivityDetector {
  readonly sampleRate: WebRtcRate;
  readonly frameSamples: number;
  readonly mode: WebRtcMode;
  readonly #fvad: FvadModule;
  #handle: number;
  #buffer: number;

  constructor(fvad: FvadModule, sampleRate: WebRtcRate, options: WebRtcOptions = {}) {
    const frameMs = options.frameMs ?? 30;
    const mode = options.mode ?? 3;
    if (![8000, 16000, 32000, 48000].includes(sampleRate)) {
      throw new VoicebotError(
        'SAMPLE_RATE_UNSUPPORTED',
        `WebRTC VAD cannot run at ${sampleRate} Hz`,
      );
    }
    if (![10, 20, 30].includes(frameMs) || ![0, 1, 2, 3].includes(mode)) {
      throw new VoicebotError('CONFIG_INVALID', 'WebRTC VAD needs frameMs 10|20|30 and mode 0..3');
    }
    this.#fvad = fvad;
    this.sampleRate = sampleRate;
    this.frameSamples = (sampleRate / 1000) * frameMs;
    this.mode = mode;
    this.#handle = fvad._fvad_new();
    this.#buffer = fvad._malloc(this.frameSamples * 2);
    if (this.#handle === 0 || this.#buffer === 0) {
      this.close();
      throw new VoicebotError('AUDIO_INVALID', 'WebRTC VAD is out of memory');
    }
    this.#configure();
  }

  process(frame: Int16Array): Promise<number> {
    const voiced = this.#score(frame);
    return typeof voiced === 'number' ? Promise.resolve(voiced) : Promise.reject(voiced);
  }

  /** The next windows at once: the model is synchronous, so one promise serves them all. */
  processMany(frames: readonly Int16Array[]): Promise<number[]> {
    const out: number[] = [];
    for (const frame of frames) {
      const voiced = this.#score(frame);
      if (typeof voiced !== 'number') return Promise.reject(voiced);
      out.push(voiced);
    }
    return Promise.resolve(out);
  }

  /** 1 (voiced) or 0, or the error for a window the detector cannot take. */
  #score(frame: Int16Array): number | VoicebotError {
    if (this.#handle === 0) return new VoicebotError('AUDIO_INVALID', 'VAD detector is closed');
    if (frame.length !== this.frameSamples) {
      return new VoicebotError(
        'AUDIO_INVALID',
        `WebRTC VAD frame must be ${this.frameSamples} samples, got ${frame.length}`,
      );
    }
    this.#fvad.HEAP16.set(frame, this.#buffer >> 1);
    const voiced = this.#fvad._fvad_process(this.#handle, this.#buffer, frame.length);
    if (voiced < 0) return new VoicebotError('AUDIO_INVALID', 'WebRTC VAD rejected the frame');
    return voiced;
  }

  reset(): void {
    if (this.#handle === 0) return;
    this.#fvad._fvad_reset(this.#handle);
    this.#configure();
  }

  close(): void {
    if (this.#handle !== 0) this.#fvad._fvad_free(this.#handle);
    if (this.#buffer !== 0) this.#fvad._free(this.#buffer);
    this.#handle = 0;
    this.#buffer = 0;
  }

  // fvad_reset also restores the defaults, so mode and rate are set here each time.
  #configure(): void {
    if (
      this.#fvad._fvad_set_mode(this.#handle, this.mode) !== 0 ||
      this.#fvad._fvad_set_sample_rate(this.#handle, this.sampleRate) !== 0
    ) {
      throw new VoicebotError('CONFIG_INVALID', 'WebRTC VAD refused its mode or sample rate');
    }
  }
}
