/**
 * A server that dies between storing an outbound call and storing Exotel's answer leaves a row
 * without a CallSid. The quiet-call check asks Exotel's call list (its fake, strict as the real
 * one) which it was: a call Exotel took gets its Sid and status; one Exotel never got ends
 * `OUTBOUND_NOT_PLACED`, and a campaign dials that row again without counting an attempt. A
 * placement whose answer was lost (a reset, a 5xx) leaves the same row, and is not sent again.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { AgentRegistry } from '../../src/agents/index.js';
import { ExotelApi } from '../../src/outbound/exotel-api.js';
import { CampaignRunner } from '../../src/outbound/campaigns.js';
import { NOT_PLACED, OutboundCalls } from '../../src/outbound/outbound-calls.js';
import type { CallStore } from '../../src/store/index.js';
import { FakeExotel } from '../fakes/exotel-api.js';
import { eventually } from '../helpers/app.js';
import { captureLogs, describeEngines, useStore } from '../store/harness.js';

const CHECK_AFTER_MS = 50;
let exotel: FakeExotel;

beforeEach(async () => {
  exotel = await FakeExotel.start();
  exotel.onDial(() => ({ outcome: 'busy', ringMs: 10 }));
});
afterEach(() => exotel.close());

function exotelApi(opts: { baseUrl?: string; attempts?: number } = {}): ExotelApi {
  return new ExotelApi({
    baseUrl: exotel.baseUrl,
    accountSid: exotel.accountSid,
    apiKey: exotel.apiKey,
    apiToken: exotel.apiToken,
    ...opts,
  });
}

function outboundCalls(store: CallStore, api = exotelApi()) {
  const logs = captureLogs();
  const outbound = new OutboundCalls({
    store,
    api,
    agents: { get: () => undefined, names: () => [] } as unknown as AgentRegistry,
    logger: logs.logger,
    settings: {
      publicUrl: 'http://127.0.0.1:1',
      callerId: '08047491899',
      accountSid: exotel.accountSid,
      flowAppId: undefined,
      maxCalls: 10,
      timeLimitS: 600,
      sampleRate: 8000,
      checkAfterMs: CHECK_AFTER_MS,
      contextTtlMs: 60_000,
      secret: 'unplaced-test-secret',
    },
  });
  return { outbound, logs };
}

const quiet = () => new Promise((r) => setTimeout(r, CHECK_AFTER_MS + 20));
const listed = () =>
  exotel.requests.filter((r) => r.method === 'GET' && r.path.split('?')[0]!.endsWith('Calls.json'));

describeEngines('an outbound call stored without a CallSid', (engine) => {
  const ctx = useStore(engine);

  it('is marked never placed when Exotel has no such call', async () => {
    const { outbound, logs } = outboundCalls(ctx.store);
    await ctx.store.outbound.insert({ id: 'o1', to: '+919812345670', params: {} });
    await quiet();
    expect(await outbound.checkQuiet()).toBe(1);
    const row = await ctx.store.outbound.get('o1');
    expect(row?.status).toBe('failed');
    expect(row?.error).toMatch(new RegExp(`^${NOT_PLACED}: `));
    expect(listed().map((r) => r.status)).toEqual([200]);
    const query = new URL(listed()[0]!.path, 'http://x').searchParams;
    expect(query.get('From')).toBe('+919812345670');
    expect(query.get('DateCreated')).toMatch(/^gte:\d{4}-.+;lte:\d{4}-.+$/);
    expect(logs.lines.map((l) => l.code)).toContain(NOT_PLACED);
    expect(exotel.rejections).toEqual([]);
  });

  it("takes the Sid and status of the call Exotel took, not another number's or row's", async () => {
    const { outbound } = outboundCalls(ctx.store);
    const api = exotelApi();
    const to = '+919812345671';
    const dial = (number: string) =>
      api.connect({ to: number, callerId: '08047491899', streamUrl: 'ws://127.0.0.1:1/was' });
    // An earlier attempt to the same number, stored with its Sid (a retry a moment ago).
    await ctx.store.outbound.insert({ id: 'o1', to, params: {} });
    const earlier = await dial(to);
    await ctx.store.outbound.update('o1', { callSid: earlier.sid });
    await ctx.store.outbound.insert({ id: 'o2', to, params: {} });
    // What the server did before it died: Exotel took these calls, their Sids were not stored.
    const other = await dial('+919812345679');
    const mine = await dial(to);
    await eventually(() => exotel.placed.every((p) => p.endedAt !== undefined));
    await quiet();
    await outbound.checkQuiet();
    const row = await ctx.store.outbound.get('o2');
    expect(row).toMatchObject({ callSid: mine.sid, status: 'busy' });
    expect([earlier.sid, other.sid]).not.toContain(row?.callSid);
    expect(row?.error).toBeUndefined();
  });

  it('is left for the next check when the call list cannot be had', async () => {
    // Nothing listens on port 1: Exotel is out of reach.
    const down = outboundCalls(
      ctx.store,
      exotelApi({ baseUrl: 'http://127.0.0.1:1', attempts: 1 }),
    );
    await ctx.store.outbound.insert({ id: 'o3', to: '+919812345672', params: {} });
    await quiet();
    expect(await down.outbound.checkQuiet()).toBe(1);
    expect(await ctx.store.outbound.get('o3')).toMatchObject({ status: 'queued' });
    expect((await ctx.store.outbound.get('o3'))?.error).toBeUndefined();
    expect(down.logs.lines.map((l) => l.code)).toContain('EXOTEL_UNAVAILABLE');
    // Exotel back: the next check (after another quiet spell) settles it.
    const up = outboundCalls(ctx.store);
    await quiet();
    expect(await up.outbound.checkQuiet()).toBe(1);
    expect((await ctx.store.outbound.get('o3'))?.error).toMatch(NOT_PLACED);
  });

  it('is what a placement whose answer was lost leaves: never sent twice, settled by the list', async () => {
    const { outbound, logs } = outboundCalls(ctx.store);
    exotel.lostAnswers.push('taken', 'error');
    const taken = await outbound.place({ to: '9812345674' });
    const refused = await outbound.place({ to: '9812345675' });
    for (const row of [taken, refused]) {
      expect(row.callSid).toBeUndefined();
      expect(row.status).toBe('queued');
    }
    expect(logs.lines.filter((l) => l.code === 'EXOTEL_UNCERTAIN')).toHaveLength(2);
    // One request each: neither was sent again.
    const connects = exotel.requests.filter((r) => r.path.endsWith('/connect.json'));
    expect(connects.map((r) => r.status)).toEqual([-1, 500]);
    expect(exotel.placed.map((p) => p.form.From)).toEqual(['+919812345674']);
    await eventually(() => exotel.placed[0]!.endedAt !== undefined);
    await quiet();
    expect(await outbound.checkQuiet()).toBe(2);
    expect(await ctx.store.outbound.get(taken.id)).toMatchObject({
      callSid: exotel.placed[0]!.sid,
      status: 'busy',
    });
    expect((await ctx.store.outbound.get(refused.id))?.error).toMatch(NOT_PLACED);
  });

  it('in a campaign, is dialled again, once, without counting an attempt', async () => {
    const { outbound } = outboundCalls(ctx.store);
    const id = await ctx.store.campaigns.create(
      {
        name: 'unplaced',
        concurrency: 1,
        callsPerSecond: 5,
        window: { start: '00:00', end: '23:59', timezone: 'Asia/Kolkata' },
        retry: { on: ['busy'], maxAttempts: 1, afterMs: 0 },
      },
      [{ to: '+919812345673', params: {} }],
    );
    // An instance (now gone, no lease) claimed the row and stored its call, then died.
    const [claimed] = await ctx.store.campaigns.claim(id, 'dead-instance', Date.now());
    await ctx.store.outbound.insert({
      id: claimed!.outboundId,
      to: claimed!.to,
      params: {},
    });
    await quiet();
    await outbound.checkQuiet();
    expect((await ctx.store.outbound.get(claimed!.outboundId))?.error).toMatch(NOT_PLACED);
    const runner = new CampaignRunner({
      store: ctx.store,
      outbound,
      instanceId: 'live-instance',
      logger: captureLogs().logger,
      tickMs: 10,
    });
    const done = await eventually(async () => {
      await runner.tick();
      await outbound.checkQuiet();
      const c = await ctx.store.campaigns.get(id);
      return c?.campaign.status === 'completed' ? c : undefined;
    }, 20_000);
    await runner.close();
    expect(exotel.placed.map((p) => p.form.From)).toEqual(['+919812345673']);
    expect(done.rows[0]).toMatchObject({ state: 'done', outcome: 'busy', attempts: 1 });
  });
});
