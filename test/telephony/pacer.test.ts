import { afterEach, describe, expect, it, vi } from 'vitest';
import { Pacer, STALL_MEMORY_MS } from '../../src/telephony/pacer.js';

/** A pacer on a hand-driven clock: its interval timer is faked and never fires on its own. */
function setup() {
  vi.useFakeTimers();
  const pacer = new Pacer(20);
  const pumped: number[] = [];
  const player = { pump: (now: number) => void pumped.push(now) };
  pacer.register(player);
  let now = 10_000;
  return {
    pacer,
    player,
    pumped,
    tick: (ms: number) => {
      now += ms;
      pacer.tick(now);
      return now;
    },
    now: () => now,
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Pacer', () => {
  it('pumps every registered player with the tick’s time', () => {
    const { pumped, tick } = setup();
    const at = tick(20);
    expect(pumped).toEqual([at]);
  });

  it('on time, a player keeps its base lead', () => {
    const { pacer, tick, now } = setup();
    for (let i = 0; i < 50; i++) tick(20);
    expect(pacer.recentStallMs(now())).toBe(0);
    expect(pacer.leadFor(120, 400, now())).toBe(120);
  });

  it('after a late tick, the lead covers the stall and the tick after it, up to the cap', () => {
    const { pacer, tick, now } = setup();
    tick(20);
    tick(20 + 150); // the clock came 150 ms late
    expect(pacer.recentStallMs(now())).toBe(150);
    expect(pacer.leadFor(120, 400, now())).toBe(170);
    tick(20 + 600);
    expect(pacer.recentStallMs(now())).toBe(600);
    expect(pacer.leadFor(120, 400, now())).toBe(400);
    // A cap below the base keeps the base: the lead never shrinks below what was configured.
    expect(pacer.leadFor(120, 100, now())).toBe(120);
    // A small stall does not lower a larger base.
    expect(pacer.leadFor(1000, 2000, now())).toBe(1000);
  });

  it('forgets a stall once STALL_MEMORY_MS has passed without another', () => {
    const { pacer, tick, now } = setup();
    tick(20);
    tick(20 + 200);
    for (let t = 0; t < STALL_MEMORY_MS - 10_000; t += 20) tick(20);
    expect(pacer.leadFor(120, 400, now())).toBe(220);
    for (let t = 0; t < 15_000; t += 20) tick(20);
    expect(pacer.recentStallMs(now())).toBe(0);
    expect(pacer.leadFor(120, 400, now())).toBe(120);
  });

  it('does not count the time it sat idle with no player as a stall', () => {
    const { pacer, player, tick, now } = setup();
    tick(20);
    pacer.unregister(player);
    expect(pacer.size).toBe(0);
    pacer.register(player);
    tick(5_000); // the first tick after a restart has nothing to compare with
    tick(20);
    expect(pacer.recentStallMs(now())).toBe(0);
  });
});
