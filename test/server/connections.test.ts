/**
 * Bounded connections: idle TCP connections are closed, a WebSocket that never starts a call is
 * closed and never recorded, a started call whose peer goes silent ends, and the instance's and
 * each address's connection limits answer 503 at the upgrade.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SimulatedCall } from '../../src/simulator/simulated-call.js';
import { eventually, startServer, type TestServer } from '../helpers/app.js';

let server: TestServer | undefined;
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  await server?.close();
  server = undefined;
});

const start = (env: Record<string, string>) =>
  startServer({ OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', GREETING_TEXT: 'Hello.', ...env });

/** Opens a WebSocket to /was; resolves with it once open, or with the HTTP status it got. */
function upgrade(base: string): Promise<WebSocket | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${base}/was?sample-rate=8000`);
    ws.once('open', () => {
      sockets.push(ws);
      resolve(ws);
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => undefined);
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
}

const metric = async (series: string) => {
  const text = (await server!.voicebot.app.inject({ method: 'GET', url: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('idle connections', () => {
  it('closes a TCP connection that never sends a byte', async () => {
    server = await start({ HTTP_IDLE_TIMEOUT_MS: '400' });
    const port = new URL(server.httpBase).port;
    const socket = connect(Number(port), '127.0.0.1');
    const started = performance.now();
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it('closes a WebSocket that sends no start, records nothing and counts it', async () => {
    server = await start({ START_TIMEOUT_MS: '300' });
    const ws = await upgrade(server.wsBase);
    if (typeof ws === 'number') throw new Error(`upgrade refused ${ws}`);
    ws.send(JSON.stringify({ event: 'connected' }));
    const { code, reason } = await closed(ws);
    expect(code).toBe(1008);
    expect(reason).toMatch(/^START_TIMEOUT/);
    await server.voicebot.store.flush(2_000);
    expect((await server.voicebot.store.listCalls({})).calls).toEqual([]);
    await eventually(
      async () =>
        (await metric('voicebot_connections_refused_total{reason="start_timeout"}')) === 1,
    );
    expect(await metric('voicebot_live_calls')).toBe(0);
  });

  it('ends a started call whose peer goes silent, and records how', async () => {
    server = await start({ INBOUND_IDLE_TIMEOUT_MS: '600' });
    const call = new SimulatedCall({
      url: `${server.wsBase}/was?sample-rate=8000`,
      sampleRate: 8000,
    });
    await call.connect();
    call.start(); // and then nothing: no microphone
    await call.closed();
    expect(call.closeCode).toBe(1008);
    expect(call.closeReason).toMatch(/^NO_MEDIA/);
    const record = await eventually(async () => {
      await server!.voicebot.store.flush(2_000);
      const d = await server!.voicebot.store.getCall(call.callSid);
      return d?.call.status === 'completed' ? d : undefined;
    });
    expect(record.call).toMatchObject({ endReason: 'connection_lost', hangupBy: 'unknown' });
  });

  it('does not apply the HTTP idle timeout to a call once upgraded', async () => {
    server = await start({ HTTP_IDLE_TIMEOUT_MS: '300', INBOUND_IDLE_TIMEOUT_MS: '5000' });
    const call = new SimulatedCall({
      url: `${server.wsBase}/was?sample-rate=8000`,
      sampleRate: 8000,
    });
    await call.connect();
    call.start();
    call.startMic(1000); // a frame a second: quieter than the HTTP timeout
    await new Promise((r) => setTimeout(r, 2_500));
    expect(call.isOpen).toBe(true);
    await call.hangup();
  });
});

describe('connection limits', () => {
  it('answers 503 past MAX_CONNECTIONS_PER_IP, and takes a new one when a place frees up', async () => {
    server = await start({ MAX_CONNECTIONS_PER_IP: '2' });
    const a = await upgrade(server.wsBase);
    const b = await upgrade(server.wsBase);
    expect(typeof a).toBe('object');
    expect(typeof b).toBe('object');
    expect(await upgrade(server.wsBase)).toBe(503);
    (a as WebSocket).close();
    await eventually(async () => typeof (await upgrade(server!.wsBase)) === 'object');
    expect(
      await metric('voicebot_connections_refused_total{reason="per_ip"}'),
    ).toBeGreaterThanOrEqual(1);
  });

  it('answers 503 past MAX_CALLS', async () => {
    server = await start({ MAX_CALLS: '2' });
    await upgrade(server.wsBase);
    await upgrade(server.wsBase);
    expect(await upgrade(server.wsBase)).toBe(503);
    expect(await metric('voicebot_connections_refused_total{reason="max_calls"}')).toBe(1);
  });
});
