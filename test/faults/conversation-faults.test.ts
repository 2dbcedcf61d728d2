/**
 * Runs every row of the conversation fault table on the virtual clock: the caller says one
 * sentence, the row's fault is in place, and what the caller hears (each utterance, in order,
 * and when its first frame played, counted from the caller's last word) and what the turn's
 * record holds must be what the row says. docs/faults.md is rendered from the same rows.
 */
import { describe, expect, it } from 'vitest';
import { loadAgentProfiles } from '../../src/agents/index.js';
import {
  startHarness,
  virtualClockPerTest,
  type Harness,
  type PeerFrame,
} from '../conversation/harness.js';
import { loanAgent, loanAgentDir } from '../helpers/loan-agent.js';
import { CONVERSATION_FAULTS, type HeardLine } from './conversation-faults.js';

const clock = virtualClockPerTest();

async function call(withTool: boolean, env: Record<string, string> = {}): Promise<Harness> {
  const profiles = withTool
    ? [
        (
          await loadAgentProfiles(await loanAgentDir(loanAgent('https://crm.example.com/x')), {
            env: () => 't',
          })
        ).get('loan')!,
      ]
    : [];
  const c = clock.track(
    await startHarness({
      env: { IDLE_AFTER_MS: '0', ...env },
      profiles,
      params: withTool ? { agent: 'loan' } : {},
    }),
  );
  await c.until(() => c.ready() && c.peer.marks.some((m) => m.echoedAt !== undefined));
  return c;
}

const LINE_OF_MARK: Record<string, HeardLine> = {
  response_done: 'answer',
  fallback_done: 'fallback',
  filler_done: 'filler',
};

/** Each utterance the caller heard after `from`: its kind and when its first frame played. */
function heardAfter(c: Harness, from: number, toolMessage: boolean) {
  const marks = c.peer.marks.filter((m) => m.at >= from && m.echoedAt !== undefined);
  let after = (f: PeerFrame) => f.at >= from;
  return marks.map((m) => {
    const kind = m.name.replace(/_\d+$/, '').replace(/[-:].*$/, '');
    let line = LINE_OF_MARK[kind] ?? (kind as HeardLine);
    if (line === 'filler' && toolMessage) line = 'tool message';
    // The frames sent after the previous mark and up to this one are this utterance's.
    const first = c.peer.frames.find((f) => after(f) && f.at <= m.at);
    after = (f) => f.at > m.at;
    return { line, atMs: Math.round((first?.playAt ?? m.at) - from) };
  });
}

describe('what the caller hears when something fails', () => {
  it.each(CONVERSATION_FAULTS.map((row) => [row.fault, row] as const))('%s', async (_, row) => {
    const c = await call(!!row.withTool, row.env);
    row.arrange(c);
    await c.speak(1000);
    const spokeUntil = performance.now();
    await c.until(() => c.turns.length === 1, 20_000);
    await c.until(() => !c.player.isSpeaking());

    const heard = heardAfter(c, spokeUntil, !!row.withTool);
    expect(heard.map((h) => h.line)).toEqual(row.heard.map((h) => h.line));
    for (const [i, h] of heard.entries()) {
      expect(h.atMs, `${h.line} started at ${h.atMs} ms`).toBeLessThanOrEqual(row.heard[i]!.byMs);
    }
    const turn = c.turns[0]!;
    expect(turn.fallback).toBe(row.stored.fallback);
    expect(turn.errors).toEqual(row.stored.errors);
    expect(turn.filler !== undefined).toBe(row.stored.filler);
    if (row.stored.userText) expect(turn.userText).toBe(row.stored.userText);
    else expect(turn.userText).toBe('What is my loan balance?');
    expect(turn.toolCalls.map((t) => t.status)).toEqual(row.stored.tools ?? []);
    // Nothing is left running: the call goes on to answer the next turn normally.
    await c.speak(1000);
    await c.until(() => c.turns.length === 2);
  });
});
