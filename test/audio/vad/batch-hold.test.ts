// When an idle inference thread holds a small batch for more streams: rules on explicit clocks.
import { describe, expect, it } from 'vitest';
import { BatchHold } from '../../../src/audio/vad/batch-hold.js';

/** A hold that has seen one arrival every `everyMs` for `forMs`, up to `now`. */
function steady(hold: BatchHold, everyMs: number, forMs: number, from = 0): number {
  let t = from;
  for (; t < from + forMs; t += everyMs) hold.arrived(t);
  return t - everyMs;
}

describe('BatchHold', () => {
  it('learns the arrival rate and forgets it when arrivals stop', () => {
    const hold = new BatchHold({ holdMs: 5, fullBatch: 8 });
    const now = steady(hold, 1, 5000);
    expect(hold.rate(now)).toBeCloseTo(1, 1);
    expect(hold.rate(now + 1000)).toBeCloseTo(Math.exp(-1), 1);
    expect(hold.rate(now + 5000)).toBeLessThan(0.01);
  });

  it('holds a small batch while another stream is due, up to holdMs from its oldest', () => {
    const hold = new BatchHold({ holdMs: 5, fullBatch: 8 });
    const now = steady(hold, 1, 5000);
    expect(hold.wait(1, now, now)).toBe(5);
    expect(hold.wait(3, now - 3, now)).toBe(2);
    expect(hold.wait(3, now - 5, now)).toBe(0);
    expect(hold.wait(8, now, now)).toBe(0);
  });

  it('never holds a lone call’s frames (ten a second), nor with the hold off', () => {
    const lone = new BatchHold({ holdMs: 5, fullBatch: 8 });
    const now = steady(lone, 100, 10_000);
    expect(lone.wait(1, now, now)).toBe(0);
    const off = new BatchHold({ holdMs: 0, fullBatch: 8 });
    const t = steady(off, 1, 5000);
    expect(off.wait(1, t, t)).toBe(0);
  });

  it('holds only when at least one more arrival is expected before the hold ends', () => {
    const every4 = new BatchHold({ holdMs: 5, fullBatch: 8 });
    const a = steady(every4, 4, 10_000);
    expect(every4.wait(1, a, a)).toBeGreaterThan(0); // 1.25 expected in 5 ms
    const every6 = new BatchHold({ holdMs: 5, fullBatch: 8 });
    const b = steady(every6, 6, 10_000);
    expect(every6.wait(1, b, b)).toBe(0); // 0.83 expected
    // Late in a hold, less time is left for company to come.
    expect(every4.wait(1, a - 2, a)).toBe(0); // 3 ms left: 0.75 expected
  });
});
