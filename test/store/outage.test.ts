/**
 * The write queue's promise: nothing is lost while the database is down. PostgreSQL is stopped
 * for real (`pg_ctl stop -m fast`) on a cluster of this test's own; SQLite is made unavailable by
 * another connection holding an exclusive lock on the file.
 */
import SqliteDatabase from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCallStore, openDatabase, type CallStore, type Db } from '../../src/store/index.js';
import { PrivateCluster, SKIP_POSTGRES, postgresTestUrl } from '../helpers/postgres.js';
import { captureLogs, ERROR, sampleTurn, WARN, type LogLine } from './harness.js';

const TURNS = 4;
/** Writes one whole call: 4 call writes, TURNS turns, one DTMF event = TURNS + 5 ops. */
function writeCall(store: CallStore, n: number): void {
  const id = `call-${n}`;
  const at = Date.now();
  store.callConnected({ id, callSid: `CA${n}`, from: '+9111', to: '+9122', at });
  store.callStarted(id, {
    streamSid: `ST${n}`,
    customParameters: {},
    sampleRate: 8000,
    at: at + 1,
  });
  for (let t = 0; t < TURNS; t++) store.turnRecorded(id, sampleTurn(t));
  store.eventRecorded(id, { at: at + 2, kind: 'dtmf', detail: '1' });
  store.callStopped(id, { reason: 'callended', at: at + 3 });
  store.callEnded(id, {
    at: at + 4,
    durationMs: 4,
    status: 'completed',
    hangupBy: 'caller',
    turnCount: TURNS,
    bargeInCount: 0,
    errorCount: 0,
  });
}
const OPS_PER_CALL = TURNS + 5;

async function counts(db: Db): Promise<Record<string, number>> {
  const n = async (table: 'calls' | 'turns' | 'call_events', where?: 'completed') => {
    let q = db.kysely.selectFrom(table).select(sql<number>`count(*)`.as('n'));
    if (where !== undefined) q = q.where(sql.ref('status'), '=', where);
    return Number((await q.executeTakeFirstOrThrow()).n);
  };
  return {
    calls: await n('calls'),
    completed: await n('calls', 'completed'),
    turns: await n('turns'),
    events: await n('call_events'),
  };
}

const byCode = (lines: LogLine[], code: string) => lines.filter((l) => l.code === code);
const recovered = (lines: LogLine[]) =>
  lines.filter((l) => l.msg.startsWith('store available again'));

describe.skipIf(SKIP_POSTGRES)('PostgreSQL outage', () => {
  let cluster: PrivateCluster | undefined;
  beforeAll(async () => {
    postgresTestUrl(); // fails loudly, with how to fix it, when PostgreSQL is not configured
    cluster = await PrivateCluster.create();
  }, 60_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('holds every write while the server is stopped and writes them all after it restarts', async () => {
    const server = cluster!;
    const { logger, lines } = captureLogs();
    const db = await openDatabase(server.url, { logger });
    const store = createCallStore(db, { logger, retryMinMs: 50, retryMaxMs: 400 });

    let calls = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        writeCall(store, calls++); // never throws, never waits
        await sleep(10);
      }
    })();

    await sleep(150);
    await server.stop();
    const atStop = calls;
    await sleep(300);
    const held = store.pending;
    await sleep(300);
    expect(calls - atStop).toBeGreaterThan(10); // writes went on during the outage
    expect(held).toBeGreaterThan(0);
    expect(store.pending).toBeGreaterThan(held); // … and the queue holds them
    await expect(store.getCall('CA0')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(byCode(lines, 'STORE_UNAVAILABLE')).toHaveLength(1);
    expect(byCode(lines, 'STORE_UNAVAILABLE')[0]).toMatchObject({ level: WARN });

    await server.start();
    await sleep(100);
    writing = false;
    await writer;
    expect(await store.flush(30_000)).toBe(true);
    expect(store.pending).toBe(0);
    expect(await counts(db)).toEqual({
      calls,
      completed: calls,
      turns: calls * TURNS * 2,
      events: calls,
    });
    console.info(
      `[postgres outage] ${calls} calls (${calls * OPS_PER_CALL} writes), ${calls - atStop} written after the stop; ${held}→${store.pending} held`,
    );
    expect(recovered(lines)).toHaveLength(1);
    expect(byCode(lines, 'STORE_UNAVAILABLE')).toHaveLength(1); // once down, once up: no flood
    expect(JSON.stringify(lines)).not.toContain('+9111'); // no phone numbers in logs
    await store.close(2_000);
  });
});

describe('SQLite locked by another process', () => {
  let dataDir: string;
  let other: SqliteDatabase.Database | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'vb-lock-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });
  afterEach(() => {
    if (other?.inTransaction === true) other.exec('ROLLBACK');
    other?.close();
  });

  async function lockedStore(maxPending: number) {
    const { logger, lines } = captureLogs();
    const dir = path.join(dataDir, String(Math.random()).slice(2));
    const db = await openDatabase(undefined, { dataDir: dir });
    const store = createCallStore(db, { logger, maxPending, retryMinMs: 20, retryMaxMs: 100 });
    other = new SqliteDatabase(path.join(dir, 'voicebot.sqlite'));
    other.exec('BEGIN EXCLUSIVE');
    return { db, store, lines, other };
  }

  it('holds writes until the lock is released, then writes them; a full queue drops and says so', async () => {
    const { db, store, lines, other } = await lockedStore(2 * OPS_PER_CALL);
    writeCall(store, 0);
    writeCall(store, 1);
    writeCall(store, 2); // beyond maxPending: dropped, whole
    expect(await store.flush(300)).toBe(false);
    expect(store.pending).toBe(2 * OPS_PER_CALL);
    expect(byCode(lines, 'STORE_UNAVAILABLE')).toHaveLength(1);
    const full = byCode(lines, 'STORE_QUEUE_FULL');
    expect(full).toHaveLength(1); // the first drop is logged at once, the rest later in one line
    expect(full[0]).toMatchObject({ level: ERROR, dropped: 1 });

    other.exec('COMMIT');
    expect(await store.flush(5_000)).toBe(true);
    expect(await counts(db)).toEqual({ calls: 2, completed: 2, turns: 2 * TURNS * 2, events: 2 });
    expect(recovered(lines)).toHaveLength(1);
    const dropped = byCode(lines, 'STORE_QUEUE_FULL').reduce(
      (sum, l) => sum + Number(l.dropped),
      0,
    );
    expect(dropped).toBe(OPS_PER_CALL);
    await store.close(1_000);
  });

  it('close() gives up after its timeout and logs how many writes were lost', async () => {
    const { store, lines } = await lockedStore(1_000);
    writeCall(store, 0);
    await store.close(200);
    const lost = lines.filter((l) => l.level === ERROR && l.unwritten !== undefined);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ code: 'STORE_UNAVAILABLE', unwritten: OPS_PER_CALL });
    store.callStopped('call-0', { at: 1 }); // after close: dropped and logged, not thrown
    expect(byCode(lines, 'STORE_QUEUE_FULL').at(-1)).toMatchObject({ closed: true });
  });
});
