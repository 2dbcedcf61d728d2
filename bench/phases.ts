/**
 * The three measurements, shared by `bench/run.ts` (full) and `bench/smoke.ts` (tiny): latency
 * against the floor, capacity in steps for a server kind, and memory per call from the steps.
 */
import { cpus } from 'node:os';
import { stop } from './processes.js';
import { addedDelay, type AddedDelay } from './added-delay.js';
import {
  BARE_PASS_MS,
  BARE_SCENARIO,
  BOT_PASS_MS,
  BOT_SCENARIO,
  cpuSeconds,
  cpuWindow,
  type CpuShare,
  judge,
  type CapacityRule,
  rssMb,
  runStep,
  slope,
  type StepVerdict,
} from './capacity.js';
import { DEFAULT_CALLER_FRAME_MS, measureLatency, pauseSpeech } from './latency.js';
import { floorMs, SEQUENTIAL_FLOOR_MS } from './model.js';
import {
  fakeCounts,
  fakeLoopDelay,
  settledCounts,
  sampleLoopDelay,
  scrapeSpeculations,
  scrapeStages,
  scrapeCounters,
  stageSummary,
  startBare,
  startServer,
  type Fake,
} from './server.js';

/** One latency run's server settings and what the caller says. */
export interface LatencySetting {
  preemptMs: number;
  /** SPECULATIVE_REPLY (default on). */
  speculate?: boolean;
  /** Each turn is the pause fixture with its mid-sentence silence cut to this (ms). */
  pauseMs?: number;
  /** The caller's frame length (default 20 ms; Exotel sends about 100). */
  callerFrameMs?: number;
}

export interface LatencyResult {
  preemptMs: number;
  speculate: boolean;
  /** The caller paused this long mid-sentence each turn (null: the hello fixture, no pause). */
  pauseMs: number | null;
  callerFrameMs: number;
  vad: 'silero';
  turns: number;
  answered: number;
  /** The issue's floor: the stages one after another (model.ts SEQUENTIAL_FLOOR_MS). */
  floorMs: number;
  /** The floor when preemptive STT hides STT (equal to `floorMs` when it cannot). */
  preemptiveFloorMs: number;
  /** End of voice → first bot frame at the caller (ms). */
  p50Ms: number | null;
  p99Ms: number | null;
  /** Above the issue's floor (negative: faster than a sequential server can be). */
  overheadP50Ms: number | null;
  overheadP99Ms: number | null;
  /** Above the preemptive floor: what the server itself adds. */
  overheadPreemptiveP50Ms: number | null;
  overheadPreemptiveP99Ms: number | null;
  underruns: number;
  fromLastFrameMs: number[];
  /** The server's own stage histograms (`/metrics`): mean and bucket-interpolated p50/p99. */
  serverStages: Record<string, ReturnType<typeof stageSummary>>;
  /** The server's added delay per turn and by stage (its stored timings against the model). */
  added: AddedDelay | null;
  /** Provider requests per answered turn (the fake's counts): above 1 LLM / 2 TTS is waste. */
  requestsPerTurn: { stt: number; llm: number; tts: number } | null;
  /** Speculative replies by outcome (`voicebot_speculative_replies_total`). */
  speculations: { used: number; discarded: number };
}

export async function latencyPhase(
  fake: Fake,
  setting: LatencySetting,
  turns: number,
): Promise<LatencyResult> {
  const { preemptMs, speculate = true, pauseMs, callerFrameMs = DEFAULT_CALLER_FRAME_MS } = setting;
  const server = await startServer(
    fake,
    { vad: 'silero', preemptMs },
    { SPECULATIVE_REPLY: String(speculate) },
  );
  let added: AddedDelay | null = null;
  try {
    const speech = pauseMs === undefined ? undefined : await pauseSpeech(pauseMs);
    const before = await settledCounts(fake);
    const run = await measureLatency(server.wsUrl, turns, speech, callerFrameMs);
    const after = await fakeCounts(fake);
    const answered = run.fromLastFrameMs.length;
    const per = (k: keyof typeof after) =>
      Math.round(((after[k] - before[k]) / Math.max(1, answered)) * 100) / 100;
    const stages = await scrapeStages(server);
    const speculations = await scrapeSpeculations(server);
    added = addedDelay(await server.close(), preemptMs);
    const floor = SEQUENTIAL_FLOOR_MS;
    const preemptiveFloor = floorMs(preemptMs);
    const minus = (v: number | null, f = floor) => (v === null ? null : Math.round(v - f));
    const round = (v: number | null) => (v === null ? null : Math.round(v));
    return {
      preemptMs,
      speculate,
      pauseMs: pauseMs ?? null,
      callerFrameMs,
      requestsPerTurn: answered
        ? { stt: per('transcriptions'), llm: per('chat'), tts: per('speech') }
        : null,
      speculations,
      vad: 'silero',
      turns,
      answered: run.fromLastFrameMs.length,
      floorMs: floor,
      preemptiveFloorMs: preemptiveFloor,
      p50Ms: round(run.fromVoiceEnd.p50),
      p99Ms: round(run.fromVoiceEnd.p99),
      overheadP50Ms: minus(run.fromVoiceEnd.p50),
      overheadP99Ms: minus(run.fromVoiceEnd.p99),
      overheadPreemptiveP50Ms: minus(run.fromVoiceEnd.p50, preemptiveFloor),
      overheadPreemptiveP99Ms: minus(run.fromVoiceEnd.p99, preemptiveFloor),
      underruns: run.underruns,
      fromLastFrameMs: run.fromLastFrameMs,
      serverStages: Object.fromEntries(
        Object.entries(stages).map(([k, h]) => [k, stageSummary(h)]),
      ),
      added,
    };
  } finally {
    if (added === null) await server.close();
  }
}

