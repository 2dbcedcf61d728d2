import { describe, it, expect } from 'vitest';
import { createStreamResampler, resample } from '../../src/audio/index.js';
import { loadSpeexModule } from '../../src/audio/resample.js';
import type { StreamResampler } from '../../src/audio/index.js';
import {
  concatPcm,
  db,
  dominantFrequency,
  goertzelPower,
  meanPower,
  seededRandom,
  tone,
} from '../helpers/tone.js';

const RATES = [8000, 16000, 24000] as const;
const PAIRS = RATES.flatMap((from) =>
  RATES.filter((to) => to !== from).map((to) => [from, to] as const),
);

/** Feeds `pcm` in chunks of the sizes `nextSize` returns, then flushes. */
function streamIn(r: StreamResampler, pcm: Int16Array, nextSize: () => number): Int16Array {
  const out: Int16Array[] = [];
  for (let at = 0; at < pcm.length;) {
    const size = nextSize();
    out.push(r.push(pcm.subarray(at, at + size)));
    at += size;
  }
  out.push(r.flush());
  return concatPcm(out);
}

function maxAbsDiff(a: Int16Array, b: Int16Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return max;
}

/** The middle of a signal, away from the start/end transients of a tone switched on and off. */
function steady(pcm: Int16Array, sampleRate: number): Int16Array {
  const edge = Math.round(sampleRate * 0.05);
  return pcm.subarray(edge, pcm.length - edge);
}

/** The ideal result of resampling `tone(freq, ms, from, amplitude)`: the same sine at `rate`. */
function idealTone(freq: number, samples: number, rate: number, amplitude: number): Float64Array {
  return Float64Array.from(
    { length: samples },
    (_, i) => amplitude * 32767 * Math.sin((2 * Math.PI * freq * i) / rate),
  );
}

/** Error power of `pcm` against `ideal` over `range`, relative to the ideal's power (dB). */
function errorDb(pcm: Int16Array, ideal: Float64Array, range: [number, number]): number {
  let err = 0;
  let ref = 0;
  for (let i = range[0]; i < range[1]; i++) {
    err += ((pcm[i] ?? 0) - (ideal[i] ?? 0)) ** 2;
    ref += (ideal[i] ?? 0) ** 2;
  }
  return 10 * Math.log10(err / ref + 1e-30);
}

describe('output length', () => {
  it.each(PAIRS)('%i -> %i Hz: floor(n x ratio), one-shot and streamed', async (from, to) => {
    for (const n of [0, 1, 7, 1001, from, from + 17]) {
      const pcm = tone(440, (n * 1000) / from, from);
      expect(pcm.length).toBe(n);
      const expected = Math.floor((n * to) / from);
      expect((await resample(pcm, from, to)).length).toBe(expected);
      const r = await createStreamResampler(from, to);
      expect(streamIn(r, pcm, () => from / 50).length).toBe(expected);
      r.destroy();
    }
  });
});

describe('matches the ideally resampled signal', () => {
  it.each(PAIRS)('%i -> %i Hz: aligned in time, including the drained tail', async (from, to) => {
    const pcm = tone(1000, 300, from, 0.7);
    const ours = await resample(pcm, from, to);
    const ideal = idealTone(1000, ours.length, to, 0.7);
    // Away from the switch-on transient the output is the same sine, in phase: no delay.
    expect(
      errorDb(ours, ideal, [Math.round(to * 0.01), ours.length - Math.round(to * 0.01)]),
    ).toBeLessThan(-50);
    // A delay of a single output sample would already be far off (the test can fail).
    const late = Int16Array.from(ours.subarray(1));
    expect(
      errorDb(late, ideal, [Math.round(to * 0.01), late.length - Math.round(to * 0.01)]),
    ).toBeGreaterThan(-25);
    // The last samples come from draining the filter: they must carry the tone, not silence.
    const tail = Array.from(ours.subarray(-8), Math.abs);
    expect(Math.max(...tail)).toBeGreaterThan(0.3 * 0.7 * 32768);
  });

  it('clamps overshoot to the int16 range instead of wrapping around', async () => {
    const square = Int16Array.from({ length: 2400 }, (_, i) =>
      Math.floor(i / 60) % 2 === 0 ? 32767 : -32768,
    );
    const ours = await resample(square, 24000, 8000);
    // Gibbs overshoot past full scale is clipped: the extremes sit at the rails, and no sample
    // of a positive half-wave's middle came out negative (what wrapping would do).
    expect(Math.max(...ours)).toBe(32767);
    expect(Math.min(...ours)).toBe(-32768);
    for (let half = 0; half < 40; half++) {
      const mid = half * 20 + 10; // 60 input samples = 20 output samples per half-wave
      if (half % 2 === 0) expect(ours[mid]).toBeGreaterThan(20000);
      else expect(ours[mid]).toBeLessThan(-20000);
    }
  });
});

