/** The turn-taking rules, one decision per case (pure). */
import { describe, expect, it } from 'vitest';
import {
  callerTakesFloor,
  keypadInput,
  utteranceEnded,
  type BotActivity,
} from '../../src/conversation/floor.js';

const idle: BotActivity = { outputSpeaking: false, closing: false };
const greeting: BotActivity = { outputSpeaking: true, closing: false };
const thinking: BotActivity = {
  turn: { audioStarted: false, locked: false },
  outputSpeaking: false,
  closing: false,
};
const talking: BotActivity = {
  turn: { audioStarted: true, locked: false },
  outputSpeaking: true,
  closing: false,
};
const goodbye: BotActivity = {
  turn: { audioStarted: true, locked: true },
  outputSpeaking: true,
  closing: false,
};
const closing: BotActivity = { outputSpeaking: true, closing: true };

describe('the caller takes the floor', () => {
  it.each([
    ['speech over a reply that made a sound', 'speech', talking, 'interrupt'],
    ['a bridge clear over a reply', 'clear', talking, 'interrupt'],
    ['a key over a reply', 'dtmf', talking, 'interrupt'],
    ['speech while the reply is still silent', 'speech', thinking, 'merge'],
    ['a clear while the reply is still silent', 'clear', thinking, 'keep'],
    ['a first key while the reply is still silent', 'dtmf', thinking, 'keep'],
    ['speech over the greeting', 'speech', greeting, 'clear-output'],
    ['speech on a quiet line', 'speech', idle, 'keep'],
    ['speech over a goodbye', 'speech', goodbye, 'keep'],
    ['speech while the call is closing', 'speech', closing, 'keep'],
  ] as const)('%s: %s', (_name, by, bot, expected) => {
    expect(callerTakesFloor(by, bot)).toBe(expected);
  });
});

describe('an utterance ends', () => {
  it.each([
    ['on a quiet line, however short', false, idle, 'answer'],
    ['a backchannel while the bot talks', false, talking, 'ignore'],
    ['a backchannel while the bot thinks', false, thinking, 'ignore'],
    ['a backchannel over the greeting', false, greeting, 'ignore'],
    ['a barge-in while the bot talks', true, talking, 'answer'],
    ['a barge-in over a goodbye', true, goodbye, 'ignore'],
    ['anything while the call is closing', true, closing, 'ignore'],
  ] as const)('%s', (_name, bargedIn, bot, expected) => {
    expect(utteranceEnded({ bargedIn }, bot)).toBe(expected);
  });
});

describe('keypad input is complete', () => {
  it.each([
    ['over a reply', talking, 'interrupt'],
    ['while the reply is silent: it takes the turn over', thinking, 'merge'],
    ['over the greeting', greeting, 'clear-output'],
    ['on a quiet line', idle, 'keep'],
    ['over a goodbye', goodbye, 'keep'],
  ] as const)('%s', (_name, bot, expected) => {
    expect(keypadInput(bot)).toBe(expected);
  });
});
