/**
 * Speculative replies on the virtual clock (harness provider model: STT 300 ms, LLM first token
 * 400 ms + 20 ms a token, TTS first byte 250 ms; endpointing 500 ms). With PREEMPT_MS=100 the
 * preemptive transcript is in 400 ms into the caller's silence, before the endpoint: the reply
 * starts then, and nothing of it (audio, tools) reaches anyone until the endpoint confirms it.
 */
import { describe, expect, it } from 'vitest';
import { loadAgentProfiles } from '../../src/agents/index.js';
import { stageDurations } from '../../src/conversation/turn-record.js';
import { loanAgent, loanAgentDir } from '../helpers/loan-agent.js';
import {
  echoes,
  greetedCall,
  virtualClockPerTest,
  type Harness,
  type HarnessOptions,
} from './harness.js';

const clock = virtualClockPerTest();

const call = (opts: HarnessOptions = {}): Promise<Harness> =>
  greetedCall(clock, { ...opts, env: { PREEMPT_MS: '100', ...opts.env } });

describe('speculative reply', () => {
  it('asks the LLM on the preemptive transcript and speaks at the endpoint, 100 ms sooner', async () => {
    const c = await call();
    const framesBefore = c.peer.frames.length;
    await c.speak(1000);
    await c.until(() => c.turns.length === 1);

    const turn = c.turns[0]!;
    const t = turn.timings;
    expect(turn).toMatchObject({
      index: 1,
      userText: 'What is my loan balance?',
      heardText: 'Your balance is five thousand rupees. Anything else?',
      preemptiveStt: true,
    });
    expect(c.stt.requests).toHaveLength(1);
    expect(c.llm.requests).toHaveLength(1);
    // The LLM was asked 400 ms into the silence (100 + STT 300), before the endpoint (500).
    expect(t.llmRequestAt! - t.speechEndAt!).toBeCloseTo(400, -1);
    expect(t.llmRequestAt!).toBeLessThan(t.endpointAt!);
    // No reply frame before the endpoint.
    const replyFrames = c.peer.frames.slice(framesBefore);
    expect(replyFrames[0]!.at).toBeGreaterThanOrEqual(t.endpointAt!);
    // Voice end → first frame: 400 + first token 400 + 7 tokens + TTS 250 (+ the start cushion),
    // against 500 + 400 + 140 + 250 for a reply started at the endpoint.
    const d = stageDurations(t);
    expect(d.endpointMs).toBe(500);
    expect(d.firstAudioMs).toBeLessThanOrEqual(400 + 400 + 7 * 20 + 250 + 60);
    expect(d.firstAudioMs).toBeLessThan(500 + 400 + 7 * 20 + 250);
    expect(c.conversation.stats).toMatchObject({ speculations: 1, speculationsUsed: 1 });
    expect(echoes(c, 'response_done')).toBe(1);
  });

  it('holds a reply that is ready before the endpoint until the endpoint', async () => {
    const c = await call();
    c.llm.firstTokenMs = 10;
    c.llm.perTokenMs = 1;
    c.tts.firstByteMs = 10;
    const framesBefore = c.peer.frames.length;
    await c.speak(1000);
    await c.until(() => c.turns.length === 1);

    const t = c.turns[0]!.timings;
    // Audio was in 430 ms into the silence; it waited for the endpoint at 500.
    expect(t.ttsFirstByteAt!).toBeLessThan(t.endpointAt!);
    expect(c.peer.frames[framesBefore]!.at).toBeGreaterThanOrEqual(t.endpointAt!);
    expect(t.firstAudioAt!).toBeGreaterThanOrEqual(t.endpointAt!);
    expect(stageDurations(t).firstAudioMs).toBeLessThanOrEqual(500 + 60);
  });

  it('discards the reply when the caller goes on: its requests aborted, nothing heard, one turn', async () => {
    const c = await call();
    c.stt.fallback = (n) => ({
      text: n === 1 ? 'I want to ask about' : 'I want to ask about my home loan rate.',
    });
    c.llm.queue.push({ text: 'Sure, what would you like to know?' });
    await c.speak(800);
    await c.silence(450); // the speculation starts at 400 ms; the endpoint (500) is not reached
    expect(c.llm.requests).toHaveLength(1);
    await c.speak(800);
    await c.until(() => c.turns.length === 1);

    expect(c.llm.requests).toHaveLength(2);
    expect(c.llm.requests[0]!.signal.aborted).toBe(true);
    expect(c.llm.requests[0]!.messages.at(-1)).toEqual({
      role: 'user',
      content: 'I want to ask about',
    });
    expect(c.turns).toHaveLength(1);
    expect(c.turns[0]).toMatchObject({
      index: 1,
      userText: 'I want to ask about my home loan rate.',
      heardText: 'Your balance is five thousand rupees. Anything else?',
    });
    expect(c.tts.requests).not.toContain('Sure, what would you like to know?');
    expect(echoes(c, 'response_done')).toBe(1);
    // One discard on the first turn spends the call's waste budget: the end was not guessed.
    expect(c.conversation.stats).toMatchObject({ speculations: 1, speculationsUsed: 0 });
    const t = c.turns[0]!.timings;
    expect(t.llmRequestAt!).toBeGreaterThanOrEqual(t.endpointAt!);
  });

  it('wastes at most one LLM request per three turns for a caller who pauses mid-sentence', async () => {
    const c = await call();
    const turns = 9;
    for (let i = 0; i < turns; i++) {
      await c.speak(800);
      await c.silence(450); // long enough to be guessed the end, short of the endpoint
      await c.speak(800);
      await c.until(() => c.turns.length === i + 1);
      await c.until(() => echoes(c, 'response_done') === i + 1);
    }
    const wasted = c.llm.requests.length - turns;
    expect(wasted).toBeGreaterThanOrEqual(1);
    expect(wasted).toBeLessThanOrEqual(turns / 3);
    expect(c.conversation.stats.speculations - c.conversation.stats.speculationsUsed).toBe(wasted);
  });

  it('runs no tool before the endpoint, and none at all for a discarded reply', async () => {
    const dir = await loanAgentDir(loanAgent('https://crm.example.com/loan-status'));
    const registry = await loadAgentProfiles(dir, { env: (n) => ({ CRM_TOKEN: 't' })[n] });
    const c = await call({ profiles: [registry.get('loan')!], params: { agent: 'loan' } });
    c.llm.firstTokenMs = 10;
    const lookup = {
      toolCalls: [{ name: 'check_loan_status', arguments: { application_id: 'HL-2291' } }],
    };
    c.llm.queue.push(lookup, lookup, { text: 'It is approved.' });
    c.stt.fallback = (n) => ({ text: n === 1 ? 'Is my loan' : 'Is my loan HL-2291 approved?' });

    await c.speak(800);
    await c.silence(450); // the model asked for the tool at once; the caller goes on
    await c.speak(800);
    await c.until(() => c.turns.length === 1);

    // Only the confirmed turn's call ran, and only after its endpoint.
    expect(c.backend.calls).toHaveLength(1);
    expect(c.backend.calls[0]!.at).toBeGreaterThanOrEqual(c.turns[0]!.timings.endpointAt!);
    expect(c.turns[0]!.toolCalls.map((x) => x.status)).toEqual(['ok']);
    expect(c.turns[0]!.heardText).toBe('It is approved.');
  });

  it('is off with SPECULATIVE_REPLY=false: the LLM waits for the endpoint', async () => {
    const c = await call({ env: { SPECULATIVE_REPLY: 'false' } });
    await c.speak(1000);
    await c.until(() => c.turns.length === 1);
    const t = c.turns[0]!.timings;
    expect(t.llmRequestAt!).toBeGreaterThanOrEqual(t.endpointAt!);
    expect(c.conversation.stats.speculations).toBe(0);
  });
});
