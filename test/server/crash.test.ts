/**
 * Nothing stuck after a crash: a server process holding live calls is SIGKILLed; the next one to
 * run on the same database finalises them as `abandoned` once the dead one's lease lapses. Real
 * processes on one SQLite file (the PostgreSQL path is the same queries, tested in test/store).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { createCallStore, openDatabase, type CallStore } from '../../src/store/index.js';
import { FakeOpenAI } from '../fakes/index.js';
import { eventually } from '../helpers/app.js';
import { dialAndGreet } from '../helpers/calls.js';
import { serveProcess, type ServerProcess } from '../helpers/server-process.js';

const LEASE_TTL_MS = 1500;

let fake: FakeOpenAI;
let dataDir: string;
const children: ChildProcess[] = [];

/** A server process on the shared data folder; resolves once it is ready. */
async function serve(env: Record<string, string> = {}): Promise<ServerProcess> {
  const server = await serveProcess({
    OPENAI_BASE_URL: fake.baseUrl,
    DATA_DIR: dataDir,
    LEASE_TTL_MS: String(LEASE_TTL_MS),
    IDLE_AFTER_MS: '0',
    ...env,
  });
  children.push(server.child);
  return server;
}

beforeAll(async () => {
  fake = await FakeOpenAI.start();
  dataDir = await mkdtemp(join(tmpdir(), 'voicebot-crash-'));
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await fake.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('a server killed with live calls', () => {
  it('has its calls finalised as abandoned by the next server', async () => {
    const first = await serve();
    const calls = await Promise.all(
      [0, 1, 2].map(() => dialAndGreet(`ws://127.0.0.1:${first.port}`)),
    );
    const reader: CallStore = createCallStore(await openDatabase(undefined, { dataDir }), {
      logger: createLogger('silent'),
    });
    const statuses = async () =>
      Promise.all(calls.map(async (c) => (await reader.getCall(c.callSid))?.call.status));
    await eventually(async () => (await statuses()).every((s) => s === 'live'));

    first.child.kill('SIGKILL');
    const killedAt = performance.now();
    await Promise.all(calls.map((c) => c.closed()));
    await serve();
    await eventually(async () => (await statuses()).every((s) => s === 'abandoned'), 20_000);
    const tookMs = performance.now() - killedAt;
    console.log(
      `[crash] calls finalised ${Math.round(tookMs)} ms after SIGKILL (LEASE_TTL_MS ${LEASE_TTL_MS})`,
    );
    expect(tookMs).toBeLessThan(LEASE_TTL_MS * 2 + 10_000); // lease + a sweep, plus start-up
    const record = await reader.getCall(calls[0]!.callSid);
    expect(record?.call).toMatchObject({ endReason: 'server_lost', hangupBy: 'unknown' });
    expect(record?.call.endedAtMs).toBeGreaterThanOrEqual(record!.call.connectedAtMs);
    await reader.close();
  }, 90_000);

  it('a primary killed with WORKERS=2: its workers drain, and their calls end on the record', async () => {
    const cluster = await serve({ WORKERS: '2', SHUTDOWN_GRACE_MS: '300' });
    const calls = await Promise.all(
      [0, 1, 2, 3].map(() => dialAndGreet(`ws://127.0.0.1:${cluster.port}`)),
    );
    cluster.child.kill('SIGKILL');
    await Promise.all(calls.map((c) => c.closed()));
    expect(calls.map((c) => c.closeCode)).toEqual([1001, 1001, 1001, 1001]);
    const reader = createCallStore(await openDatabase(undefined, { dataDir }), {
      logger: createLogger('silent'),
    });
    const records = await eventually(async () => {
      const r = await Promise.all(calls.map((c) => reader.getCall(c.callSid)));
      return r.every((x) => x?.call.status === 'completed') ? r : undefined;
    });
    expect(records.map((r) => r?.call.endReason)).toEqual([
      'shutdown',
      'shutdown',
      'shutdown',
      'shutdown',
    ]);
    await reader.close();
  }, 90_000);
});
