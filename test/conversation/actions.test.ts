/**
 * The bot acting, on the virtual clock: HTTP tools (the backend is scripted at the HTTP
 * boundary; `callHttpTool` has its own tests against a real server), the filler line, barge-in
 * during a tool, the bound on rounds, `end_call`, `transfer_call`, idle prompts and the call's
 * time limit.
 */
import { describe, expect, it } from 'vitest';
import { loadAgentProfiles, type AgentProfile } from '../../src/agents/index.js';
import type { ChatMessage } from '../../src/providers/llm/types.js';
import { LOAN_TRANSFER_NUMBER, loanAgent, loanAgentDir } from '../helpers/loan-agent.js';
import {
  echoed,
  greetedCall,
  virtualClockPerTest,
  type Harness,
  type HarnessOptions,
} from './harness.js';

const BRANCH_HOURS = {
  name: 'branch_hours',
  description: 'Opening hours of the branch in a city.',
  parameters: { type: 'object', properties: { city: { type: 'string' } } },
  url: 'https://crm.example.com/hours',
  method: 'GET',
};

async function loanProfile(extra: Record<string, unknown> = {}): Promise<AgentProfile> {
  const base = loanAgent('https://crm.example.com/loan-status');
  const dir = await loanAgentDir({ ...base, tools: [...base.tools, BRANCH_HOURS], ...extra });
  const registry = await loadAgentProfiles(dir, { env: (n) => ({ CRM_TOKEN: 't' })[n] });
  return registry.get('loan')!;
}

const clock = virtualClockPerTest();
/** A call on the loan agent whose greeting was heard and whose lines are synthesized. */
async function call(opts: HarnessOptions & { profile?: Record<string, unknown> } = {}) {
  const profile = await loanProfile(opts.profile);
  return greetedCall(clock, {
    ...opts,
    profiles: [profile],
    params: { agent: 'loan', ...opts.params },
  });
}
const toolMessages = (messages: ChatMessage[]) => messages.filter((m) => m.role === 'tool');
/** The text of the tool messages (ours are always strings). */
const toolTexts = (messages: ChatMessage[]) =>
  toolMessages(messages).map((m) => (typeof m.content === 'string' ? m.content : ''));
const offered = (c: Harness, n = 0) =>
  (c.llm.requests[n]?.tools ?? []).map((t) => t.function.name).sort();

