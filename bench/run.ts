/**
 * `npm run bench`: the full benchmark (issue 5, issue 14). Latency: 20 turns on one call with
 * preemptive STT on and off; capacity: steps of live calls for each target (VAD, workers, caller
 * rate), each climb (steps ×1.5) narrowed by bisection; memory per call from the steps' RSS.
 * Writes bench/results.json and prints a markdown table. About 25 minutes on a 2-core machine.
 *   BENCH_STEPS=50,75,110 BENCH_STEP_S=20 BENCH_TARGETS=silero/8k,webrtc/8k,bare/8k \
 *   BENCH_MAX_STEPS=8 BENCH_BISECT=2 BENCH_CONFIRM=1 BENCH_TURNS=20 BENCH_ADDED_P95_MS=400 npm run bench
 * `BENCH_TARGETS= BENCH_PREEMPT=50` runs only the latency settings with PREEMPT_MS=50.
 * A failing step is run again and fails only if it fails twice (BENCH_CONFIRM=0: once).
 */
import { join } from 'node:path';
import { runBench } from './main.js';
import type { LatencySetting } from './phases.js';

const list = (v: string | undefined, d: string) =>
  (v ?? d)
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

await runBench({
  kind: 'full',
  latencyTurns: Number(process.env.BENCH_TURNS ?? 20),
  // BENCH_LATENCY=0: capacity only (a second run to compare capacity with).
  // BENCH_PREEMPT=50,200: only the settings with those PREEMPT_MS values.
  latencySettings:
    process.env.BENCH_LATENCY === '0'
      ? []
      : (
          [
            { preemptMs: 200 },
            { preemptMs: 100 },
            { preemptMs: 100, speculate: false },
            { preemptMs: 50 },
            { preemptMs: 0 },
            { preemptMs: 100, pauseMs: 450 },
            // Exotel's frame length: the server sees the silence only when a frame arrives.
            { preemptMs: 200, callerFrameMs: 100 },
          ] satisfies LatencySetting[]
        ).filter(
          (s) =>
            !process.env.BENCH_PREEMPT ||
            list(process.env.BENCH_PREEMPT, '').map(Number).includes(s.preemptMs),
        ),
  targets: list(process.env.BENCH_TARGETS, 'silero/8k,silero,webrtc/8k,silero@all/8k,bare/8k'),
  capacity: {
    stepCalls: list(process.env.BENCH_STEPS, '30,50,75,110,160,240,360,540,800,1200').map(Number),
    stepDurationMs: Number(process.env.BENCH_STEP_S ?? 20) * 1000,
    rampMs: (calls) => Math.min(5000, calls * 25),
    rule: {
      addedP95LimitMs: Number(process.env.BENCH_ADDED_P95_MS ?? 400),
      minTurnsPerCall: 2,
      maxGapsPerTurn: 0.05,
    },
    maxSteps: Number(process.env.BENCH_MAX_STEPS ?? 10),
    minCalls: 5,
    bisectSteps: Number(process.env.BENCH_BISECT ?? 2),
    confirmFailures: process.env.BENCH_CONFIRM !== '0',
  },
  outFile: join(import.meta.dirname, 'results.json'),
});
process.exit(0);
