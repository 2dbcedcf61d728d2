/**
 * The operator console in real Chromium, against a real server (fake OpenAI behind it): signing
 * in (and being refused), a finished call in the list and on its own page with its transcript,
 * waterfall and a recording the audio element can load and seek, a live call appearing and
 * going away by itself, and "Try an agent" with Chromium's fake microphone until the bot's reply
 * has played in the page.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeWav } from '../../src/audio/index.js';
import { FakeOpenAI } from '../fakes/index.js';
import { eventually, startServer, type TestServer } from '../helpers/app.js';
import { launchChromium, signIn } from '../helpers/browser.js';
import { dialAndGreet, fixture, nextEcho } from '../helpers/calls.js';
import { LLM, STT, TTS } from '../helpers/conversation-env.js';

/** The parts of an HTMLAudioElement the test reads (the test's TypeScript has no DOM types). */
interface MediaLike {
  readyState: number;
  duration: number;
  currentTime: number;
  addEventListener(type: string, listener: (e: unknown) => void, opts?: { once: boolean }): void;
}

const KEY = 'console-admin-key-0123456';
const REPLY = 'Your balance is five thousand rupees. Anything else?';

let fake: FakeOpenAI;
let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let dir: string;

beforeAll(async () => {
  fake = await FakeOpenAI.start();
  dir = await mkdtemp(join(tmpdir(), 'console-test-'));
  // The fake microphone loops this: 1.5 s of quiet, the question, 5 s of quiet.
  const hello = await fixture('hello-16k.wav');
  const samples = new Int16Array(16000 * 1.5 + hello.length / 2 + 16000 * 5);
  samples.set(new Int16Array(hello.buffer, hello.byteOffset, hello.length / 2), 16000 * 1.5);
  await writeFile(join(dir, 'mic.wav'), encodeWav(samples, 16000));
  browser = await launchChromium({ micWav: join(dir, 'mic.wav') });
  server = await startServer({
    OPENAI_BASE_URL: fake.baseUrl,
    ADMIN_API_KEY: KEY,
    GREETING_TEXT: 'Hello.',
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await fake?.close();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  fake.reset();
  fake.speech.setDefault(TTS);
  fake.transcriptions.setDefault({ kind: 'text', text: 'What is my loan balance?', ...STT });
  fake.chat.setDefault({ kind: 'stream', tokens: REPLY, ...LLM });
  context = await browser.newContext({ baseURL: server.httpBase });
  page = await context.newPage();
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') {
    console.log(server.logs.map((l) => JSON.stringify(l)).join('\n'));
  }
  await context.close();
  expect(fake.violations).toEqual([]);
});

/** One finished call with one answered turn; returns its record once its recording is written. */
async function finishedCall() {
  const c = await dialAndGreet(server.wsBase);
  const answered = nextEcho(c, 'response_done');
  await c.say(await fixture('hello-16k.wav'));
  await answered;
  await c.hangup();
  return eventually(async () => {
    await server.voicebot.store.flush(2_000);
    const r = await server.voicebot.store.getCall(c.callSid);
    return r?.call.recordingMs !== undefined && r.turns.length === 2 ? r : undefined;
  });
}

describe('the console in Chromium', () => {
  it('refuses a wrong key with a clear message and shows no data', async () => {
    await finishedCall();
    const res = await page.goto('/console/calls');
    expect(page.url()).toBe(`${server.httpBase}/console/sign-in`);
    expect(res?.status()).toBe(200);
    await page.getByLabel('Admin key').fill('not-the-key-at-all-000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not right');
    expect(await page.locator('table.calls').count()).toBe(0);
    // Still signed out: the list and the API send it back to sign in.
    await page.goto('/console/calls');
    expect(page.url()).toBe(`${server.httpBase}/console/sign-in`);
    const api = await page.evaluate(async () => (await fetch('/api/calls')).status);
    expect(api).toBe(401);
  });

  it('lists a finished call and opens it: transcript, waterfall, seekable recording', async () => {
    const record = await finishedCall();
    await signIn(page, server.httpBase, KEY);
    const row = page.locator(`tr[data-call="${record.call.id}"]`);
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.locator('td[data-label="Turns"]').textContent()).toBe('1');
    expect(await row.locator('td[data-label="First audio"]').textContent()).toMatch(/\d ms$/);
    await row.getByRole('link').click();
    await page.waitForURL(`**/console/calls/${record.call.id}`);

    const caller = page.locator('li.msg.caller[data-turn="1"] .words');
    expect(await caller.textContent()).toBe('What is my loan balance?');
    const bot = page.locator('li.msg.bot[data-turn="1"] .words');
    expect((await bot.textContent())?.trim()).toBe(REPLY);
    const stages = page.locator('.waterfall li[data-turn="1"] .stage');
    expect(await stages.count()).toBeGreaterThanOrEqual(4);
    expect(await page.locator('.waterfall .stage-audio .ms').first().textContent()).toBe(
      `${record.turns[1]!.timings.stages.firstAudioMs!.toLocaleString('en-IN')} ms`,
    );

    // The recording: the audio element loads it (through the session cookie) at its length.
    const audio = page.locator('#recording');
    const duration = await audio.evaluate(async (el: MediaLike) => {
      if (el.readyState < 1) {
        await new Promise((resolve, reject) => {
          el.addEventListener('loadedmetadata', resolve, { once: true });
          el.addEventListener('error', () => reject(new Error('audio error')), { once: true });
        });
      }
      return el.duration;
    });
    expect(Math.abs(duration * 1000 - record.call.recordingMs!)).toBeLessThan(50);

    // Clicking the bot's turn seeks the recording to it.
    const seek = page.locator('li.msg.bot[data-turn="1"] button.seek');
    const target = Number(await seek.getAttribute('data-seek'));
    expect(target).toBeGreaterThan(0.5);
    await seek.click();
    await expect
      .poll(() => audio.evaluate((el: MediaLike) => el.currentTime))
      .toBeGreaterThanOrEqual(target - 0.05);
    // And from the keyboard: Tab to the caller's turn and press Enter, back to its start.
    const callerSeek = page.locator('li.msg.caller[data-turn="1"] button.seek');
    const callerAt = Number(await callerSeek.getAttribute('data-seek'));
    expect(callerAt).toBeLessThan(target);
    await callerSeek.focus();
    await page.keyboard.press('Enter');
    await expect
      .poll(() => audio.evaluate((el: MediaLike) => el.currentTime))
      .toBeLessThan(target - 0.05);
    expect(await audio.evaluate((el: MediaLike) => el.currentTime)).toBeGreaterThanOrEqual(
      callerAt - 0.05,
    );
  });

  it('shows live calls of every instance sharing the database, coming and going by themselves', async () => {
    // A second instance on the same database file: its call shows on this instance's page.
    const other = await startServer({
      OPENAI_BASE_URL: fake.baseUrl,
      GREETING_TEXT: 'Hello.',
      DATABASE_URL: `sqlite://${join(server.config.store.dataDir, 'voicebot.sqlite')}`,
    });
    try {
      await signIn(page, server.httpBase, KEY);
      await page.goto('/console/live');
      const count = page.locator('[data-live-count]');
      await expect.poll(() => count.getAttribute('data-live-count')).toBe('0');
      const here = await dialAndGreet(server.wsBase);
      const there = await dialAndGreet(other.wsBase);
      const ids = await Promise.all(
        [
          [server, here],
          [other, there],
        ].map(([s, c]) =>
          eventually(async () => {
            await (s as TestServer).voicebot.store.flush(2_000);
            return (await server.voicebot.store.getCall((c as typeof here).callSid))?.call.id;
          }),
        ),
      );
      const rows = ids.map((id) => page.locator(`#live tr[data-call="${id}"]`));
      for (const row of rows) {
        await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
        expect(await row.locator('td[data-label="Status"]').textContent()).toContain('live');
      }
      await there.hangup();
      await expect.poll(() => rows[1]!.count(), { timeout: 10_000 }).toBe(0);
      expect(await rows[0]!.count()).toBe(1);
      await here.hangup();
      await expect.poll(() => rows[0]!.count(), { timeout: 10_000 }).toBe(0);
      expect(await count.getAttribute('data-live-count')).toBe('0');
    } finally {
      await other.close();
    }
  });

  it("lists the agents' profiles with their tools", async () => {
    await signIn(page, server.httpBase, KEY);
    await page.goto('/console/agents');
    for (const name of ['clinic_en', 'loan_hi']) {
      expect(await page.locator(`#agent-${name} h2`).textContent()).toContain(name);
    }
    expect(await page.locator('#agent-loan_hi .tools').textContent()).toContain('end_call');
  });

  it('talks to an agent from the microphone until the reply plays in the page', async () => {
    await signIn(page, server.httpBase, KEY);
    await page.goto('/console/try?agent=loan_hi');
    await page.getByRole('button', { name: 'Talk' }).click();
    const status = page.locator('#try-status');
    await expect.poll(() => status.getAttribute('data-state')).toBe('live');
    // The caller's words and the bot's answer appear in the transcript as the call goes.
    await expect
      .poll(() => page.locator('#transcript li.caller .words').first().textContent(), {
        timeout: 20_000,
      })
      .toBe('What is my loan balance?');
    await expect
      .poll(() => page.locator('#transcript li.bot .words').first().textContent(), {
        timeout: 10_000,
      })
      .toBe(REPLY);
    // The reply's audio played in the page: its mark (`response_done-N`) was echoed by the page
    // once the audio queued before it had played on the page's audio clock.
    await expect
      .poll(() => page.locator('#meters').getAttribute('data-played-marks'), { timeout: 10_000 })
      .toMatch(/\bresponse_done-\d+\b/);
    expect(Number(await page.locator('#played-ms').textContent())).toBeGreaterThan(1000);
    expect(Number(await page.locator('#sent-ms').textContent())).toBeGreaterThan(3000);
    await page.getByRole('button', { name: 'Hang up' }).click();
    await expect.poll(() => status.getAttribute('data-state')).toBe('ended');

    // The same path as a real call: a record with the agent, the turn and a recording.
    const href = await page.locator('#call-link a').getAttribute('href');
    expect(href).toMatch(/^\/console\/calls\/console-/);
    const callSid = decodeURIComponent(href!.split('/').at(-1)!);
    const record = await eventually(async () => {
      await server.voicebot.store.flush(2_000);
      const r = await server.voicebot.store.getCall(callSid);
      return r?.call.status !== 'live' && r?.call.recordingMs !== undefined ? r : undefined;
    });
    expect(record.call.agent).toBe('loan_hi');
    expect(record.call.sampleRate).toBe(16000);
    expect(record.turns.find((t) => t.role === 'user')?.text).toBe('What is my loan balance?');
  });
});