describe('tools', () => {
  it('offers the tools, runs the call and answers from its result', async () => {
    const c = await call();
    c.llm.queue.push(
      { toolCalls: [{ name: 'check_loan_status', arguments: { application_id: 'HL-2291' } }] },
      { text: 'Aapka loan approve ho gaya hai.' },
    );
    c.backend.answers.set('check_loan_status', {
      result: { status: 'ok', content: '{"status":"approved"}' },
    });
    await c.speak(1000);
    await c.until(() => c.turns.length === 1);

    expect(offered(c)).toEqual(['branch_hours', 'check_loan_status', 'end_call', 'transfer_call']);
    expect(c.backend.calls.map((x) => [x.tool, x.args])).toEqual([
      ['check_loan_status', { application_id: 'HL-2291' }],
    ]);
    const second = c.llm.requests[1]!.messages;
    const call1 = second.find((m) => m.role === 'assistant' && 'tool_calls' in m && m.tool_calls);
    expect(call1).toMatchObject({
      tool_calls: [{ type: 'function', function: { name: 'check_loan_status' } }],
    });
    expect(toolMessages(second)).toEqual([
      { role: 'tool', tool_call_id: 'call_1_0', content: '{"status":"approved"}' },
    ]);
    const turn = c.turns[0]!;
    expect(turn.heardText).toBe('Aapka loan approve ho gaya hai.');
    expect(turn.toolCalls).toMatchObject([
      { name: 'check_loan_status', status: 'ok', round: 1, result: '{"status":"approved"}' },
    ]);
    // The next turn's history carries the call and its result.
    await c.speak(1000);
    await c.until(() => c.turns.length === 2);
    expect(toolMessages(c.llm.last())).toHaveLength(1);
  });

  it("says the tool's line within about a second when the backend is slow, then the answer", async () => {
    const c = await call();
    c.llm.queue.push(
      { toolCalls: [{ name: 'check_loan_status', arguments: { application_id: 'HL-2291' } }] },
      { text: 'Aapka loan approve ho gaya hai.' },
    );
    c.backend.answers.set('check_loan_status', { delayMs: 2500 });
    const ttsBefore = c.tts.requests.length;
    await c.speak(1000);
    const speechEnd = performance.now();
    await c.until(() => c.turns.length === 1);

    const turn = c.turns[0]!;
    expect(turn.filler).toBe('Ek second, main check karti hoon.');
    expect(turn.heardText).toBe(
      'Ek second, main check karti hoon. Aapka loan approve ho gaya hai.',
    );
    const filler = c.peer.marks.find((m) => m.name.startsWith('filler_done'))!;
    const fillerStart = c.peer.firstPlayAfter(speechEnd)!;
    // Endpoint 500 + first token 400 + the call's 20 ms + 250 ms grace: heard by 1.2 s.
    expect(fillerStart - speechEnd).toBeLessThanOrEqual(1200);
    expect(filler.at).toBeLessThan(
      c.peer.marks.find((m) => m.name.startsWith('response_done'))!.at,
    );
    // Synthesized at call start: no TTS wait for it now.
    expect(c.tts.requests.slice(ttsBefore)).toEqual(['Aapka loan approve ho gaya hai.']);
  });

  it('a fast tool gets no filler', async () => {
    const c = await call();
    c.llm.queue.push(
      { toolCalls: [{ name: 'branch_hours', arguments: { city: 'Pune' } }] },
      { text: 'Branch das baje khulti hai.' },
    );
    c.backend.answers.set('branch_hours', { delayMs: 100 });
    await c.speak(1000);
    await c.until(() => c.turns.length === 1);
    expect(c.turns[0]!.filler).toBeUndefined();
    expect(c.peer.marks.some((m) => m.name.startsWith('filler_done'))).toBe(false);
  });

  it('runs parallel calls side by side', async () => {
    const c = await call();
    c.llm.queue.push(
      {
        toolCalls: [
          { name: 'branch_hours', arguments: { city: 'Pune' } },
          { name: 'branch_hours', arguments: { city: 'Mumbai' } },
        ],
      },
      { text: 'Dono branch das baje khulti hain.' },
    );
    c.backend.answers.set('branch_hours', { delayMs: 1000 });
    await c.speak(1000);
    await c.until(() => c.turns.length === 1);
    const [a, b] = c.backend.calls;
    expect(Math.abs(a!.at - b!.at)).toBeLessThanOrEqual(20);
    expect(toolMessages(c.llm.requests[1]!.messages)).toHaveLength(2);
    // Both answered in one round: the second request came about 1 s after the calls, not 2 s.
    const asked = c.llm.requests.length;
    expect(asked).toBe(2);
  });

  it('tells the model what went wrong and goes on: bad arguments, a timeout', async () => {
    const c = await call();
    c.llm.queue.push(
      {
        toolCalls: [
          { name: 'check_loan_status', arguments: { application: 'HL-1' } },
          { name: 'branch_hours', arguments: '{"city": "Pu' },
          { name: 'send_money', arguments: {} },
        ],
      },
      { text: 'Mujhe aapka application number chahiye.' },
    );
    await c.speak(1000);
    await c.until(() => c.turns.length === 1);
    expect(c.backend.calls).toEqual([]);
    const results = toolTexts(c.llm.requests[1]!.messages);
    expect(results[0]).toMatch(/do not match.*application_id/);
    expect(results[1]).toMatch(/not valid JSON/);
    expect(results[2]).toMatch(/no tool send_money/);
    expect(c.turns[0]!.toolCalls.map((t) => t.status)).toEqual([
      'rejected',
      'rejected',
      'rejected',
    ]);

    c.llm.queue.push(
      { toolCalls: [{ name: 'check_loan_status', arguments: { application_id: 'HL-7' } }] },
      { text: 'System abhi jawab nahi de raha.' },
    );
    c.backend.answers.set('check_loan_status', { delayMs: 9000 });
    await c.speak(1000);
    await c.until(() => c.turns.length === 2);
    expect(c.turns[1]!.toolCalls).toMatchObject([{ status: 'timeout' }]);
    expect(toolTexts(c.llm.last()).at(-1)).toMatch(/no answer within 5000 ms/);
  });

  it('a barge-in during a slow tool cancels it and keeps what was heard', async () => {
    const c = await call();
    c.llm.queue.push(
      { toolCalls: [{ name: 'check_loan_status', arguments: { application_id: 'HL-2291' } }] },
      { text: 'Aapka loan approve ho gaya hai.' },
    );
    c.backend.answers.set('check_loan_status', { delayMs: 6000 });
    await c.speak(1000);
    await c.until(() => c.peer.marks.some((m) => m.name.startsWith('filler_done')));
    await c.speak(600);
    await c.until(() => c.turns.length === 1 && c.llm.requests.length === 2);
    expect(c.peer.clears).toHaveLength(1);
    expect(c.backend.calls[0]!.cancelled).toBe(true);
    const turn = c.turns[0]!;
    expect(turn.interrupted).toBe(true);
    expect(turn.toolCalls).toMatchObject([{ name: 'check_loan_status', status: 'cancelled' }]);
    expect(c.llm.requests).toHaveLength(1 + 1); // the interrupted one, and the caller's new turn
  });

  it('after TOOL_MAX_ROUNDS rounds the model must answer in words', async () => {
    const c = await call({ env: { TOOL_MAX_ROUNDS: '2' } });
    c.llm.fallback = (n) =>
      n <= 3
        ? { toolCalls: [{ name: 'branch_hours', arguments: { city: `C${n}` } }] }
        : { text: 'Okay.' };
    c.backend.answers.set('branch_hours', { delayMs: 50 });
    await c.speak(1000);
    await c.until(() => c.turns.length === 1);
    expect(c.llm.requests.map((r) => r.toolChoice)).toEqual([undefined, undefined, 'none']);
    expect(c.backend.calls).toHaveLength(2);
    expect(c.turns[0]!.toolCalls.map((t) => t.status)).toEqual(['ok', 'ok', 'cancelled']);
  });
});