/**
 * A capacity target: `silero`, `webrtc` (the voicebot with that VAD) or `bare` (the bare ws
 * server), optionally `@N` or `@all` workers for the voicebot (default 1; `all` = the cores), and
 * `/8k` for callers at 8 kHz (Exotel's default rate; default 16 kHz).
 */
export type Target = string;

export interface TargetSpec {
  target: Target;
  kind: 'silero' | 'webrtc' | 'bare';
  workers: number;
  sampleRate: 8000 | 16000;
  /** `:spread`: callers out of step (each waits a share of one scenario pass first). */
  spread: boolean;
  label: string;
}

export function parseTarget(target: Target): TargetSpec {
  const m = /^(silero|webrtc|bare)(?:@(all|\d+))?(?:\/(8k|16k))?(:spread)?$/.exec(target);
  if (!m)
    throw new Error(`bad bench target ${target}: silero|webrtc|bare[@N|@all][/8k|/16k][:spread]`);
  const kind = m[1] as TargetSpec['kind'];
  const workers = m[2] === 'all' ? cpus().length : Number(m[2] ?? 1);
  const sampleRate = m[3] === '8k' ? 8000 : 16000;
  if (kind === 'bare' && workers !== 1) throw new Error('the bare server has one process');
  const rate = `${sampleRate / 1000} kHz`;
  const spread = m[4] !== undefined;
  const label =
    (kind === 'bare'
      ? `bare ws server, ${rate}`
      : `${kind} VAD, ${workers} worker${workers > 1 ? 's' : ''}, ${rate}`) +
    (spread ? ', callers out of step' : '');
  return { target, kind, workers, sampleRate, spread, label };
}

export interface CapacityStep extends StepVerdict {
  idleRssMb: number;
  /** The fake OpenAI's CPU over the step (% of one core): a loaded fake would inflate latency. */
  fakeCpuPct: number | null;
  /**
   * The fake OpenAI's event-loop delay over the step (p99 and max, ms; null: the bare server).
   * The fake answers late by up to this much, and that lateness counts as the server's added delay.
   * Absent in runs before 2026-11-28.
   */
  fakeLoop?: { p99Ms: number; maxMs: number } | null;
  /**
   * Over the step and its busiest 5 s: the whole machine's CPU (% of all its cores, every
   * process) and the server's busiest main thread (% of one core). A full machine or a full main
   * thread is what gives out. Absent in runs before 2026-11-28.
   */
  machineCpu?: CpuShare | null;
  mainThreadCpu?: CpuShare | null;
  /** The server's event-loop utilization (`/metrics`), the same way; absent before 2026-11-28. */
  loopUtilization?: CpuShare | null;
  /** The server's own stage histograms over the step (`/metrics`), voicebot only. */
  serverStages: Record<string, ReturnType<typeof stageSummary>> | null;
  /** Silero windows scored a second over the step and their mean batch (null: no Silero). */
  /** `perTrip`: windows a round trip to an inference thread (absent when inference is inline). */
  vad: { windowsPerS: number; meanBatch: number; perTrip?: number } | null;
  /** The second run of a step whose first run failed (its verdict is the step's). */
  rerun?: boolean;
}

/** `<mean> % (busiest 5 s <x> %)`, or '-'. */
function share(c: CpuShare | null | undefined): string {
  return c ? `${c.meanPct} % (busiest 5 s ${c.busiest5sPct} %)` : '-';
}

export interface CapacityResult {
  target: Target;
  label: string;
  workers: number;
  steps: CapacityStep[];
  /** Largest N that held (null: none did). */
  largestHolding: number | null;
  stoppedBecause: string;
  /** What a step had to meet (null: the bare server, judged on failed calls only). */
  rule: CapacityRule | null;
  /** RSS slope over the steps' idle and max RSS (MB per live call). */
  rssMbPerCall: number | null;
}

