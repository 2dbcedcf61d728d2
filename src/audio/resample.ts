/**
 * Sample-rate conversion for PCM16 mono (e.g. 24 kHz TTS audio to an 8 kHz Exotel stream) with
 * SpeexDSP's resampler compiled to WebAssembly (`@echogarden/speex-resampler-wasm`, the SIMD
 * build, falling back to the plain one). The streaming resampler keeps filter state across
 * chunks, so chunked input gives the same samples as one-shot input: no clicks at boundaries.
 *
 * Why Speex (measured on Node 20, x64, 10 s of a 1 kHz tone in 20 ms chunks; the profile that
 * led here is in README "Performance"): libsamplerate-js (SINC_FASTEST), used before, is
 * compiled with wasm2js, so every instance built its own 26 MB JavaScript heap and cost 4-5 ms
 * of CPU to create; at 50 live calls it was the largest JavaScript cost in a server CPU profile
 * and its heaps drove frequent full garbage collections. Speex runs as real WASM in one module
 * per process; an instance is a few kilobytes inside it and is created in microseconds.
 *
 * | 10 s of audio    | Speex q6 SIMD | Speex q6 plain | libsamplerate FASTEST |
 * | ---------------- | ------------- | -------------- | --------------------- |
 * | 24k -> 8k        | 4.3 ms        | 14 ms          | 38 ms                 |
 * | 24k -> 16k       | 3.6 ms        | 15 ms          | 43 ms                 |
 * | 8k -> 16k        | 3.0 ms        | 11 ms          | 29 ms                 |
 * | 3.4 kHz, 24k->8k | -0.0 dB       |                | -8.8 dB               |
 * | 3.6 kHz, 24k->8k | -0.2 dB       |                | -20.5 dB              |
 * | 4.2 kHz, 24k->8k | below 1 LSB   |                | below 1 LSB           |
 *
 * Quality 6 keeps the phone band flat to 3.6 kHz on an 8 kHz stream (quality 3, Speex's VoIP
 * default, loses 1 dB at 3.4 kHz) and removes everything above the output's Nyquist frequency.
 * The output is aligned with the input (`skip_zeros`): sample n of the output is input time
 * n / toRate, and `flush()` drains the filter's look-ahead so nothing is lost at the end.
 */

import createPlainModule, { type SpeexModule } from '@echogarden/speex-resampler-wasm';
import createSimdModule from '@echogarden/speex-resampler-wasm/simd';
import { VoicebotError } from '../errors.js';
import { assertSampleRate } from './pcm.js';

/** Speex quality 0..10; see the table above. */
export const SPEEX_QUALITY = 6;

/** Input samples handed to the WASM heap per step (bounds the buffers for one-shot input). */
const BLOCK_SAMPLES = 4800;

let shared: Promise<SpeexModule> | undefined;

/** The process-wide Speex WASM module (SIMD when the engine has it), instantiated on first use. */
export function loadSpeexModule(): Promise<SpeexModule> {
  if (shared === undefined) {
    const loading = createSimdModule().catch(() => createPlainModule());
    shared = loading;
    loading.catch(() => {
      if (shared === loading) shared = undefined;
    });
  }
  return shared;
}

/** A stateful PCM16 mono resampler for one audio stream. */
export interface StreamResampler {
  readonly fromRate: number;
  readonly toRate: number;
  /**
   * Resamples the next chunk. Output lags input by the filter look-ahead (a few ms), which
   * `flush()` returns. With equal rates the input array itself is returned.
   */
  push(pcm: Int16Array): Int16Array;
  /**
   * Returns the remaining output so the total is floor(input samples x toRate / fromRate), and
   * resets the resampler: the next `push()` starts a new, independent stream.
   */
  flush(): Int16Array;
  /** Frees the converter. Idempotent; `push()` and `flush()` throw afterwards. */
  destroy(): void;
}

function destroyedError(): VoicebotError {
  return new VoicebotError('AUDIO_INVALID', 'resampler used after destroy()');
}

class IdentityResampler implements StreamResampler {
  private destroyed = false;
  constructor(
    readonly fromRate: number,
    readonly toRate: number,
  ) {}
  push(pcm: Int16Array): Int16Array {
    if (this.destroyed) throw destroyedError();
    return pcm;
  }
  flush(): Int16Array {
    if (this.destroyed) throw destroyedError();
    return new Int16Array(0);
  }
  destroy(): void {
    this.destroyed = true;
  }
}

/** Concatenates the parts (no copy for a single part). */
function join(parts: Int16Array[], length: number): Int16Array {
  if (parts.length === 1 && parts[0]!.length === length) return parts[0]!;
  const out = new Int16Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p.subarray(0, length - at), at);
    at += Math.min(p.length, length - at);
    if (at === length) break;
  }
  return out;
}

class SpeexStreamResampler implements StreamResampler {
  readonly #m: SpeexModule;
  #state: number;
  /** One allocation: input block, output block, then the two length words. */
  readonly #memory: number;
  readonly #input: number;
  readonly #output: number;
  readonly #outputCapacity: number;
  readonly #inLength: number;
  readonly #outLength: number;
  #samplesIn = 0;
  #samplesOut = 0;

