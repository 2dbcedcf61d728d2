/**
 * The load generator behind `voicebot load`: N simulated Exotel calls started over a ramp, each
 * running a scenario in real time for a fixed duration and then hanging up, with the server's
 * CPU and memory sampled from /proc. Loopback targets only; bounded in calls and time, and every
 * timer and socket ends by itself even if the server stops answering.
 */
import { clockTicks, readRssKb, readTicks } from './proc.js';
import { setMaxListeners } from 'node:events';
import { isIPv4 } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { latencyStats, type LoadReport } from './load-report.js';
import {
  DEFAULT_SCENARIO,
  loadScenarioAudio,
  ScenarioRunner,
  type ScenarioStep,
} from './scenario.js';
import { SimulatedCall } from './simulated-call.js';
import { EVENT_LOOP_SAMPLE_MS, loopDelayMs } from '../metrics/loop-delay.js';

export const MAX_CALLS = 5000;
export const MAX_DURATION_MS = 3_600_000;
const HANGUP_TIMEOUT_MS = 5000;
const MAX_ERROR_SAMPLES = 10;

export interface LoadOptions {
  /** A `/was` WebSocket URL on a loopback host. */
  url: string;
  calls: number;
  /** How long each call lasts, from its own start. */
  durationMs: number;
  /** Calls start evenly spread over this time. */
  rampMs: number;
  /**
   * Callers out of step: after its greeting, call i waits frac(i × 0.618…) × `phaseMs` before
   * its first step, so with `phaseMs` about one pass of the scenario the calls' turns are spread
   * evenly over it, as independent callers' are (and the same for every run); the call lasts
   * that much longer. Default 0: every call runs its scenario in step with the others, each reply
   * at about the same moment.
   */
  phaseMs?: number | undefined;
  /** Steps repeated by every call; default `DEFAULT_SCENARIO`. */
  scenario?: readonly ScenarioStep[] | undefined;
  /** Stream rate when the URL has no `sample-rate`; default 16000. */
  sampleRate?: number | undefined;
  /** Caller microphone frame length; default 100 ms. */
  frameMs?: number | undefined;
  customParameters?: Record<string, string> | undefined;
  /** Server processes to sample (CPU and RSS summed); Linux only. */
  serverPids?: readonly number[] | undefined;
  /** Stops the run early (calls hang up, the report covers what ran). */
  signal?: AbortSignal | undefined;
}

/** A bad option: the message says which and why. */
export class LoadOptionsError extends Error {
  override name = 'LoadOptionsError';
}

/** Throws unless `url` is a ws:/wss: URL whose host is 127.0.0.0/8, ::1 or localhost. */
export function assertLoopbackUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new LoadOptionsError(`--url is not a URL: ${url}`);
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:')
    throw new LoadOptionsError(`--url must be ws:// or wss://, got ${u.protocol}`);
  const host = u.hostname;
  const loopback =
    host === 'localhost' || host === '[::1]' || (isIPv4(host) && host.startsWith('127.'));
  if (!loopback)
    throw new LoadOptionsError(
      `refusing to load ${host}: voicebot load only targets loopback hosts (127.0.0.0/8, ::1, localhost)`,
    );
  return u;
}

