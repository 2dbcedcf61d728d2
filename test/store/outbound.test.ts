/** Outbound call rows on both engines: the status rules, the active count, quiet calls. */
import { expect, it } from 'vitest';
import { describeEngines, useStore } from './harness.js';

describeEngines('outbound calls', (engine) => {
  const ctx = useStore(engine);

  it('moves through its statuses, and a final status is never undone', async () => {
    await ctx.store.outbound.insert({
      id: 'o1',
      to: '+919812345670',
      agent: 'loan_hi',
      params: { a: '1' },
    });
    expect(await ctx.store.outbound.get('o1')).toMatchObject({
      id: 'o1',
      to: '+919812345670',
      agent: 'loan_hi',
      params: { a: '1' },
      status: 'queued',
    });
    await ctx.store.outbound.update('o1', { callSid: 'CA1', status: 'ringing' });
    await ctx.store.outbound.update('o1', { status: 'in-progress', answeredAtMs: 5 });
    await ctx.store.outbound.update('o1', { status: 'completed', endedAtMs: 9 });
    await ctx.store.outbound.update('o1', { status: 'in-progress', endedAtMs: 99 });
    await ctx.store.outbound.update('o1', { status: 'failed' });
    expect(await ctx.store.outbound.get('o1')).toMatchObject({
      callSid: 'CA1',
      status: 'completed',
      answeredAtMs: 5,
      endedAtMs: 9,
    });
    expect(await ctx.store.outbound.get('nope')).toBeUndefined();
  });

  it('counts the calls not yet final and finds the quiet ones', async () => {
    for (const id of ['a', 'b', 'c'])
      await ctx.store.outbound.insert({ id, to: '+919812345670', params: {} });
    await ctx.store.outbound.update('c', { status: 'busy' });
    expect(await ctx.store.outbound.countActive()).toBe(2);
    const later = Date.now() + 1_000;
    expect((await ctx.store.outbound.quiet(later, later, 10)).map((c) => c.id).sort()).toEqual([
      'a',
      'b',
    ]);
    await ctx.store.outbound.update('a', { checkedAtMs: later + 5 });
    // 'a' was just updated (and checked): not quiet before `later`, nor unchecked since.
    expect((await ctx.store.outbound.quiet(later, later, 10)).map((c) => c.id)).toEqual(['b']);
  });
});
