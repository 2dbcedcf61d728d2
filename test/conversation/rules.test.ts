/**
 * The conversation's rules on a virtual clock: scripted VAD and providers, the real Exotel
 * player and an Exotel peer that plays and echoes. Every figure here is exact on that clock.
 * Provider model (harness): STT 300 ms, LLM first token 400 ms + 20 ms a token, TTS first byte
 * 250 ms then audio at 2× real time; endpointing 500 ms, preempt at 200 ms, barge-in 200 ms.
 */
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { HedgeBudget } from '../../src/conversation/hedge-budget.js';
import { INTERRUPTED_MARK } from '../../src/conversation/history.js';
import { stageDurations } from '../../src/conversation/turn-record.js';
import { VoicebotError } from '../../src/errors.js';
import {
  RATE,
  echoes,
  greetedCall,
  startHarness,
  virtualClockPerTest,
  type Harness,
  type HarnessOptions,
} from './harness.js';

const clock = virtualClockPerTest();

const serverError = () =>
  new VoicebotError('PROVIDER_SERVER_ERROR', 'server error (500)', { retryable: true });

/** A call whose greeting has been heard. */
const call = (opts: HarnessOptions = {}): Promise<Harness> => greetedCall(clock, opts);

describe('an exchange', () => {
  it('answers sentence by sentence from the preemptive transcript, first audio at the first TTS bytes', async () => {
    const c = await call();
    await c.speak(1000);
    await c.until(() => c.turns.length === 1);

    const [turn] = c.turns;
    expect(turn!.userText).toBe('What is my loan balance?');
    expect(turn!.heardText).toBe('Your balance is five thousand rupees. Anything else?');
    expect(turn!.preemptiveStt).toBe(true);
    expect(c.stt.requests).toHaveLength(1); // the preemptive request was used at the endpoint
    expect(c.llm.last().map((m) => m.role)).toEqual(['system', 'user']);
    expect(c.tts.requests.slice(-2)).toEqual([
      'Your balance is five thousand rupees.',
      'Anything else?',
    ]);
    const t = turn!.timings;
    const d = stageDurations(t);
    expect(d.endpointMs).toBe(500);
    expect(d.sttAfterEndpointMs).toBe(0); // STT (300 ms) ran inside the endpoint wait
    expect(d.llmFirstTokenMs).toBe(400);
    expect(d.ttsFirstByteMs).toBe(250);
    // The first frame leaves within the 60 ms start cushion of the first TTS bytes.
    expect(t.firstAudioAt! - t.ttsFirstByteAt!).toBeGreaterThanOrEqual(0);
    expect(t.firstAudioAt! - t.ttsFirstByteAt!).toBeLessThanOrEqual(60);
    // Caller's last word to the bot's first: endpoint + first token + 7 tokens + TTS + cushion.
    expect(d.firstAudioMs).toBeLessThanOrEqual(500 + 400 + 7 * 20 + 250 + 60);
    expect(echoes(c, 'response_done')).toBe(1);
    expect(c.peer.clears).toEqual([]);
  });

  it('takes a pause longer than the endpoint as one turn when the caller goes on before any audio', async () => {
    const c = await call();
    c.stt.fallback = (n) => ({ text: n === 1 ? 'I want to ask about' : 'my home loan rate.' });
    await c.speak(800);
    await c.silence(700); // the endpoint (500 ms) passes; the reply is still silent
    expect(c.llm.requests).toHaveLength(1);
    await c.speak(800);
    await c.until(() => c.turns.length === 1);

    expect(c.turns[0]!.userText).toBe('I want to ask about my home loan rate.');
    expect(c.llm.requests).toHaveLength(2);
    expect(c.llm.last().at(-1)).toEqual({
      role: 'user',
      content: 'I want to ask about my home loan rate.',
    });
    expect(echoes(c, 'response_done')).toBe(1);
    expect(c.conversation.stats.merges).toBe(1);
  });

  it('drops a preemptive transcription when the caller resumes, and uses a fresh one', async () => {
    const c = await call({ env: { ENDPOINTING_MS: '900' } });
    c.stt.queue.push(
      { text: 'STALE half sentence', delayMs: 1500 },
      { text: 'fresh whole sentence', delayMs: 100 },
    );
    await c.speak(600);
    await c.silence(400); // preempt at 200 ms of silence; the endpoint (900 ms) is not reached
    await c.speak(600);
    await c.until(() => c.turns.length === 1);
    expect(c.stt.requests).toHaveLength(2);
    expect(c.stt.requests[0]!.signal.aborted).toBe(true);
    expect(c.turns[0]).toMatchObject({ userText: 'fresh whole sentence', preemptiveStt: true });
    expect(c.llm.last().at(-1)).toEqual({ role: 'user', content: 'fresh whole sentence' });
  });

  it('lets a backchannel shorter than BARGE_IN_MS pass while the bot talks, its transcription dropped', async () => {
    const c = await call();
    await c.speak(1000);
    await c.until(() => c.replyFrames() > 10);
    const sttBefore = c.stt.requests.length;
    await c.speak(140); // "haan": voiced, but under 200 ms
    await c.until(() => c.turns.length === 1);

    expect(c.peer.clears).toEqual([]);
    expect(c.turns[0]!.interrupted).toBe(false);
    expect(c.llm.requests).toHaveLength(1);
    // Its preemptive transcription (at 200 ms of silence) was aborted at the endpoint.
    expect(c.stt.requests.slice(sttBefore).map((r) => r.signal.aborted)).toEqual([true]);
    expect(c.conversation.stats.ignoredUtterances).toBe(1);
  });
});