  constructor(
    m: SpeexModule,
    readonly fromRate: number,
    readonly toRate: number,
  ) {
    this.#m = m;
    this.#outputCapacity = Math.ceil((BLOCK_SAMPLES * toRate) / fromRate) + 64;
    // Input block, output block, up to 2 bytes of padding, the two length words, the error word.
    const bytes = 2 * (BLOCK_SAMPLES + this.#outputCapacity) + 4 + 8;
    this.#memory = m._malloc(bytes + 4);
    const error = this.#memory === 0 ? 0 : this.#memory + bytes;
    this.#state =
      this.#memory === 0 ? 0 : m._speex_resampler_init(1, fromRate, toRate, SPEEX_QUALITY, error);
    if (this.#state === 0) {
      if (this.#memory !== 0) m._free(this.#memory);
      throw new VoicebotError(
        'AUDIO_INVALID',
        `could not create a ${fromRate} -> ${toRate} Hz resampler`,
      );
    }
    // Byte offsets, 4-byte aligned (malloc returns 8-aligned memory; BLOCK_SAMPLES is even).
    this.#input = this.#memory;
    this.#output = this.#input + 2 * BLOCK_SAMPLES;
    this.#inLength = this.#output + 2 * this.#outputCapacity + ((2 * this.#outputCapacity) % 4);
    this.#outLength = this.#inLength + 4;
    m._speex_resampler_skip_zeros(this.#state);
  }

  push(pcm: Int16Array): Int16Array {
    this.#live();
    const parts: Int16Array[] = [];
    let produced = 0;
    for (let at = 0; at < pcm.length;) {
      const block = pcm.subarray(at, at + BLOCK_SAMPLES);
      const out = this.#process(block);
      at += out.consumed;
      if (out.samples.length) {
        parts.push(out.samples);
        produced += out.samples.length;
      }
    }
    this.#samplesIn += pcm.length;
    this.#samplesOut += produced;
    return join(parts, produced);
  }

  flush(): Int16Array {
    this.#live();
    const missing = Math.floor((this.#samplesIn * this.toRate) / this.fromRate) - this.#samplesOut;
    const parts: Int16Array[] = [];
    let produced = 0;
    if (missing > 0) {
      // Silence pushes the look-ahead out; a bounded number of steps, whatever the rates.
      // A block always fits the output buffer, so each step consumes all of it.
      const zeros = new Int16Array(Math.min(BLOCK_SAMPLES, this.fromRate));
      for (let step = 0; produced < missing && step < 100; step++) {
        const out = this.#process(zeros);
        parts.push(out.samples);
        produced += out.samples.length;
      }
    }
    const m = this.#m;
    m._speex_resampler_reset_mem(this.#state);
    m._speex_resampler_skip_zeros(this.#state);
    this.#samplesIn = 0;
    this.#samplesOut = 0;
    return join(parts, Math.max(0, Math.min(missing, produced)));
  }

  destroy(): void {
    if (this.#state === 0) return;
    this.#m._speex_resampler_destroy(this.#state);
    this.#m._free(this.#memory);
    this.#state = 0;
  }

  /** One `speex_resampler_process_int` call on at most a block; copies the output out. */
  #process(block: Int16Array): { consumed: number; samples: Int16Array } {
    const m = this.#m;
    const n = Math.min(block.length, BLOCK_SAMPLES);
    m.HEAP16.set(n === block.length ? block : block.subarray(0, n), this.#input >> 1);
    m.HEAPU32[this.#inLength >> 2] = n;
    m.HEAPU32[this.#outLength >> 2] = this.#outputCapacity;
    const code = m._speex_resampler_process_int(
      this.#state,
      0,
      this.#input,
      this.#inLength,
      this.#output,
      this.#outLength,
    );
    if (code !== 0) throw new VoicebotError('AUDIO_INVALID', `Speex resampler error ${code}`);
    const consumed = m.HEAPU32[this.#inLength >> 2]!;
    const written = m.HEAPU32[this.#outLength >> 2]!;
    if (consumed === 0 && written === 0) {
      throw new VoicebotError('AUDIO_INVALID', 'Speex resampler made no progress');
    }
    const start = this.#output >> 1;
    return { consumed, samples: m.HEAP16.slice(start, start + written) };
  }

  #live(): void {
    if (this.#state === 0) throw destroyedError();
  }
}

/**
 * Creates a streaming resampler from `fromRate` to `toRate` Hz (integers, 1..192000).
 * The caller owns it and must call `destroy()` when the stream ends (e.g. in the call's
 * cleanup); it is reusable across utterances via `flush()`. Equal rates give a pass-through
 * that allocates nothing. Rejects with `AUDIO_INVALID` for unsupported rates.
 */
export async function createStreamResampler(
  fromRate: number,
  toRate: number,
): Promise<StreamResampler> {
  assertSampleRate(fromRate);
  assertSampleRate(toRate);
  if (fromRate === toRate) return new IdentityResampler(fromRate, toRate);
  let m: SpeexModule;
  try {
    m = await loadSpeexModule();
  } catch (cause) {
    throw new VoicebotError('AUDIO_INVALID', 'could not load the resampler', { cause });
  }
  return new SpeexStreamResampler(m, fromRate, toRate);
}

/**
 * Resamples a whole PCM16 mono buffer; the result has floor(length x toRate / fromRate)
 * samples and never shares memory with `pcm`.
 */
export async function resample(
  pcm: Int16Array,
  fromRate: number,
  toRate: number,
): Promise<Int16Array> {
  const resampler = await createStreamResampler(fromRate, toRate);
  try {
    if (fromRate === toRate) return pcm.slice();
    const head = resampler.push(pcm);
    const tail = resampler.flush();
    const out = new Int16Array(head.length + tail.length);
    out.set(head);
    out.set(tail, head.length);
    return out;
  } finally {
    resampler.destroy();
  }
}
