/**
 * Starting the benchmark's processes: the fake OpenAI, the voicebot server (configured by env,
 * loopback only, a throwaway DATA_DIR) and the bare ws server; and reading the voicebot's
 * `/metrics` stage histograms.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { loopDelayMs } from '../src/metrics/loop-delay.js';
import type { StoredTimings } from '../src/store/turn-rows.js';
import { shareOf, type CpuShare } from './capacity.js';
import { firstLine, freePort, ROOT, startNode, startTs, stop, type Child } from './processes.js';

export interface Fake {
  child: Child;
  baseUrl: string;
}

/** Requests the fake has answered so far, by endpoint. */
export interface FakeCounts {
  chat: number;
  speech: number;
  transcriptions: number;
}

/** Asks the fake process for its request counts (a `stats` line on its stdin). */
export function fakeCounts(fake: Fake): Promise<FakeCounts> {
  return askFake<FakeCounts>(fake, 'stats');
}

/**
 * The fake's event-loop delay (p99 and max, ms) since the previous call (a `loop` line on its
 * stdin); the first call starts the count.
 */
export function fakeLoopDelay(fake: Fake): Promise<{ p99Ms: number; maxMs: number }> {
  return askFake(fake, 'loop');
}

/** Writes `ask` to the fake's stdin and waits for its `{"<ask>": …}` line. */
async function askFake<T>(fake: Fake, ask: string): Promise<T> {
  const seen = fake.child.stdout.length;
  fake.child.proc.stdin?.write(`${ask}\n`);
  const prefix = `{"${ask}"`;
  for (let i = 0; i < 200; i++) {
    const line = fake.child.stdout.slice(seen).find((l) => l.startsWith(prefix));
    if (line) return (JSON.parse(line) as Record<string, T>)[ask]!;
    await sleep(10);
  }
  throw new Error(`the fake OpenAI did not answer '${ask}'`);
}

/**
 * The fake's counts once no request has come for `quietMs` (the server's start-up synthesis of its
 * lines is over), at most 20 s.
 */
export async function settledCounts(fake: Fake, quietMs = 700): Promise<FakeCounts> {
  let last = await fakeCounts(fake);
  let since = performance.now();
  const t0 = since;
  while (performance.now() - since < quietMs && performance.now() - t0 < 20_000) {
    await sleep(100);
    const now = await fakeCounts(fake);
    if (JSON.stringify(now) !== JSON.stringify(last)) since = performance.now();
    last = now;
  }
  return last;
}

export async function startFake(): Promise<Fake> {
  const child = startTs('bench/fake-openai.ts', ['0']);
  return { child, baseUrl: await firstLine(child, 'fake OpenAI') };
}

export interface ServerSettings {
  vad: 'silero' | 'webrtc';
  preemptMs: number;
  workers?: number;
  /** The stream rate the callers ask for in the URL; default 16000. */
  sampleRate?: 8000 | 16000;
}

export interface Server {
  child: Child;
  /** The `/was` WebSocket URL at the settings' rate. */
  wsUrl: string;
  httpUrl: string;
  settings: ServerSettings;
  /** The server's pid and its workers' (CPU and RSS are summed over them). */
  pids(): number[];
  /**
   * Stops the server (its store flushes on the way out) and returns the timings of every speech
   * turn it recorded, then deletes its DATA_DIR.
   */
  close(): Promise<StoredTimings[]>;
}

/**
 * Starts the compiled server (`dist/cli/main.js serve`, what `npm start` runs; `npm run bench`
 * builds it first) against the fake and waits until `/healthz` answers and, with several
 * workers, until every worker listens.
 */
