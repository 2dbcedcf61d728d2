/**
 * Shared set-up for the conversation end-to-end tests: one fake OpenAI per file with the
 * benchmark's provider delays, a fresh server per test, calls hung up and spec violations checked
 * after each test (server logs printed when a test fails).
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { FakeOpenAI } from '../fakes/index.js';
import type { SimulatedCall } from '../../src/simulator/simulated-call.js';
import { startServer, type TestServer } from './app.js';
import { dialAndGreet } from './calls.js';

/** Provider delays of the benchmark's model: STT 300 ms, LLM first token 400 ms, TTS 250 ms. */
export const STT = { delayMs: 300 };
export const LLM = { firstTokenDelayMs: 400, perTokenMs: 20 };
export const TTS = { kind: 'audio' as const, firstByteDelayMs: 250, realtimeFactor: 2 };

export interface ConversationEnv {
  fake: FakeOpenAI;
  server: TestServer;
  /** Replaces the server with one using extra settings. */
  restart(env: Record<string, string>): Promise<void>;
  call(params?: Record<string, string>): Promise<SimulatedCall>;
  lastUserMessage(): string | undefined;
  speechInputs(): string[];
}

const BASE_ENV = {
  GREETING_TEXT: 'Hello.',
  LLM_TIMEOUT_MS: '1500',
  LLM_STALL_MS: '800',
  STT_TIMEOUT_MS: '1500',
  TTS_TIMEOUT_MS: '1500',
  TTS_STALL_MS: '800',
};

export function useConversationEnv(): ConversationEnv {
  const calls: SimulatedCall[] = [];
  const env = {} as ConversationEnv;
  beforeAll(async () => {
    env.fake = await FakeOpenAI.start();
  });
  afterAll(() => env.fake.close());
  beforeEach(async () => {
    const { fake } = env;
    fake.reset();
    fake.speech.setDefault(TTS);
    fake.transcriptions.setDefault({ kind: 'text', text: 'What is my loan balance?', ...STT });
    fake.chat.setDefault({
      kind: 'stream',
      tokens: 'Your balance is five thousand rupees. Anything else?',
      ...LLM,
    });
    env.server = await startServer({ OPENAI_BASE_URL: fake.baseUrl, ...BASE_ENV });
  });
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') {
      console.log(env.server.logs.map((l) => JSON.stringify(l)).join('\n'));
    }
    for (const c of calls.splice(0)) if (c.isOpen) await c.hangup();
    await env.server.close();
    expect(env.fake.violations).toEqual([]);
  });
  env.restart = async (extra) => {
    await env.server.close();
    env.server = await startServer({ OPENAI_BASE_URL: env.fake.baseUrl, ...BASE_ENV, ...extra });
  };
  env.call = async (params) => {
    const c = await dialAndGreet(env.server.wsBase, { params });
    calls.push(c);
    return c;
  };
  env.lastUserMessage = () => {
    const msgs = env.fake.chat.requests.at(-1)?.body.messages ?? [];
    const content = msgs.filter((m) => m.role === 'user').at(-1)?.content;
    return typeof content === 'string' ? content : undefined;
  };
  env.speechInputs = () => env.fake.speech.requests.map((r) => r.body.input);
  return env;
}
