/** The Exotel client's own pacing and retries, on a virtual clock with a scripted fetch. */
import { describe, expect, it } from 'vitest';
import { ExotelApi } from '../../src/outbound/exotel-api.js';

function harness(answers: Array<() => Response>) {
  let t = 0;
  const sent: number[] = [];
  const api = new ExotelApi({
    baseUrl: 'https://api.in.exotel.com',
    accountSid: 'acc',
    apiKey: 'k',
    apiToken: 't',
    perMinute: 3,
    now: () => t,
    sleep: (ms) => {
      t += ms;
      return Promise.resolve();
    },
    fetch: () => {
      sent.push(t);
      const next = answers.shift() ?? (() => ok());
      return Promise.resolve(next());
    },
  });
  return { api, sent };
}

const ok = (sid = 'CA1') =>
  new Response(JSON.stringify({ Call: { Sid: sid, Status: 'in-progress' } }), { status: 200 });

describe('ExotelApi', () => {
  it('sends at most perMinute requests in any rolling minute', async () => {
    const { api, sent } = harness([]);
    for (let i = 0; i < 7; i++) await api.callDetails(`CA${i}`);
    expect(sent).toEqual([0, 0, 0, 60_001, 60_001, 60_001, 120_002]);
  });

  it('retries a 429 after its Retry-After, a 5xx after a pause, and not a 4xx', async () => {
    const { api, sent } = harness([
      () => new Response('{}', { status: 429, headers: { 'retry-after': '7' } }),
      () => new Response('{}', { status: 503 }),
      () => ok('CA9'),
    ]);
    const call = await api.callDetails('CA9');
    expect(call).toEqual({ sid: 'CA9', status: 'in-progress' });
    expect(sent).toEqual([0, 7_000, 8_000]);

    const bad = harness([
      () =>
        new Response(JSON.stringify({ RestException: { Message: 'From is invalid' } }), {
          status: 400,
        }),
    ]);
    await expect(
      bad.api.connect({ to: '+91', callerId: '0804', streamUrl: 'wss://x/was' }),
    ).rejects.toThrow(/Exotel refused \(400\): From is invalid/);
    expect(bad.sent).toHaveLength(1);
  });

  it('places a call once: a lost answer is not retried, a refused connection and a 429 are', async () => {
    const connect = (api: ExotelApi) =>
      api.connect({ to: '+919812345670', callerId: '0804', streamUrl: 'wss://x/was' });
    const refused = () => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      });
    };
    const retried = harness([
      refused,
      () => new Response('{}', { status: 429, headers: { 'retry-after': '2' } }),
      () => ok('CA7'),
    ]);
    expect(await connect(retried.api)).toEqual({ sid: 'CA7', status: 'in-progress' });
    expect(retried.sent).toHaveLength(3);

    const reset = () => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
      });
    };
    for (const lost of [reset, () => new Response('{}', { status: 503 })]) {
      const once = harness([lost, () => ok('CA8')]);
      await expect(connect(once.api)).rejects.toMatchObject({ code: 'EXOTEL_UNCERTAIN' });
      expect(once.sent).toHaveLength(1);
    }
  });

  it('refuses a stream URL Exotel would refuse, before sending it', async () => {
    const { api, sent } = harness([]);
    await expect(
      api.connect({
        to: '+919812345670',
        callerId: '0804',
        streamUrl: `wss://x/${'a'.repeat(600)}`,
      }),
    ).rejects.toMatchObject({ code: 'EXOTEL_REJECTED' });
    expect(sent).toEqual([]);
  });
});
