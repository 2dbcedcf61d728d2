/**
 * End to end over a real socket: the simulator speaks Exotel's protocol to a real server, which
 * calls a fake OpenAI that checks every request against the published spec.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeOpenAI } from '../fakes/index.js';
import { SimulatedCall } from '../../src/simulator/simulated-call.js';
import { eventually, startServer, type TestServer } from '../helpers/app.js';

let fake: FakeOpenAI;
let server: TestServer;
const calls: SimulatedCall[] = [];

beforeAll(async () => {
  fake = await FakeOpenAI.start();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(async () => {
  server = await startServer({
    OPENAI_BASE_URL: fake.baseUrl,
    GREETING_TEXT: 'Namaste, welcome to the bank.',
    TTS_TIMEOUT_MS: '1500',
    TTS_STALL_MS: '500',
  });
});
afterEach(async () => {
  for (const c of calls.splice(0)) if (c.isOpen) await c.hangup();
  await server.close();
  expect(fake.violations).toEqual([]);
});

async function dial(opts: { rate?: number; params?: Record<string, string>; query?: string } = {}) {
  const rate = opts.rate ?? 16000;
  const call = new SimulatedCall({
    url: `${server.wsBase}/was?${opts.query ?? `sample-rate=${rate}&call_sid=CA_test`}`,
    sampleRate: rate,
    customParameters: opts.params,
  });
  calls.push(call);
  await call.connect();
  return call;
}

const speechRequests = () => fake.requests.filter((r) => r.endpoint === 'speech');
const bytesPerMs = (rate: number) => (rate * 2) / 1000;

describe('greeting', () => {
  it('streams the greeting as paced messages of whole 640-byte frames, then its mark', async () => {
    fake.speech.enqueue({ kind: 'audio', firstByteDelayMs: 100, realtimeFactor: 2 });
    const before = speechRequests().length;
    const call = await dial();
    call.start();
    const mark = await call.waitForMark((n) => n.startsWith('greeting_done'));

    const req = speechRequests()[before];
    expect(req?.body).toMatchObject({
      model: 'tts-1-hd',
      voice: 'shimmer',
      input: 'Namaste, welcome to the bank.',
      response_format: 'pcm',
    });
    const frames = call.frames;
    expect(frames.length).toBeGreaterThan(3);
    // Each message carries whole 20 ms frames, at most PLAYBACK_MESSAGE_MS (100 ms) of them.
    expect(frames.slice(0, -1).every((f) => f.bytes % 640 === 0 && f.bytes <= 3200)).toBe(true);
    expect(frames.at(-1)!.bytes % 320).toBe(0);
    const frameCount = frames.reduce((a, f) => a + Math.ceil(f.bytes / 640), 0);
    expect(frames.length).toBeLessThan(frameCount / 2);
    expect(mark.at).toBeGreaterThanOrEqual(frames.at(-1)!.at);
    expect(call.invalidFrames).toEqual([]);

    // Paced, not dumped: the frames arrive over (almost) the audio's own duration.
    const audioMs = frames.reduce((a, f) => a + f.bytes, 0) / bytesPerMs(16000);
    const spreadMs = frames.at(-1)!.at - frames[0]!.at;
    expect(spreadMs).toBeGreaterThan(audioMs - 400);
    // The first frame went out before TTS had finished streaming (2x real time).
    expect(frames[0]!.at - call.startedAt).toBeLessThan(100 + audioMs / 2);
    expect(call.underruns).toEqual([]);

    // The simulator echoes the mark when playback ends; the call is still open.
    await call.waitForEvent('mark-echo', () => true, 10_000);
    expect(call.isOpen).toBe(true);
  });

  it('serves a repeated greeting from the cache without a TTS call', async () => {
    const first = await dial();
    first.start();
    await first.waitForMark((n) => n.startsWith('greeting_done'));
    const count = speechRequests().length;

    const second = await dial();
    second.start();
    await second.waitForMark((n) => n.startsWith('greeting_done'));
    expect(speechRequests().length).toBe(count);
    expect(second.botPcm().equals(first.botPcm())).toBe(true);
    expect(server.voicebot.ttsCache.hits).toBeGreaterThanOrEqual(1);
  });

  it('takes greeting_text and voice_id from custom parameters', async () => {
    const call = await dial({ params: { greeting_text: 'Hello Asha', voice_id: 'alloy' } });
    call.start();
    await call.waitForMark((n) => n.startsWith('greeting_done'));
    const greeting = speechRequests().find(
      (r) => (r.body as { input?: string }).input === 'Hello Asha',
    );
    expect(greeting?.body).toMatchObject({ voice: 'alloy', response_format: 'pcm' });
  });

  it.each([
    [8000, 320],
    [24000, 960],
  ])('speaks at %i Hz in messages of whole %i-byte frames', async (rate, frameBytes) => {
    const call = await dial({ rate });
    call.start();
    await call.waitForMark((n) => n.startsWith('greeting_done'));
    const sizes = call.frames.slice(0, -1).map((f) => f.bytes);
    expect(sizes.every((b) => b % frameBytes === 0 && b <= 5 * frameBytes)).toBe(true);
  });

  it('falls back to start.media_format.sample_rate when the URL has none', async () => {
    const call = new SimulatedCall({ url: `${server.wsBase}/was?call_sid=CA1`, sampleRate: 8000 });
    calls.push(call);
    await call.connect();
    call.start();
    await call.waitForMark((n) => n.startsWith('greeting_done'));
    // The same greeting at 16 kHz (named in the URL) takes twice the bytes.
    const wide = await dial({ rate: 16000 });
    wide.start();
    await wide.waitForMark((n) => n.startsWith('greeting_done'));
    const bytes = (c: SimulatedCall) => c.frames.reduce((a, f) => a + f.bytes, 0);
    expect(Math.abs(bytes(call) * 2 - bytes(wide))).toBeLessThanOrEqual(640);
  });

  it("runs a call whose start has no stream_sid (Exotel's test client), frames without one", async () => {
    const call = new SimulatedCall({
      url: `${server.wsBase}/was?sample-rate=8000`,
      sampleRate: 8000,
      omitStreamSid: true,
    });
    calls.push(call);
    await call.connect();
    call.start();
    await call.waitForEvent(
      'mark-echo',
      (m: { name: string }) => m.name.startsWith('greeting_done'),
      10_000,
    );
    expect(call.frames.length).toBeGreaterThan(5);
    expect(call.invalidFrames).toEqual([]); // no stream_sid on the bot's frames either
    expect(server.logs.some((l) => l.code === 'FRAME_SHAPE')).toBe(false);
  });

  it('says a greeting longer than TTS accepts in pieces, each within the 4096-character limit', async () => {
    const long = 'Namaste, Sahyog Bank mein aapka swagat hai. '.repeat(110).trim(); // ~4,800 chars
    await server.close();
    server = await startServer({ OPENAI_BASE_URL: fake.baseUrl, GREETING_TEXT: long });
    const before = speechRequests().length;
    const call = await dial();
    call.start();
    await call.waitForMark((n) => n.startsWith('greeting_done'));
    const inputs = speechRequests()
      .slice(before)
      .map((r) => (r.endpoint === 'speech' ? r.body.input : ''))
      .filter((i) => i.startsWith('Namaste, Sahyog'));
    expect(inputs).toHaveLength(2);
    expect(inputs.every((i) => i.length <= 4096)).toBe(true);
    expect(inputs.join(' ')).toBe(long);
    expect(call.frames.length).toBeGreaterThan(10);
  });

  it('closes a stream at an unsupported sample rate with a policy-violation code and reason', async () => {
    const call = await dial({ query: 'sample-rate=44100' });
    await call.closed();
    expect(call.closeCode).toBe(1008);
    expect(call.closeReason).toMatch(/SAMPLE_RATE_UNSUPPORTED/);
    expect(
      await eventually(() => server.logs.find((l) => l.code === 'SAMPLE_RATE_UNSUPPORTED')),
    ).toBeDefined();
  });

  it('keeps the call open when TTS fails, and logs the error code', async () => {
    fake.speech.enqueue({ kind: 'error', status: 500 });
    fake.speech.enqueue({ kind: 'error', status: 500 });
    const call = await dial({ params: { greeting_text: 'tts fails here' } });
    call.start();
    const log = await eventually(() => server.logs.find((l) => l.msg === 'greeting failed'));
    expect(log.code).toBe('PROVIDER_SERVER_ERROR');
    expect(call.isOpen).toBe(true);
    expect(call.frames).toEqual([]);
  });

  it('retries a TTS failure once before any audio, then speaks', async () => {
    fake.speech.enqueue({ kind: 'error', status: 429 });
    const call = await dial({ params: { greeting_text: 'retry me' } });
    call.start();
    await call.waitForMark((n) => n.startsWith('greeting_done'));
    expect(
      speechRequests().filter((r) => (r.body as { input?: string }).input === 'retry me').length,
    ).toBe(2);
  });

  it('gives up on a TTS stream that stalls after its headers, and the call stays open', async () => {
    fake.speech.enqueue({ kind: 'stall', afterBytes: 4800 });
    fake.speech.enqueue({ kind: 'stall', afterBytes: 0 });
    const call = await dial({ params: { greeting_text: 'stall please' } });
    call.start();
    const log = await eventually(() => server.logs.find((l) => l.msg === 'greeting failed'));
    expect(log.code).toBe('PROVIDER_STALLED');
    expect(call.isOpen).toBe(true);
  });

  it('gives up on a TTS request that never answers', async () => {
    fake.speech.enqueue({ kind: 'hang' });
    fake.speech.enqueue({ kind: 'hang' });
    const call = await dial({ params: { greeting_text: 'hang please' } });
    call.start();
    const log = await eventually(() => server.logs.find((l) => l.msg === 'greeting failed'));
    expect(log.code).toBe('PROVIDER_TIMEOUT');
    expect(call.isOpen).toBe(true);
  });
});

describe('bad frames', () => {
  it('are logged with a code and dropped; the call goes on', async () => {
    const call = await dial();
    call.sendRaw(JSON.stringify({ event: 'media', stream_sid: 'MZ', media: { payload: 'AAAA' } })); // before start
    call.sendRaw('{not json');
    call.sendRaw(JSON.stringify({ event: 'dance' }));
    call.sendRaw(Buffer.from([1, 2, 3]), true);
    call.start();
    call.sendRaw(
      JSON.stringify({ event: 'media', stream_sid: call.streamSid, media: { payload: '@@@@' } }),
    );
    call.sendRaw(JSON.stringify({ event: 'mark', stream_sid: call.streamSid, mark: { name: 42 } }));
    await call.waitForMark((n) => n.startsWith('greeting_done'));
    expect(call.isOpen).toBe(true);
    const codes = server.logs.filter((l) => l.msg === 'malformed frame dropped').map((l) => l.code);
    expect(codes).toEqual([
      'FRAME_ORDER',
      'FRAME_JSON',
      'FRAME_UNKNOWN_EVENT',
      'FRAME_BINARY',
      'FRAME_BASE64',
      'FRAME_SHAPE',
    ]);
    // Personal data and frame contents stay out of info logs.
    const text = JSON.stringify(server.logs);
    expect(text).not.toContain('+919800000001');
    expect(text).not.toContain('@@@@');
  });

  it('bounds the custom parameters of a start frame (count, length, total) and still greets', async () => {
    const params = Object.fromEntries(
      Array.from({ length: 20 }, (_, i) => [`p${i}`, `${i}:`.padEnd(2500, 'x')]),
    );
    const call = await dial({ params });
    call.start();
    await call.waitForMark((n) => n.startsWith('greeting_done'));
    await call.hangup();
    const record = await eventually(async () => {
      await server.voicebot.store.flush(2_000);
      return server.voicebot.store.getCall(call.callSid);
    });
    const stored = Object.entries(record.call.customParameters);
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.length).toBeLessThanOrEqual(16);
    expect(stored.every(([, v]) => v.length <= 1024)).toBe(true);
    expect(stored.reduce((n, [k, v]) => n + k.length + v.length, 0)).toBeLessThanOrEqual(8192);
    const codes = server.logs
      .filter((l) => l.msg === 'custom parameters bounded')
      .map((l) => l.code);
    expect(codes).toEqual(['PARAM_TOO_LONG', 'PARAMS_TOO_MANY']);
  });

  it('closes the socket with 1009 on a frame over WS_MAX_PAYLOAD_BYTES', async () => {
    const call = await dial();
    call.start();
    await call.waitForMark((n) => n.startsWith('greeting_done'));
    const huge = 'A'.repeat(70 * 1024);
    call.sendRaw(
      JSON.stringify({ event: 'media', stream_sid: call.streamSid, media: { payload: huge } }),
    );
    await call.closed();
    expect(call.closeCode).toBe(1009);
    const record = await eventually(async () => {
      await server.voicebot.store.flush(2_000);
      const r = await server.voicebot.store.getCall(call.callSid);
      return r?.call.status === 'live' ? undefined : r;
    });
    expect(record.call).toMatchObject({ status: 'completed', endReason: 'connection_lost' });
    expect(server.logs.find((l) => l.msg === 'socket error')?.code).toBe('WS_ERROR');
  });

  it('the session is registered while live and removed with everything cleaned up on stop', async () => {
    const call = await dial();
    call.start();
    await call.waitForMark((n) => n.startsWith('greeting_done'));
    await eventually(() => server.voicebot.registry.size === 1);
    const session = [...server.voicebot.registry.values()][0]!;
    expect(session.streamSid).toBe(call.streamSid);
    expect(session.callSid).toBe(call.callSid);
    expect(session.from).toBe('+919800000001');
    await call.hangup();
    await eventually(() => server.voicebot.registry.size === 0);
    expect(session.signal.aborted).toBe(true);
    expect(session.stopReason).toBe('callended');
    expect(server.voicebot.pacer.size).toBe(0);
  });
});
