/**
 * Draining on SIGTERM: new calls are refused (503) at once; calls still live when the grace
 * period ends hear the goodbye and close with 1001 and a reason, and the record says so.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createLogger } from '../../src/log.js';
import { createCallStore, openDatabase } from '../../src/store/index.js';
import { FakeOpenAI } from '../fakes/index.js';
import { startServer } from '../helpers/app.js';
import { dialAndGreet } from '../helpers/calls.js';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await FakeOpenAI.start();
});
afterAll(() => fake.close());

function upgrade(url: string): Promise<'open' | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.terminate();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => undefined);
  });
}

describe('drain', () => {
  it('refuses new calls, then says goodbye to the live ones and closes them with 1001', async () => {
    // The store outlives the server (which closes its own on shutdown), to read the record after.
    const dir = await mkdtemp(join(tmpdir(), 'voicebot-drain-'));
    const store = createCallStore(await openDatabase(undefined, { dataDir: dir }), {
      logger: createLogger('silent'),
    });
    const server = await startServer(
      {
        OPENAI_BASE_URL: fake.baseUrl,
        SHUTDOWN_GRACE_MS: '800',
        GOODBYE_TEXT: 'We are restarting, please call again.',
      },
      { store },
    );
    const call = await dialAndGreet(server.wsBase);
    const idleSocket = new WebSocket(`${server.wsBase}/was?sample-rate=8000`);
    await new Promise((r) => idleSocket.once('open', r));
    const idleClosed = new Promise<number>((r) => idleSocket.once('close', (code) => r(code)));

    const stopped = server.voicebot.shutdown();
    expect(await upgrade(`${server.wsBase}/was?sample-rate=8000`)).toBe(503);
    expect(await idleClosed).toBe(1001); // no call on it yet: closed at once
    expect(call.isOpen).toBe(true); // a live call gets the grace period
    await call.closed();
    await stopped;

    expect(call.closeCode).toBe(1001);
    expect(call.closeReason).toMatch(/^SHUTDOWN/);
    const goodbye = call.marks.find((m) => m.name.startsWith('goodbye_done'));
    expect(goodbye?.echoedAt).toBeDefined(); // heard to the end before the close
    await store.flush(2_000);
    const record = await store.getCall(call.callSid);
    expect(record?.call).toMatchObject({
      endReason: 'shutdown',
      hangupBy: 'bot',
      status: 'completed',
    });
    await server.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }, 30_000);
});
