/**
 * `npm run bench:profile`: where the server's main thread spends its time under load. Starts the
 * fake OpenAI and the compiled server with V8's CPU profiler on (`--cpu-prof`), runs one capacity
 * step of live calls against it, stops the server (which writes the profile) and prints the
 * self-time of the main thread by part (Silero inference, WebSocket frames, resampling, GC...) and
 * the top functions. Other threads (inference workers) are not in this profile: their time shows
 * as the server's CPU beyond the main thread's.
 *   PROFILE_CALLS=150 PROFILE_S=20 PROFILE_VAD=silero PROFILE_RATE=8000 PROFILE_VAD_THREADS=0 \
 *   PROFILE_NODE_FLAGS='--single-threaded-gc' PROFILE_SPREAD=1 npm run bench:profile
 * It also prints the server's CPU by thread (from /proc), which the V8 profile does not see.
 * `PROFILE_OUT=file.cpuprofile` keeps the profile (Chrome DevTools opens it).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readThreadTicks } from '../src/simulator/proc.js';
import { runBotStep } from './capacity.js';
import { installCleanup, killAll, stop } from './processes.js';
import { startFake, startServer } from './server.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const calls = Number(process.env.PROFILE_CALLS ?? 150);
const seconds = Number(process.env.PROFILE_S ?? 20);
const vad = (process.env.PROFILE_VAD ?? 'silero') as 'silero' | 'webrtc';
const rate = Number(process.env.PROFILE_RATE ?? 8000) === 16000 ? 16000 : 8000;
/** Callers out of step (as the bench's `:spread` targets), not all replying within a second. */
const spread = process.env.PROFILE_SPREAD === '1';

/** Space-separated words of an environment variable. */
function list(value: string | undefined): string[] {
  return (value ?? '').split(' ').filter(Boolean);
}

installCleanup();
const dir = mkdtempSync(join(tmpdir(), 'voicebot-profile-'));
const fake = await startFake();
try {
  const server = await startServer(
    fake,
    { vad, preemptMs: 200, workers: 1, sampleRate: rate },
    process.env.PROFILE_VAD_THREADS ? { VAD_THREADS: process.env.PROFILE_VAD_THREADS } : {},
    ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...list(process.env.PROFILE_NODE_FLAGS)],
  );
  let report;
  let threads = '';
  try {
    const before = threadTicks(server.pids());
    report = await runBotStep(server, calls, seconds, spread);
    threads = threadTable(before, threadTicks(server.pids()));
  } finally {
    await server.close();
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('the server wrote no CPU profile');
  const text = readFileSync(join(dir, file), 'utf8');
  if (process.env.PROFILE_OUT) writeFileSync(process.env.PROFILE_OUT, text);
  const profile = JSON.parse(text) as CpuProfile;
  console.log(
    `${calls} calls${spread ? ' out of step' : ''}, ${vad} VAD, ${rate} Hz, ${seconds} s: server CPU mean ${report.server?.cpuPercentMean ?? '-'} % (all threads), turn p50 ${report.firstAudioMs.turn.p50} ms p99 ${report.firstAudioMs.turn.p99} ms, underruns ${report.playback.underruns}; load generator CPU ${report.generator.cpuPercentMean} %, its event-loop delay p99 ${report.generator.eventLoopDelayP99Ms} ms\n`,
  );
  console.log(threads);
  console.log(summarise(profile));
} finally {
  await stop(fake.child);
  killAll();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);

interface ThreadTicks {
  at: number;
  /** utime + stime clock ticks by thread, keyed `pid/tid`, with the thread's name. */
  ticks: Map<string, { name: string; ticks: number }>;
}

/** Every thread's CPU ticks so far, from /proc (Linux only; empty elsewhere). */
function threadTicks(pids: number[]): ThreadTicks {
  const ticks = new Map<string, { name: string; ticks: number }>();
  for (const pid of pids) {
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const used = readThreadTicks(pid, Number(tid));
        if (used === null) continue;
        const name =
          tid === String(pid)
            ? 'main'
            : readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
        ticks.set(`${pid}/${tid}`, { name, ticks: used });
      } catch {
        // The thread ended between the listing and the read.
      }
    }
  }
  return { at: performance.now(), ticks };
}

