/**
 * `npm run bench`: the full benchmark (issue 5). Latency: 20 turns on one call with preemptive STT
 * on and off; capacity: steps of live calls for each VAD and for a bare ws server; memory per
 * call from the steps' RSS. Writes bench/results.json and prints a markdown table. Sized for
 * about 20 minutes on a 2-core machine: steps are 20 s and the climb stops after 5 steps.
 *   BENCH_STEPS=50,100,200 BENCH_STEP_S=20 BENCH_TARGETS=silero,webrtc,bare npm run bench
 */
import { join } from 'node:path';
import { runBench } from './main.js';
import type { Target } from './phases.js';

const list = (v: string | undefined, d: string) =>
  (v ?? d)
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

await runBench({
  kind: 'full',
  latencyTurns: Number(process.env.BENCH_TURNS ?? 20),
  preemptSettings: [200, 0],
  targets: list(process.env.BENCH_TARGETS, 'silero,webrtc,bare') as Target[],
  capacity: {
    stepCalls: list(process.env.BENCH_STEPS, '50,100,200,400,800,1200,1600').map(Number),
    stepDurationMs: Number(process.env.BENCH_STEP_S ?? 20) * 1000,
    rampMs: (calls) => Math.min(5000, calls * 25),
    overheadLimitMs: 50,
    maxSteps: Number(process.env.BENCH_MAX_STEPS ?? 5),
    minCalls: 5,
  },
  outFile: join(import.meta.dirname, 'results.json'),
});
process.exit(0);
