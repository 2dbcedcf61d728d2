/**
 * A simulated multi-turn call leaves a complete record (call, turns with timings, DTMF, summary)
 * that the admin API serves and the webhook receives, on SQLite and on a real PostgreSQL server.
 * PostgreSQL comes from `scripts/with-postgres.sh` (DATABASE_URL_TEST); without it this suite
 * fails unless SKIP_POSTGRES_TESTS=1 says to skip that half on purpose.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedCall } from '../../src/simulator/simulated-call.js';
import type { CallDetail } from '../../src/store/index.js';
import { FakeOpenAI } from '../fakes/index.js';
import { eventually, startServer, type TestServer } from '../helpers/app.js';
import { fixture, nextEcho, nextMark } from '../helpers/calls.js';

const ADMIN_KEY = 'test-admin-key-0123456789';
const pgUrl = process.env.DATABASE_URL_TEST;
const engines: Array<[string, Record<string, string>]> = [['sqlite', {}]];
if (pgUrl) engines.push(['postgres', { DATABASE_URL: pgUrl }]);
else if (process.env.SKIP_POSTGRES_TESTS !== '1') {
  engines.push([
    'postgres (DATABASE_URL_TEST missing: run via scripts/with-postgres.sh)',
    { DATABASE_URL: '' },
  ]);
}

describe.each(engines)('call records on %s', (engine, env) => {
  let fake: FakeOpenAI;
  let server: TestServer;
  let hook: Server;
  const hooks: Array<{ body: string; signature: string | undefined }> = [];

  beforeAll(async () => {
    if (engine.startsWith('postgres ('))
      throw new Error(
        'PostgreSQL tests need DATABASE_URL_TEST: run `bash scripts/with-postgres.sh npm test`, or set SKIP_POSTGRES_TESTS=1',
      );
    fake = await FakeOpenAI.start();
    fake.transcriptions.setDefault({
      kind: 'text',
      text: 'What is my loan balance?',
      delayMs: 100,
    });
    fake.chat.setDefault({
      kind: 'stream',
      tokens: 'Your balance is two lakh rupees. Anything else?',
      firstTokenDelayMs: 100,
      perTokenMs: 5,
    });
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        hooks.push({ body, signature: req.headers['x-voicebot-signature'] as string | undefined });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
    server = await startServer({
      ...env,
      OPENAI_BASE_URL: fake.baseUrl,
      ADMIN_API_KEY: ADMIN_KEY,
      CALL_WEBHOOK_URL: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/calls`,
      CALL_WEBHOOK_SECRET: 'hook-secret',
      LOG_LEVEL: 'warn',
    });
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
    await new Promise<void>((r) => (hook ? hook.close(() => r()) : r()));
    expect(fake?.violations ?? []).toEqual([]);
  });

  const admin = (url: string, key: string | null = ADMIN_KEY) =>
    server.voicebot.app.inject({
      method: 'GET',
      url,
      headers: key ? { authorization: `Bearer ${key}` } : {},
    });

  it('records a multi-turn call: context, agent, turns with timings, DTMF, summary, webhook', async () => {
    const callSid = `CA${randomBytes(12).toString('hex')}`;
    const init = await server.voicebot.app.inject({
      method: 'POST',
      url: '/voicebot/init',
      headers: { host: 'bot.example.com', 'content-type': 'application/json' },
      payload: {
        CallSid: callSid,
        CallFrom: '09876500001',
        CallTo: '08047491899',
        agent: 'loan_hi',
        customer_name: 'Asha',
      },
    });
    const wss = new URL(init.json<{ url: string }>().url);
    const call = new SimulatedCall({
      url: `${server.wsBase}/was${wss.search}`,
      sampleRate: 16000,
      callSid,
      from: '',
      to: '',
    });
    await call.connect();
    call.start();
    call.startMic(20);
    await nextEcho(call, 'greeting_done');
    const hello = await fixture('hello-16k.wav');
    let played = nextEcho(call, 'response_done');
    await call.say(hello);
    await played;
    const keyed = nextMark(call, 'response_done');
    played = nextEcho(call, 'response_done');
    for (const d of ['7', '#']) call.sendDtmf(d);
    await keyed;
    await played;
    await call.hangup();

    const detail: CallDetail = await eventually(async () => {
      const res = await admin(`/api/calls/${callSid}`);
      if (res.statusCode !== 200) return undefined;
      const d = res.json<CallDetail>();
      return d.call?.summaryStatus === 'done' && d.call.endedAtMs ? d : undefined;
    }, 20_000);
    const c = detail.call;
    expect(c).toMatchObject({
      callSid,
      streamSid: call.streamSid,
      from: '09876500001',
      to: '08047491899',
      agent: 'loan_hi',
      status: 'completed',
      hangupBy: 'caller',
      stopReason: 'callended',
      sampleRate: 16000,
      turnCount: 2,
      summaryStatus: 'done',
    });
    expect(c.customParameters.customer_name).toBe('Asha');
    expect(c.customParameters.persona_name).toBeTruthy();
    expect(c.durationMs).toBeGreaterThan(1000);
    expect(c.summary).toBe('Your balance is two lakh rupees. Anything else?');

    expect(detail.turns.map((t) => [t.index, t.role, t.source])).toEqual([
      [1, 'user', 'speech'],
      [1, 'bot', 'speech'],
      [2, 'user', 'dtmf'],
      [2, 'bot', 'dtmf'],
    ]);
    const [user1, bot1] = detail.turns;
    expect(user1!.text).toBe('What is my loan balance?');
    expect(bot1!.heardText).toBe('Your balance is two lakh rupees. Anything else?');
    for (const stage of [
      'endpointMs',
      'llmFirstTokenMs',
      'ttsFirstByteMs',
      'firstAudioMs',
    ] as const) {
      expect(bot1!.timings.stages[stage]).toBeTypeOf('number');
    }
    expect(detail.events.filter((e) => e.kind === 'dtmf').map((e) => e.detail)).toEqual(['7', '#']);

    // The webhook got the finished record, signed.
    const delivered = await eventually(() => hooks.find((h) => h.body.includes(callSid)), 10_000);
    const expected = `sha256=${createHmac('sha256', 'hook-secret').update(delivered.body).digest('hex')}`;
    expect(delivered.signature).toBe(expected);
    const payload = JSON.parse(delivered.body) as {
      summary: string;
      turns: unknown[];
      agent: string;
    };
    expect(payload.summary).toBe(c.summary);
    expect(payload.turns).toHaveLength(2);
    expect(payload.agent).toBe('loan_hi');

    // The list finds it by number and status.
    const list = await admin(`/api/calls?number=09876500001&status=completed&limit=5`);
    expect(list.statusCode).toBe(200);
    expect(
      list.json<{ calls: Array<{ callSid: string }> }>().calls.map((x) => x.callSid),
    ).toContain(callSid);
  });

  it('guards the admin API with the bearer key', async () => {
    expect((await admin('/api/calls', null)).statusCode).toBe(401);
    expect((await admin('/api/calls', 'wrong-key-wrong-key-123')).statusCode).toBe(401);
    expect((await admin('/api/calls?limit=500')).statusCode).toBe(400);
    expect((await admin('/api/calls?cursor=garbage!')).statusCode).toBe(400);
    expect((await admin('/api/calls?since=yesterday-ish')).statusCode).toBe(400);
    expect((await admin('/api/calls/CA_nope')).statusCode).toBe(404);
  });
});

describe('admin API without ADMIN_API_KEY', () => {
  it('answers 503 saying how to enable it', async () => {
    const s = await startServer({ LOG_LEVEL: 'silent' });
    try {
      const res = await s.voicebot.app.inject({ method: 'GET', url: '/api/calls' });
      expect(res.statusCode).toBe(503);
      expect(res.json<{ error: { code: string; message: string } }>().error.message).toMatch(
        /ADMIN_API_KEY/,
      );
    } finally {
      await s.close();
    }
  });
});
