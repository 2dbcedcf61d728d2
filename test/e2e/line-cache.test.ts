/**
 * Synthesized lines shared by the server's processes and kept across restarts: two servers on one
 * DATA_DIR (as WORKERS are) synthesize each profile line once between them at start-up, a call's
 * greeting then costs no TTS request, and a restarted server finds every line on disk.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeOpenAI } from '../fakes/index.js';
import { startServer, type TestServer } from '../helpers/app.js';
import { dialAndGreet } from '../helpers/calls.js';
import { serveProcess } from '../helpers/server-process.js';
import { TTS } from '../helpers/conversation-env.js';

let fake: FakeOpenAI;
let dataDir: string;
const servers: TestServer[] = [];

beforeAll(async () => {
  fake = await FakeOpenAI.start();
  fake.speech.setDefault({ ...TTS, firstByteDelayMs: 20, realtimeFactor: 20 });
  dataDir = await mkdtemp(join(tmpdir(), 'voicebot-lines-'));
});
afterAll(async () => {
  await fake.close();
  await rm(dataDir, { recursive: true, force: true });
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  expect(fake.violations).toEqual([]);
});

const start = async () => {
  const s = await startServer({
    OPENAI_BASE_URL: fake.baseUrl,
    DATA_DIR: dataDir,
    TTS_PREWARM: 'true',
    GREETING_TEXT: 'Namaste, aapka swagat hai.',
  });
  servers.push(s);
  return s;
};

describe('synthesized lines', () => {
  it('are made once by two processes on one DATA_DIR, and serve the greeting without TTS', async () => {
    const [a, b] = await Promise.all([start(), start()]);
    const [wa, wb] = await Promise.all([a.voicebot.warmed, b.voicebot.warmed]);
    expect(wa!.failed).toBe(0);
    expect(wb!.lines).toBe(wa!.lines);
    // Each line was synthesized once between the two, and cached at every rate.
    expect(fake.speech.requests).toHaveLength(wa!.lines);
    const files = (await readdir(join(dataDir, 'tts-cache'))).filter((f) => f.endsWith('.pcm'));
    expect(files).toHaveLength(wa!.lines * wa!.rates);

    const before = fake.speech.requests.length;
    const call = await dialAndGreet(b.wsBase, { rate: 8000 });
    await call.hangup();
    expect(fake.speech.requests.length).toBe(before);
    const greeting = b.logs.find((l) => l.msg === 'greeting started');
    expect(greeting?.fromCache).toBe(true);
  });

  it('are made before a new server takes calls, so its first greeting waits for no TTS', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'voicebot-lines-'));
    fake.speech.setDefault({ ...TTS, firstByteDelayMs: 300, realtimeFactor: 20 });
    const p = await serveProcess(
      {
        OPENAI_BASE_URL: fake.baseUrl,
        DATA_DIR: fresh,
        TTS_PREWARM: 'true',
        GREETING_TEXT: 'Namaste, pehli call.',
        LOG_LEVEL: 'info',
      },
      'pipe',
    );
    const lines: Array<{ msg: string; fromCache?: boolean }> = [];
    let buffered = '';
    p.child.stdout!.on('data', (c: Buffer) => {
      buffered += c.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const l of parts) if (l.trim()) lines.push(JSON.parse(l) as { msg: string });
    });
    try {
      const before = fake.speech.requests.length;
      const call = await dialAndGreet(`ws://127.0.0.1:${p.port}`, { rate: 8000 });
      await call.hangup();
      // No TTS request for the greeting, and it came from the cache: the start-up synthesis
      // was done before the server listened.
      expect(fake.speech.requests.length).toBe(before);
      const msgs = lines.map((l) => l.msg);
      const warmed = msgs.indexOf('lines synthesized ahead');
      const listening = msgs.findIndex((m) => m.startsWith('Server listening'));
      expect(warmed).toBeGreaterThanOrEqual(0);
      expect(listening).toBeGreaterThan(warmed);
      expect(lines.find((l) => l.msg === 'greeting started')?.fromCache).toBe(true);
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
      fake.speech.setDefault({ ...TTS, firstByteDelayMs: 20, realtimeFactor: 20 });
      await rm(fresh, { recursive: true, force: true });
    }
  });

  it('survive a restart: a new server synthesizes nothing', async () => {
    const before = fake.speech.requests.length;
    const s = await start();
    const warmed = await s.voicebot.warmed;
    expect(warmed!.lines).toBeGreaterThan(0);
    expect(fake.speech.requests.length).toBe(before);
  });
});