/** Runs the load and reports; rejects only on bad options or unreadable scenario audio. */
export async function runLoad(opts: LoadOptions): Promise<LoadReport> {
  const url = assertLoopbackUrl(opts.url);
  const calls = bounded(opts.calls, 'calls', 1, MAX_CALLS, true);
  const durationMs = bounded(opts.durationMs, 'duration', 1000, MAX_DURATION_MS);
  const phaseMs = bounded(opts.phaseMs ?? 0, 'phase', 0, MAX_DURATION_MS);
  const rampMs = bounded(opts.rampMs, 'ramp', 0, MAX_DURATION_MS);
  const frameMs = bounded(opts.frameMs ?? 100, 'frame-ms', 10, 1000);
  const urlRate = url.searchParams.get('sample-rate') ?? url.searchParams.get('sample_rate');
  const sampleRate = Number(urlRate ?? opts.sampleRate ?? 16000);
  if (![8000, 16000, 24000].includes(sampleRate))
    throw new LoadOptionsError(`sample rate must be 8000, 16000 or 24000, got ${sampleRate}`);
  if (!urlRate) url.searchParams.set('sample-rate', String(sampleRate));
  const steps = opts.scenario ?? DEFAULT_SCENARIO;
  const audio = await loadScenarioAudio(steps, sampleRate);
  const sampler = opts.serverPids?.length ? new ProcessSampler(opts.serverPids) : undefined;

  const stop = new AbortController();
  setMaxListeners(0, stop.signal); // one listener per call
  const onOuterAbort = () => stop.abort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const errors = new ErrorTally();
  const loopDelay = monitorEventLoopDelay({ resolution: EVENT_LOOP_SAMPLE_MS });
  loopDelay.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  sampler?.start(errors);
  let results: CallResult[];
  try {
    results = await Promise.all(
      Array.from({ length: calls }, async (_, i) => {
        const startAfter = (rampMs * i) / calls;
        if (startAfter > 0 && !(await sleepUnlessAborted(startAfter, stop.signal))) return null;
        return runOneCall(
          {
            url: url.toString(),
            sampleRate,
            frameMs,
            durationMs,
            steps,
            audio,
            firstPauseMs: phaseOffsetMs(i, phaseMs),
          },
          opts,
          stop.signal,
          errors,
        );
      }),
    ).then((r) => r.filter((x): x is CallResult => x !== null));
  } finally {
    sampler?.stop();
    loopDelay.disable();
    opts.signal?.removeEventListener('abort', onOuterAbort);
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const sum = (f: (r: CallResult) => number) => results.reduce((a, r) => a + f(r), 0);
  const underruns = results.flatMap((r) => r.call.underruns);
  const invalid = results.flatMap((r) => r.call.invalidFrames);
  const bytesReceived = sum((r) => r.runner?.bytesReceived ?? 0);
  return {
    url: url.toString(),
    sampleRate,
    durationMs,
    rampMs,
    phaseMs,
    wallMs: Math.round(wallMs),
    calls: {
      requested: calls,
      connected: results.filter((r) => r.connected).length,
      completed: results.filter((r) => r.completed).length,
      failed: calls - results.filter((r) => r.completed).length,
    },
    turns: {
      spoken: sum((r) => r.runner?.spoken ?? 0),
      answered: sum((r) => r.runner?.turnLatenciesMs.length ?? 0),
      unanswered: sum((r) => r.runner?.unanswered ?? 0),
      pendingAtHangup: sum((r) => r.runner?.pendingAtHangup ?? 0),
      waitTimeouts: sum((r) => r.runner?.waitTimeouts ?? 0),
    },
    firstAudioMs: {
      turn: latencyStats(results.flatMap((r) => r.runner?.turnLatenciesMs ?? [])),
      greeting: latencyStats(
        results.flatMap((r) =>
          r.runner?.greetingFirstAudioMs === undefined ? [] : [r.runner.greetingFirstAudioMs],
        ),
      ),
    },
    bargeIn: {
      count: sum((r) => r.runner?.bargeIns ?? 0),
      clearMs: latencyStats(results.flatMap((r) => r.runner?.clearLatenciesMs ?? [])),
    },
    playback: {
      framesReceived: sum((r) => r.runner?.framesReceived ?? 0),
      bytesReceived,
      botAudioMs: Math.round(bytesReceived / ((sampleRate * 2) / 1000)),
      underruns: underruns.length,
      underrunMs: Math.round(underruns.reduce((a, b) => a + b, 0)),
      maxUnderrunMs: Math.round(Math.max(0, ...underruns)),
      underrunsOver20Ms: underruns.filter((u) => u > 20).length,
      clears: sum((r) => r.call.clears.length),
      marksReceived: sum((r) => r.call.marks.length),
      marksEchoed: sum((r) => r.call.marks.filter((m) => m.echoedAt !== undefined).length),
      invalidFrames: invalid.length,
      invalidKinds: [...new Set(invalid)].slice(0, 10),
    },
    errors: errors.report(),
    server: sampler?.report() ?? null,
    generator: {
      cpuPercentMean: round1(((cpu.user + cpu.system) / 1000 / wallMs) * 100),
      eventLoopDelayP99Ms: round1(loopDelayMs(loopDelay.percentile(99) / 1e6)),
      eventLoopDelayMaxMs: round1(loopDelayMs(loopDelay.max / 1e6)),
    },
  };
}

interface CallPlan {
  url: string;
  sampleRate: number;
  frameMs: number;
  durationMs: number;
  steps: readonly ScenarioStep[];
  audio: ReadonlyMap<string, Buffer>;
  firstPauseMs: number;
}

/** The golden ratio's fraction: i × it mod 1 spreads any number of calls evenly over [0, 1). */
const GOLDEN = (Math.sqrt(5) - 1) / 2;

/** Call i's wait before its first step when callers are out of step over `phaseMs`. */
export function phaseOffsetMs(i: number, phaseMs: number): number {
  return Math.round(((i * GOLDEN) % 1) * phaseMs);
}

interface CallResult {
  call: SimulatedCall;
  runner: ScenarioRunner | undefined;
  connected: boolean;
  completed: boolean;
}

/** One call: connect, start, run the scenario until its time is up, hang up. Never rejects. */
async function runOneCall(
  plan: CallPlan,
  opts: LoadOptions,
  stopAll: AbortSignal,
  errors: ErrorTally,
): Promise<CallResult> {
  const call = new SimulatedCall({
    url: plan.url,
    sampleRate: plan.sampleRate,
    customParameters: opts.customParameters,
  });
  const result: CallResult = { call, runner: undefined, connected: false, completed: false };
  try {
    await call.connect();
  } catch (err) {
    errors.add('connect', (err as Error).message);
    return result;
  }
  result.connected = true;
  let hangingUp = false;
  const end = new AbortController();
  const onStopAll = () => end.abort();
  stopAll.addEventListener('abort', onStopAll, { once: true });
  call.on('socket-error', (err: Error) => errors.add('socket-error', err.message));
  call.once('close', (code: number, reason: string) => {
    if (!hangingUp) errors.add('unexpected-close', `${code} ${reason}`.trim());
    end.abort();
  });
  // A call out of step lasts its first wait longer: as many turns as a call in step.
  const timer = setTimeout(() => end.abort(), plan.durationMs + plan.firstPauseMs);
  let scenarioFailed = false;
  try {
    call.start();
    call.startMic(plan.frameMs);
    result.runner = new ScenarioRunner(call, plan.audio, plan.sampleRate, end.signal);
    await result.runner.run(plan.steps, plan.firstPauseMs);
  } catch (err) {
    scenarioFailed = true;
    errors.add('scenario', (err as Error).message);
  } finally {
    clearTimeout(timer);
    stopAll.removeEventListener('abort', onStopAll);
    const stillOpen = call.isOpen;
    hangingUp = true;
    const closed = await Promise.race([
      call.hangup().then(() => true),
      sleep(HANGUP_TIMEOUT_MS, false),
    ]);
    if (!closed) {
      errors.add('hangup-timeout', `no close handshake within ${HANGUP_TIMEOUT_MS} ms`);
      // SimulatedCall has no public terminate(); drop the TCP connection so no socket lingers.
      (call as unknown as { ws?: { terminate(): void } }).ws?.terminate();
    }
    result.completed = stillOpen && closed && !scenarioFailed;
  }
  return result;
}

function bounded(v: number, name: string, min: number, max: number, integer = false): number {
  if (!Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v)))
    throw new LoadOptionsError(
      `--${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${v}`,
    );
  return v;
}

