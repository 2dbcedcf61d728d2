/**
 * `WORKERS=2`: two processes serve one port; calls land on either; `/metrics` adds both up; a
 * SIGTERM drains and stops them all.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOpenAI } from '../fakes/index.js';
import { eventually } from '../helpers/app.js';
import { dialAndGreet } from '../helpers/calls.js';
import { serveProcess } from '../helpers/server-process.js';

let fake: FakeOpenAI;
let child: ChildProcess;
let dataDir: string;
let port: number;
let exited: Promise<number | null>;

/** A GET on a new connection each time, so the cluster can hand it to either worker. */
function getFresh(path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}

beforeAll(async () => {
  fake = await FakeOpenAI.start();
  dataDir = await mkdtemp(join(tmpdir(), 'voicebot-cluster-'));
  ({ child, port, exited } = await serveProcess({
    WORKERS: '2',
    OPENAI_BASE_URL: fake.baseUrl,
    DATA_DIR: dataDir,
  }));
}, 60_000);
afterAll(async () => {
  if (child.exitCode === null) child.kill('SIGKILL');
  await fake.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('WORKERS=2', () => {
  it('serves calls from two processes and aggregates their metrics', async () => {
    const pids = new Set<number>();
    await eventually(async () => {
      pids.add(((await getFresh('/healthz')) as { pid: number }).pid);
      return pids.size >= 2;
    }, 20_000);
    expect(pids.has(child.pid!)).toBe(false);

    const calls = await Promise.all([0, 1, 2, 3].map(() => dialAndGreet(`ws://127.0.0.1:${port}`)));
    await Promise.all(calls.map((c) => c.hangup()));
    const total = await eventually(async () => {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.headers.get('x-metrics-scope')).toBe('cluster');
      const text = await res.text();
      const line = text
        .split('\n')
        .find((l) => l.startsWith('voicebot_calls_total{status="completed"}'));
      const n = line ? Number(line.split(' ')[1]) : 0;
      return n >= 4 ? n : undefined;
    }, 15_000);
    expect(total).toBe(4);
  });

  it('stops every process on SIGTERM', async () => {
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
