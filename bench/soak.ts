/**
 * `npm run soak` (not part of `npm test`): holds CALLS concurrent simulated calls against one
 * server for MINUTES, in rounds (each call lasts ROUND_S and is replaced by a new one, so per-call
 * resources come and go thousands of times), against the bench's fake OpenAI. Every 5 s it samples
 * the server's RSS and the event-loop delay p99 of the window (from `/metrics`, which resets it
 * on each scrape; less the monitor's 10 ms sampling interval, which an idle loop reads as
 * delay); at the end it checks the records (every call ended, none left live) and prints:
 *
 * - RSS and V8 heap used: at the end of each round (no calls up) and the slope over the run
 *   after the first round (least squares, MB per 10 minutes), which a leak makes grow;
 * - event-loop delay: the p99 over the windows, and the worst window;
 * - the calls' first-audio latency, underruns and failures per round;
 * - `MaxListenersExceededWarning`s the server printed.
 *
 *   npm run soak                                    # 200 calls, 10 minutes, WebRTC VAD, 1 worker
 *   npm run soak -- --calls 20 --minutes 1 --vad silero --workers 2
 *
 * Writes bench/soak-results.json. Exits non-zero if a call's record is missing or left live, or the
 * server printed a listener warning or died.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { loopDelayMs } from '../src/metrics/loop-delay.js';
import { readRssKb } from '../src/simulator/proc.js';
import type { LoadReport } from '../src/simulator/load-report.js';
import { DEFAULT_SCENARIO } from '../src/simulator/scenario.js';
import { runStep } from './capacity.js';
import { installCleanup, stop } from './processes.js';
import { startFake, startServer } from './server.js';

const ADMIN_KEY = 'soak-admin-key-0123456789';
const SAMPLE_MS = 5_000;

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '200' },
    minutes: { type: 'string', default: '10' },
    'round-s': { type: 'string', default: '60' },
    vad: { type: 'string', default: 'webrtc' },
    workers: { type: 'string', default: '1' },
  },
});
const calls = Number(values.calls);
const minutes = Number(values.minutes);
const roundMs = Number(values['round-s']) * 1000;
const vad = values.vad === 'silero' ? 'silero' : 'webrtc';
const workers = Number(values.workers);
const rounds = Math.max(1, Math.round((minutes * 60_000) / roundMs));

interface Sample {
  atS: number;
  rssMb: number;
  heapUsedMb: number | null;
  loopP99Ms: number | null;
  liveCalls: number | null;
}

installCleanup();
const fake = await startFake();
const server = await startServer(
  fake,
  { vad, preemptMs: 200, workers },
  { ADMIN_API_KEY: ADMIN_KEY, NODE_OPTIONS: '--trace-warnings' },
);
let listenerWarnings = 0;
/** Each listener warning with the stack that follows it (the server runs with --trace-warnings). */
const warningTraces: string[][] = [];
createInterface({ input: server.child.proc.stderr! }).on('line', (l) => {
  if (l.includes('MaxListenersExceededWarning')) {
    listenerWarnings++;
    warningTraces.push([l]);
  } else if (/^\s+at /.test(l)) {
    const trace = warningTraces.at(-1);
    if (trace && trace.length < 20) trace.push(l);
  }
});
console.log(
  `soak: ${calls} calls × ${rounds} rounds of ${roundMs / 1000} s, VAD ${vad}, WORKERS=${workers}`,
);

const t0 = performance.now();
const startedAtMs = Date.now();
const samples: Sample[] = [];
let sampling = true;
const sampler = (async () => {
  while (sampling) {
    const rss = server.pids().reduce((a, pid) => a + (readRssKb(pid) ?? 0), 0) / 1024;
    const m = await scrape(server.httpUrl).catch(() => undefined);
    samples.push({
      atS: Math.round((performance.now() - t0) / 1000),
      rssMb: round1(rss),
      heapUsedMb: m?.heapUsedMb ?? null,
      loopP99Ms: m?.loopP99Ms ?? null,
      liveCalls: m?.liveCalls ?? null,
    });
    await sleep(SAMPLE_MS);
  }
})();

const reports: Array<{
  round: number;
  endRssMb: number;
  endHeapMb: number | null;
  report: LoadReport;
}> = [];
for (let round = 1; round <= rounds; round++) {
  const report = await runStep({
    wsUrl: server.wsUrl,
    calls,
    durationMs: roundMs,
    rampMs: Math.min(10_000, roundMs / 4),
    scenario: [...DEFAULT_SCENARIO],
    serverPids: server.pids(),
  });
  await sleep(2_000); // the calls' ends reach the store
  const endRssMb = round1(server.pids().reduce((a, pid) => a + (readRssKb(pid) ?? 0), 0) / 1024);
  const endHeapMb = (await scrape(server.httpUrl).catch(() => undefined))?.heapUsedMb ?? null;
  reports.push({ round, endRssMb, endHeapMb, report });
  const t = report.firstAudioMs.turn;
  console.log(
    `round ${round}/${rounds}: ${report.calls.completed}/${report.calls.requested} calls, ` +
      `${report.turns.answered} turns, first audio p50/p99 ${t.p50}/${t.p99} ms, ` +
      `${report.playback.underruns} underruns, after it RSS ${endRssMb} MB, heap used ${endHeapMb} MB`,
  );
  if (server.child.proc.exitCode !== null) break;
}
sampling = false;
await sampler;

