/**
 * The post-call worker: many calls ending together are summarised a few at a time (real OpenAI
 * provider against the fake), and none of it trips Node's listener warning.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { PostCallWorker } from '../../src/postcall/post-call.js';
import { OpenAILlmProvider } from '../../src/providers/llm/openai-llm.js';
import type { LlmProvider, LlmRequest } from '../../src/providers/llm/types.js';
import { createOpenAIClient } from '../../src/providers/openai-client.js';
import type { TurnRecord } from '../../src/conversation/turn-record.js';
import type { CallStore } from '../../src/store/index.js';
import { FakeOpenAI } from '../fakes/index.js';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await FakeOpenAI.start();
  fake.chat.setDefault({
    kind: 'stream',
    tokens: 'The caller asked for the balance.',
    firstTokenDelayMs: 100,
  });
});
afterAll(() => fake.close());

/** The real provider, counting the streams open at once. */
function counting(inner: LlmProvider) {
  const seen = { active: 0, max: 0, total: 0 };
  const provider: LlmProvider = {
    model: inner.model,
    async *stream(req: LlmRequest) {
      seen.active++;
      seen.total++;
      seen.max = Math.max(seen.max, seen.active);
      try {
        yield* inner.stream(req);
      } finally {
        seen.active--;
      }
    },
  };
  return { provider, seen };
}

const turn = {
  userText: 'What is my balance?',
  botText: 'Five thousand.',
  heardText: 'Five thousand.',
  interrupted: false,
} as TurnRecord;

describe('PostCallWorker', () => {
  it('summarises calls that end together a few at a time, each one stored', async () => {
    const llm = counting(
      new OpenAILlmProvider(createOpenAIClient({ apiKey: 'test', baseUrl: fake.baseUrl }), {
        model: 'gpt-4o-mini',
        firstTokenTimeoutMs: 5000,
        stallMs: 5000,
      }),
    );
    const summaries = new Map<string, string | undefined>();
    const store = {
      summaryUpdated: (id: string, s: { status: string; summary?: string }) => {
        if (s.status !== 'pending') summaries.set(id, s.summary);
      },
    } as unknown as CallStore;
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const worker = new PostCallWorker({
        store,
        llm: llm.provider,
        logger: createLogger('silent'),
        webhook: { url: undefined, secret: undefined },
        concurrency: 4,
      });
      for (let i = 0; i < 30; i++) {
        worker.submit({
          id: `call-${i}`,
          callSid: `CA${i}`,
          language: 'English',
          turns: [turn],
          record: {},
        });
      }
      expect(worker.pending).toBe(30);
      await worker.close(20_000);
      expect(llm.seen.total).toBe(30);
      expect(llm.seen.max).toBe(4);
      expect(summaries.size).toBe(30);
      expect([...summaries.values()].every((s) => s === 'The caller asked for the balance.')).toBe(
        true,
      );
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
