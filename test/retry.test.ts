import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { VoicebotError } from '../src/errors.js';
import { backoff, retry } from '../src/retry.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const retryable = () => new VoicebotError('PROVIDER_SERVER_ERROR', 'x', { retryable: true });
const final = () => new VoicebotError('PROVIDER_AUTH', 'x');

describe('retry', () => {
  it('returns the first success and passes the attempt number', async () => {
    const seen: number[] = [];
    const value = await retry(
      (n) => {
        seen.push(n);
        return n < 3 ? Promise.reject(retryable()) : Promise.resolve(`ok ${n}`);
      },
      { attempts: 3 },
    );
    expect(value).toBe('ok 3');
    expect(seen).toEqual([1, 2, 3]);
  });

  it('rethrows the last failure when the attempts run out', async () => {
    let calls = 0;
    const run = retry(() => (calls++, Promise.reject(retryable())), { attempts: 2 });
    await expect(run).rejects.toMatchObject({ code: 'PROVIDER_SERVER_ERROR' });
    expect(calls).toBe(2);
  });

  it('does not retry what the error tree marks final, unless retryIf says so', async () => {
    let calls = 0;
    await expect(
      retry(() => (calls++, Promise.reject(final())), { attempts: 3 }),
    ).rejects.toThrow();
    expect(calls).toBe(1);
    calls = 0;
    await expect(
      retry(() => (calls++, Promise.reject(final())), { attempts: 3, retryIf: () => true }),
    ).rejects.toThrow();
    expect(calls).toBe(3);
  });

  it('waits the backoff between attempts on the clock', async () => {
    const at: number[] = [];
    const run = retry(
      () => {
        at.push(Date.now());
        return at.length < 4 ? Promise.reject(retryable()) : Promise.resolve(true);
      },
      { attempts: 4, delayMs: backoff(100, 250) },
    );
    await vi.runAllTimersAsync();
    await expect(run).resolves.toBe(true);
    expect(at.slice(1).map((t, i) => t - at[i]!)).toEqual([100, 200, 250]);
  });

  it('stops waiting and gives up when the signal aborts', async () => {
    const ac = new AbortController();
    let calls = 0;
    const run = retry(() => (calls++, Promise.reject(retryable())), {
      attempts: 5,
      delayMs: () => 10_000,
      signal: ac.signal,
    });
    const settled = expect(run).rejects.toMatchObject({ code: 'PROVIDER_SERVER_ERROR' });
    await vi.advanceTimersByTimeAsync(50);
    ac.abort();
    await settled;
    expect(calls).toBe(1);
  });

  it('tells onRetry about each failure it retries, not the last one', async () => {
    const told: number[] = [];
    await expect(
      retry(() => Promise.reject(retryable()), { attempts: 3, onRetry: (_e, n) => told.push(n) }),
    ).rejects.toThrow();
    expect(told).toEqual([1, 2]);
  });
});
