/**
 * `npm run docs:screenshots`: the console's pages, as committed in docs/console/ and shown in
 * the README. A real server with the fake OpenAI: 20 seeded calls for the list, one real call
 * with a barge-in and keypad digits for the call page, a second real call held open for the
 * Live page, and a "Try an agent" run on Chromium's fake microphone.
 *   CHROMIUM_PATH=/usr/bin/chromium npm run docs:screenshots
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { encodeWav } from '../src/audio/index.js';
import { seedCalls } from '../test/helpers/seed-calls.js';
import { FakeOpenAI } from '../test/fakes/index.js';
import { eventually, startServer } from '../test/helpers/app.js';
import { launchChromium, signIn } from '../test/helpers/browser.js';
import { dialAndGreet, fixture, nextEcho, sleep } from '../test/helpers/calls.js';
import { LLM, STT, TTS } from '../test/helpers/conversation-env.js';

const OUT = join(import.meta.dirname, '..', 'docs', 'console');
const KEY = 'console-screenshot-key-0123';
const LAPTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };

const fake = await FakeOpenAI.start();
fake.speech.setDefault(TTS);
fake.transcriptions.setDefault({ kind: 'text', text: 'Mera loan balance kitna hai?', ...STT });
let reply = 0;
fake.chat.setDefault(() => ({
  kind: 'stream',
  tokens:
    reply++ === 0
      ? 'Aapka outstanding balance ek lakh pachaas hazaar rupaye hai. Agli EMI paanch December ko hai, chaar hazaar paanch sau rupaye. Kya aap part payment ke baare mein jaanna chahenge?'
      : 'Ji, EMI paanch December ko due hai. Aur kuch?',
  ...LLM,
}));
const server = await startServer({
  OPENAI_BASE_URL: fake.baseUrl,
  ADMIN_API_KEY: KEY,
  GREETING_TEXT: 'Namaste! Main Priya, FinServe se. Boliye, kaise madad karoon?',
});
const dir = await mkdtemp(join(tmpdir(), 'console-shots-'));
try {
  await seedCalls(server.voicebot.store, 20, { nowMs: Date.now() - 30 * 60_000 });

  // The real call: a question, a long answer the caller cuts into, then keypad digits.
  const c = await dialAndGreet(server.wsBase, { rate: 8000, params: { agent: 'loan_hi' } });
  const first = nextEcho(c, 'response_done');
  const replyStarted = c.waitForEvent('media', () => true, 20_000);
  await c.say(await fixture('hello-16k.wav', 8000));
  await replyStarted;
  await sleep(2500);
  const cleared = c.waitForEvent('clear', () => true, 15_000);
  await c.say(await fixture('long-16k.wav', 8000));
  await cleared;
  await first.catch(() => undefined);
  await sleep(5000);
  for (const d of ['1', '2', '#']) c.sendDtmf(d);
  await sleep(5000);
  await c.hangup();
  const record = await eventually(async () => {
    await server.voicebot.store.flush(2_000);
    const r = await server.voicebot.store.getCall(c.callSid);
    return r?.call.recordingMs !== undefined ? r : undefined;
  }, 20_000);

  const hello = await fixture('hello-16k.wav');
  const mic = new Int16Array(16000 * 2 + hello.length / 2 + 16000 * 6);
  mic.set(new Int16Array(hello.buffer, hello.byteOffset, hello.length / 2), 16000 * 2);
  await writeFile(join(dir, 'mic.wav'), encodeWav(mic, 16000));
  const browser = await launchChromium({ micWav: join(dir, 'mic.wav') });
  const shot = async (page: Page, name: string, fullPage = false) => {
    await page.screenshot({ path: join(OUT, `${name}.png`), fullPage });
    console.log(`docs/console/${name}.png`);
  };
  const context = await browser.newContext({ baseURL: server.httpBase, viewport: LAPTOP });
  const page = await context.newPage();
  await page.goto('/console/sign-in');
  await shot(page, 'sign-in');
  await signIn(page, server.httpBase, KEY);
  await shot(page, 'calls');
  await page.goto(`/console/calls/${record.call.id}`);
  await shot(page, 'call', true);
  await page.goto('/console/agents');
  await shot(page, 'agents');

  const live = await dialAndGreet(server.wsBase, { params: { agent: 'clinic_en' } });
  await page.goto('/console/live');
  await page.locator('#live tr[data-call]').first().waitFor();
  await shot(page, 'live');
  await live.hangup();

  fake.chat.setDefault({
    kind: 'stream',
    tokens: 'Aapka balance ek lakh pachaas hazaar rupaye hai.',
    ...LLM,
  });
  await page.goto('/console/try?agent=loan_hi');
  await page.getByRole('button', { name: 'Talk' }).click();
  await page.locator('#transcript li.bot').first().waitFor({ timeout: 30_000 });
  await sleep(1500);
  await shot(page, 'try');
  await page.getByRole('button', { name: 'Hang up' }).click();

  const phone = await browser.newContext({
    baseURL: server.httpBase,
    viewport: PHONE,
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  const small = await phone.newPage();
  await signIn(small, server.httpBase, KEY);
  await shot(small, 'calls-phone');
  await small.goto(`/console/calls/${record.call.id}`);
  await small.locator('#conv-h').scrollIntoViewIfNeeded();
  await shot(small, 'call-phone');
  await browser.close();
} finally {
  await server.close();
  await fake.close();
  await rm(dir, { recursive: true, force: true });
}