export async function startServer(
  fake: Fake,
  settings: ServerSettings,
  extraEnv: NodeJS.ProcessEnv = {},
  nodeArgs: string[] = [],
): Promise<Server> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'voicebot-bench-'));
  const env: NodeJS.ProcessEnv = {
    PORT: String(port),
    HOST: '127.0.0.1',
    OPENAI_API_KEY: 'bench-fake-key',
    OPENAI_BASE_URL: fake.baseUrl,
    DATA_DIR: dataDir,
    DATABASE_URL: '',
    VAD: settings.vad,
    PREEMPT_MS: String(settings.preemptMs),
    WORKERS: String(settings.workers ?? 1),
    LOG_LEVEL: 'warn',
    // The load comes from one address, and the climb may go past the production defaults.
    MAX_CALLS: '5000',
    MAX_CONNECTIONS_PER_IP: '5000',
    GREETING_TEXT: 'Namaste! How can I help you today?',
    CALL_WEBHOOK_URL: '',
    ...extraEnv,
  };
  const entry = join(ROOT, 'dist', 'cli', 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run npm run build`);
  // BENCH_SERVER_NODE_FLAGS: Node or V8 flags for the server alone (e.g. '--single-threaded-gc').
  const flags = (process.env.BENCH_SERVER_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const child = startNode([...flags, ...nodeArgs, entry, 'serve'], env);
  const httpUrl = `http://127.0.0.1:${port}`;
  const workers = settings.workers ?? 1;
  const seen = new Set<number>();
  const t0 = performance.now();
  for (;;) {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null)
      throw new Error(`server exited at start-up:\n${child.stderrTail.join('\n')}`);
    if (performance.now() - t0 > 60_000) {
      await stop(child);
      throw new Error(`server did not answer /healthz within 60 s`);
    }
    try {
      // Each worker answers with its pid; new connections spread over them, so poll until all did.
      seen.add(await healthPid(`${httpUrl}/healthz`));
      if (seen.size >= workers) break;
    } catch {
      // not listening yet
    }
    await sleep(seen.size ? 20 : 100);
  }
  return {
    child,
    wsUrl: `ws://127.0.0.1:${port}/was?sample-rate=${settings.sampleRate ?? 16000}`,
    httpUrl,
    settings,
    pids: () => [child.pid, ...childPids(child.pid)],
    close: async () => {
      await stop(child, 15_000);
      try {
        return readTurnTimings(join(dataDir, 'voicebot.sqlite'));
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/** GET /healthz on a fresh connection (keep-alive would pin every poll to one worker). */
function healthPid(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        const pid = res.statusCode === 200 ? (JSON.parse(body) as { pid?: unknown }).pid : null;
        if (typeof pid === 'number') resolve(pid);
        else reject(new Error(`/healthz answered ${res.statusCode}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error('/healthz timed out')));
    req.on('error', reject);
  });
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

export async function startBare(sampleRate = 16000): Promise<{ child: Child; wsUrl: string }> {
  const child = startTs('bench/bare-server.ts', ['0']);
  const url = await firstLine(child, 'bare ws server');
  return { child, wsUrl: `${url}?sample-rate=${sampleRate}` };
}

/** One `voicebot_stage_duration_ms` stage: count, sum and cumulative buckets. */
export interface StageHistogram {
  count: number;
  sumMs: number;
  buckets: Array<{ le: number; count: number }>;
}

/** Reads every stage histogram from `/metrics`. */
export async function scrapeStages(server: Server): Promise<Record<string, StageHistogram>> {
  const text = await (await fetch(`${server.httpUrl}/metrics`)).text();
  const stages: Record<string, StageHistogram> = {};
  const get = (stage: string) => (stages[stage] ??= { count: 0, sumMs: 0, buckets: [] });
  for (const line of text.split('\n')) {
    const m = /^voicebot_stage_duration_ms_(bucket|sum|count)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries(
      [...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]),
    );
    const stage = labels.stage;
    if (!stage) continue;
    const v = Number(m[3]);
    if (m[1] === 'sum') get(stage).sumMs = v;
    else if (m[1] === 'count') get(stage).count = v;
    else
      get(stage).buckets.push({
        le: labels.le === '+Inf' ? Infinity : Number(labels.le),
        count: v,
      });
  }
  return stages;
}

/**
 * Since the server started (`/metrics`): Silero windows scored and batches run, and the gaps over
 * 20 ms in the audio it sent (by its own clock: what Exotel would have heard).
 */
export async function scrapeCounters(
  server: Server,
): Promise<{ windows: number; batches: number; trips: number; audibleUnderruns: number }> {
  const text = await metricsOnceCallsEnded(server);
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return {
    windows: read('voicebot_vad_windows_total'),
    batches: read('voicebot_vad_batches_total'),
    trips: read('voicebot_vad_trips_total'),
    audibleUnderruns: read('voicebot_playback_underruns_audible_total'),
  };
}

/**
 * Speculative replies by outcome from `/metrics`; counted when a call ends, so the latency run
 * waits for its call to be recorded first.
 */
export async function scrapeSpeculations(
  server: Server,
): Promise<{ used: number; discarded: number }> {
  const out = { used: 0, discarded: 0 };
  const text = await metricsOnceCallsEnded(server);
  for (const m of text.matchAll(
    /^voicebot_speculative_replies_total\{outcome="(\w+)"\} (\S+)$/gm,
  )) {
    if (m[1] === 'used' || m[1] === 'discarded') out[m[1]] = Number(m[2]);
  }
  return out;
}

/**
 * `/metrics` once no call is live (at most 3 s): what a call counts (underruns, speculative
 * replies) is added when it ends.
 */
async function metricsOnceCallsEnded(server: Server): Promise<string> {
  let text = '';
  for (let i = 0; i < 30; i++) {
    text = await (await fetch(`${server.httpUrl}/metrics`)).text();
    const live = /^voicebot_live_calls (\S+)$/m.exec(text);
    if (!live || Number(live[1]) === 0) break;
    await sleep(100);
  }
  return text;
}

/** Mean and bucket-interpolated p50/p99 of a stage (Prometheus `histogram_quantile` style). */
export function stageSummary(h: StageHistogram): {
  count: number;
  meanMs: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
} {
  const q = (p: number): number | null => {
    if (h.count === 0) return null;
    const rank = p * h.count;
    let prevLe = 0;
    let prevCount = 0;
    for (const b of h.buckets) {
      if (b.count >= rank) {
        if (!Number.isFinite(b.le)) return prevLe;
        const inBucket = b.count - prevCount;
        return Math.round(prevLe + ((b.le - prevLe) * (rank - prevCount)) / (inBucket || 1));
      }
      prevLe = b.le;
      prevCount = b.count;
    }
    return prevLe;
  };
  return {
    count: h.count,
    meanMs: h.count ? Math.round(h.sumMs / h.count) : null,
    p50Ms: q(0.5),
    p99Ms: q(0.99),
  };
}

/** The stored timings of every speech turn in a server's SQLite file (none when there is none). */
function readTurnTimings(file: string): StoredTimings[] {
  if (!existsSync(file)) return [];
  const db = new Database(file, { readonly: true });
  try {
    const rows = db
      .prepare("SELECT timings FROM turns WHERE role = 'user' AND source = 'speech'")
      .all() as Array<{ timings: string }>;
    return rows.map((r) => JSON.parse(r.timings) as StoredTimings);
  } finally {
    db.close();
  }
}

/** Event-loop delay of the server while a step runs, from `/metrics` once a second. */
export interface LoopDelay {
  /** Mean over the seconds of each second's p99 (ms). */
  p99Ms: number | null;
  /** The longest delay seen (ms). */
  maxMs: number | null;
  /**
   * `voicebot_event_loop_utilization` (busy share of the event loop, each sample the second
   * before it; with workers the busiest): % over the samples and over the busiest 5 in a row.
   */
  utilization?: CpuShare | null;
}

/**
 * Samples `nodejs_eventloop_lag_p99_seconds` and `_max_seconds` every second (prom-client resets
 * its histogram on each scrape, so each sample covers the second before it; with workers the
 * figures are their average). The first `skip` samples (start-up, the ramp) are left out.
 * Readings are taken as delays (`loopDelayMs`: less the monitor's sampling interval).
 */
export function sampleLoopDelay(server: Server, skip = 2): { stop(): LoopDelay } {
  const p99s: number[] = [];
  const maxes: number[] = [];
  const utilization: number[] = [];
  let n = 0;
  const timer = setInterval(() => {
    void fetch(`${server.httpUrl}/metrics`)
      .then((r) => r.text())
      .then((text) => {
        if (n++ < skip) return;
        const read = (name: string) => {
          const m = new RegExp(`^nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(text);
          return m ? loopDelayMs(Number(m[1]) * 1000) : NaN;
        };
        const p99 = read('p99');
        const max = read('max');
        if (Number.isFinite(p99)) p99s.push(p99);
        if (Number.isFinite(max)) maxes.push(max);
        const elu = /^voicebot_event_loop_utilization (\S+)$/m.exec(text);
        if (elu) utilization.push(Number(elu[1]) * 100);
      })
      .catch(() => undefined);
  }, 1000);
  return {
    stop: () => {
      clearInterval(timer);
      const round1 = (v: number) => Math.round(v * 10) / 10;
      return {
        p99Ms: p99s.length ? round1(p99s.reduce((a, b) => a + b, 0) / p99s.length) : null,
        maxMs: maxes.length ? round1(Math.max(...maxes)) : null,
        utilization: shareOf(utilization),
      };
    },
  };
}
