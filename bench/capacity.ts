/**
 * Capacity: one step = N simulated calls for a short while, run by `bench/load-worker.ts` in its
 * own process against a fresh server (restarted per step, so each step's RSS and CPU are its own).
 * A step holds by `CapacityRule` (below).
 */
import {
  clockTicks,
  readMachineTicks,
  readRssKb,
  readThreadTicks,
  readTicks,
} from '../src/simulator/proc.js';
import type { LoadReport } from '../src/simulator/load-report.js';
import type { ScenarioStep } from '../src/simulator/scenario.js';
import type { AddedDelay } from './added-delay.js';
import { FIXTURE_TRAILING_SILENCE_MS, HELLO_WAV } from './latency.js';
import type { LoopDelay } from './server.js';
import { startTs, stop } from './processes.js';

/** Speak, hear the whole reply, pause; repeated. */
export const BOT_SCENARIO: ScenarioStep[] = [
  { say: HELLO_WAV },
  { waitReply: true, timeoutMs: 15_000 },
  { pause: 1000 },
];
/** The bare server never answers: the same inbound speech, with the reply's time as a pause. */
export const BARE_SCENARIO: ScenarioStep[] = [{ say: HELLO_WAV }, { pause: 3000 }];
/**
 * One pass of each scenario, for callers out of step (`phaseMs`): BOT is the 3.3 s fixture, the
 * reply's ~1.3 s latency and ~1.9 s of audio (1.94 s a reply at 60 calls), and the 1 s pause.
 */
export const BOT_PASS_MS = 7500;
export const BARE_PASS_MS = 6300;

export interface StepOptions {
  wsUrl: string;
  calls: number;
  durationMs: number;
  rampMs: number;
  /** Callers out of step over this time (LoadOptions.phaseMs); 0 or unset: in step. */
  phaseMs?: number;
  scenario: ScenarioStep[];
  serverPids: number[];
}

/**
 * One step of the bot scenario against `server` (the profilers' step): `calls` calls ramped in
 * over up to 5 s, for `seconds`, out of step when `spread`.
 */
export function runBotStep(
  server: { wsUrl: string; pids(): number[] },
  calls: number,
  seconds: number,
  spread: boolean,
): Promise<LoadReport> {
  return runStep({
    wsUrl: server.wsUrl,
    calls,
    durationMs: seconds * 1000,
    rampMs: Math.min(5000, calls * 25),
    scenario: BOT_SCENARIO,
    phaseMs: spread ? BOT_PASS_MS : 0,
    serverPids: server.pids(),
  });
}