export interface CapacityOptions {
  stepCalls: number[];
  stepDurationMs: number;
  rampMs: (calls: number) => number;
  rule: CapacityRule;
  /** Stop climbing after this many steps of the list (time box). */
  maxSteps: number;
  /** Steps spent narrowing between the last holding and the first failing step. */
  bisectSteps: number;
  /** When the first step fails, try smaller ones down to this. */
  minCalls: number;
  /** Run a failing step again; it fails only if it fails twice. */
  confirmFailures: boolean;
  log: (s: string) => void;
}

/**
 * Steps up until one fails (or the list or time box ends), then bisects between the last step
 * that held and the one that failed; if the very first step fails, halves down.
 */
export async function capacityPhase(
  fake: Fake,
  target: Target,
  o: CapacityOptions,
): Promise<CapacityResult> {
  const spec = parseTarget(target);
  const steps: CapacityStep[] = [];
  let stoppedBecause = 'step list exhausted';
  const rule = spec.kind === 'bare' ? null : o.rule;
  const log = (s: CapacityStep) =>
    o.log(
      `  ${spec.label}, ${s.calls} calls${s.rerun ? ' (again)' : ''}: ${s.holds ? 'holds' : `fails (${s.why.join(', ')})`}; added p50/p95 ${s.added?.p50Ms ?? '-'}/${s.added?.p95Ms ?? '-'} ms, caller p99 ${s.p99Ms ?? '-'} ms, underruns >20 ms server ${s.serverUnderrunsOver20Ms ?? '-'} / caller ${s.underrunsOver20Ms}, loop p99/max ${s.loopDelayP99Ms ?? '-'}/${s.loopDelayMaxMs ?? '-'} ms, server cpu ${s.serverCpuMeanPct ?? '-'} % (main thread ${share(s.mainThreadCpu)}), event loop busy ${share(s.loopUtilization)}, machine ${share(s.machineCpu)}, silero ${s.vad ? `${s.vad.windowsPerS}/s in batches of ${s.vad.meanBatch}, ${s.vad.perTrip ?? '-'} a trip` : '-'}, fake cpu ${s.fakeCpuPct ?? '-'} %, fake loop p99/max ${s.fakeLoop ? `${s.fakeLoop.p99Ms}/${s.fakeLoop.maxMs}` : '-'} ms, rss ${s.serverRssMaxMb ?? '-'} MB, generator cpu ${s.generatorCpuPct} %, loop max ${s.generatorLoopMaxMs} ms`,
    );
  const tried = new Map<number, CapacityStep>();
  // A failing step is run once more and fails only if it fails again: one noisy spell on a
  // shared machine (another process's burst, a GC) would otherwise set the figure.
  const tryStep = async (calls: number): Promise<CapacityStep> => {
    const seen = tried.get(calls);
    if (seen) return seen;
    let s = await oneStep(fake, spec, calls, rule, o);
    steps.push(s);
    log(s);
    if (!s.holds && o.confirmFailures) {
      s = { ...(await oneStep(fake, spec, calls, rule, o)), rerun: true };
      steps.push(s);
      log(s);
    }
    tried.set(calls, s);
    return s;
  };
  let lo: number | null = null;
  let hi: number | null = null;
  for (const [i, calls] of o.stepCalls.entries()) {
    if (i >= o.maxSteps) {
      stoppedBecause = `time box (${o.maxSteps} steps)`;
      break;
    }
    const s = await tryStep(calls);
    if (s.holds) {
      lo = calls;
      continue;
    }
    stoppedBecause = `${calls} calls: ${s.why.join(', ')}`;
    hi = calls;
    break;
  }
  if (hi !== null && lo === null) {
    for (let n = Math.floor(hi / 2); n >= o.minCalls; n = Math.floor(n / 2)) {
      if ((await tryStep(n)).holds) {
        lo = n;
        break;
      }
      hi = n;
    }
  }
  for (let k = 0; k < o.bisectSteps && lo !== null && hi !== null; k++) {
    const grain = hi - lo > 40 ? 10 : 1;
    const mid = Math.round((lo + hi) / 2 / grain) * grain;
    if (mid <= lo || mid >= hi) break;
    if ((await tryStep(mid)).holds) lo = mid;
    else hi = mid;
  }
  const points: Array<[number, number]> = [];
  for (const s of steps) {
    if (s.rerun) continue;
    points.push([0, s.idleRssMb]);
    if (s.serverRssMaxMb !== null) points.push([s.calls, s.serverRssMaxMb]);
  }
  const perCall = slope(points);
  return {
    target,
    label: spec.label,
    workers: spec.workers,
    steps,
    largestHolding: lo,
    stoppedBecause,
    rule,
    rssMbPerCall: perCall === null ? null : Math.round(perCall * 1000) / 1000,
  };
}

