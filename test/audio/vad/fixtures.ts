// Test helpers: the committed WAV fixtures (test/fixtures/, made by scripts/make-fixtures.sh)
// and summaries of a VAD's decisions over them.
import { readFileSync } from 'node:fs';
import { decodeWav } from '../../../src/audio/wav.js';
import type { VadDecision, VadStream } from '../../../src/audio/vad/types.js';
import type { SileroScorer } from '../../../src/audio/vad/silero-model.js';
import { SileroDetector } from '../../../src/audio/vad/silero.js';
import { DetectorVadStream } from '../../../src/audio/vad/vad-stream.js';

export interface Fixture {
  sampleRate: number;
  samples: Int16Array;
  durationMs: number;
}

/** Digital silence before and after the voice in every speech fixture. */
export const FIXTURE_PAD_MS = 300;

export function readFixture(name: string): Fixture {
  const { sampleRate, samples } = decodeWav(
    readFileSync(new URL(`../../fixtures/${name}`, import.meta.url)),
  );
  return { sampleRate, samples, durationMs: (samples.length * 1000) / sampleRate };
}

/** Pushes `samples` in `frameMs` chunks, as a call would, and collects every decision. */
export async function runStream(
  stream: VadStream,
  samples: Int16Array,
  frameMs = 20,
): Promise<VadDecision[]> {
  const step = (stream.sampleRate * frameMs) / 1000;
  const decisions: VadDecision[] = [];
  for (let i = 0; i < samples.length; i += step) {
    decisions.push(...(await stream.push(samples.subarray(i, i + step))));
  }
  return decisions;
}

export const endMs = (d: VadDecision): number => d.startMs + d.durationMs;

/** Total milliseconds marked as speech. */
export function speechMs(decisions: VadDecision[]): number {
  return decisions.filter((d) => d.speech).reduce((sum, d) => sum + d.durationMs, 0);
}

/** The longest run of consecutive non-speech windows that starts and ends inside [fromMs, toMs]. */
export function longestSilence(
  decisions: VadDecision[],
  fromMs: number,
  toMs: number,
): { startMs: number; endMs: number; ms: number } {
  let best = { startMs: 0, endMs: 0, ms: 0 };
  let runStart: number | null = null;
  for (const d of decisions) {
    const inside = d.startMs >= fromMs && endMs(d) <= toMs;
    if (inside && !d.speech) {
      runStart ??= d.startMs;
      if (endMs(d) - runStart > best.ms) {
        best = { startMs: runStart, endMs: endMs(d), ms: endMs(d) - runStart };
      }
    } else {
      runStart = null;
    }
  }
  return best;
}

/** The longest run of exactly-zero samples strictly inside `samples` (not touching either end). */
export function longestZeroRun(fixture: Fixture): { startMs: number; endMs: number } {
  const { samples, sampleRate } = fixture;
  let best = { start: 0, end: 0 };
  let start = -1;
  for (let i = 0; i < samples.length; i++) {
    if (samples[i] === 0) {
      if (start < 0) start = i;
    } else {
      if (start > 0 && i - start > best.end - best.start) best = { start, end: i };
      start = -1;
    }
  }
  return { startMs: (best.start * 1000) / sampleRate, endMs: (best.end * 1000) / sampleRate };
}

/**
 * Silero's probability for every window of a fixture, with the energy gate off, pushed in frames
 * of `frameMs` (a frame of 100 ms holds three windows, which go to the model together).
 */
export async function probabilities(
  model: SileroScorer,
  name: string,
  frameMs = 20,
): Promise<number[]> {
  const fixture = readFixture(name);
  const rate = fixture.sampleRate as 8000 | 16000;
  const stream = new DetectorVadStream('silero', rate, new SileroDetector(model, rate), null, {
    energyGateDbfs: null,
  });
  const decisions = await runStream(stream, fixture.samples, frameMs);
  stream.close();
  return decisions.map((d) => d.probability);
}
