/**
 * Signal generators and measurements for audio tests: sine tones, RMS and the power at one
 * frequency (a Hann-windowed Goertzel filter), all on PCM16 samples scaled to -1..1.
 */

/** A sine tone of `amplitude` (fraction of full scale) as PCM16 mono. */
export function tone(
  freqHz: number,
  durationMs: number,
  sampleRate: number,
  amplitude = 0.5,
): Int16Array {
  const n = Math.round((sampleRate * durationMs) / 1000);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * freqHz * i) / sampleRate));
  }
  return out;
}

/** Mean power (RMS squared) with full scale = 1; a full-scale sine has power 0.5. */
export function meanPower(pcm: Int16Array): number {
  let sum = 0;
  for (const v of pcm) sum += (v / 32768) ** 2;
  return pcm.length === 0 ? 0 : sum / pcm.length;
}

/** Root mean square with full scale = 1. */
export function rms(pcm: Int16Array): number {
  return Math.sqrt(meanPower(pcm));
}

/**
 * Power of the component at `freqHz`, on the same scale as `meanPower` (a sine of amplitude A
 * gives A^2 / 2). The Hann window keeps leakage from other frequencies small, so a pure 1 kHz
 * tone measures about -100 dB or less at 2 kHz.
 */
export function goertzelPower(pcm: Int16Array, freqHz: number, sampleRate: number): number {
  const n = pcm.length;
  const coeff = 2 * Math.cos((2 * Math.PI * freqHz) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  let windowSum = 0;
  for (let i = 0; i < n; i++) {
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
    windowSum += w;
    const s = (w * (pcm[i] ?? 0)) / 32768 + coeff * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  const magnitudeSquared = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return (2 * magnitudeSquared) / (windowSum * windowSum);
}

/** `power` relative to `reference` in decibels. */
export function db(power: number, reference: number): number {
  return 10 * Math.log10(power / reference);
}

/** The strongest of `candidatesHz` in `pcm`. */
export function dominantFrequency(
  pcm: Int16Array,
  sampleRate: number,
  candidatesHz: number[],
): number {
  let best = Number.NaN;
  let bestPower = -1;
  for (const f of candidatesHz) {
    const p = goertzelPower(pcm, f, sampleRate);
    if (p > bestPower) {
      best = f;
      bestPower = p;
    }
  }
  return best;
}

/** Concatenates PCM chunks. */
export function concatPcm(chunks: Int16Array[]): Int16Array {
  const out = new Int16Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A small deterministic PRNG (mulberry32) so randomised tests are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
