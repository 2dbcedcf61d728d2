/**
 * `npm run bench:console`: how long the console takes to show a long call, in real Chromium.
 * Seeds a 50-turn call (with a recording) and 200 shorter calls into a fresh SQLite file through
 * the store's write path, then loads the call's page and the calls list `RUNS` times each and
 * prints, per page: the server's time to first byte, DOMContentLoaded and load (from the
 * browser's navigation timing), the wall time of a navigation as the test driver sees it, and
 * the HTML's size.
 *   CHROMIUM_PATH=/usr/bin/chromium npm run bench:console
 */
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/log.js';
import { buildApp } from '../src/server/app.js';
import { launchChromium, signIn } from '../test/helpers/browser.js';
import { seedCall, seedCalls } from '../test/helpers/seed-calls.js';

const RUNS = Number(process.env.RUNS ?? 20);
const KEY = 'console-bench-key-0123456789';

interface Nav {
  responseStart: number;
  requestStart: number;
  domContentLoadedEventEnd: number;
  loadEventEnd: number;
  transferSize: number;
  decodedBodySize: number;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

const dataDir = await mkdtemp(join(tmpdir(), 'voicebot-console-bench-'));
const config = loadConfig({
  OPENAI_API_KEY: 'bench',
  PORT: '0',
  DATA_DIR: dataDir,
  ADMIN_API_KEY: KEY,
  AGENTS_DIR: join(import.meta.dirname, '..', 'agents'),
  VAD: 'webrtc',
});
const voicebot = await buildApp({ config, logger: createLogger('silent') });
await mkdir(config.recording.dir, { recursive: true });
await seedCalls(voicebot.store, 200, { nowMs: Date.now() - 3_600_000 });
const longId = await seedCall(voicebot.store, {
  startMs: Date.now() - 20 * 60_000,
  turns: 50,
  recordingsDir: config.recording.dir,
});
await voicebot.store.flush(30_000);
await voicebot.app.listen({ port: 0, host: '127.0.0.1' });
const addr = voicebot.app.server.address();
if (!addr || typeof addr === 'string') throw new Error('no address');
const base = `http://127.0.0.1:${addr.port}`;

const browser = await launchChromium();
const page = await (await browser.newContext({ baseURL: base })).newPage();
await signIn(page, base, KEY);

const rows: string[] = [];
for (const [label, path] of [
  ['one call, 50 turns', `/console/calls/${longId}`],
  ['calls list, 50 rows', '/console/calls'],
  ['agents (baseline: 2 profiles)', '/console/agents'],
] as const) {
  const ttfb: number[] = [];
  const dcl: number[] = [];
  const load: number[] = [];
  const wall: number[] = [];
  let size = 0;
  for (let i = 0; i < RUNS + 2; i++) {
    const t0 = performance.now();
    await page.goto(path, { waitUntil: 'load' });
    const t1 = performance.now();
    const navJson = await page.evaluate<string>(
      'JSON.stringify(performance.getEntriesByType("navigation")[0])',
    );
    const nav = JSON.parse(navJson) as Nav;
    if (i < 2) continue; // warm-up: the first loads fetch the scripts and stylesheet
    ttfb.push(nav.responseStart - nav.requestStart);
    dcl.push(nav.domContentLoadedEventEnd);
    load.push(nav.loadEventEnd);
    wall.push(t1 - t0);
    size = nav.decodedBodySize;
  }
  const f = (xs: number[]) => `${pct(xs, 50).toFixed(0)} / ${pct(xs, 95).toFixed(0)}`;
  rows.push(
    `| ${label} | ${f(ttfb)} | ${f(dcl)} | ${f(load)} | ${f(wall)} | ${(size / 1024).toFixed(0)} KB |`,
  );
}

console.log(
  `console page loads, ${RUNS} runs each, p50 / p95 in ms (Chromium ${browser.version()})`,
);
console.log('| page | server (TTFB) | DOMContentLoaded | load | navigation wall | HTML |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(r);

await browser.close();
await voicebot.app.close();
await rm(dataDir, { recursive: true, force: true });
