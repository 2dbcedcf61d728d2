/**
 * The three measurements, shared by `bench/run.ts` (full) and `bench/smoke.ts` (tiny): latency
 * against the floor, capacity in steps for a server kind, and memory per call from the steps.
 */
import { cpus } from 'node:os';
import { stop } from './processes.js';
import {
  BARE_SCENARIO,
  BOT_SCENARIO,
  judge,
  rssMb,
  runStep,
  slope,
  type StepVerdict,
} from './capacity.js';
import { measureLatency } from './latency.js';
import { floorMs } from './model.js';
import { scrapeStages, stageSummary, startBare, startServer, type Fake } from './server.js';

export interface LatencyResult {
  preemptMs: number;
  vad: 'silero';
  turns: number;
  answered: number;
  floorMs: number;
  /** End of voice → first bot frame at the caller (ms). */
  p50Ms: number | null;
  p99Ms: number | null;
  overheadP50Ms: number | null;
  overheadP99Ms: number | null;
  underruns: number;
  fromLastFrameMs: number[];
  /** The server's own stage histograms (`/metrics`): mean and bucket-interpolated p50/p99. */
  serverStages: Record<string, ReturnType<typeof stageSummary>>;
}

export async function latencyPhase(
  fake: Fake,
  preemptMs: number,
  turns: number,
): Promise<LatencyResult> {
  const server = await startServer(fake, { vad: 'silero', preemptMs });
  try {
    const run = await measureLatency(server.wsUrl, turns);
    const stages = await scrapeStages(server);
    const floor = floorMs(preemptMs);
    const minus = (v: number | null) => (v === null ? null : Math.round(v - floor));
    const round = (v: number | null) => (v === null ? null : Math.round(v));
    return {
      preemptMs,
      vad: 'silero',
      turns,
      answered: run.fromLastFrameMs.length,
      floorMs: floor,
      p50Ms: round(run.fromVoiceEnd.p50),
      p99Ms: round(run.fromVoiceEnd.p99),
      overheadP50Ms: minus(run.fromVoiceEnd.p50),
      overheadP99Ms: minus(run.fromVoiceEnd.p99),
      underruns: run.underruns,
      fromLastFrameMs: run.fromLastFrameMs,
      serverStages: Object.fromEntries(
        Object.entries(stages).map(([k, h]) => [k, stageSummary(h)]),
      ),
    };
  } finally {
    await server.close();
  }
}

export type Target = 'silero' | 'webrtc' | 'bare';

export interface CapacityStep extends StepVerdict {
  idleRssMb: number;
}

export interface CapacityResult {
  target: Target;
  steps: CapacityStep[];
  /** Largest N that held by the issue's rule (null: none did). */
  largestHolding: number | null;
  /** Largest N that held by the relative rule the climb uses. */
  largestHoldingRelative: number | null;
  stoppedBecause: string;
  /** RSS slope over the steps' max RSS (MB per live call). */
  rssMbPerCall: number | null;
}

export interface CapacityOptions {
  stepCalls: number[];
  stepDurationMs: number;
  rampMs: (calls: number) => number;
  overheadLimitMs: number;
  /** Overhead p99 of the one-call latency run (PREEMPT_MS=200); the relative rule's base. */
  baselineOverheadP99Ms: number;
  /** Stop climbing after this many steps (time box). */
  maxSteps: number;
  /** When the first step fails, try smaller ones down to this. */
  minCalls: number;
  log: (s: string) => void;
}

/** Steps up until one fails (or the list or time box ends); if the first fails, halves down. */
export async function capacityPhase(
  fake: Fake,
  target: Target,
  o: CapacityOptions,
): Promise<CapacityResult> {
  const steps: CapacityStep[] = [];
  let stoppedBecause = 'step list exhausted';
  const tryStep = async (calls: number): Promise<CapacityStep> => {
    const s = await oneStep(fake, target, calls, o);
    steps.push(s);
    o.log(
      `  ${target} ${calls} calls: ${s.holds ? 'holds' : `fails (${s.why.join(', ')})`}, relative rule ${s.holdsRelative ? 'holds' : `fails (${s.whyRelative.join(', ')})`}; p99 ${s.p99Ms ?? '-'} ms, overhead p99 ${s.overheadP99Ms ?? '-'} ms, server cpu ${s.serverCpuMeanPct ?? '-'} %, rss ${s.serverRssMaxMb ?? '-'} MB, generator cpu ${s.generatorCpuPct} % loop p99 ${s.generatorLoopP99Ms} ms`,
    );
    return s;
  };
  for (const [i, calls] of o.stepCalls.entries()) {
    if (i >= o.maxSteps) {
      stoppedBecause = `time box (${o.maxSteps} steps)`;
      break;
    }
    const s = await tryStep(calls);
    if (!s.holdsRelative) {
      stoppedBecause = `${calls} calls: ${s.whyRelative.join(', ')}`;
      if (i === 0) {
        for (let n = Math.floor(calls / 2); n >= o.minCalls; n = Math.floor(n / 2))
          if ((await tryStep(n)).holdsRelative) break;
      }
      break;
    }
  }
  const largest = (ok: (s: CapacityStep) => boolean) => {
    const n = steps.filter(ok).map((s) => s.calls);
    return n.length ? Math.max(...n) : null;
  };
  const points: Array<[number, number]> = [];
  for (const s of steps) {
    points.push([0, s.idleRssMb]);
    if (s.serverRssMaxMb !== null) points.push([s.calls, s.serverRssMaxMb]);
  }
  const perCall = slope(points);
  return {
    target,
    steps,
    largestHolding: largest((s) => s.holds),
    largestHoldingRelative: largest((s) => s.holdsRelative),
    stoppedBecause,
    rssMbPerCall: perCall === null ? null : Math.round(perCall * 1000) / 1000,
  };
}

async function oneStep(
  fake: Fake,
  target: Target,
  calls: number,
  o: CapacityOptions,
): Promise<CapacityStep> {
  const common = { calls, durationMs: o.stepDurationMs, rampMs: o.rampMs(calls) };
  if (target === 'bare') {
    const bare = await startBare();
    try {
      const idleRssMb = rssMb([bare.child.pid]);
      const r = await runStep({
        ...common,
        wsUrl: bare.wsUrl,
        scenario: BARE_SCENARIO,
        serverPids: [bare.child.pid],
      });
      return { ...judge(r, null, o.overheadLimitMs, o.baselineOverheadP99Ms), idleRssMb };
    } finally {
      await stop(bare.child);
    }
  }
  const server = await startServer(fake, { vad: target, preemptMs: 200 });
  try {
    const idleRssMb = rssMb(server.pids());
    const r = await runStep({
      ...common,
      wsUrl: server.wsUrl,
      scenario: BOT_SCENARIO,
      serverPids: server.pids(),
    });
    return { ...judge(r, floorMs(200), o.overheadLimitMs, o.baselineOverheadP99Ms), idleRssMb };
  } finally {
    await server.close();
  }
}

export function machine(): { cpus: number; model: string; node: string } {
  const c = cpus();
  return { cpus: c.length, model: c[0]?.model ?? 'unknown', node: process.version };
}

export const CPU_SHARING =
  "All processes share the machine's cores with no pinning: the voicebot server (1 worker, one Node process), the fake OpenAI (its own Node process), the load generator (its own Node process, bench/load-worker.ts) and the bench orchestrator (idle during capacity steps; it drives the single latency call itself). The OS scheduler shares the cores; server CPU % is of one core.";
