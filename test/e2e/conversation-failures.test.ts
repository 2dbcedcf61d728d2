/**
 * Conversation end to end: a provider failure ends in the fallback line and the call goes on.
 * Every failure mode is tested at the provider (test/providers: 429, 5xx, hangs, stalls,
 * malformed streams → coded errors) and every rule on the virtual clock (test/conversation:
 * retry once, fallback, mid-reply failures, empty transcripts); here one LLM and one TTS failure
 * go through the whole stack, and one whole call in real time.
 */
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/app.js';
import { fixture, nextEcho, nextMark, sleep } from '../helpers/calls.js';
import { LLM, STT, useConversationEnv } from '../helpers/conversation-env.js';

const env = useConversationEnv();

describe('provider failures end in the fallback line, and the call answers the next turn', () => {
  const cases: Array<[string, () => void]> = [
    [
      'LLM 500',
      () => env.fake.chat.enqueue({ kind: 'error', status: 500 }, { kind: 'error', status: 500 }),
    ],
    [
      'TTS 500',
      () => env.fake.speech.enqueue({ kind: 'error', status: 500 }, { kind: 'error', status: 500 }),
    ],
  ];
  it.each(cases)('%s', async (_name, arrange) => {
    const c = await env.call();
    // Let the lines said in a hurry be pre-synthesized (greeting, fallback, filler, goodbye)
    // before breaking the provider.
    await eventually(() => env.server.voicebot.ttsCache.size >= 4);
    arrange();
    const fallback = nextMark(c, 'fallback_done');
    const fallbackPlayed = nextEcho(c, 'fallback_done');
    await c.say(await fixture('hello-16k.wav'));
    await fallback;
    await fallbackPlayed;
    const failed = await eventually(() => env.server.turns[0]);
    expect(failed.fallback).toBe(true);
    expect(failed.errors.length).toBeGreaterThan(0);
    expect(failed.heardText).toBe(env.server.config.fallbackText);

    const reply = nextMark(c, 'response_done');
    await c.say(await fixture('hello-16k.wav'));
    await reply;
    const next = await eventually(() => env.server.turns[1]);
    expect(next.fallback).toBe(false);
    expect(next.heardText).not.toBe('');
    expect(c.isOpen).toBe(true);
  });
});

describe('a provider that hangs is not waited for: the filler line, then the fallback by the deadline', () => {
  // Provider timeouts far beyond the turn's deadline: without it the caller would wait for them.
  const deadlines = {
    HOLD_AFTER_MS: '1000',
    TURN_TIMEOUT_MS: '3000',
    STT_TIMEOUT_MS: '30000',
    LLM_TIMEOUT_MS: '30000',
    TTS_TIMEOUT_MS: '30000',
  };
  // One provider through the whole stack (each hang, stall and error of each provider is a row of
  // test/faults/conversation-faults.ts on the virtual clock).
  it('STT hangs', async () => {
    await env.restart(deadlines);
    const c = await env.call();
    await eventually(() => env.server.voicebot.ttsCache.size >= 4); // greeting, fallback, filler, goodbye
    env.fake.transcriptions.setDefault({ kind: 'hang' });
    const filler = nextMark(c, 'filler_done');
    const fallback = nextMark(c, 'fallback_done');
    await c.say(await fixture('hello-16k.wav'));
    const spoke = performance.now();
    await filler;
    const fillerAt = performance.now() - spoke;
    await fallback;
    const fallbackAt = performance.now() - spoke;
    // Each mark follows its line's audio (about 1.5 s and 3 s of it); tolerant of a busy machine.
    expect(fillerAt).toBeLessThan(fallbackAt);
    expect(fallbackAt).toBeLessThan(3000 + 4000 + 3000);
    const turn = await eventually(() => env.server.turns[0]);
    expect(turn).toMatchObject({
      fallback: true,
      filler: env.server.config.tools.fillerText,
      errors: ['TURN_TIMEOUT'],
    });
    expect(c.isOpen).toBe(true);
  });
});

describe('a whole call', () => {
  it('holds a multi-turn conversation with a barge-in and a provider failure in it', async () => {
    const { fake } = env;
    const script = [
      'Namaste Asha ji. Your home loan balance is two lakh rupees.',
      'We have three plans. The first plan is for twelve months at a low rate. The second plan is for twenty four months. The third plan is for thirty six months with the lowest payment.',
      'The second plan costs nine thousand rupees a month.',
    ];
    let reply = 0;
    fake.chat.setDefault(() => ({ kind: 'stream', tokens: script[reply++] ?? 'Okay.', ...LLM }));
    const texts = [
      'What is my balance?',
      'Tell me the plans.',
      'Wait, the second one please.',
      'How much is it?',
      'That is all for today.',
    ];
    let said = 0;
    fake.transcriptions.setDefault(() => ({ kind: 'text', text: texts[said] ?? 'Okay.', ...STT }));
    const c = await env.call({ customer_name: 'Asha', language: 'Hindi' });
    const hello = await fixture('hello-16k.wav');

    // Turn 1: a normal exchange.
    let played = nextEcho(c, 'response_done');
    await c.say(hello);
    await played;
    said = 1;

    // Turn 2: a long answer, interrupted by the caller.
    const replyAudio = c.waitForEvent('media', () => true, 20_000);
    await c.say(hello);
    await replyAudio;
    await sleep(1500);
    said = 2;
    const cleared = c.waitForEvent('clear', () => true, 15_000);
    played = nextEcho(c, 'response_done');
    await c.say(await fixture('long-16k.wav'));
    await cleared;
    await played; // the answer to the interruption

    // Turn 4: the LLM fails twice: fallback line; the call goes on.
    said = 3;
    fake.chat.enqueue({ kind: 'error', status: 500 }, { kind: 'error', status: 500 });
    const fallback = nextEcho(c, 'fallback_done');
    await c.say(hello);
    await fallback;

    // Turn 5: normal again.
    said = 4;
    played = nextEcho(c, 'response_done');
    await c.say(hello);
    await played;

    const turns = await eventually(
      () => (env.server.turns.length >= 5 ? env.server.turns : undefined),
      15_000,
    );
    expect(turns.map((t) => [t.userText, t.interrupted, t.fallback])).toEqual([
      ['What is my balance?', false, false],
      ['Tell me the plans.', true, false],
      ['Wait, the second one please.', false, false],
      ['How much is it?', false, true],
      ['That is all for today.', false, false],
    ]);
    // Every answered turn played before it ended (the exact timing rule is on the virtual clock).
    for (const t of turns.filter((x) => !x.fallback)) {
      expect(t.timings.firstAudioAt!).toBeGreaterThanOrEqual(t.timings.ttsFirstByteAt!);
      expect(t.timings.firstAudioAt!).toBeLessThan(t.timings.replyEndAt!);
    }
    // The last request's history shows the interrupted reply truncated and marked.
    const history = fake.chat.requests.at(-1)!.body.messages.map((m) => m.content);
    expect(
      history.some((m) => typeof m === 'string' && m.includes('[interrupted by the caller]')),
    ).toBe(true);
    expect(history.some((m) => typeof m === 'string' && m.includes('thirty six months'))).toBe(
      false,
    );
  }, 120_000);
});