describe('barge-in', () => {
  const long =
    'Let me explain our loan products in detail. First there is the home loan at eight percent. ' +
    'Then there is the car loan at nine percent. Finally the personal loan at twelve percent.';

  it('clears Exotel, stops the reply and keeps only what the caller heard', async () => {
    const c = await call();
    c.llm.queue.push({ text: long });
    c.stt.queue.push({ text: 'Tell me about loans.' }, { text: 'Stop, the car loan please.' });
    await c.speak(1000);
    await c.until(() => c.replyFrames() > 0);
    const replyStart = c.peer.frames.at(-c.replyFrames())!;
    await c.silence(2000);
    const ttsBefore = c.tts.requests.length;
    await c.speak(200); // the 200th ms of voice confirms the barge-in
    expect(c.peer.clears).toHaveLength(1);
    const clearedAt = c.peer.clears[0]!;
    const framesAtClear = c.peer.frames.length;
    await c.speak(600);
    await c.until(() => c.turns.length === 2);

    const [first, second] = c.turns;
    expect(first!.interrupted).toBe(true);
    expect(first!.botText.startsWith(first!.heardText)).toBe(true);
    expect(first!.heardText.length).toBeGreaterThan(0);
    expect(first!.heardText).not.toContain('car loan');
    // What was heard matches the audio played before the clear (40 ms of speech a character).
    const playedMs =
      c.peer.playedBetween(0, clearedAt) - c.peer.playedBetween(0, replyStart.playAt);
    expect(Math.abs(first!.heardText.length * 40 - playedMs)).toBeLessThan(600);
    // No more of the old reply: the next frames belong to the answer to the interruption.
    expect(c.tts.requests.slice(ttsBefore)).not.toContain(
      'Finally the personal loan at twelve percent.',
    );
    expect(c.peer.frames.length).toBeGreaterThan(framesAtClear);
    expect(second!.userText).toBe('Stop, the car loan please.');
    const history = c.llm.last();
    const assistant = history.filter((m) => m.role === 'assistant').at(-1)!;
    expect(assistant.content).toContain(INTERRUPTED_MARK);
    expect(assistant.content).not.toContain('personal loan');
  });

  it('an inbound clear interrupts the reply like speech', async () => {
    const c = await call();
    c.llm.queue.push({ text: long });
    await c.speak(1000);
    await c.until(() => c.replyFrames() > 10);
    c.conversation.onClear();
    await c.until(() => c.turns.length === 1);
    expect(c.turns[0]!.interrupted).toBe(true);
    expect(c.peer.clears).toHaveLength(1);
  });

  it('talking over the greeting clears it', async () => {
    const h = clock.track(
      await startHarness({
        env: { IDLE_AFTER_MS: '0', GREETING_TEXT: 'Namaste, welcome to Sahyog Bank home loans.' },
      }),
    );
    await h.until(() => h.peer.frames.length > 5);
    await h.speak(300);
    expect(h.peer.clears).toHaveLength(1);
    expect(h.conversation.stats.bargeIns).toBe(1);
  });
});

