/**
 * Personal data stays out of the logs at every level, debug included, unless LOG_PII is on:
 * a whole call with a card number in the transcript and the caller's number in the start event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOpenAI } from '../fakes/index.js';
import { eventually, startServer } from '../helpers/app.js';
import { dialAndGreet, fixture, nextEcho } from '../helpers/calls.js';

const CARD = '4111 1111 1111 1111';
/** The simulator's caller number. */
const CALLER = '9800000001';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await FakeOpenAI.start();
  fake.transcriptions.setDefault({ kind: 'text', text: `My card number is ${CARD}.` });
  fake.chat.setDefault({ kind: 'stream', tokens: `I will never read out ${CARD}.` });
});
afterAll(() => fake.close());

/** The log lines with every JSON number value replaced by 0. */
function withoutNumbers(logs: string): string {
  return logs
    .split('\n')
    .map((line) =>
      JSON.stringify(JSON.parse(line), (_key, v: unknown) => (typeof v === 'number' ? 0 : v)),
    )
    .join('\n');
}

async function callAndLogs(env: Record<string, string>): Promise<string> {
  const server = await startServer({ OPENAI_BASE_URL: fake.baseUrl, LOG_LEVEL: 'debug', ...env });
  try {
    const c = await dialAndGreet(server.wsBase, { params: { customer_name: 'Asha Verma' } });
    const answered = nextEcho(c, 'response_done');
    c.sendDtmf('9');
    await c.say(await fixture('hello-16k.wav'));
    await answered;
    await c.hangup();
    await eventually(() => server.voicebot.registry.size === 0);
    return server.logs.map((l) => JSON.stringify(l)).join('\n');
  } finally {
    await server.close();
  }
}

describe('logs', () => {
  it('carry no transcript, reply, number or parameter at debug level', async () => {
    const logs = await callAndLogs({});
    expect(logs).toContain('"msg":"turn"'); // the lines are there...
    expect(logs).toContain('[redacted]'); // ...with their personal part blanked
    expect(logs).not.toContain(CARD);
    // Any piece of the card, in the text of the lines (their numbers are timestamps and timings,
    // which contain 4111 now and then: 1795819994111).
    expect(withoutNumbers(logs)).not.toContain('4111');
    expect(logs).not.toContain(CALLER);
    expect(logs).not.toContain('Asha');
    expect(logs).not.toContain('LOG_PII_ON');
  }, 60_000);

  it('carry them when LOG_PII=true, which the server announces', async () => {
    const logs = await callAndLogs({ LOG_PII: 'true' });
    expect(logs).toContain('LOG_PII_ON');
    expect(logs).toContain(CARD);
    expect(withoutNumbers(logs)).toContain('4111'); // the check above can see a leak
    expect(logs).toContain('Asha');
    expect(logs).toContain(CALLER);
  }, 60_000);
});
