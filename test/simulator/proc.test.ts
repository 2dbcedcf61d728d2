// CPU ticks from /proc, for a process and for one of its threads (Linux).
import { describe, expect, it } from 'vitest';
import { readMachineTicks, readThreadTicks, readTicks } from '../../src/simulator/proc.js';

describe('proc ticks', () => {
  it("count this process's and its main thread's CPU, and grow with work", () => {
    const process0 = readTicks(process.pid)!;
    const main0 = readThreadTicks(process.pid, process.pid)!;
    // 100 ms of this thread's CPU (not of the wall clock: the machine may be busy), 10 ticks.
    const cpu0 = process.cpuUsage().user;
    let x = 0;
    while (process.cpuUsage().user - cpu0 < 100_000)
      for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + 1);
    expect(x).toBeGreaterThan(0);
    expect(readThreadTicks(process.pid, process.pid)!).toBeGreaterThan(main0);
    expect(readTicks(process.pid)!).toBeGreaterThan(process0);
    // The process counts all its threads, the main thread among them.
    expect(readTicks(process.pid)!).toBeGreaterThanOrEqual(
      readThreadTicks(process.pid, process.pid)!,
    );
  });

  it('is null for a thread or process that does not exist', () => {
    expect(readThreadTicks(process.pid, 2 ** 30)).toBeNull();
    expect(readTicks(2 ** 30)).toBeNull();
  });

  it("counts the machine's busy ticks within its total, both growing with this process's work", () => {
    const before = readMachineTicks()!;
    expect(before.busy).toBeGreaterThan(0);
    expect(before.busy).toBeLessThanOrEqual(before.total);
    const cpu0 = process.cpuUsage().user;
    let x = 0;
    while (process.cpuUsage().user - cpu0 < 100_000)
      for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + 1);
    expect(x).toBeGreaterThan(0);
    const after = readMachineTicks()!;
    // This thread's 100 ms (10 ticks) are in the machine's busy time, give or take a tick.
    expect(after.busy - before.busy).toBeGreaterThanOrEqual(9);
    expect(after.total - before.total).toBeGreaterThanOrEqual(after.busy - before.busy);
  });
});
