/** `voicebot call` against a real server: it hears the greeting, speaks, and writes the bot's audio. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCall } from '../../src/cli/call.js';
import { decodeWav } from '../../src/audio/index.js';
import { FakeOpenAI } from '../fakes/index.js';
import { startServer, type TestServer } from '../helpers/app.js';

let fake: FakeOpenAI;
let server: TestServer;
let dir: string;

beforeAll(async () => {
  fake = await FakeOpenAI.start();
  server = await startServer({ OPENAI_BASE_URL: fake.baseUrl, LOG_LEVEL: 'silent' });
  dir = await mkdtemp(join(tmpdir(), 'voicebot-call-'));
});
afterAll(async () => {
  await server.close();
  await fake.close();
  await rm(dir, { recursive: true, force: true });
  expect(fake.violations).toEqual([]);
});

describe('voicebot call', () => {
  it('hears the greeting, says the WAV, writes the bot audio and prints a summary', async () => {
    const out = join(dir, 'bot.wav');
    const printed: string[] = [];
    const summary = await runCall(
      {
        url: `${server.wsBase}/was?sample-rate=8000`,
        wav: 'test/fixtures/hello-16k.wav',
        out,
        params: { greeting_text: 'Hello caller' },
        frameMs: 100,
        greetingTimeoutMs: 10_000,
        quietMs: 2500,
        maxCallMs: 20_000,
        json: false,
      },
      (s) => printed.push(s),
    );
    expect(summary.framesReceived).toBeGreaterThan(0);
    expect(Object.keys(summary.frameSizes).every((size) => Number(size) % 320 === 0)).toBe(true);
    expect(summary.marks[0]?.name).toMatch(/^greeting_done/);
    expect(summary.marks[0]?.echoedAtMs).not.toBeNull();
    expect(summary.firstAudioAfterStartMs).not.toBeNull();
    expect(summary.invalidFrames).toEqual([]);
    expect(printed.join('\n')).toMatch(/first audio after start: \d+ ms/);

    const wav = decodeWav(await readFile(out));
    expect(wav.sampleRate).toBe(8000);
    // At least "Hello caller": 12 characters of fake TTS audio at 50 ms each.
    expect(wav.samples.length / 8).toBeGreaterThan(600);
    // The greeting, the fallback line (made ahead, for when providers fail) and the reply to
    // what the caller said were synthesized; the reply was heard before the hang-up.
    const inputs = fake.speech.requests.map((r) => r.body.input);
    expect(inputs.slice(0, 2)).toEqual(['Hello caller', server.config.fallbackText]);
    expect(inputs.length).toBeGreaterThan(2);
    expect(summary.marks.map((m) => m.name)).toContain('response_done-2');
    expect(summary.marks.find((m) => m.name === 'response_done-2')?.echoedAtMs).not.toBeNull();
  });
});
