/**
 * The bot acting, end to end: the fake OpenAI streams tool calls in OpenAI's chunk format, a
 * local HTTP backend answers the tool, the simulated Exotel call hears it all on its playback
 * clock, and the admin API shows the record. Also end_call, transfer_call with the Passthru and
 * Connect endpoints, and idle prompts ending a silent call.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SimulatedCall } from '../../src/simulator/simulated-call.js';
import type { CallDetail } from '../../src/store/index.js';
import { FakeOpenAI, type ChatRequest } from '../fakes/index.js';
import { eventually, startServer, type TestServer } from '../helpers/app.js';
import { dialAndGreet, fixture, nextEcho } from '../helpers/calls.js';
import { LLM, STT, TTS } from '../helpers/conversation-env.js';
import { LOAN_TRANSFER_NUMBER, loanAgent, loanAgentDir } from '../helpers/loan-agent.js';

const ADMIN = 'admin-key-0123456789';
const BACKEND_DELAY_MS = 2500;

interface BackendRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let fake: FakeOpenAI;
let backend: Server;
let backendUrl: string;
const backendRequests: BackendRequest[] = [];
let agentsDir: string;
let server: TestServer;
const calls: SimulatedCall[] = [];

beforeAll(async () => {
  fake = await FakeOpenAI.start();
  // The fake compiles OpenAI's chat schema on its first chat request (about 250 ms): pay it here,
  // not inside the timed turn.
  await fetch(`${fake.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { authorization: 'Bearer warm-up', 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  }).then((r) => r.text());
  backend = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      backendRequests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
      });
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"application_id":"HL-2291-0045","status":"approved","amount":"25 lakh"}');
      }, BACKEND_DELAY_MS);
    });
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
  backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
  agentsDir = await loanAgentDir(
    loanAgent(`${backendUrl}/loan-status`, {
      idle: { after_ms: 1500, prompts: 2, message: 'Kya aap abhi bhi line par hain?' },
      goodbye_text: 'Dhanyavaad, namaste.',
    }),
  );
});
afterAll(async () => {
  backend.closeAllConnections();
  await new Promise<void>((r) => backend.close(() => r()));
  await fake.close();
});

beforeEach(async () => {
  fake.reset();
  fake.speech.setDefault(TTS);
  fake.transcriptions.setDefault({
    kind: 'text',
    text: 'Mera application HL-2291-0045 hai.',
    ...STT,
  });
  backendRequests.length = 0;
  server = await startServer({
    OPENAI_BASE_URL: fake.baseUrl,
    AGENTS_DIR: agentsDir,
    DEFAULT_AGENT: 'loan',
    CRM_TOKEN: 'tok-123',
    ADMIN_API_KEY: ADMIN,
    LLM_TIMEOUT_MS: '1500',
    TTS_TIMEOUT_MS: '1500',
  });
});
afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') {
    console.log(server.logs.map((l) => JSON.stringify(l)).join('\n'));
  }
  for (const c of calls.splice(0)) if (c.isOpen) await c.hangup();
  await server.close();
  expect(fake.violations).toEqual([]);
});

async function dial(): Promise<SimulatedCall> {
  const c = await dialAndGreet(server.wsBase);
  calls.push(c);
  return c;
}

/** The call's record through the admin API, once it is finished. */
async function record(callSid: string): Promise<CallDetail> {
  return eventually(async () => {
    const res = await server.voicebot.app.inject({
      method: 'GET',
      url: `/api/calls/${callSid}`,
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    const detail = res.json<CallDetail>();
    return res.statusCode === 200 && detail.call.status !== 'live' ? detail : undefined;
  });
}

const hasToolResult = (req: ChatRequest) => req.body.messages.some((m) => m.role === 'tool');

describe('an HTTP tool', () => {
  it('calls the backend with the secret, answers from its result, and fills the wait', async () => {
    fake.chat.setDefault((req) =>
      hasToolResult(req)
        ? { kind: 'stream', tokens: 'Aapka loan approve ho gaya hai, pachchis lakh ka.', ...LLM }
        : {
            kind: 'stream',
            tokens: [],
            toolCalls: [
              { name: 'check_loan_status', arguments: { application_id: 'HL-2291-0045' } },
            ],
            ...LLM,
          },
    );
    const c = await dial();
    const answered = nextEcho(c, 'response_done', 30_000);
    await c.say(await fixture('hello-16k.wav'));
    const voiceEnd = performance.now() - 300; // the fixture ends in 300 ms of silence
    await answered;

    // The backend got the model's arguments and the operator's secret header.
    expect(backendRequests).toHaveLength(1);
    expect(backendRequests[0]).toMatchObject({ method: 'POST', url: '/loan-status' });
    expect(JSON.parse(backendRequests[0]!.body)).toEqual({ application_id: 'HL-2291-0045' });
    expect(backendRequests[0]!.headers['authorization']).toBe('Bearer tok-123');

    // The second LLM request carries the assistant's tool call and the tool's result.
    const [first, second] = fake.chat.requests;
    expect(first!.body.tools?.map((t) => (t.type === 'function' ? t.function.name : ''))).toEqual([
      'check_loan_status',
      'end_call',
      'transfer_call',
    ]);
    const messages = second!.body.messages;
    const assistant = messages.find((m) => m.role === 'assistant' && m.tool_calls?.length);
    expect(assistant).toMatchObject({
      tool_calls: [
        {
          type: 'function',
          function: { name: 'check_loan_status', arguments: '{"application_id":"HL-2291-0045"}' },
        },
      ],
    });
    const result = messages.find((m) => m.role === 'tool');
    expect(result).toMatchObject({
      content: '{"application_id":"HL-2291-0045","status":"approved","amount":"25 lakh"}',
    });
    expect(result && 'tool_call_id' in result && result.tool_call_id).toBe(
      assistant && 'tool_calls' in assistant ? assistant.tool_calls?.[0]?.id : 'missing',
    );

    // The filler was heard within about 1.5 s of the caller's last word, then the answer.
    const firstAfter = c.frames.find((f) => f.at > voiceEnd)!;
    const fillerMs = firstAfter.playAt - voiceEnd;
    console.log(`[tool e2e] filler heard ${Math.round(fillerMs)} ms after the caller stopped`);
    expect(fillerMs).toBeLessThan(1800);
    const filler = c.marks.find((m) => m.name.startsWith('filler_done'))!;
    const answer = c.marks.find((m) => m.name.startsWith('response_done'))!;
    expect(filler.at).toBeLessThan(answer.at);

    await c.hangup();
    const detail = await record(c.callSid);
    const bot = detail.turns.find((t) => t.role === 'bot')!;
    expect(bot.filler).toBe('Ek second, main check karti hoon.');
    expect(bot.heardText).toBe(
      'Ek second, main check karti hoon. Aapka loan approve ho gaya hai, pachchis lakh ka.',
    );
    expect(bot.toolCalls).toMatchObject([
      {
        name: 'check_loan_status',
        arguments: '{"application_id":"HL-2291-0045"}',
        status: 'ok',
        round: 1,
      },
    ]);
    expect(bot.toolCalls[0]!.durationMs).toBeGreaterThanOrEqual(BACKEND_DELAY_MS - 50);
    expect(bot.toolCalls[0]!.result).toContain('approved');
    const metrics = await server.voicebot.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^voicebot_tool_calls_total\{status="ok"\} 1$/m);
  }, 60_000);
});

describe('ending and handing over', () => {
  it('end_call closes the stream only after the goodbye has played', async () => {
    fake.chat.setDefault({
      kind: 'stream',
      tokens: 'Theek hai, dhanyavaad. Aapka din shubh ho!',
      toolCalls: [{ name: 'end_call', arguments: { reason: 'caller is done' } }],
      ...LLM,
    });
    const c = await dial();
    await c.say(await fixture('hello-16k.wav'));
    await c.closed();

    expect(c.closeCode).toBe(1000);
    const last = c.frames.at(-1)!;
    const playedOut = last.playAt + last.bytes / 32; // 16 kHz: 32 bytes a ms
    expect(c.closedAt!).toBeGreaterThanOrEqual(playedOut - 5);
    const goodbye = c.marks.find((m) => m.name.startsWith('response_done'))!;
    expect(goodbye.echoedAt).toBeDefined();

    const detail = await record(c.callSid);
    expect(detail.call).toMatchObject({
      hangupBy: 'bot',
      endReason: 'end_call',
      endDetail: 'caller is done',
      status: 'completed',
    });
    const bot = detail.turns.find((t) => t.role === 'bot')!;
    expect(bot.ending).toBe('end_call');
    expect(bot.heardText).toBe('Theek hai, dhanyavaad. Aapka din shubh ho!');
  }, 60_000);

  it('transfer_call: the line, the decision under the CallSid, then Passthru and Connect', async () => {
    fake.chat.setDefault({
      kind: 'stream',
      tokens: [],
      toolCalls: [{ name: 'transfer_call', arguments: { reason: 'wants a person' } }],
      ...LLM,
    });
    const c = await dial();
    await c.say(await fixture('hello-16k.wav'));
    await c.closed();
    expect(c.closeCode).toBe(1000);
    expect(c.marks.some((m) => m.name.startsWith('goodbye_done') && m.echoedAt)).toBe(true);

    const ask = (url: string, headers: Record<string, string> = {}) =>
      server.voicebot.app.inject({ method: 'GET', url, headers });
    const passthru = await ask(`/exotel/passthru?CallSid=${c.callSid}&CallFrom=09800000002`);
    expect(passthru.statusCode).toBe(200);
    expect((await ask('/exotel/passthru?CallSid=CAsomeothercall')).statusCode).toBe(302);
    expect((await ask('/exotel/passthru')).statusCode).toBe(400);
    const dialWhom = await ask(`/exotel/connect?CallSid=${c.callSid}`);
    expect(dialWhom.statusCode).toBe(200);
    expect(dialWhom.headers['content-type']).toMatch(/^text\/plain/);
    expect(dialWhom.body).toBe(LOAN_TRANSFER_NUMBER);
    const programmable = await ask(`/exotel/connect?CallSid=${c.callSid}`, {
      'Exotel-Version': '1.0',
    });
    expect(programmable.json()).toEqual({
      fetch_after_attempt: false,
      destination: { numbers: [LOAN_TRANSFER_NUMBER] },
    });
    expect((await ask('/exotel/connect?CallSid=CAsomeothercall')).statusCode).toBe(404);

    const detail = await record(c.callSid);
    expect(detail.call).toMatchObject({
      hangupBy: 'bot',
      endReason: 'transfer',
      endDetail: 'wants a person',
      transferTo: LOAN_TRANSFER_NUMBER,
    });
    expect(detail.turns.find((t) => t.role === 'bot')!.heardText).toBe(
      'Main aapko apne colleague se jod rahi hoon.',
    );
    expect(detail.events.some((e) => e.kind === 'passthru')).toBe(true);
  }, 60_000);

  it('a silent caller hears two idle prompts, then the goodbye, then the call ends', async () => {
    const c = await dial();
    await c.closed();
    expect(c.closeCode).toBe(1000);
    const names = c.marks.map((m) => m.name.replace(/-\d+$/, ''));
    expect(names).toEqual(['greeting_done', 'idle_done', 'idle_done', 'goodbye_done']);
    expect(c.marks.every((m) => m.echoedAt !== undefined)).toBe(true);
    const detail = await record(c.callSid);
    expect(detail.call).toMatchObject({ hangupBy: 'bot', endReason: 'idle' });
  }, 60_000);
});
