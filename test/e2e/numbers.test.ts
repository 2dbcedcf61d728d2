/**
 * Numbers on a real call: the LLM writes digits, TTS gets words (lakh grouping, a phone number
 * digit by digit, a day-first date), and the call record keeps the LLM's text with the spoken
 * form beside it.
 */
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/app.js';
import { fixture, nextEcho } from '../helpers/calls.js';
import { LLM, useConversationEnv } from '../helpers/conversation-env.js';

const env = useConversationEnv();
const KEY = 'numbers-admin-key-0123';
const REPLY =
  'Aapka loan ₹1,50,000 ka hai. EMI ₹4,500 hai, due date 05/12/2026 hai. Humein 98765 43210 par call karein.';

describe('numbers in a reply', () => {
  it('reach TTS as words, and the record keeps what the LLM wrote', async () => {
    await env.restart({ ADMIN_API_KEY: KEY });
    env.fake.chat.setDefault({ kind: 'stream', tokens: REPLY, ...LLM });
    const c = await env.call({ language: 'Hinglish' });
    const played = nextEcho(c, 'response_done');
    await c.say(await fixture('hello-16k.wav'));
    await played;

    const inputs = env.speechInputs().filter((t) => t !== 'Hello.');
    expect(inputs.join(' ')).not.toMatch(/\d/);
    expect(inputs).toContain('Aapka loan one lakh fifty thousand rupees ka hai.');
    expect(inputs).toContain(
      'EMI four thousand five hundred rupees hai, due date fifth December twenty twenty six hai.',
    );
    expect(inputs).toContain(
      'Humein nine eight seven six five, four three two one zero par call karein.',
    );

    const turn = await eventually(() => env.server.turns[0]);
    expect(turn.botText).toBe(REPLY);
    expect(turn.spokenText).toContain('one lakh fifty thousand rupees');
    const stored = await eventually(async () => {
      const res = await fetch(`${env.server.httpBase}/api/calls/${c.callSid}`, {
        headers: { authorization: `Bearer ${KEY}` },
      });
      const body = (await res.json()) as {
        turns?: Array<{ role: string; text: string; spokenText?: string }>;
      };
      return body.turns?.find((t) => t.role === 'bot');
    });
    expect(stored.text).toBe(REPLY);
    expect(stored.spokenText).toBe(turn.spokenText);
  });

  it('are read in Hindi words for a Hindi persona', async () => {
    env.fake.chat.setDefault({ kind: 'stream', tokens: 'Aapka loan ₹1,50,000 ka hai.', ...LLM });
    const c = await env.call({ language: 'Hindi' });
    const played = nextEcho(c, 'response_done');
    await c.say(await fixture('hello-16k.wav'));
    await played;
    expect(env.speechInputs()).toContain('Aapka loan एक लाख पचास हज़ार रुपये ka hai.');
  });
});