/**
 * The server's CPU over the step by thread name (% of one core): the main thread against V8's
 * helpers (GC, compiler), libuv's pool (file writes) and the inference workers.
 */
function threadTable(a: ThreadTicks, b: ThreadTicks): string {
  const hz = 100; // USER_HZ on Linux.
  const seconds = (b.at - a.at) / 1000;
  const by = new Map<string, { threads: number; ticks: number }>();
  for (const [key, t] of b.ticks) {
    const used = t.ticks - (a.ticks.get(key)?.ticks ?? 0);
    const row = by.get(t.name) ?? { threads: 0, ticks: 0 };
    row.threads += 1;
    row.ticks += used;
    by.set(t.name, row);
  }
  const rows = [...by.entries()].sort((x, y) => y[1].ticks - x[1].ticks);
  const pct = (ticks: number): string => ((100 * ticks) / hz / seconds).toFixed(1);
  // Node names its worker threads and V8's helpers alike ("node"): the busiest few, one by one,
  // tell an inference thread (busy in proportion to speech) from the garbage collector's helpers.
  const busiest = [...b.ticks.entries()]
    .filter(([, t]) => t.name !== 'main')
    .map(([key, t]) => ({ key, name: t.name, used: t.ticks - (a.ticks.get(key)?.ticks ?? 0) }))
    .sort((x, y) => y.used - x.used)
    .slice(0, 4);
  return [
    `server CPU by thread over the step (${seconds.toFixed(0)} s, % of one core):`,
    '| thread | threads | CPU % |',
    '|---|---:|---:|',
    ...rows.map(([name, r]) => `| ${name} | ${r.threads} | ${pct(r.ticks)} |`),
    '',
    `busiest other threads: ${busiest.map((t) => `${t.name} ${t.key} ${pct(t.used)} %`).join(', ')}`,
    '',
  ].join('\n');
}

/** The part of the server a function belongs to, by its script and name. */
function part(node: ProfileNode): string {
  const { functionName: fn, url } = node.callFrame;
  if (fn === '(idle)') return 'idle';
  if (fn === '(garbage collector)') return 'garbage collection';
  if (fn === '(program)') return 'V8/native (program)';
  if (url.includes('onnxruntime')) return 'onnxruntime (Silero inference)';
  if (url.includes('fvad')) return 'WebRTC VAD (wasm)';
  if (url.includes('speex')) return 'resampler (wasm)';
  if (url.includes('/ws/')) return 'ws (WebSocket frames)';
  if (url.includes('fastify') || url.includes('avvio')) return 'fastify';
  if (url.includes('pino')) return 'logging';
  if (url.includes('better-sqlite3') || url.includes('kysely')) return 'SQLite';
  if (url.includes('/dist/audio/vad/')) return 'our VAD glue';
  if (url.includes('/dist/audio/')) return 'our audio code';
  if (url.includes('/dist/')) return 'our other code';
  if (url.startsWith('node:')) return `node (${url.slice(5).split('/')[0]})`;
  if (url === '') return 'native (writev, microtasks, regexps...)';
  return 'other JS';
}

