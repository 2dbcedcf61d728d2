/**
 * `npm run bench:smoke` (part of `npm test`): a tiny bench (3 latency turns with preemptive STT,
 * one capacity step of 5 calls against a 2-worker server and against the bare ws server) that
 * exits non-zero when a measurement is missing. About 45 s.
 */
import { join } from 'node:path';
import { runBench } from './main.js';

const results = await runBench({
  kind: 'smoke',
  latencyTurns: 3,
  latencySettings: [{ preemptMs: 100 }],
  targets: ['silero@2/8k', 'bare/8k'],
  capacity: {
    stepCalls: [5],
    stepDurationMs: 8000,
    rampMs: () => 500,
    rule: { addedP95LimitMs: 400, minTurnsPerCall: 1, maxGapsPerTurn: 0.05 },
    maxSteps: 1,
    minCalls: 5,
    bisectSteps: 0,
    confirmFailures: false,
  },
  outFile: join(import.meta.dirname, 'results.smoke.json'),
});

const missing: string[] = [];
for (const l of results.latency) {
  if (l.p50Ms === null || l.p99Ms === null)
    missing.push(`latency p50/p99 (PREEMPT_MS=${l.preemptMs})`);
  if (l.answered < l.turns)
    missing.push(`latency: ${l.turns - l.answered} unanswered turns (PREEMPT_MS=${l.preemptMs})`);
  if (!l.serverStages.firstAudioMs?.count)
    missing.push(`server firstAudioMs metric (PREEMPT_MS=${l.preemptMs})`);
}
for (const c of results.capacity) {
  const s = c.steps[0];
  if (!s) missing.push(`capacity step (${c.target})`);
  else {
    if (s.serverCpuMeanPct === null || s.serverRssMaxMb === null)
      missing.push(`server CPU/RSS (${c.target})`);
    if (!c.target.startsWith('bare') && s.p99Ms === null)
      missing.push(`capacity latency (${c.target})`);
    if (s.failedCalls > 0) missing.push(`${s.failedCalls} failed calls (${c.target})`);
  }
}
if (missing.length) {
  console.error(`bench smoke: missing ${missing.join('; ')}`);
  process.exit(1);
}
process.exit(0);