describe('provider failures', () => {
  it('an LLM that fails twice before any audio gets the cached fallback line, and the call goes on', async () => {
    const c = await call();
    c.llm.queue.push({ error: serverError() }, { error: serverError() });
    const ttsBefore = c.tts.requests.length;
    await c.speak(1000);
    await c.until(() => c.turns.length === 1);
    const failed = c.turns[0]!;
    expect(failed.fallback).toBe(true);
    expect(failed.errors).toEqual(['PROVIDER_SERVER_ERROR', 'PROVIDER_SERVER_ERROR']);
    expect(failed.heardText).toBe(c.plan.fallbackText);
    expect(c.tts.requests.slice(ttsBefore)).toEqual([]); // from the cache: TTS may be what failed
    expect(echoes(c, 'fallback_done')).toBe(1);

    await c.speak(1000);
    await c.until(() => c.turns.length === 2);
    expect(c.turns[1]!.fallback).toBe(false);
    expect(c.turns[1]!.heardText).not.toBe('');
  });

  it('an LLM failure retried once is no failure to the caller', async () => {
    const c = await call();
    c.llm.queue.push({ error: serverError() });
    await c.speak(1000);
    await c.until(() => c.turns.length === 1);
    expect(c.turns[0]!.fallback).toBe(false);
    expect(c.turns[0]!.errors).toEqual(['PROVIDER_SERVER_ERROR']);
    expect(c.llm.requests).toHaveLength(2);
  });

  it('a failure that retrying cannot help (auth) is not retried', async () => {
    const c = await call();
    c.llm.queue.push({ error: new VoicebotError('PROVIDER_AUTH', 'not authorised (401)') });
    await c.speak(1000);
    await c.until(() => c.turns.length === 1);
    expect(c.turns[0]!.fallback).toBe(true);
    expect(c.llm.requests).toHaveLength(1);
  });

  it('an STT failure on both tries is heard as "[inaudible]" and answered with the fallback', async () => {
    const c = await call();
    c.stt.queue.push({ error: serverError() }, { error: serverError() }, { error: serverError() });
    await c.speak(1000);
    await c.until(() => c.turns.length === 1);
    expect(c.turns[0]).toMatchObject({ userText: '[inaudible]', fallback: true });
    expect(c.llm.requests).toHaveLength(0);
  });

  it('TTS failing twice before any audio falls back; failing once is retried', async () => {
    const c = await call();
    c.tts.queue.push({ error: serverError() });
    await c.speak(1000);
    await c.until(() => c.turns.length === 1);
    expect(c.turns[0]!.fallback).toBe(false);
    expect(c.turns[0]!.errors).toEqual(['PROVIDER_SERVER_ERROR']);

    c.tts.queue.push({ error: serverError() }, { error: serverError() });
    await c.speak(1000);
    await c.until(() => c.turns.length === 2);
    expect(c.turns[1]!.fallback).toBe(true);
  });

  it('an LLM that breaks after its first sentence was heard ends the reply there, with no fallback', async () => {
    const c = await call();
    c.llm.queue.push({
      text: 'Your balance is five thousand rupees. And your next payment is due',
      failAfterTokens: 9,
      error: serverError(),
    });
    await c.speak(1000);
    await c.until(() => c.turns.length === 1);
    expect(c.turns[0]!.fallback).toBe(false);
    expect(c.turns[0]!.heardText).toBe('Your balance is five thousand rupees.');
    expect(c.llm.requests).toHaveLength(1);
  });

  it('an LLM that stalls before finishing its first sentence, twice, gets the fallback', async () => {
    const c = await call();
    const stalled = () =>
      new VoicebotError('PROVIDER_STALLED', 'llm: stream stalled for 800 ms', { retryable: true });
    c.llm.queue.push(
      { text: 'Let me check that for you', failAfterTokens: 3, error: stalled() },
      { text: 'Let me check that for you', failAfterTokens: 3, error: stalled() },
    );
    await c.speak(1000);
    await c.until(() => c.turns.length === 1);
    expect(c.turns[0]).toMatchObject({
      fallback: true,
      errors: ['PROVIDER_STALLED', 'PROVIDER_STALLED'],
      heardText: c.plan.fallbackText,
    });
  });

  it('an utterance with no words gets no reply', async () => {
    const c = await call();
    c.stt.queue.push({ text: '' });
    await c.speak(1000);
    await c.silence(2000);
    expect(c.turns).toHaveLength(0);
    expect(c.llm.requests).toHaveLength(0);
    expect(c.conversation.stats.ignoredUtterances).toBe(1);
  });
});

