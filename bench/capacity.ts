/**
 * Capacity: one step = N simulated calls for a short while, run by `bench/load-worker.ts` in its
 * own process against a fresh server (restarted per step, so each step's RSS and CPU are its own).
 * A step holds when every call completed, no playback underrun appeared and the server's overhead
 * p99 (end of voice → first audio, minus the floor) stays within the limit.
 */
import { clockTicks, readRssKb, readTicks } from '../src/simulator/proc.js';
import type { LoadReport } from '../src/simulator/load-report.js';
import type { ScenarioStep } from '../src/simulator/scenario.js';
import { FIXTURE_TRAILING_SILENCE_MS, HELLO_WAV } from './latency.js';
import { startTs, stop } from './processes.js';

/** Speak, hear the whole reply, pause; repeated. */
export const BOT_SCENARIO: ScenarioStep[] = [
  { say: HELLO_WAV },
  { waitReply: true, timeoutMs: 15_000 },
  { pause: 1000 },
];
/** The bare server never answers: the same inbound speech, with the reply's time as a pause. */
export const BARE_SCENARIO: ScenarioStep[] = [{ say: HELLO_WAV }, { pause: 3000 }];

export interface StepOptions {
  wsUrl: string;
  calls: number;
  durationMs: number;
  rampMs: number;
  scenario: ScenarioStep[];
  serverPids: number[];
}

/** Runs one step in a load-worker process; rejects if the worker fails. */
export async function runStep(o: StepOptions): Promise<LoadReport> {
  const worker = startTs('bench/load-worker.ts', [
    JSON.stringify({
      url: o.wsUrl,
      calls: o.calls,
      durationMs: o.durationMs,
      rampMs: o.rampMs,
      scenario: o.scenario,
      serverPids: o.serverPids,
    }),
  ]);
  const limitMs = o.durationMs + o.rampMs + 60_000;
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

export interface StepVerdict {
  calls: number;
  /**
   * Every call completed, no hole in the bot's audio (underrun), the server's CPU not saturated,
   * and (voicebot) the p99 of end of voice → first audio within the limit.
   */
  holds: boolean;
  why: string[];
  turnsAnswered: number;
  /** End of voice → first audio (ms). */
  p50Ms: number | null;
  p99Ms: number | null;
  underruns: number;
  underrunMs: number;
  maxUnderrunMs: number;
  failedCalls: number;
  errors: number;
  serverCpuMeanPct: number | null;
  serverCpuMaxPct: number | null;
  serverRssMaxMb: number | null;
  generatorCpuPct: number;
  generatorLoopP99Ms: number;
}

/** Caller's last frame → first audio, made end of voice → first audio (the fixture's silence). */
export function fromVoiceEnd(ms: number | null): number | null {
  return ms === null ? null : Math.round(ms + FIXTURE_TRAILING_SILENCE_MS);
}

/**
 * `p99LimitMs` null: the bare server (no replies, so no latency); `workers`: the server's
 * processes, each of which may use a core.
 */
export function judge(r: LoadReport, p99LimitMs: number | null, workers: number): StepVerdict {
  const p99 = fromVoiceEnd(r.firstAudioMs.turn.p99);
  const why: string[] = [];
  if (p99LimitMs !== null) {
    if (r.turns.answered === 0) why.push('no turn answered');
    if (p99 !== null && p99 > p99LimitMs) why.push(`p99 ${p99} ms > ${p99LimitMs} ms`);
    if (r.playback.underruns > 0)
      why.push(`${r.playback.underruns} underruns (${r.playback.underrunMs} ms)`);
  }
  if (r.calls.failed > 0) why.push(`${r.calls.failed} calls failed`);
  if (r.server !== null && (r.server.cpuPercentMean ?? 0) > 95 * workers)
    why.push('server CPU saturated');
  return {
    calls: r.calls.requested,
    holds: why.length === 0,
    why,
    turnsAnswered: r.turns.answered,
    p50Ms: fromVoiceEnd(r.firstAudioMs.turn.p50),
    p99Ms: p99,
    underruns: r.playback.underruns,
    underrunMs: r.playback.underrunMs,
    maxUnderrunMs: r.playback.maxUnderrunMs,
    failedCalls: r.calls.failed,
    errors: r.errors.total,
    serverCpuMeanPct: r.server?.cpuPercentMean ?? null,
    serverCpuMaxPct: r.server?.cpuPercentMax ?? null,
    serverRssMaxMb: r.server?.rssMaxMb ?? null,
    generatorCpuPct: r.generator.cpuPercentMean,
    generatorLoopP99Ms: r.generator.eventLoopDelayP99Ms,
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
