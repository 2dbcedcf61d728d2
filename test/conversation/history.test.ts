/** The LLM's view of the call: whole exchanges, heard replies, tool calls paired with results. */
import { describe, expect, it } from 'vitest';
import { heardText, heardOf, lineSpeech } from '../../src/conversation/heard-text.js';
import {
  ChatHistory,
  INTERRUPTED_BEFORE_ANSWER,
  INTERRUPTED_MARK,
  heardReply,
} from '../../src/conversation/history.js';
import type { ChatMessage } from '../../src/providers/llm/types.js';
import type { Utterance } from '../../src/conversation/audio-output.js';

const user = (n: number): ChatMessage => ({ role: 'user', content: `q${n}` });
const bot = (n: number): ChatMessage => ({ role: 'assistant', content: `a${n}` });

describe('ChatHistory', () => {
  it('keeps the newest exchanges whole, tool calls and results included', () => {
    const h = new ChatHistory(2);
    h.add([user(1), bot(1)]);
    h.add([
      user(2),
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 'c1', content: '{"ok":true}' },
      bot(2),
    ]);
    h.add([user(3), bot(3)]);
    const messages = h.messages();
    expect(messages.map((m) => m.role)).toEqual([
      'user',
      'assistant',
      'tool',
      'assistant',
      'user',
      'assistant',
    ]);
    expect(messages[0]).toEqual(user(2));
    expect(h.size).toBe(2);
  });
});

describe('heardReply', () => {
  it('is the heard text itself when nothing was cut', () => {
    expect(heardReply('Your balance is 500.', false)).toEqual({
      role: 'assistant',
      content: 'Your balance is 500.',
    });
  });
  it('marks a reply the caller cut off, or one they cut before it began', () => {
    expect(heardReply('Your balance', true).content).toBe(`Your balance… ${INTERRUPTED_MARK}`);
    expect(heardReply('', true).content).toBe(INTERRUPTED_BEFORE_ANSWER);
  });
});

describe('heardText', () => {
  const sentences = [
    { text: 'Your balance is five thousand.', audioMs: 1000 },
    { text: 'Anything else I can do?', audioMs: 1000 },
  ];
  it.each([
    [0, ''],
    [500, 'Your balance is'],
    [1000, 'Your balance is five thousand.'],
    [1500, 'Your balance is five thousand. Anything'],
    [2000, 'Your balance is five thousand. Anything else I can do?'],
    [9000, 'Your balance is five thousand. Anything else I can do?'],
  ])('after %i ms: "%s"', (ms, expected) => {
    expect(heardText(sentences, ms)).toBe(expected);
  });

  it('a fixed line is heard whole unless its utterance was cut', () => {
    const speech = lineSpeech('filler', 1, 'One moment, please.', {} as Utterance, 800);
    expect(heardOf(speech)).toBe('One moment, please.');
    expect(heardOf(speech, 400)).toBe('One');
  });
});