describe('quality', () => {
  it.each(PAIRS)('%i -> %i Hz: a 1 kHz tone stays a clean 1 kHz tone', async (from, to) => {
    const out = steady(await resample(tone(1000, 500, from), from, to), to);
    const total = meanPower(out);
    const at1k = goertzelPower(out, 1000, to);
    expect(db(total, 0.125)).toBeGreaterThan(-0.5); // level kept (0.5 amplitude -> 0.125)
    expect(db(total, 0.125)).toBeLessThan(0.5);
    expect(at1k / total).toBeGreaterThan(0.99);
    // Harmonics, aliases and upsampling images (e.g. 7 and 9 kHz for 8 -> 24 kHz) stay tiny.
    for (let f = 500; f < to / 2; f += 500) {
      if (f === 1000) continue;
      expect(db(goertzelPower(out, f, to), at1k), `${f} Hz`).toBeLessThan(-60);
    }
  });

  it('removes a 6 kHz tone going 24 -> 8 kHz (no alias at 2 kHz)', async () => {
    const input = tone(6000, 500, 24000);
    const out = steady(await resample(input, 24000, 8000), 8000);
    expect(db(meanPower(out), meanPower(input))).toBeLessThan(-60);
    expect(db(goertzelPower(out, 2000, 8000), meanPower(input))).toBeLessThan(-60);
  });

  it('removes a 10 kHz tone going 24 -> 16 kHz (no alias at 6 kHz)', async () => {
    const input = tone(10_000, 500, 24000);
    const out = steady(await resample(input, 24000, 16000), 16000);
    expect(db(meanPower(out), meanPower(input))).toBeLessThan(-60);
    expect(db(goertzelPower(out, 6000, 16000), meanPower(input))).toBeLessThan(-60);
  });

  it('keeps a 6 kHz tone going 24 -> 16 kHz (the filter is not just muting)', async () => {
    const out = steady(await resample(tone(6000, 500, 24000), 24000, 16000), 16000);
    expect(dominantFrequency(out, 16000, [2000, 4000, 6000, 7000])).toBe(6000);
    expect(db(meanPower(out), 0.125)).toBeGreaterThan(-1);
  });

  it('passes the phone band: 3 and 3.4 kHz lose under 0.5 dB going 24 -> 8 kHz', async () => {
    for (const f of [3000, 3400]) {
      const out = steady(await resample(tone(f, 500, 24000), 24000, 8000), 8000);
      expect(db(goertzelPower(out, f, 8000), 0.125), `${f} Hz`).toBeGreaterThan(-0.5);
    }
  });
});

