/** Conversation end to end on real speech: barge-in and a backchannel (rules: test/conversation). */
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/app.js';
import { fixture, nextEcho, sleep } from '../helpers/calls.js';
import { LLM, STT, useConversationEnv } from '../helpers/conversation-env.js';

const env = useConversationEnv();

describe('barge-in', () => {
  it('clears Exotel, aborts the reply, and keeps only what the caller heard', async () => {
    env.fake.chat.enqueue({
      kind: 'stream',
      tokens:
        'Let me explain our loan products in detail. First there is the home loan at eight percent. Then there is the car loan at nine percent. Finally the personal loan at twelve percent.',
      ...LLM,
    });
    const c = await env.call();
    const replyStarted = c.waitForEvent('media', () => true, 20_000);
    await c.say(await fixture('hello-16k.wav'));
    await replyStarted;
    await sleep(1200);
    env.fake.transcriptions.enqueue({
      kind: 'text',
      text: 'Stop, tell me about the car loan.',
      ...STT,
    });
    const clear = c.waitForEvent('clear', () => true, 10_000);
    const talking = c.say(await fixture('long-16k.wav'));
    const clearedAt = await clear;
    await talking;
    await eventually(() => env.server.turns.length >= 2, 20_000);

    const [first, second] = env.server.turns;
    expect(first!.interrupted).toBe(true);
    expect(first!.heardText.length).toBeGreaterThan(0);
    expect(first!.heardText.length).toBeLessThan(first!.botText.length);
    expect(first!.botText.startsWith(first!.heardText)).toBe(true);
    expect(second!.userText).toBe('Stop, tell me about the car loan.');
    // The history the LLM saw for the next turn has the truncated, marked reply.
    const history = env.fake.chat.requests.at(-1)!.body.messages;
    const assistant = history.filter((m) => m.role === 'assistant').at(-1)!;
    expect(assistant.content).toContain('[interrupted by the caller]');
    expect(assistant.content).not.toContain('personal loan');
    // The barge-in came within a bounded time of the caller starting to talk.
    expect(clearedAt).toBeGreaterThan(0);
  });

  it('a backchannel shorter than the barge-in window does not interrupt the reply', async () => {
    // haan-16k.wav has ~190-240 ms of voice: the rule is about backchannels shorter than BARGE_IN_MS.
    await env.restart({ BARGE_IN_MS: '300' });
    env.fake.chat.enqueue({
      kind: 'stream',
      tokens: 'Here is a fairly long answer for you. It has a second sentence too.',
      ...LLM,
    });
    const c = await env.call();
    const started = c.waitForEvent('media', () => true, 20_000);
    await c.say(await fixture('hello-16k.wav'));
    await started;
    await sleep(500);
    await c.say(await fixture('haan-16k.wav'));
    await nextEcho(c, 'response_done');
    expect(c.clears).toEqual([]);
    const turn = await eventually(() => env.server.turns[0]);
    expect(turn.interrupted).toBe(false);
    expect(env.fake.chat.requests).toHaveLength(1);
  });
});
