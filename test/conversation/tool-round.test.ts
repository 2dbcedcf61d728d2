/**
 * One LLM round's tool calls: a call starts the moment the model completes it (not a microtask
 * later), or, in a speculative turn, only once the turn is confirmed; a turn the caller
 * abandons runs none of them.
 */
import { describe, expect, it } from 'vitest';
import { ToolRound } from '../../src/conversation/tool-round.js';
import { compileArguments } from '../../src/tools/arguments.js';
import { Toolbox } from '../../src/tools/toolbox.js';
import { ScriptedBackend } from './harness.js';

function toolbox(backend: ScriptedBackend): Toolbox {
  const parameters = { type: 'object', properties: { id: { type: 'string' } } } as const;
  return new Toolbox({
    tools: [
      {
        name: 'loan_status',
        description: 'A loan application status',
        parameters,
        url: 'http://127.0.0.1:1/status',
        method: 'GET',
        headers: {},
        timeoutMs: 1_000,
        checkArguments: compileArguments(parameters),
      },
    ],
    invoke: backend.invoke,
    endCall: true,
    transfer: false,
    maxResultBytes: 4_096,
  });
}

const call = { id: 'c1', name: 'loan_status', arguments: '{"id":"HL-1"}' };

describe('a tool round', () => {
  it('starts a call as soon as the model completes it', () => {
    const backend = new ScriptedBackend();
    backend.delayMs = 0;
    const round = new ToolRound(toolbox(backend), 0, true, new AbortController().signal);
    round.take(call);
    expect(backend.calls.map((c) => c.args)).toEqual([{ id: 'HL-1' }]);
  });

  it('waits for a speculative turn to be confirmed, and runs nothing for one abandoned', async () => {
    const backend = new ScriptedBackend();
    backend.delayMs = 0;
    let confirm!: () => void;
    const confirmed = new ToolRound(
      toolbox(backend),
      0,
      true,
      new AbortController().signal,
      new Promise<void>((r) => (confirm = r)),
    );
    confirmed.take(call);
    await Promise.resolve();
    expect(backend.calls).toEqual([]);
    confirm();
    const [outcome] = await confirmed.results();
    expect(outcome!.record.status).toBe('ok');
    expect(backend.calls).toHaveLength(1);

    const abandoned = new ToolRound(
      toolbox(backend),
      0,
      true,
      new AbortController().signal,
      Promise.reject(new Error('discarded')),
    );
    abandoned.take(call);
    const [none] = await abandoned.results();
    expect(none!.record).toMatchObject({
      status: 'cancelled',
      result: 'not run: the caller went on',
    });
    expect(backend.calls).toHaveLength(1);
  });
});
