import { describe, expect, it } from 'vitest';
import { createEnergyGate, meanSquare, rmsDbfs } from '../../../src/audio/vad/energy-gate.js';
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
