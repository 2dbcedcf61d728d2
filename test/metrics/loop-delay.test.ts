import { describe, expect, it } from 'vitest';
import { EVENT_LOOP_SAMPLE_MS, loopDelayMs } from '../../src/metrics/loop-delay.js';

describe('loopDelayMs', () => {
  it("takes the monitor's sampling interval off a reading, never going below 0", () => {
    expect(EVENT_LOOP_SAMPLE_MS).toBe(10);
    expect(loopDelayMs(10.1)).toBeCloseTo(0.1);
    expect(loopDelayMs(45)).toBe(35);
    expect(loopDelayMs(3)).toBe(0);
  });
});
