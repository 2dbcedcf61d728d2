/**
 * What the caller hears when a provider or a tool fails, as data: each row arranges one fault on
 * the virtual-clock harness (test/conversation/harness.ts; STT 300 ms, LLM first token 400 ms,
 * TTS first byte 250 ms, endpoint 500 ms, preemptive STT at 200 ms, default deadlines), says what
 * the caller hears and by when, and what the turn's record holds. `conversation-faults.test.ts`
 * runs every row; `docs/faults.md` is rendered from the same rows (`npm run docs:faults`).
 */
import { VoicebotError } from '../../src/errors.js';
import type { Harness } from '../conversation/harness.js';

/** A provider that never answers (aborted with the turn). */
export const HANG = 60 * 60 * 1000;

export type HeardLine = 'answer' | 'filler' | 'tool message' | 'fallback';

export interface ConversationFault {
  fault: string;
  /** Breaks the call after its greeting, before the caller's utterance. */
  arrange(c: Harness): void;
  /** Settings of its own (added to the harness's). */
  env?: Record<string, string>;
  /** Needs the loan agent (a tool whose `message` is its filler, 5 s timeout). */
  withTool?: boolean;
  /** What the caller hears, in order, and the latest each starts (ms after their last word). */
  heard: Array<{ line: HeardLine; byMs: number }>;
  /** The turn record. */
  stored: {
    fallback: boolean;
    errors: string[];
    userText?: string;
    filler: boolean;
    /** Each tool call's status. */
    tools?: string[];
  };
}

const serverError = () =>
  new VoicebotError('PROVIDER_SERVER_ERROR', 'server error (500)', { retryable: true });
const timeout = (what: string, ms: number) =>
  new VoicebotError('PROVIDER_TIMEOUT', `${what}: no answer in ${ms} ms`, { retryable: true });

export const CONVERSATION_FAULTS: ConversationFault[] = [
  {
    fault: 'Nothing fails (for comparison)',
    arrange: () => undefined,
    heard: [{ line: 'answer', byMs: 1300 }],
    stored: { fallback: false, errors: [], filler: false },
  },
  {
    fault: 'STT: the early (preemptive) request stalls',
    arrange: (c) => c.stt.queue.push({ delayMs: HANG }),
    heard: [{ line: 'answer', byMs: 2300 }],
    stored: { fallback: false, errors: [], filler: false },
  },
  {
    fault: 'STT hangs (every request)',
    arrange: (c) => (c.stt.fallback = { delayMs: HANG }),
    heard: [
      { line: 'filler', byMs: 2500 },
      { line: 'fallback', byMs: 8000 },
    ],
    stored: { fallback: true, errors: ['TURN_TIMEOUT'], userText: '[inaudible]', filler: true },
  },
  {
    fault: 'STT fails (HTTP 500) on both requests',
    arrange: (c) => c.stt.queue.push({ error: serverError() }, { error: serverError() }),
    heard: [{ line: 'fallback', byMs: 800 }],
    stored: {
      fallback: true,
      errors: ['PROVIDER_SERVER_ERROR'],
      userText: '[inaudible]',
      filler: false,
    },
  },
  {
    fault: 'LLM slow (first token after 3 s)',
    arrange: (c) =>
      c.llm.queue.push({ text: 'Your balance is five thousand rupees.', firstTokenMs: 3000 }),
    heard: [
      { line: 'filler', byMs: 2500 },
      { line: 'answer', byMs: 3900 },
    ],
    stored: { fallback: false, errors: [], filler: true },
  },
  {
    fault: 'LLM slow, with HOLD_AFTER_MS=0 and TURN_TIMEOUT_MS=0 (both turned off)',
    env: { HOLD_AFTER_MS: '0', TURN_TIMEOUT_MS: '0' },
    arrange: (c) =>
      c.llm.queue.push({ text: 'Your balance is five thousand rupees.', firstTokenMs: 3000 }),
    heard: [{ line: 'answer', byMs: 3900 }],
    stored: { fallback: false, errors: [], filler: false },
  },
  {
    fault: 'LLM hangs (both attempts)',
    arrange: (c) => (c.llm.fallback = { firstTokenMs: HANG }),
    heard: [
      { line: 'filler', byMs: 2500 },
      { line: 'fallback', byMs: 8000 },
    ],
    stored: { fallback: true, errors: ['TURN_TIMEOUT'], filler: true },
  },
  {
    fault: 'LLM times out once (LLM_TIMEOUT_MS), the retry answers',
    arrange: (c) => c.llm.queue.push({ firstTokenMs: 4000, error: timeout('llm', 4000) }),
    heard: [
      { line: 'filler', byMs: 2500 },
      { line: 'answer', byMs: 5300 },
    ],
    stored: { fallback: false, errors: ['PROVIDER_TIMEOUT'], filler: true },
  },
  {
    fault: 'LLM fails (HTTP 500) twice',
    arrange: (c) => c.llm.queue.push({ error: serverError() }, { error: serverError() }),
    heard: [{ line: 'fallback', byMs: 1300 }],
    stored: {
      fallback: true,
      errors: ['PROVIDER_SERVER_ERROR', 'PROVIDER_SERVER_ERROR'],
      filler: false,
    },
  },
  {
    fault: 'TTS hangs on the reply',
    arrange: (c) => c.tts.queue.push({ firstByteMs: HANG }),
    heard: [
      { line: 'filler', byMs: 2500 },
      { line: 'fallback', byMs: 8000 },
    ],
    stored: { fallback: true, errors: ['TURN_TIMEOUT'], filler: true },
  },
  {
    fault: 'TTS fails (HTTP 500) twice on the reply',
    arrange: (c) => c.tts.queue.push({ error: serverError() }, { error: serverError() }),
    heard: [{ line: 'fallback', byMs: 1100 }],
    stored: {
      fallback: true,
      errors: ['PROVIDER_SERVER_ERROR', 'PROVIDER_SERVER_ERROR'],
      filler: false,
    },
  },
  {
    fault: "A tool's backend hangs (the tool's 5 s timeout)",
    withTool: true,
    arrange: (c) => {
      c.llm.queue.push(
        { toolCalls: [{ name: 'check_loan_status', arguments: { application_id: 'HL-1' } }] },
        { text: 'Sorry, I cannot see your application right now.' },
      );
      c.backend.answers.set('check_loan_status', { delayMs: HANG });
    },
    heard: [
      { line: 'tool message', byMs: 1200 },
      { line: 'answer', byMs: 6800 },
    ],
    stored: { fallback: false, errors: [], filler: true, tools: ['timeout'] },
  },
];
