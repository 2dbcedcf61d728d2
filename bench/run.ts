/**
 * `npm run bench`: the full benchmark (issue 5). Latency: 20 turns on one call with preemptive STT
 * on and off; capacity: steps of live calls for each VAD with 1 worker, with all cores' workers,
 * and for a bare ws server, each climb narrowed by bisection; memory per call from the steps'
 * RSS. Writes bench/results.json and prints a markdown table. About 15 minutes on a 2-core
 * machine: steps are 20 s, the climb stops after 5 steps and bisects twice.
 *   BENCH_STEPS=50,100,200 BENCH_STEP_S=20 BENCH_TARGETS=silero,webrtc,bare,silero@all \
 *   BENCH_MAX_STEPS=5 BENCH_BISECT=2 BENCH_TURNS=20 npm run bench
 */
import { join } from 'node:path';
import { runBench } from './main.js';

const list = (v: string | undefined, d: string) =>
  (v ?? d)
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

await runBench({
  kind: 'full',
  latencyTurns: Number(process.env.BENCH_TURNS ?? 20),
  preemptSettings: [200, 0],
  targets: list(process.env.BENCH_TARGETS, 'silero,webrtc,bare,silero@all'),
  capacity: {
    stepCalls: list(process.env.BENCH_STEPS, '50,100,200,400,800,1200,1600').map(Number),
    stepDurationMs: Number(process.env.BENCH_STEP_S ?? 20) * 1000,
    rampMs: (calls) => Math.min(5000, calls * 25),
    overheadLimitMs: 50,
    maxSteps: Number(process.env.BENCH_MAX_STEPS ?? 5),
    minCalls: 5,
    baselineCalls: 5,
    bisectSteps: Number(process.env.BENCH_BISECT ?? 2),
  },
  outFile: join(import.meta.dirname, 'results.json'),
});
process.exit(0);
