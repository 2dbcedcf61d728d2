/**
 * Leases and the sweep for calls of a lost instance, on both engines; and the migration that
 * brought them, applied to a database that already holds calls and turns.
 */
import Database from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import path from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { migrationProvider } from '../../src/store/migrations.js';
import { createCallStore, openDatabase, type CallStore, type Db } from '../../src/store/index.js';
import { captureLogs, describeEngines, sampleTurn, type TestDatabase } from './harness.js';

const T0 = 1_790_000_000_000;

describeEngines('leases', (engine) => {
  let target: TestDatabase;
  let db: Db;
  let store: CallStore;

  beforeEach(async () => {
    target = await engine.fresh();
    db = await openDatabase(target.url, { dataDir: target.dataDir });
    store = createCallStore(db, { logger: captureLogs().logger });
  });
  afterEach(async () => {
    await store?.close(2_000);
    await target?.cleanup();
  });

  it('finalises the live calls of a lapsed lease as abandoned, at their last activity', async () => {
    await store.renewLease('alive', 60_000);
    await store.renewLease('dead', 1); // lapses at once
    const now = Date.now();
    store.callConnected({ id: 'c-dead', owner: 'dead', callSid: 'CA1', at: now - 30_000 });
    const turn = sampleTurn(1);
    store.turnRecorded('c-dead', turn);
    store.callConnected({ id: 'c-alive', owner: 'alive', callSid: 'CA2', at: now - 30_000 });
    store.callConnected({ id: 'c-done', owner: 'dead', callSid: 'CA3', at: now - 30_000 });
    store.callEnded('c-done', {
      at: now - 20_000,
      durationMs: 10_000,
      status: 'completed',
      hangupBy: 'caller',
      turnCount: 0,
      bargeInCount: 0,
      errorCount: 0,
    });
    expect(await store.flush(5_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 20));

    expect(await store.sweepAbandoned(60_000)).toBe(1);
    const dead = (await store.getCall('c-dead'))!;
    expect(dead.call).toMatchObject({
      status: 'abandoned',
      endReason: 'server_lost',
      hangupBy: 'unknown',
    });
    expect(dead.turns).toHaveLength(2); // the turns stay
    const lastTurnAt = Math.max(...dead.turns.map((t) => t.atMs));
    expect(dead.call.endedAtMs).toBe(Math.max(lastTurnAt, dead.call.connectedAtMs));
    expect((await store.getCall('c-alive'))!.call.status).toBe('live');
    expect((await store.getCall('c-done'))!.call.status).toBe('completed');
    expect(await store.sweepAbandoned(60_000)).toBe(0); // once only
  });

  it('takes calls with no owner only once they have been quiet for the orphan time', async () => {
    store.callConnected({ id: 'old', at: Date.now() - 60_000 });
    expect(await store.flush(5_000)).toBe(true);
    expect(await store.sweepAbandoned(120_000)).toBe(0); // quiet for 60 s: not yet
    expect(await store.sweepAbandoned(0)).toBe(1);
  });

  it('forgets a released lease; a renewed one keeps its calls alive', async () => {
    await store.renewLease('me', 60_000);
    store.callConnected({ id: 'mine', owner: 'me', at: Date.now() });
    expect(await store.flush(5_000)).toBe(true);
    await store.renewLease('me', 60_000);
    expect(await store.sweepAbandoned(0)).toBe(0);
    await store.releaseLease('me');
    expect(await store.sweepAbandoned(0)).toBe(1);
  });

  it('migrates a database at 0002 holding calls and turns without losing any', async () => {
    await store.close(2_000);
    await target.cleanup();
    target = await engine.fresh();
    const raw = rawKysely(target);
    const migrator = new Migrator({ db: raw, provider: migrationProvider });
    expect((await migrator.migrateTo('0002_actions')).error).toBeUndefined();
    await raw
      .insertInto('calls' as never)
      .values({ id: 'c1', status: 'completed', connected_at_ms: T0, updated_at_ms: T0 })
      .execute();
    await raw
      .insertInto('turns' as never)
      .values({
        call_id: 'c1',
        idx: 1,
        role: 'user',
        source: 'speech',
        text: 'hi',
        at_ms: T0,
      })
      .execute();
    await raw.destroy();

    db = await openDatabase(target.url, { dataDir: target.dataDir });
    store = createCallStore(db, { logger: captureLogs().logger });
    const call = await store.getCall('c1');
    expect(call?.call.status).toBe('completed');
    expect(call?.turns.map((t) => t.text)).toEqual(['hi']);
    // The new status is allowed, and the turns still belong to their call.
    store.callConnected({ id: 'c2', owner: 'gone', at: Date.now() });
    expect(await store.flush(5_000)).toBe(true);
    expect(await store.sweepAbandoned(0)).toBe(1);
    expect((await store.getCall('c2'))?.call.status).toBe('abandoned');
  });
});

function rawKysely(t: TestDatabase): Kysely<unknown> {
  if (t.url === undefined) {
    const database = new Database(path.join(t.dataDir, 'voicebot.sqlite'));
    database.pragma('foreign_keys = ON');
    return new Kysely({ dialect: new SqliteDialect({ database }) });
  }
  return new Kysely({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: t.url }) }),
  });
}