describe('ending the call', () => {
  it("end_call: the model's goodbye plays to the end, no barge-in cuts it, then the call ends", async () => {
    const c = await call();
    c.llm.queue.push({
      text: 'Aapka din shubh ho, namaste!',
      toolCalls: [{ name: 'end_call', arguments: { reason: 'caller said bye' } }],
    });
    await c.speak(1000);
    await c.until(() => c.replyMs() > 400);
    await c.speak(500); // the caller talks over the goodbye
    expect(c.peer.clears).toEqual([]);
    await c.until(() => c.ends.length === 1);

    expect(c.ends[0]).toEqual({ reason: 'end_call', detail: 'caller said bye' });
    const goodbye = c.peer.marks.find((m) => m.name.startsWith('response_done'))!;
    expect(goodbye.echoedAt).toBeDefined();
    expect(performance.now()).toBeGreaterThanOrEqual(goodbye.echoedAt!);
    expect(c.turns[0]).toMatchObject({
      ending: 'end_call',
      interrupted: false,
      heardText: 'Aapka din shubh ho, namaste!',
      toolCalls: [{ name: 'end_call', status: 'ok' }],
    });
    expect(c.conversation.stats.turns).toBe(1); // the talk-over was not answered
  });

  it("end_call without words says the profile's goodbye line", async () => {
    const c = await call();
    c.llm.queue.push({ toolCalls: [{ name: 'end_call', arguments: { reason: 'done' } }] });
    await c.speak(1000);
    await c.until(() => c.ends.length === 1);
    expect(c.turns[0]!.heardText).toBe('Dhanyavaad, aapka din shubh ho.');
    expect(echoed(c, 'goodbye_done')).toBe(true);
  });

  it('end_call is not offered when the profile says end_call: false', async () => {
    const c = await call({ profile: { end_call: false } });
    await c.speak(1000);
    await c.until(() => c.turns.length === 1);
    expect(offered(c)).not.toContain('end_call');
  });

  it('transfer_call: the transfer line, then the call ends with the number to dial', async () => {
    const c = await call();
    c.llm.queue.push({
      toolCalls: [{ name: 'transfer_call', arguments: { reason: 'wants a person' } }],
    });
    await c.speak(1000);
    await c.until(() => c.ends.length === 1);
    expect(c.ends[0]).toEqual({
      reason: 'transfer',
      detail: 'wants a person',
      transferTo: LOAN_TRANSFER_NUMBER,
    });
    expect(c.turns[0]).toMatchObject({
      ending: 'transfer',
      heardText: 'Main aapko apne colleague se jod rahi hoon.',
    });
  });

  it('transfer_call is offered only with a transfer number and a CallSid', async () => {
    const c = await call({ profile: { transfer: undefined } });
    await c.speak(1000);
    await c.until(() => c.turns.length === 1);
    expect(offered(c)).not.toContain('transfer_call');
    const d = await call({ callSid: '' });
    await d.speak(1000);
    await d.until(() => d.turns.length === 1);
    expect(offered(d)).not.toContain('transfer_call');
  });

  it('a silent line gets the idle prompt twice, then the goodbye and the end', async () => {
    const c = await call({ env: { IDLE_AFTER_MS: '10000' } });
    const start = c.peer.marks.find((m) => m.name.startsWith('greeting_done'))!.echoedAt!;
    await c.until(() => c.ends.length === 1, 60_000);
    expect(c.ends[0]).toEqual({ reason: 'idle' });
    expect(c.conversation.stats.idlePrompts).toBe(2);
    const prompts = c.peer.marks.filter((m) => m.name.startsWith('idle_done'));
    expect(prompts).toHaveLength(2);
    // The profile's 8 s after the greeting, then 8 s after the first prompt was heard.
    expect(prompts[0]!.at - start).toBeGreaterThanOrEqual(8000);
    expect(prompts[0]!.at - start).toBeLessThan(8000 + 2000);
    expect(echoed(c, 'goodbye_done')).toBe(true);
  });

  it('an answer resets the idle count', async () => {
    const c = await call();
    await c.silence(8500);
    expect(c.conversation.stats.idlePrompts).toBe(1);
    await c.speak(1000);
    await c.until(() => c.turns.length === 1);
    await c.silence(8500);
    expect(c.conversation.stats.idlePrompts).toBe(2);
    expect(c.ends).toEqual([]); // a fresh count: one prompt so far, not the end
  });

  it('the time limit ends the call with the goodbye, cutting a reply short', async () => {
    const c = await call({ env: { MAX_CALL_MS: '10000' } });
    c.llm.queue.push({ text: 'Ek lambi kahani hai. '.repeat(20) });
    await c.speak(1000);
    await c.until(() => c.ends.length === 1, 20_000);
    expect(c.ends[0]).toEqual({ reason: 'max_duration' });
    expect(c.turns[0]!.interrupted).toBe(true);
    expect(echoed(c, 'goodbye_done')).toBe(true);
  });
});