async function oneStep(
  fake: Fake,
  spec: TargetSpec,
  calls: number,
  rule: CapacityRule | null,
  o: CapacityOptions,
): Promise<CapacityStep> {
  const common = { calls, durationMs: o.stepDurationMs, rampMs: o.rampMs(calls) };
  const fakeCpu0 = cpuSeconds(fake.child.pid);
  const t0 = performance.now();
  const fakeCpuPct = () => {
    const now = cpuSeconds(fake.child.pid);
    if (now === null || fakeCpu0 === null) return null;
    return Math.round(((now - fakeCpu0) / ((performance.now() - t0) / 1000)) * 1000) / 10;
  };
  if (spec.kind === 'bare') {
    const bare = await startBare(spec.sampleRate);
    try {
      const idleRssMb = rssMb([bare.child.pid]);
      const r = await runStep({
        ...common,
        wsUrl: bare.wsUrl,
        scenario: BARE_SCENARIO,
        phaseMs: spec.spread ? BARE_PASS_MS : 0,
        serverPids: [bare.child.pid],
      });
      return {
        ...judge(r, null, { p99Ms: null, maxMs: null }, null),
        idleRssMb,
        fakeCpuPct: fakeCpuPct(),
        fakeLoop: null,
        serverStages: null,
        vad: null,
      };
    } finally {
      await stop(bare.child);
    }
  }
  const preemptMs = 200;
  const server = await startServer(fake, {
    vad: spec.kind,
    preemptMs,
    workers: spec.workers,
    sampleRate: spec.sampleRate,
  });
  let closed = false;
  try {
    const idleRssMb = rssMb(server.pids());
    const loop = sampleLoopDelay(server);
    await fakeLoopDelay(fake); // counts from here
    const cpu = cpuWindow(server.pids());
    const stepStart = performance.now();
    const r = await runStep({
      ...common,
      wsUrl: server.wsUrl,
      scenario: BOT_SCENARIO,
      phaseMs: spec.spread ? BOT_PASS_MS : 0,
      serverPids: server.pids(),
    });
    const stepS = (performance.now() - stepStart) / 1000;
    const { machine, mainThread } = cpu.stop();
    const loopDelay = loop.stop();
    const fakeCpu = fakeCpuPct();
    const fakeLoop = await fakeLoopDelay(fake);
    const stages = await scrapeStages(server);
    const counters = await scrapeCounters(server);
    closed = true;
    const added = addedDelay(await server.close(), preemptMs);
    return {
      ...judge(r, added, loopDelay, rule, counters.audibleUnderruns),
      idleRssMb,
      fakeCpuPct: fakeCpu,
      fakeLoop,
      machineCpu: machine,
      mainThreadCpu: mainThread,
      loopUtilization: loopDelay.utilization ?? null,
      serverStages: Object.fromEntries(
        Object.entries(stages).map(([k, h]) => [k, stageSummary(h)]),
      ),
      vad:
        counters.batches > 0
          ? {
              windowsPerS: Math.round(counters.windows / stepS),
              meanBatch: Math.round((counters.windows / counters.batches) * 10) / 10,
              ...(counters.trips > 0
                ? { perTrip: Math.round((counters.windows / counters.trips) * 10) / 10 }
                : {}),
            }
          : null,
    };
  } finally {
    if (!closed) await server.close();
  }
}

/**
 * An unjudged step before the first capacity climb: a fresh fake OpenAI (and the machine's
 * caches) would otherwise spend its warm-up on the first step measured, which then fails early.
 */
export async function warmUp(fake: Fake): Promise<void> {
  const server = await startServer(fake, { vad: 'silero', preemptMs: 200, sampleRate: 8000 });
  try {
    await runStep({
      wsUrl: server.wsUrl,
      calls: 20,
      durationMs: 10_000,
      rampMs: 500,
      scenario: BOT_SCENARIO,
      serverPids: server.pids(),
    });
  } finally {
    await server.close();
  }
}

export function machine(): { cpus: number; model: string; node: string } {
  const c = cpus();
  return { cpus: c.length, model: c[0]?.model ?? 'unknown', node: process.version };
}

export const CPU_SHARING =
  "All processes share the machine's cores with no pinning: the voicebot server (the compiled dist/cli/main.js; one Node process per worker, plus the cluster primary when WORKERS > 1), the fake OpenAI (its own Node process), the load generator (its own Node process, bench/load-worker.ts) and the bench orchestrator (idle during capacity steps; it drives the single latency call itself). The OS scheduler shares the cores; server CPU % is summed over the server's processes, 100 % = one core.";
