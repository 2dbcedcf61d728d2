import { describe, expect, it } from 'vitest';
import {
  createEnergyGate,
  energyLimit,
  meanSquare,
  rmsDbfs,
  soundEnd,
} from '../../../src/audio/vad/energy-gate.js';
import { VoicebotError } from '../../../src/errors.js';

/** A square wave of `amplitude`: its RMS equals its amplitude. */
function square(amplitude: number, length = 512): Int16Array {
  return Int16Array.from({ length }, (_, i) => (i % 2 === 0 ? amplitude : -amplitude));
}

describe('meanSquare / rmsDbfs', () => {
  it('measures a square wave exactly', () => {
    expect(meanSquare(square(1000))).toBe(1_000_000);
    expect(rmsDbfs(square(32767))).toBeCloseTo(0, 3);
    expect(rmsDbfs(square(328))).toBeCloseTo(-40, 1);
  });

  it('gives 0 / -Infinity for silence and empty frames', () => {
    expect(meanSquare(new Int16Array(320))).toBe(0);
    expect(meanSquare(new Int16Array(0))).toBe(0);
    expect(rmsDbfs(new Int16Array(320))).toBe(-Infinity);
  });
});

describe('createEnergyGate', () => {
  it('is quiet strictly below the level and open at or above it', () => {
    const quiet = createEnergyGate(-40);
    expect(quiet(new Int16Array(512))).toBe(true);
    expect(quiet(square(300))).toBe(true); // -40.8 dBFS
    expect(quiet(square(330))).toBe(false); // -39.9 dBFS
    expect(quiet(square(20000))).toBe(false);
  });

  it('never gates when turned off with null', () => {
    expect(createEnergyGate(null)(new Int16Array(512))).toBe(false);
  });

  it('rejects levels that are not dBFS', () => {
    for (const bad of [1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => createEnergyGate(bad)).toThrow(VoicebotError);
    }
  });
});

describe('soundEnd', () => {
  const limit = energyLimit(-50)!;

  it('finds the end of the last block at or above the level, counted back from the end', () => {
    const frame = new Int16Array(256);
    frame.set(square(1000, 100)); // sound in samples 0-99, then digital silence
    // Blocks of 32 from the end: [224,256) [192,224) [160,192) [128,160) [96,128) ...
    // [96,128) holds samples 96-99 at 1000: mean square 4/32 × 1e6, far above -50 dBFS.
    expect(soundEnd(frame, limit, 32)).toBe(128);
    expect(soundEnd(square(1000, 256), limit, 32)).toBe(256);
  });

  it('gives 0 for a frame with no block at the level, and compares like the gate', () => {
    expect(soundEnd(new Int16Array(256), limit, 32)).toBe(0);
    const quiet = square(80, 256); // -52.2 dBFS: below
    expect(soundEnd(quiet, limit, 32)).toBe(0);
    const frame = square(80, 256);
    frame.set(square(110, 32), 64); // -49.5 dBFS in [64,96)
    expect(soundEnd(frame, limit, 32)).toBe(96);
  });

  it('takes a short first block when the block does not divide the frame', () => {
    const frame = new Int16Array(80); // a 10 ms WebRTC window at 8 kHz, 32-sample blocks
    frame.set(square(1000, 10));
    // Blocks from the end: [48,80) [16,48) [0,16): the sound is in the last one.
    expect(soundEnd(frame, limit, 32)).toBe(16);
  });

  it('energyLimit is the mean square at the level; null is off', () => {
    expect(energyLimit(-40)).toBeCloseTo(32768 * 32768 * 1e-4, 3);
    expect(energyLimit(null)).toBeNull();
    expect(() => energyLimit(3)).toThrow(VoicebotError);
  });
});
