/**
 * Sample-rate conversion for PCM16 mono (e.g. 24 kHz TTS audio to an 8 kHz Exotel stream) using
 * libsamplerate (`@alexanderolsen/libsamplerate-js`). The streaming resampler keeps filter state
 * across chunks, so chunked input gives the same samples as one-shot input: no clicks at
 * chunk boundaries.
 *
 * Library facts that shaped this file (measured with version 2.1.2 on Node 20):
 * - It is compiled with wasm2js: plain JavaScript, not WebAssembly. Every `create()` builds a
 *   fresh module with its own 26.4 MB heap (about 2 MB of it resident, the rest untouched), in
 *   about 4-5 ms of synchronous CPU (19 ms for the first one in a process) even though it
 *   returns a Promise. So create one resampler per call and direction, not per utterance:
 *   `flush()` resets it for the next utterance.
 * - `full()` keeps state between calls; `simple()` does not, and it sets `end_of_input` on the
 *   shared state, so the two must not be mixed on one instance. `full()` never sets
 *   `end_of_input`, so the filter's look-ahead tail is drained here by feeding silence.
 * - `destroy()` frees only libsamplerate's converter state; the heap is reclaimed by the
 *   garbage collector once the instance is unreachable.
 * - Named ESM imports fail at run time (it is a UMD bundle): use the default import.
 */

import libsamplerate from '@alexanderolsen/libsamplerate-js';
import { VoicebotError } from '../errors.js';
import { assertSampleRate } from './pcm.js';

const { create, ConverterType } = libsamplerate;
type Converter = Awaited<ReturnType<typeof create>>;

/**
 * SRC_SINC_FASTEST, chosen by measurement (10 s of a 1 kHz tone in 20 ms chunks, Node 20, x64):
 *
 * | 10 s of audio   | FASTEST | MEDIUM_QUALITY | BEST_QUALITY |
 * | --------------- | ------- | -------------- | ------------ |
 * | 24k -> 8k       | 27 ms   | 61 ms          | 193 ms       |
 * | 24k -> 16k      | 31 ms   | 63 ms          | 196 ms       |
 * | 8k -> 16k       | 21 ms   | 46 ms          |              |
 * | alias rejection | -100 dB | -122 dB        | -152 dB      |
 * | -3 dB point     | 80 % of the lower Nyquist (3.2 kHz at 8 kHz) | 90 % (3.6 kHz) | 97 % |
 *
 * Node runs every call's audio on one event loop: FASTEST costs 0.27 % of it per real-time
 * stream, MEDIUM 0.6 %, so a few hundred concurrent calls fit with FASTEST. Its price is a
 * softer top of the band (-0.5 dB at 3 kHz, -8.8 dB at 3.4 kHz on an 8 kHz stream), which the
 * phone channel's own 300-3400 Hz band largely hides. LINEAR is 3-5x faster but has no
 * anti-alias filter (a 6 kHz tone comes out at 2 kHz at full level), so it is not an option.
 */
export const CONVERTER_TYPE = ConverterType.SRC_SINC_FASTEST;

/** Silence fed per step to drain the filter on flush (look-ahead is under 10 ms for FASTEST). */
const DRAIN_MS = 10;
const MAX_DRAIN_STEPS = 100;

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
   * Returns the remaining output so the total is floor(input samples x toRate / fromRate), the
   * same samples as libsamplerate's one-shot `src_simple`, and resets the resampler: the next
   * `push()` starts a new, independent stream.
   */
  flush(): Int16Array;
  /** Frees the converter. Idempotent; `push()` and `flush()` throw afterwards. */
  destroy(): void;
}

function toFloat(pcm: Int16Array): Float32Array {
  const out = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = (pcm[i] ?? 0) / 32768;
  return out;
}

function toInt16(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.round((samples[i] ?? 0) * 32768);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
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

class SincResampler implements StreamResampler {
  private converter: Converter | null;
  private samplesIn = 0;
  private samplesOut = 0;

  constructor(
    readonly fromRate: number,
    readonly toRate: number,
    converter: Converter,
  ) {
    this.converter = converter;
  }

  push(pcm: Int16Array): Int16Array {
    const converter = this.live();
    if (pcm.length === 0) return new Int16Array(0);
    const out = converter.full(toFloat(pcm));
    this.samplesIn += pcm.length;
    this.samplesOut += out.length;
    return toInt16(out);
  }

  flush(): Int16Array {
    const converter = this.live();
    let missing = Math.floor((this.samplesIn * this.toRate) / this.fromRate) - this.samplesOut;
    const tail = new Float32Array(Math.max(0, missing));
    const zeros = new Float32Array(Math.ceil((this.fromRate * DRAIN_MS) / 1000));
    for (let step = 0; missing > 0 && step < MAX_DRAIN_STEPS; step++) {
      const out = converter.full(zeros);
      const take = Math.min(missing, out.length);
      tail.set(out.subarray(0, take), tail.length - missing);
      missing -= take;
    }
    // Setting a rate makes the library delete and re-create the converter state (src_new).
    converter.inputSampleRate = this.fromRate;
    this.samplesIn = 0;
    this.samplesOut = 0;
    return toInt16(tail);
  }

  destroy(): void {
    this.converter?.destroy();
    this.converter = null;
  }

  private live(): Converter {
    if (this.converter === null) throw destroyedError();
    return this.converter;
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
  let converter: Converter;
  try {
    converter = await create(1, fromRate, toRate, { converterType: CONVERTER_TYPE });
  } catch (cause) {
    throw new VoicebotError('AUDIO_INVALID', 'could not create the resampler', { cause });
  }
  return new SincResampler(fromRate, toRate, converter);
}

/**
 * Resamples a whole PCM16 mono buffer; the result has floor(length x toRate / fromRate)
 * samples and never shares memory with `pcm`. Creates and destroys a converter per call
 * (about 5 ms), so prefer `createStreamResampler` for a stream of chunks.
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
