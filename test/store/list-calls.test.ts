import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCallStore, openDatabase, type CallStore } from '../../src/store/index.js';
import { captureLogs, describeEngines, type TestDatabase } from './harness.js';

const T0 = Date.UTC(2025, 0, 15, 10, 0, 0);
const MIN = 60_000;

describeEngines('listCalls', (engine) => {
  let target: TestDatabase;
  let store: CallStore;

  // Seven calls, one a minute: c0 … c6. Odd ones failed; c2 and c5 came from +9199.
  beforeAll(async () => {
    target = await engine.fresh();
    const db = await openDatabase(target.url, { dataDir: target.dataDir });
    store = createCallStore(db, { logger: captureLogs().logger });
    for (let i = 0; i < 7; i++) {
      const id = `c${i}`;
      const from = i === 2 || i === 5 ? '+9199' : `+91${i}`;
      store.callConnected({
        id,
        callSid: `CA${i}`,
        from,
        to: i === 6 ? '+9199' : '+9100',
        at: T0 + i * MIN,
      });
      store.callEnded(id, {
        at: T0 + i * MIN + 30_000,
        durationMs: 30_000,
        status: i % 2 === 1 ? 'failed' : 'completed',
        hangupBy: 'caller',
        turnCount: 0,
        bargeInCount: 0,
        errorCount: 0,
      });
    }
    // Same minute as c3: the id breaks the tie, so paging must neither skip nor repeat it.
    store.callConnected({ id: 'c3b', at: T0 + 3 * MIN });
    expect(await store.flush(5_000)).toBe(true);
  });
  afterAll(async () => {
    await store?.close(2_000);
    await target?.cleanup();
  });

  const ids = (r: { calls: { id: string }[] }) => r.calls.map((c) => c.id);

  it('pages newest first with a cursor, each call exactly once', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    const pages: number[] = [];
    do {
      const page = await store.listCalls({ limit: 3, cursor });
      pages.push(page.calls.length);
      seen.push(...ids(page));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(pages).toEqual([3, 3, 2]);
    expect(seen).toEqual(['c6', 'c5', 'c4', 'c3b', 'c3', 'c2', 'c1', 'c0']);
  });

  it('has no next cursor when the page is not full', async () => {
    const page = await store.listCalls({});
    expect(page.calls).toHaveLength(8);
    expect(page.nextCursor).toBeUndefined();
  });

  it('filters by time window: since inclusive, until exclusive', async () => {
    expect(ids(await store.listCalls({ since: T0 + 2 * MIN, until: T0 + 4 * MIN }))).toEqual([
      'c3b',
      'c3',
      'c2',
    ]);
  });

  it('filters by number, matching caller or called', async () => {
    expect(ids(await store.listCalls({ number: '+9199' }))).toEqual(['c6', 'c5', 'c2']);
  });

  it('filters by status, and combines filters with paging', async () => {
    expect(ids(await store.listCalls({ status: 'failed' }))).toEqual(['c5', 'c3', 'c1']);
    expect(ids(await store.listCalls({ status: 'live' }))).toEqual(['c3b']);
    const first = await store.listCalls({ status: 'completed', limit: 2 });
    expect(ids(first)).toEqual(['c6', 'c4']);
    const second = await store.listCalls({
      status: 'completed',
      limit: 2,
      cursor: first.nextCursor,
    });
    expect(ids(second)).toEqual(['c2', 'c0']);
    expect(second.nextCursor).toBeUndefined();
  });

  it('caps the page at 100 and rejects a foreign cursor', async () => {
    expect((await store.listCalls({ limit: 1_000 })).calls).toHaveLength(8);
    expect((await store.listCalls({ limit: 0 })).calls).toHaveLength(1);
    await expect(store.listCalls({ cursor: 'not-a-cursor' })).rejects.toThrow(RangeError);
  });
});
