/**
 * The stream guard's limits on a virtual clock: the first chunk's time limit, the idle limit
 * timed from the latest chunk, and one timer for the idle limit however many chunks arrive.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { VoicebotError } from '../../src/errors.js';
import { guardStream } from '../../src/providers/stream-guard.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Chunks at the given times (ms from the start); aborting the signal ends it with its reason. */
async function* timed(atMs: number[], signal: AbortSignal): AsyncGenerator<number> {
  let now = 0;
  for (const at of atMs) {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, at - now);
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        reject(signal.reason as Error);
      });
    });
    now = at;
    yield at;
  }
  // Then nothing more until aborted.
  await new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason as Error);
    signal.addEventListener('abort', () => reject(signal.reason as Error));
  });
}

/** Runs the guarded stream on the virtual clock: what it yielded, and how and when it ended. */
async function run(atMs: number[], firstChunkMs: number, idleMs: number, untilMs = 5000) {
  const controller = new AbortController();
  const got: number[] = [];
  let error: VoicebotError | undefined;
  let endedAt: number | undefined;
  const done = (async () => {
    try {
      for await (const chunk of guardStream(timed(atMs, controller.signal), controller, {
        firstChunkMs,
        idleMs,
        stage: 'tts',
      }))
        got.push(chunk);
    } catch (err) {
      error = err as VoicebotError;
    }
    endedAt = performance.now();
  })();
  await vi.advanceTimersByTimeAsync(untilMs);
  controller.abort(new Error('test over'));
  await done;
  return { got, error, endedAt };
}

describe('guardStream', () => {
  it('ends with PROVIDER_TIMEOUT when no chunk comes in time', async () => {
    const { got, error, endedAt } = await run([], 300, 100);
    expect(got).toEqual([]);
    expect(error?.code).toBe('PROVIDER_TIMEOUT');
    expect(endedAt).toBe(300);
  });

  it('times the idle limit from the latest chunk, whatever the gaps before it', async () => {
    const chunks = [50, 90, 130, 200, 260, 330, 340, 420];
    const { got, error, endedAt } = await run(chunks, 300, 100);
    expect(got).toEqual(chunks);
    expect(error?.code).toBe('PROVIDER_STALLED');
    expect(endedAt).toBe(520);
  });

  it('lets a stream through whose gaps all stay under the idle limit', async () => {
    const chunks = Array.from({ length: 50 }, (_, i) => 20 + i * 95);
    const { got, error } = await run(chunks, 300, 100, chunks.at(-1)! + 50);
    expect(got).toEqual(chunks);
    expect(error?.message).toBe('test over');
  });

  it('sets a handful of timers for a stream of many chunks, not one a chunk', async () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const chunks = Array.from({ length: 100 }, (_, i) => 10 + i * 10); // 100 chunks in 1 s
    const { got } = await run(chunks, 300, 100, 1050);
    expect(got).toHaveLength(100);
    // The source's own waits are one a chunk; the guard adds the first-chunk timer and about one
    // idle check per limit elapsed (1 s / 100 ms).
    const guardTimers = spy.mock.calls.length - chunks.length;
    expect(guardTimers).toBeLessThanOrEqual(13);
    spy.mockRestore();
  });
});