const records = await countRecords(server.httpUrl, startedAtMs);
const died = server.child.proc.exitCode !== null;
await server.close();
await stop(fake.child);

const after = samples.filter((s) => s.atS * 1000 >= roundMs);
const slope = slopePer10Min(after.map((s) => [s.atS, s.rssMb]));
const heapSlope = slopePer10Min(
  after.filter((s) => s.heapUsedMb !== null).map((s) => [s.atS, s.heapUsedMb!]),
);
const loops = samples.map((s) => s.loopP99Ms).filter((v): v is number => v !== null);
const requested = reports.reduce((a, r) => a + r.report.calls.requested, 0);
const results = {
  at: new Date().toISOString(),
  settings: { calls, rounds, roundS: roundMs / 1000, vad, workers },
  rss: {
    startMb: samples[0]?.rssMb ?? null,
    maxMb: Math.max(...samples.map((s) => s.rssMb)),
    endOfRoundMb: reports.map((r) => r.endRssMb),
    slopeMbPer10MinAfterFirstRound: slope,
  },
  heapUsed: {
    endOfRoundMb: reports.map((r) => r.endHeapMb),
    slopeMbPer10MinAfterFirstRound: heapSlope,
  },
  eventLoopDelay: {
    p99OfWindowsMs: percentile(loops, 0.99),
    medianWindowP99Ms: percentile(loops, 0.5),
    worstWindowP99Ms: loops.length ? Math.max(...loops) : null,
  },
  calls: {
    requested,
    completed: reports.reduce((a, r) => a + r.report.calls.completed, 0),
    records: records.total,
    leftLive: records.live,
  },
  rounds: reports.map((r) => ({
    round: r.round,
    completed: r.report.calls.completed,
    turns: r.report.turns.answered,
    firstAudioP50Ms: r.report.firstAudioMs.turn.p50,
    firstAudioP99Ms: r.report.firstAudioMs.turn.p99,
    underruns: r.report.playback.underruns,
    serverCpuMeanPct: r.report.server?.cpuPercentMean ?? null,
  })),
  listenerWarnings,
  warningTraces,
  serverDied: died,
  samples,
};
const out = join(import.meta.dirname, 'soak-results.json');
writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
console.log(
  [
    '',
    `RSS: start ${results.rss.startMb} MB, max ${results.rss.maxMb} MB, after each round ${results.rss.endOfRoundMb.join(' / ')} MB`,
    `RSS slope after the first round: ${slope ?? 'n/a'} MB per 10 min`,
    `heap used after each round ${results.heapUsed.endOfRoundMb.join(' / ')} MB; slope after the first round ${heapSlope ?? 'n/a'} MB per 10 min`,
    `event-loop delay p99: ${results.eventLoopDelay.p99OfWindowsMs} ms over ${loops.length} windows of 5 s (median window ${results.eventLoopDelay.medianWindowP99Ms} ms, worst ${results.eventLoopDelay.worstWindowP99Ms} ms)`,
    `calls: ${results.calls.completed}/${requested} completed, ${records.total} records, ${records.live} left live`,
    `listener warnings: ${listenerWarnings}${died ? '; THE SERVER DIED' : ''}`,
    `written to ${out}`,
  ].join('\n'),
);
const failed = died || listenerWarnings > 0 || records.live > 0 || records.total < requested;
process.exit(failed ? 1 : 0);

/** The event-loop delay p99 since the last scrape, and the live calls (summed over workers). */
async function scrape(
  httpUrl: string,
): Promise<{ loopP99Ms: number | null; liveCalls: number | null; heapUsedMb: number | null }> {
  const text = await (
    await fetch(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(4000) })
  ).text();
  const value = (name: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : null;
  };
  // Node's histogram measures the whole interval between its 10 ms samples (an idle loop reads
  // about 10 ms): the delay is what exceeds the sampling interval.
  const p99 = value('nodejs_eventloop_lag_p99_seconds');
  return {
    loopP99Ms: p99 === null ? null : round1(loopDelayMs(p99 * 1000)),
    liveCalls: value('voicebot_live_calls'),
    heapUsedMb: (() => {
      const bytes = value('nodejs_heap_size_used_bytes');
      return bytes === null ? null : round1(bytes / 1024 / 1024);
    })(),
  };
}

/** Every call record since `sinceMs`, through the admin API's pages, and how many are live. */
async function countRecords(
  httpUrl: string,
  sinceMs: number,
): Promise<{ total: number; live: number }> {
  let total = 0;
  let live = 0;
  let cursor: string | undefined;
  do {
    const q = new URLSearchParams({ since: String(sinceMs), limit: '100' });
    if (cursor) q.set('cursor', cursor);
    const res = await fetch(`${httpUrl}/api/calls?${q.toString()}`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    if (!res.ok) throw new Error(`/api/calls answered ${res.status}`);
    const page = (await res.json()) as { calls: Array<{ status: string }>; nextCursor?: string };
    total += page.calls.length;
    live += page.calls.filter((c) => c.status === 'live').length;
    cursor = page.nextCursor;
  } while (cursor);
  return { total, live };
}

/** Least-squares slope of (seconds, MB), in MB per 10 minutes. */
function slopePer10Min(points: Array<[number, number]>): number | null {
  if (points.length < 3) return null;
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxx === 0 ? null : round1((sxy / sxx) * 600);
}

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}
