import { sql } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createCallStore, openDatabase, type CallStore, type Db } from '../../src/store/index.js';
import { applyOp, type WriteOp } from '../../src/store/write-ops.js';
import { captureLogs, describeEngines, sampleTurn, type TestDatabase } from './harness.js';

const T0 = Date.UTC(2025, 0, 15, 10, 0, 0);

async function count(db: Db, table: 'calls' | 'turns' | 'call_events'): Promise<number> {
  const row = await db.kysely
    .selectFrom(table)
    .select(sql<number>`count(*)`.as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describeEngines('call store', (engine) => {
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

  it('writes a whole call and reads it back by id and by CallSid', async () => {
    store.callConnected({
      id: 's1',
      callSid: 'CA1',
      callLogId: 'L1',
      from: '+911',
      to: '+912',
      at: T0,
    });
    store.callStarted('s1', {
      streamSid: 'ST1',
      accountSid: 'AC1',
      customParameters: { lang: 'hi' },
      sampleRate: 8000,
      agent: 'support',
      at: T0 + 500,
    });
    store.turnRecorded('s1', sampleTurn(0));
    store.turnRecorded(
      's1',
      sampleTurn(1, {
        interrupted: true,
        heardText: 'ans',
        errors: ['PROVIDER_TIMEOUT'],
        fallback: true,
      }),
    );
    store.eventRecorded('s1', { at: T0 + 9_000, kind: 'dtmf', detail: '12#' });
    store.eventRecorded('s1', { at: T0 + 9_500, kind: 'error', code: 'PROVIDER_TIMEOUT' });
    store.summaryUpdated('s1', { status: 'pending' });
    store.callStopped('s1', { reason: 'callended', at: T0 + 20_000 });
    store.callEnded('s1', {
      at: T0 + 20_100,
      durationMs: 19_600,
      status: 'completed',
      hangupBy: 'caller',
      turnCount: 2,
      bargeInCount: 1,
      errorCount: 1,
    });
    store.summaryUpdated('s1', { summary: 'asked twice', status: 'done' });
    expect(store.pending).toBeGreaterThan(0);
    expect(await store.flush(5_000)).toBe(true);
    expect(store.pending).toBe(0);

    const byId = await store.getCall('s1');
    expect(await store.getCall('CA1')).toEqual(byId);
    expect(byId?.call).toMatchObject({
      id: 's1',
      callSid: 'CA1',
      callLogId: 'L1',
      streamSid: 'ST1',
      accountSid: 'AC1',
      from: '+911',
      to: '+912',
      agent: 'support',
      customParameters: { lang: 'hi' },
      sampleRate: 8000,
      status: 'completed',
      stopReason: 'callended',
      hangupBy: 'caller',
      connectedAtMs: T0,
      startedAtMs: T0 + 500,
      stoppedAtMs: T0 + 20_000,
      endedAtMs: T0 + 20_100,
      durationMs: 19_600,
      turnCount: 2,
      bargeInCount: 1,
      errorCount: 1,
      summary: 'asked twice',
      summaryStatus: 'done',
    });
    const turns = byId?.turns ?? [];
    expect(turns.map((t) => `${t.index}:${t.role}:${t.text}`)).toEqual([
      '0:user:question 0',
      '0:bot:answer 0',
      '1:user:question 1',
      '1:bot:answer 1',
    ]);
    expect(turns[3]).toMatchObject({
      heardText: 'ans',
      interrupted: true,
      fallback: true,
      preemptiveStt: true,
      errors: ['PROVIDER_TIMEOUT'],
    });
    expect(turns[0]?.heardText).toBeUndefined();
    expect(turns[0]?.timings).toEqual({
      stages: {
        endpointMs: 300,
        sttMs: 350,
        sttAfterEndpointMs: 100,
        llmFirstTokenMs: 300,
        ttsFirstByteMs: 150,
        firstAudioMs: 960,
        replyMs: 1_840,
      },
      anchor: 'speechEndAt',
      relative: {
        speechStartAt: -1_200,
        speechEndAt: 0,
        endpointAt: 300,
        sttStartAt: 50,
        sttEndAt: 400,
        llmRequestAt: 400,
        llmFirstTokenAt: 700,
        ttsRequestAt: 800,
        ttsFirstByteAt: 950,
        firstAudioAt: 960,
        replyEndAt: 2_800,
      },
    });
    // Wall times come from performance.timeOrigin: the user spoke before the bot answered.
    expect(turns[1]!.atMs - turns[0]!.atMs).toBe(2_160);
    expect(byId?.events).toEqual([
      { atMs: T0 + 9_000, kind: 'dtmf', detail: '12#' },
      { atMs: T0 + 9_500, kind: 'error', code: 'PROVIDER_TIMEOUT' },
    ]);
    expect(await store.getCall('nope')).toBeUndefined();
  });

  it("keeps how the bot ended the call, and each turn's tool calls, filler and ending", async () => {
    store.callConnected({ id: 's2', callSid: 'CA2', at: T0 });
    store.turnRecorded(
      's2',
      sampleTurn(1, {
        toolCalls: [
          {
            id: 'call_1',
            name: 'check_loan_status',
            arguments: '{"application_id":"HL-1"}',
            result: '{"status":"approved"}',
            status: 'ok',
            durationMs: 2_512,
            round: 1,
          },
        ],
        filler: 'Ek second.',
        ending: 'transfer',
      }),
    );
    store.callEnded('s2', {
      at: T0 + 5_000,
      durationMs: 5_000,
      status: 'completed',
      hangupBy: 'bot',
      endReason: 'transfer',
      endDetail: 'wants a person',
      transferTo: '+919800000001',
      turnCount: 1,
      bargeInCount: 0,
      errorCount: 0,
    });
    expect(await store.flush(5_000)).toBe(true);
    const detail = await store.getCall('CA2');
    expect(detail?.call).toMatchObject({
      hangupBy: 'bot',
      endReason: 'transfer',
      endDetail: 'wants a person',
      transferTo: '+919800000001',
    });
    const [user, bot] = detail?.turns ?? [];
    expect(user).toMatchObject({ toolCalls: [], filler: undefined, ending: undefined });
    expect(bot).toMatchObject({
      filler: 'Ek second.',
      ending: 'transfer',
      toolCalls: [{ name: 'check_loan_status', status: 'ok', durationMs: 2_512, round: 1 }],
    });
  });

  it('stores a transfer decision under its CallSid, the latest one winning', async () => {
    expect(await store.getTransfer('CA9')).toBeUndefined();
    await store.putTransfer({ callSid: 'CA9', callId: 's9', number: '+911', at: T0 });
    await store.putTransfer({
      callSid: 'CA9',
      callId: 's9',
      number: '+912',
      reason: 'asked for a person',
      at: T0 + 1,
    });
    expect(await store.getTransfer('CA9')).toEqual({
      callSid: 'CA9',
      callId: 's9',
      number: '+912',
      reason: 'asked for a person',
      at: T0 + 1,
    });
  });

  it('makes a retried batch harmless: the same ops applied twice leave the same rows', async () => {
    // What the queue does when a commit succeeded but its reply was lost: apply the batch again.
    const ops: WriteOp[] = [
      { kind: 'callConnected', id: 's2', callSid: 'CA2', at: T0 },
      {
        kind: 'callStarted',
        id: 's2',
        streamSid: 'ST2',
        customParameters: {},
        sampleRate: 16000,
        at: T0 + 1,
      },
      { kind: 'turn', id: 's2', at: T0 + 2, turn: sampleTurn(0) },
      { kind: 'event', id: 's2', at: T0 + 3, seq: 1, event: 'dtmf', detail: '5' },
      { kind: 'summary', id: 's2', at: T0 + 4, status: 'pending' },
    ];
    for (let i = 0; i < 2; i++) {
      await db.kysely.transaction().execute(async (trx) => {
        for (const op of ops) await applyOp(trx, op);
      });
    }
    expect(await count(db, 'calls')).toBe(1);
    expect(await count(db, 'turns')).toBe(2);
    expect(await count(db, 'call_events')).toBe(1);
    const detail = await store.getCall('CA2');
    expect(detail?.call).toMatchObject({ callSid: 'CA2', streamSid: 'ST2', connectedAtMs: T0 });
  });

  it('upserts calls and turns written twice through the API; two key presses stay two events', async () => {
    for (let i = 0; i < 2; i++) {
      store.callConnected({ id: 's2', callSid: 'CA2', at: T0 });
      store.callStarted('s2', {
        streamSid: 'ST2',
        customParameters: {},
        sampleRate: 16000,
        at: T0 + 1,
      });
      store.turnRecorded('s2', sampleTurn(0));
      store.eventRecorded('s2', { at: T0 + 2, kind: 'dtmf', detail: '5' });
      expect(await store.flush(5_000)).toBe(true);
    }
    expect(await count(db, 'calls')).toBe(1);
    expect(await count(db, 'turns')).toBe(2);
    expect(await count(db, 'call_events')).toBe(2);
  });

  it('keeps known fields when a later write does not carry them', async () => {
    store.callConnected({ id: 's3', callSid: 'CA3', from: '+911', at: T0 });
    store.callStarted('s3', {
      streamSid: 'ST3',
      customParameters: {},
      sampleRate: 8000,
      at: T0 + 1,
    });
    store.callStopped('s3', { at: T0 + 5 });
    expect(await store.flush(5_000)).toBe(true);
    expect((await store.getCall('s3'))?.call).toMatchObject({
      callSid: 'CA3',
      from: '+911',
      connectedAtMs: T0,
      status: 'live',
      summaryStatus: 'none',
    });
  });

  it('records turns and events for a call it never saw start (the call row is created)', async () => {
    store.turnRecorded('orphan', sampleTurn(0, { userText: 'nul\u0000byte' }));
    store.eventRecorded('orphan', { at: T0, kind: 'error', code: 'FRAME_JSON' });
    expect(await store.flush(5_000)).toBe(true);
    const detail = await store.getCall('orphan');
    expect(detail?.call.status).toBe('live');
    expect(detail?.turns[0]?.text).toBe('nulbyte');
    expect(detail?.events).toHaveLength(1);
  });

  it('stores per-call context until it expires', async () => {
    const T0 = Date.now(); // puts prune rows expired by the real clock
    await store.putContext('ctx1', { name: 'Asha', plan: 'gold' }, T0 + 60_000);
    expect(await store.getContext('ctx1', T0)).toEqual({ name: 'Asha', plan: 'gold' });
    expect(await store.getContext('ctx1', T0 + 60_000)).toBeUndefined();
    expect(await store.getContext('missing', T0)).toBeUndefined();
    await store.putContext('ctx1', { name: 'Ravi' }, T0 + 120_000);
    expect(await store.getContext('ctx1', T0 + 60_000)).toEqual({ name: 'Ravi' });
  });

  it('writes 1000 turns promptly (figure printed)', async () => {
    const started = performance.now();
    for (let i = 0; i < 1_000; i++) store.turnRecorded('bulk', sampleTurn(i));
    const enqueuedMs = performance.now() - started;
    expect(await store.flush(20_000)).toBe(true);
    const totalMs = performance.now() - started;
    expect(await count(db, 'turns')).toBe(2_000);
    console.info(
      `[${engine.name}] 1000 turns: enqueue ${enqueuedMs.toFixed(1)} ms, written in ${totalMs.toFixed(0)} ms`,
    );
  });
});