async function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

const round1 = (v: number) => Math.round(v * 10) / 10;

class ErrorTally {
  private readonly byKind: Record<string, number> = {};
  private readonly samples: string[] = [];
  private total = 0;

  add(kind: string, message: string): void {
    this.total++;
    this.byKind[kind] = (this.byKind[kind] ?? 0) + 1;
    if (this.samples.length < MAX_ERROR_SAMPLES) this.samples.push(`${kind}: ${message}`);
  }

  report(): LoadReport['errors'] {
    return { total: this.total, byKind: { ...this.byKind }, samples: [...this.samples] };
  }
}

/** Samples /proc/<pid>/stat (utime + stime) and /proc/<pid>/status (VmRSS) every second. */
class ProcessSampler {
  private readonly ticksPerSecond = clockTicks();
  private readonly cpuPercents: number[] = [];
  private rssMaxKb: number | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly live: Set<number>;

  constructor(private readonly pids: readonly number[]) {
    for (const pid of pids) {
      if (!Number.isInteger(pid) || pid <= 0)
        throw new LoadOptionsError(`--server-pid: bad pid ${pid}`);
      if (readTicks(pid) === null)
        throw new LoadOptionsError(
          `--server-pid: cannot read /proc/${pid}/stat (no such process, or not Linux)`,
        );
    }
    this.live = new Set(pids);
  }

  start(errors: ErrorTally): void {
    let last = { at: performance.now(), ticks: this.totalTicks(errors) };
    this.timer = setInterval(() => {
      const now = { at: performance.now(), ticks: this.totalTicks(errors) };
      const seconds = (now.at - last.at) / 1000;
      if (seconds > 0)
        this.cpuPercents.push(((now.ticks - last.ticks) / this.ticksPerSecond / seconds) * 100);
      last = now;
      let rssKb = 0;
      for (const pid of this.live) rssKb += readRssKb(pid) ?? 0;
      if (this.live.size > 0) this.rssMaxKb = Math.max(this.rssMaxKb ?? 0, rssKb);
    }, 1000);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  report(): NonNullable<LoadReport['server']> {
    const c = this.cpuPercents;
    return {
      pids: [...this.pids],
      samples: c.length,
      cpuPercentMean: c.length ? round1(c.reduce((a, b) => a + b, 0) / c.length) : null,
      cpuPercentMax: c.length ? round1(Math.max(...c)) : null,
      rssMaxMb: this.rssMaxKb === null ? null : round1(this.rssMaxKb / 1024),
    };
  }

  private totalTicks(errors: ErrorTally): number {
    let ticks = 0;
    for (const pid of this.live) {
      const t = readTicks(pid);
      if (t === null) {
        this.live.delete(pid);
        errors.add('server-process', `pid ${pid} exited during the run`);
      } else ticks += t;
    }
    return ticks;
  }
}