/** Runs one step in a load-worker process; rejects if the worker fails. */
export async function runStep(o: StepOptions): Promise<LoadReport> {
  const worker = startTs('bench/load-worker.ts', [
    JSON.stringify({
      url: o.wsUrl,
      calls: o.calls,
      durationMs: o.durationMs,
      rampMs: o.rampMs,
      phaseMs: o.phaseMs ?? 0,
      scenario: o.scenario,
      serverPids: o.serverPids,
    }),
  ]);
  const limitMs = o.durationMs + o.rampMs + (o.phaseMs ?? 0) + 60_000;
  const timer = setTimeout(() => void stop(worker), limitMs);
  try {
    const code = await worker.exited;
    const line = worker.stdout.at(-1);
    if (code !== 0 || !line)
      throw new Error(`load worker exited ${code}:\n${worker.stderrTail.join('\n')}`);
    return JSON.parse(line) as LoadReport;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * When a step holds. Judged on what the server controls, so that two runs agree: its own added
 * delay (server-side timings against the provider model, not the caller's clock, which the load
 * generator's lag would skew), audible underruns only (counted by the server against its own
 * clock: a stall of the load generator delays the frames it reads and would count as the
 * server's), and enough turns to judge on.
 */
export interface CapacityRule {
  /** The p95 of the server's added delay (ms) may not pass this. */
  addedP95LimitMs: number;
  /** Every call must have had this many turns answered, on average. */
  minTurnsPerCall: number;
  /** Underruns over 20 ms (audible) per answered turn, at most. */
  maxGapsPerTurn: number;
}

export interface StepVerdict {
  calls: number;
  holds: boolean;
  why: string[];
  turnsAnswered: number;
  /** End of voice → first audio at the caller (ms). */
  p50Ms: number | null;
  p99Ms: number | null;
  /** The server's added delay (added-delay.ts), null for the bare server. */
  added: AddedDelay | null;
  /** `start` sent → the greeting's first frame, at the caller (ms). */
  greetingP50Ms: number | null;
  greetingP99Ms: number | null;
  underruns: number;
  underrunMs: number;
  maxUnderrunMs: number;
  /** At the caller (the load generator's clock). */
  underrunsOver20Ms: number;
  /** By the server's clock (`voicebot_playback_underruns_audible_total`); null: not scraped. */
  serverUnderrunsOver20Ms: number | null;
  failedCalls: number;
  errors: number;
  serverCpuMeanPct: number | null;
  serverCpuMaxPct: number | null;
  serverRssMaxMb: number | null;
  /** The server's event-loop delay over the step. */
  loopDelayP99Ms: number | null;
  loopDelayMaxMs: number | null;
  generatorCpuPct: number;
  generatorLoopP99Ms: number;
  generatorLoopMaxMs: number;
}

/** Caller's last frame → first audio, made end of voice → first audio (the fixture's silence). */
export function fromVoiceEnd(ms: number | null): number | null {
  return ms === null ? null : Math.round(ms + FIXTURE_TRAILING_SILENCE_MS);
}

/**
 * `rule` null: the bare server (no replies: only failed calls count). `serverGaps`: the server's
 * own count of underruns over 20 ms, judged instead of the caller's when there is one.
 */
export function judge(
  r: LoadReport,
  added: AddedDelay | null,
  loop: LoopDelay,
  rule: CapacityRule | null,
  serverGaps: number | null = null,
): StepVerdict {
  const why: string[] = [];
  if (rule !== null) {
    const turns = r.turns.answered;
    if (turns < rule.minTurnsPerCall * r.calls.requested)
      why.push(`${turns} turns answered < ${rule.minTurnsPerCall} per call`);
    const p95 = added?.p95Ms ?? null;
    if (p95 === null) why.push('no turn timings');
    else if (p95 > rule.addedP95LimitMs)
      why.push(`added delay p95 ${p95} ms > ${rule.addedP95LimitMs} ms`);
    const gaps = serverGaps ?? r.playback.underrunsOver20Ms;
    if (gaps > rule.maxGapsPerTurn * Math.max(1, turns))
      why.push(`${gaps} underruns over 20 ms in ${turns} turns`);
  }
  if (r.calls.failed > 0) why.push(`${r.calls.failed} calls failed`);
  return {
    calls: r.calls.requested,
    holds: why.length === 0,
    why,
    turnsAnswered: r.turns.answered,
    p50Ms: fromVoiceEnd(r.firstAudioMs.turn.p50),
    p99Ms: fromVoiceEnd(r.firstAudioMs.turn.p99),
    added,
    greetingP50Ms: r.firstAudioMs.greeting.p50,
    greetingP99Ms: r.firstAudioMs.greeting.p99,
    underruns: r.playback.underruns,
    underrunMs: r.playback.underrunMs,
    maxUnderrunMs: r.playback.maxUnderrunMs,
    underrunsOver20Ms: r.playback.underrunsOver20Ms,
    serverUnderrunsOver20Ms: serverGaps,
    failedCalls: r.calls.failed,
    errors: r.errors.total,
    serverCpuMeanPct: r.server?.cpuPercentMean ?? null,
    serverCpuMaxPct: r.server?.cpuPercentMax ?? null,
    serverRssMaxMb: r.server?.rssMaxMb ?? null,
    loopDelayP99Ms: loop.p99Ms,
    loopDelayMaxMs: loop.maxMs,
    generatorCpuPct: r.generator.cpuPercentMean,
    generatorLoopP99Ms: r.generator.eventLoopDelayP99Ms,
    generatorLoopMaxMs: r.generator.eventLoopDelayMaxMs,
  };
}

/** VmRSS of the processes, summed (MB). */
export function rssMb(pids: number[]): number {
  const kb = pids.reduce((a, pid) => a + (readRssKb(pid) ?? 0), 0);
  return Math.round(kb / 102.4) / 10;
}

const TICKS_PER_SECOND = clockTicks();

/** CPU seconds (user + system) a process has used so far, or null when it is gone. */
export function cpuSeconds(pid: number): number | null {
  const ticks = readTicks(pid);
  return ticks === null ? null : ticks / TICKS_PER_SECOND;
}

/** A share (%) sampled every second of a step: its mean, and its largest mean over 5 s in a row. */
export interface CpuShare {
  meanPct: number;
  busiest5sPct: number;
}

/** `CpuShare` of per-second shares (NaN readings left out); null when there are none. */
export function shareOf(perSecond: number[]): CpuShare | null {
  const values = perSecond.filter(Number.isFinite);
  if (values.length === 0) return null;
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  const span = Math.min(5, values.length);
  let busiest = 0;
  for (let i = 0; i + span <= values.length; i++)
    busiest = Math.max(busiest, mean(values.slice(i, i + span)));
  const round1 = (v: number) => Math.round(v * 10) / 10;
  return { meanPct: round1(mean(values)), busiest5sPct: round1(busiest) };
}

/**
 * Samples, every second of a step, the whole machine's CPU and the main thread of each of `pids`
 * (the server's processes). `stop()` gives the machine's busy share (% of all its cores: the
 * server, the fake, the load generator, the kernel, anything else) and the busiest main thread's
 * (% of one core: the event loop that runs every call of its process), each over the step and
 * over its busiest 5 s (calls ramp up and wind down inside a step). Nulls off Linux.
 */
export function cpuWindow(pids: number[]): {
  stop(): { machine: CpuShare | null; mainThread: CpuShare | null };
} {
  const machinePct: number[] = [];
  const mainPct: number[] = [];
  const read = () => ({
    machine: readMachineTicks(),
    main: pids.map((pid) => readThreadTicks(pid, pid)),
    at: performance.now(),
  });
  let last = read();
  const sample = () => {
    const now = read();
    const total = (now.machine?.total ?? 0) - (last.machine?.total ?? 0);
    const busy = (now.machine?.busy ?? 0) - (last.machine?.busy ?? 0);
    machinePct.push(now.machine && last.machine && total > 0 ? (busy / total) * 100 : NaN);
    const seconds = (now.at - last.at) / 1000;
    const threads = now.main.map((ticks, i) => {
      const before = last.main[i];
      return ticks === null || before == null ? NaN : (ticks - before) / TICKS_PER_SECOND;
    });
    const used = threads.filter(Number.isFinite);
    mainPct.push(used.length > 0 ? (Math.max(...used) / seconds) * 100 : NaN);
    last = now;
  };
  const timer = setInterval(sample, 1000);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { machine: shareOf(machinePct), mainThread: shareOf(mainPct) };
    },
  };
}

/** Least-squares slope of y over x. */
export function slope(points: Array<[number, number]>): number | null {
  if (points.length < 2) return null;
  const n = points.length;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  const sxx = points.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  if (sxx === 0) return null;
  return points.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0) / sxx;
}