function summarise(p: CpuProfile): string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const parts = new Map<string, number>();
  const fns = new Map<string, number>();
  const files = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node) continue;
    parts.set(part(node), (parts.get(part(node)) ?? 0) + us);
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    if (functionName !== '(idle)') {
      const file = url.replace(/^.*\/(node_modules|dist)\//, '$1/') || `(native) ${functionName}`;
      files.set(file, (files.get(file) ?? 0) + us);
    }
  }
  const pct = (us: number) => ((100 * us) / total).toFixed(1).padStart(5);
  const busy = total - (parts.get('idle') ?? 0);
  const lines = [
    `main thread: ${(total / 1e6).toFixed(1)} s profiled, ${pct(busy)} % busy`,
    '',
    '| part | % of main thread |',
    '|---|---|',
    ...[...parts.entries()]
      .filter(([, v]) => v / total >= 0.002)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `| ${k} | ${pct(v)} |`),
    '',
    'top scripts (self time, idle excluded):',
    ...[...files.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 30)
      .map(([k, v]) => `  ${pct(v)} %  ${k}`),
    '',
    'top functions (self time, idle excluded):',
    ...[...fns.entries()]
      .filter(([k]) => !k.startsWith('(idle)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, 30)
      .map(([k, v]) => `  ${pct(v)} %  ${k}`),
  ];
  lines.push('', ...byOurCode(p, byId), '', ...byOurCode(p, byId, true), '', ...longTasks(p, byId));
  return lines.join('\n');
}

/**
 * Each sample's label: the innermost frame of our own code on its stack (or with `outermost`, the
 * one nearest the event loop: which task the time was spent for), else its part.
 */
function labeller(
  p: CpuProfile,
  byId: Map<number, ProfileNode>,
  outermost = false,
): (id: number) => string {
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map<number, string>();
  return (id) => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    let label = part(byId.get(id)!);
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)?.callFrame;
      if (f?.url.includes('/dist/') && !f.url.includes('/node_modules/')) {
        label = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/dist\//, '')}:${f.lineNumber + 1}`;
        if (!outermost) break;
      }
    }
    memo.set(id, label);
    return label;
  };
}

/**
 * All busy time, charged to the innermost frame of our own code on the stack: which of our
 * functions the node internals, ws and undici time was spent for (a TTS stream's reads, a
 * frame's send). Time with none of our code on the stack keeps its part's name.
 */
function byOurCode(p: CpuProfile, byId: Map<number, ProfileNode>, outermost = false): string[] {
  const label = labeller(p, byId, outermost);
  const by = new Map<string, number>();
  let busy = 0;
  p.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === '(idle)') return;
    const dt = p.timeDeltas[i + 1] ?? 0;
    busy += dt;
    by.set(label(id), (by.get(label(id)) ?? 0) + dt);
  });
  return [
    `busy time by the ${outermost ? 'outermost' : 'innermost'} frame of our code on the stack (% of busy time):`,
    ...[...by.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 40)
      .map(([k, v]) => `  ${((100 * v) / (busy || 1)).toFixed(1).padStart(5)} %  ${k}`),
  ];
}

/**
 * Runs of main-thread samples with no idle sample between them (one event-loop task, or several
 * back to back) longer than 50 ms: what they spent their time on. These are what delay every
 * call's audio.
 */
function longTasks(p: CpuProfile, byId: Map<number, ProfileNode>): string[] {
  const label = labeller(p, byId);
  const tasks: Array<{ us: number; by: Map<string, number> }> = [];
  let current: { us: number; by: Map<string, number> } | null = null;
  p.samples.forEach((id, i) => {
    const node = byId.get(id);
    const dt = p.timeDeltas[i + 1] ?? 0;
    if (!node || node.callFrame.functionName === '(idle)') {
      if (current && current.us > 50_000) tasks.push(current);
      current = null;
      return;
    }
    current ??= { us: 0, by: new Map() };
    current.us += dt;
    const l = label(id);
    current.by.set(l, (current.by.get(l) ?? 0) + dt);
  });
  const total = tasks.reduce((a, t) => a + t.us, 0);
  const by = new Map<string, number>();
  for (const t of tasks) for (const [k, v] of t.by) by.set(k, (by.get(k) ?? 0) + v);
  return [
    `long tasks (> 50 ms without an idle sample): ${tasks.length}, ${(total / 1e6).toFixed(1)} s in all, longest ${(Math.max(0, ...tasks.map((t) => t.us)) / 1000).toFixed(0)} ms; where their time went (innermost frame of our code on the stack):`,
    ...[...by.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 25)
      .map(([k, v]) => `  ${((100 * v) / (total || 1)).toFixed(1).padStart(5)} %  ${k}`),
  ];
}
