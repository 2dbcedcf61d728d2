/**
 * Nothing is lost when PostgreSQL goes down in the middle of calls: the calls carry on, their
 * records wait in the write queue, and after the server comes back every call, turn and event is
 * in the database. Uses a PostgreSQL cluster of its own (it stops and starts it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatedCall } from '../../src/simulator/simulated-call.js';
import { FakeOpenAI } from '../fakes/index.js';
import { eventually, startServer, type TestServer } from '../helpers/app.js';
import { dialAndGreet, fixture, nextEcho } from '../helpers/calls.js';
import { PrivateCluster, SKIP_POSTGRES } from '../helpers/postgres.js';

describe.skipIf(SKIP_POSTGRES)('database outage in the middle of calls', () => {
  let cluster: PrivateCluster;
  let fake: FakeOpenAI;
  let server: TestServer;

  beforeAll(async () => {
    cluster = await PrivateCluster.create();
    fake = await FakeOpenAI.start();
    fake.transcriptions.setDefault({ kind: 'text', text: 'Tell me my balance.', delayMs: 50 });
    fake.chat.setDefault({
      kind: 'stream',
      tokens: 'It is two lakh rupees.',
      firstTokenDelayMs: 50,
      perTokenMs: 5,
    });
    server = await startServer({
      OPENAI_BASE_URL: fake.baseUrl,
      DATABASE_URL: cluster.url,
      LOG_LEVEL: 'warn',
    });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await fake?.close();
    await cluster?.destroy();
  });

  it('keeps every record of calls that ran through the outage', async () => {
    const hello = await fixture('hello-16k.wav');
    const calls: SimulatedCall[] = await Promise.all(
      [0, 1, 2].map(() => dialAndGreet(server.wsBase)),
    );
    // One exchange each while the database is up.
    await Promise.all(
      calls.map(async (c) => {
        const played = nextEcho(c, 'response_done');
        await c.say(hello);
        await played;
      }),
    );

    await cluster.stop();
    // Two more exchanges each with the database down, then the calls end.
    for (let round = 0; round < 2; round++) {
      await Promise.all(
        calls.map(async (c) => {
          const played = nextEcho(c, 'response_done');
          await c.say(hello);
          await played;
        }),
      );
    }
    for (const c of calls) c.sendDtmf('5');
    await Promise.all(calls.map((c) => c.hangup()));
    await eventually(() => server.voicebot.registry.size === 0);
    expect(server.voicebot.store.pending).toBeGreaterThan(0);
    expect(server.logs.some((l) => l.code === 'STORE_UNAVAILABLE')).toBe(true);

    await cluster.start();
    expect(await server.voicebot.store.flush(30_000)).toBe(true);
    expect(server.voicebot.store.pending).toBe(0);
    for (const c of calls) {
      const detail = await server.voicebot.store.getCall(c.callSid);
      expect(detail?.call).toMatchObject({
        status: 'completed',
        turnCount: 3,
        hangupBy: 'caller',
        streamSid: c.streamSid,
      });
      expect(detail?.turns.filter((t) => t.role === 'user').map((t) => t.text)).toEqual([
        'Tell me my balance.',
        'Tell me my balance.',
        'Tell me my balance.',
      ]);
      expect(
        detail?.turns
          .filter((t) => t.role === 'bot')
          .every((t) => t.heardText === 'It is two lakh rupees.'),
      ).toBe(true);
      expect(detail?.events.filter((e) => e.kind === 'dtmf').map((e) => e.detail)).toEqual(['5']);
    }
    // The summaries were written too, once the database was back.
    await eventually(async () => {
      const all = await Promise.all(calls.map((c) => server.voicebot.store.getCall(c.callSid)));
      return all.every((d) => d?.call.summaryStatus === 'done');
    }, 20_000);
  }, 120_000);
});