describe('large frames', () => {
  it('hears a frame longer than 100 ms in 100 ms pieces, and answers it as usual', async () => {
    const c = await call();
    const before = c.vadPushes.length;
    // One 1.6 s frame: a second of voice, then silence (legal, though Exotel sends ~100 ms).
    const frame = new Int16Array(RATE * 1.6);
    frame.fill(3000, 0, RATE);
    c.conversation.onAudio(Buffer.from(frame.buffer));
    await c.until(() => c.turns.length === 1);
    const pieces = c.vadPushes.slice(before, before + 16);
    expect(pieces).toEqual(Array(16).fill(RATE / 10));
    expect(c.turns[0]!.userText).toBe('What is my loan balance?');
  });
});

describe('keypad', () => {
  it('hands the digits to the LLM at # as "[keypad: 42]"', async () => {
    const c = await call();
    for (const d of ['4', '2', '#']) c.conversation.onDtmf(d);
    await c.until(() => c.turns.length === 1);
    expect(c.turns[0]).toMatchObject({ source: 'dtmf', userText: '[keypad: 42]' });
  });

  it('hands them over DTMF_TIMEOUT_MS after the last key without #', async () => {
    const c = await call();
    c.conversation.onDtmf('7');
    await c.silence(1400);
    expect(c.llm.requests).toHaveLength(0);
    await c.silence(200);
    expect(c.llm.requests).toHaveLength(1);
    expect(c.llm.last().at(-1)).toEqual({ role: 'user', content: '[keypad: 7]' });
  });

  it('a key interrupts the bot talking', async () => {
    const c = await call();
    c.llm.queue.push({
      text: 'This is a long answer. It goes on and on. And on and on some more.',
    });
    await c.speak(1000);
    await c.until(() => c.replyFrames() > 10);
    c.conversation.onDtmf('1');
    expect(c.peer.clears).toHaveLength(1);
  });
});

describe('hedged transcription', () => {
  it("gets a second request for a slow transcript while the process's budget lasts, then waits", async () => {
    const budget = new HedgeBudget(0.1, 1); // one hedge saved, a tenth earned per request
    const c = await call({ sttHedgeBudget: budget });
    const slow = { text: 'What is my loan balance?', delayMs: 3000 };

    // The preemptive request stalls; a second one is made 1 s after it started and answers.
    c.stt.queue.push(slow);
    await c.speak(1000);
    const spokeUntil = performance.now();
    await c.until(() => c.turns.length === 1);
    expect(c.stt.requests).toHaveLength(2);
    expect(c.turns[0]!.timings.sttEndAt! - spokeUntil).toBeLessThan(1600);

    // The budget is spent (1.2 earned, 1 spent): the next slow request is waited for alone.
    c.stt.queue.push(slow);
    await c.speak(1000);
    const again = performance.now();
    await c.until(() => c.turns.length === 2);
    expect(c.stt.requests).toHaveLength(3);
    expect(c.turns[1]!.timings.sttEndAt! - again).toBeGreaterThanOrEqual(2800);
  });
});

describe('resources', () => {
  it("leaves nothing listening on the call's signal, turn after turn", async () => {
    const c = await call();
    const listeners = () => getEventListeners(c.signal, 'abort').length;
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const atStart = listeners();
      // Fifteen turns of every kind: answered, interrupted, failed, late (the filler line).
      for (let i = 0; i < 15; i++) {
        const kind = i % 4;
        if (kind === 1) c.llm.queue.push({ text: 'A long answer. '.repeat(20) });
        if (kind === 2) c.llm.queue.push({ error: serverError() }, { error: serverError() });
        if (kind === 3) c.llm.queue.push({ text: 'Late.', firstTokenMs: 3000 });
        const framesBefore = c.replyFrames();
        await c.speak(1000);
        if (kind === 1) {
          await c.until(() => c.replyFrames() > framesBefore);
          await c.silence(1000);
          await c.speak(800); // a barge-in, and a turn of its own
          await c.until(() => c.turns.length === i + 2);
          await c.until(() => !c.player.isSpeaking());
          c.turns.pop(); // counted as this round's
        } else {
          await c.until(() => c.turns.length === i + 1);
          await c.until(() => !c.player.isSpeaking());
        }
        expect(listeners(), `after turn ${i + 1}`).toBe(atStart);
      }
      expect(c.turns.filter((t) => t.fallback)).toHaveLength(4);
      expect(c.turns.filter((t) => t.filler !== undefined)).toHaveLength(3);
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
