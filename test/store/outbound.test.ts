/** Outbound call rows on both engines: the status rules, the active count, quiet calls. */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createCallStore, openDatabase, type CallStore, type Db } from '../../src/store/index.js';
import { captureLogs, describeEngines, type TestDatabase } from './harness.js';

describeEngines('outbound calls', (engine) => {
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

  it('moves through its statuses, and a final status is never undone', async () => {
    await store.outbound.insert({
      id: 'o1',
      to: '+919812345670',
      agent: 'loan_hi',
      params: { a: '1' },
    });
    expect(await store.outbound.get('o1')).toMatchObject({
      id: 'o1',
      to: '+919812345670',
      agent: 'loan_hi',
      params: { a: '1' },
      status: 'queued',
    });
    await store.outbound.update('o1', { callSid: 'CA1', status: 'ringing' });
    await store.outbound.update('o1', { status: 'in-progress', answeredAtMs: 5 });
    await store.outbound.update('o1', { status: 'completed', endedAtMs: 9 });
    await store.outbound.update('o1', { status: 'in-progress', endedAtMs: 99 });
    await store.outbound.update('o1', { status: 'failed' });
    expect(await store.outbound.get('o1')).toMatchObject({
      callSid: 'CA1',
      status: 'completed',
      answeredAtMs: 5,
      endedAtMs: 9,
    });
    expect(await store.outbound.get('nope')).toBeUndefined();
  });

  it('counts the calls not yet final and finds the quiet ones', async () => {
    for (const id of ['a', 'b', 'c'])
      await store.outbound.insert({ id, to: '+919812345670', params: {} });
    await store.outbound.update('c', { status: 'busy' });
    expect(await store.outbound.countActive()).toBe(2);
    const later = Date.now() + 1_000;
    expect((await store.outbound.quiet(later, later, 10)).map((c) => c.id).sort()).toEqual([
      'a',
      'b',
    ]);
    await store.outbound.update('a', { checkedAtMs: later + 5 });
    // 'a' was just updated (and checked): not quiet before `later`, nor unchecked since.
    expect((await store.outbound.quiet(later, later, 10)).map((c) => c.id)).toEqual(['b']);
  });
});