describe('streaming', () => {
  const random = seededRandom(42);
  const chunkings: [string, (from: number) => () => number][] = [
    ['20 ms chunks', (from) => () => from / 50],
    ['100 ms chunks', (from) => () => from / 10],
    ['random 1..3000-sample chunks', () => () => 1 + Math.floor(random() * 3000)],
    ['odd 7-sample chunks', () => () => 7],
  ];

  for (const [name, sizes] of chunkings) {
    it.each(PAIRS)(`${name}, %i -> %i Hz: same samples as one-shot`, async (from, to) => {
      const pcm = tone(1000, 400, from, 0.8);
      const oneShot = await resample(pcm, from, to);
      const r = await createStreamResampler(from, to);
      const streamed = streamIn(r, pcm, sizes(from));
      r.destroy();
      expect(maxAbsDiff(streamed, oneShot)).toBeLessThanOrEqual(1);
    });
  }

  it('stateless per-chunk conversion would click: the comparison above can fail', async () => {
    const pcm = tone(1000, 200, 24000, 0.8);
    const chunks: Int16Array[] = [];
    for (let at = 0; at < pcm.length; at += 480) {
      chunks.push(await resample(pcm.subarray(at, at + 480), 24000, 8000));
    }
    const naive = concatPcm(chunks);
    expect(maxAbsDiff(naive, await resample(pcm, 24000, 8000))).toBeGreaterThan(1000);
  });

  it('flush() resets the resampler for the next utterance', async () => {
    const r = await createStreamResampler(24000, 8000);
    const utterance = tone(700, 100, 24000);
    const first = concatPcm([r.push(utterance), r.flush()]);
    const second = concatPcm([r.push(utterance), r.flush()]);
    r.destroy();
    expect(first.length).toBe(800);
    expect(maxAbsDiff(first, second)).toBe(0);
  });

  it('output lags input by only a few milliseconds before flush', async () => {
    const r = await createStreamResampler(24000, 8000);
    const out = r.push(tone(1000, 100, 24000));
    r.destroy();
    expect(out.length).toBeGreaterThan(800 - 8 * 10); // under 10 ms held back (6 ms at quality 6)
    expect(out.length).toBeLessThanOrEqual(800);
  });

  it('handles a push much larger than the WASM block (45 s at 24 kHz)', async () => {
    const pcm = tone(1000, 45_000, 24000);
    const r = await createStreamResampler(24000, 8000);
    const whole = concatPcm([r.push(pcm), r.flush()]);
    const chunked = streamIn(r, pcm, () => 4800);
    r.destroy();
    expect(whole.length).toBe(45_000 * 8);
    expect(maxAbsDiff(whole, chunked)).toBeLessThanOrEqual(1);
  });

  it('an empty push returns nothing and flush on a fresh resampler is empty', async () => {
    const r = await createStreamResampler(8000, 16000);
    expect(r.push(new Int16Array(0)).length).toBe(0);
    expect(r.flush().length).toBe(0);
    r.destroy();
  });
});

describe('identity and lifecycle', () => {
  it('equal rates pass samples through untouched', async () => {
    const r = await createStreamResampler(16000, 16000);
    const pcm = tone(1000, 20, 16000);
    expect(r.push(pcm)).toBe(pcm);
    expect(r.flush().length).toBe(0);
    r.destroy();
    expect(() => r.push(pcm)).toThrow(expect.objectContaining({ code: 'AUDIO_INVALID' }));
  });

  it('one-shot identity returns an equal copy', async () => {
    const pcm = tone(1000, 20, 8000);
    const out = await resample(pcm, 8000, 8000);
    expect(out).not.toBe(pcm);
    expect(out.buffer).not.toBe(pcm.buffer);
    expect(Array.from(out)).toEqual(Array.from(pcm));
  });

  it('destroy() is idempotent and later use throws AUDIO_INVALID', async () => {
    const r = await createStreamResampler(8000, 24000);
    r.destroy();
    r.destroy();
    expect(() => r.push(new Int16Array(10))).toThrow(/after destroy/);
    expect(() => r.flush()).toThrow(expect.objectContaining({ code: 'AUDIO_INVALID' }));
  });

  it('destroy() gives the memory back: 10,000 create/destroy cycles do not grow the heap', async () => {
    const m = await loadSpeexModule();
    const warm = await createStreamResampler(24000, 16000);
    warm.destroy();
    const before = m.HEAP16.byteLength;
    for (let i = 0; i < 10_000; i++) {
      const r = await createStreamResampler(24000, 16000);
      r.push(tone(1000, 20, 24000));
      r.destroy();
    }
    expect(m.HEAP16.byteLength).toBe(before);
  });

  it('a thousand live resamplers are independent', async () => {
    const live = await Promise.all(
      Array.from({ length: 1000 }, () => createStreamResampler(24000, 8000)),
    );
    const outs = live.map((r, i) => concatPcm([r.push(tone(500 + i, 20, 24000)), r.flush()]));
    for (const r of live) r.destroy();
    for (const i of [0, 499, 999]) {
      expect(maxAbsDiff(outs[i]!, await resample(tone(500 + i, 20, 24000), 24000, 8000))).toBe(0);
    }
  });

  it.each([
    [0, 8000],
    [8000, -16000],
    [8000, 1.5],
    [200_000, 8000],
    [Number.NaN, 8000],
  ])('rejects rates %d -> %d with AUDIO_INVALID', async (from, to) => {
    await expect(createStreamResampler(from, to)).rejects.toMatchObject({ code: 'AUDIO_INVALID' });
    await expect(resample(new Int16Array(10), from, to)).rejects.toMatchObject({
      code: 'AUDIO_INVALID',
    });
  });
});
