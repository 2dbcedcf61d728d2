/**
 * Conversation end to end, on real speech with the Silero VAD: a normal turn and a mid-sentence
 * pause. The rules themselves (merging, preemption, DTMF, timings) are on the virtual clock in
 * test/conversation.
 */
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/app.js';
import { fixture, nextEcho, nextMark, sleep } from '../helpers/calls.js';
import { STT, useConversationEnv } from '../helpers/conversation-env.js';

const env = useConversationEnv();

describe('a normal turn', () => {
  it('transcribes, answers sentence by sentence, and records every stage', async () => {
    const c = await env.call({ persona_name: 'Meera', city: 'Pune', language: 'Hindi' });
    const reply = nextMark(c, 'response_done');
    const played = nextEcho(c, 'response_done');
    await c.say(await fixture('hello-16k.wav'));
    await reply;
    await played;

    // STT got the utterance as a WAV with the persona's language as a hint.
    const stt = env.fake.transcriptions.requests.at(-1)!;
    expect(stt.body.model).toBe('whisper-1');
    expect(stt.body.language).toBe('hi');
    // The LLM got the persona prompt and the transcript, streamed.
    const chat = env.fake.chat.requests.at(-1)!.body;
    expect(chat.model).toBe('gpt-4o-mini');
    expect(chat.stream).toBe(true);
    expect(chat.messages[0]?.role).toBe('system');
    expect(chat.messages[0]?.content).toContain('Meera');
    expect(env.lastUserMessage()).toBe('What is my loan balance?');
    // Each sentence went to TTS on its own.
    expect(env.speechInputs()).toContain('Your balance is five thousand rupees.');
    expect(env.speechInputs()).toContain('Anything else?');

    const turn = await eventually(() => env.server.turns[0]);
    expect(turn.userText).toBe('What is my loan balance?');
    expect(turn.heardText).toBe('Your balance is five thousand rupees. Anything else?');
    expect(turn.interrupted).toBe(false);
    const t = turn.timings;
    const order = [
      t.speechEndAt,
      t.endpointAt,
      t.llmRequestAt,
      t.llmFirstTokenAt,
      t.firstSentenceAt,
      t.ttsFirstByteAt,
      t.firstAudioAt,
      t.replyEndAt,
    ];
    for (const v of order) expect(v).toBeTypeOf('number');
    for (let i = 1; i < order.length; i++) expect(order[i]!).toBeGreaterThanOrEqual(order[i - 1]!);
    // Preemptive STT hid the transcription behind the endpoint wait.
    expect(turn.preemptiveStt).toBe(true);
    expect(t.sttStartAt!).toBeLessThan(t.endpointAt!);
  });

  it('does not cut the caller off at a 600 ms mid-sentence pause (default settings)', async () => {
    let n = 0;
    env.fake.transcriptions.setDefault(() => ({
      kind: 'text',
      text: ++n === 1 ? 'I want to ask about' : 'my home loan interest rate.',
      ...STT,
    }));
    const c = await env.call();
    await c.say(await fixture('pause-16k.wav'));
    await nextEcho(c, 'response_done');
    await sleep(500);
    expect(c.clears).toEqual([]);
    expect(c.marks.filter((m) => m.name.startsWith('response_done'))).toHaveLength(1);
    expect(env.server.turns).toHaveLength(1);
    expect(env.server.turns[0]!.userText).toMatch(
      /I want to ask about.*my home loan interest rate\./,
    );
    expect(env.lastUserMessage()).toBe(env.server.turns[0]!.userText);
  });
});
