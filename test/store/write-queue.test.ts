/**
 * The queue's own rules, with a fake database at its boundary (the `apply` function): order is
 * kept across retries, and a write the database rejects while it is up is dropped alone.
 */
import { expect, it } from 'vitest';
import { WriteQueue } from '../../src/store/write-queue.js';
import { captureLogs, ERROR } from './harness.js';

interface FakeDb {
  up: boolean;
  rows: number[];
  /** Values the database refuses (a constraint it would never accept). */
  refuses: Set<number>;
}

function queueOn(db: FakeDb) {
  const { logger, lines } = captureLogs();
  const queue = new WriteQueue<number>({
    apply: (batch) => {
      if (!db.up)
        return Promise.reject(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
      if (batch.some((v) => db.refuses.has(v)))
        return Promise.reject(new Error('check constraint'));
      db.rows.push(...batch);
      return Promise.resolve();
    },
    isUnavailable: (err) => Promise.resolve((err as { code?: string }).code === 'ECONNREFUSED'),
    describe: () => 'n',
    logger,
    maxPending: 10_000,
    retryMinMs: 5,
    retryMaxMs: 20,
    batchSize: 7,
  });
  return { queue, lines };
}

it('keeps FIFO order across an outage and writes each value once', async () => {
  const db: FakeDb = { up: false, rows: [], refuses: new Set() };
  const { queue } = queueOn(db);
  for (let i = 0; i < 50; i++) queue.push(i);
  expect(await queue.flush(50)).toBe(false);
  db.up = true;
  for (let i = 50; i < 100; i++) queue.push(i);
  expect(await queue.flush(2_000)).toBe(true);
  expect(db.rows).toEqual(Array.from({ length: 100 }, (_, i) => i));
});

it('drops only the write the database rejects, logs it, and writes the rest in order', async () => {
  const db: FakeDb = { up: true, rows: [], refuses: new Set([3, 11]) };
  const { queue, lines } = queueOn(db);
  for (let i = 0; i < 20; i++) queue.push(i);
  expect(await queue.flush(2_000)).toBe(true);
  expect(db.rows).toEqual(
    Array.from({ length: 20 }, (_, i) => i).filter((i) => i !== 3 && i !== 11),
  );
  const rejected = lines.filter((l) => l.msg.startsWith('store write rejected'));
  expect(rejected).toHaveLength(2);
  expect(rejected[0]).toMatchObject({ level: ERROR, op: 'n' });
});
