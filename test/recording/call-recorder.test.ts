/**
 * The recorder on a clock of the test's own: the caller on the left where they spoke, the bot on
 * the right where its frames played and only up to a `clear`, silence between; a file left by a
 * crash (header sizes never written) is repaired when opened for serving.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { CallRecorder, type CallRecorderOptions } from '../../src/recording/call-recorder.js';
import { openRecording, sweepRecordings } from '../../src/recording/recordings.js';
import { channels } from '../helpers/wav.js';

const RATE = 8000;
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'voicebot-rec-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const pcm = (ms: number, value: number) => {
  const b = Buffer.alloc((RATE / 1000) * ms * 2);
  for (let i = 0; i < b.length; i += 2) b.writeInt16LE(value, i);
  return b;
};

/** [first, last] sample index holding `value`, or undefined. */
function span(ch: Int16Array, value: number): [number, number] | undefined {
  const first = ch.indexOf(value);
  return first < 0 ? undefined : [first, ch.lastIndexOf(value)];
}

/** A recorder on a clock of the test's own (`clock.t`, ms), writing `name` in the test's folder. */
function recorder(name: string, clock: { t: number }, opts: Partial<CallRecorderOptions> = {}) {
  const path = join(dir, name);
  const rec = new CallRecorder({
    path,
    sampleRate: RATE,
    log: createLogger('silent'),
    now: () => clock.t,
    flushEveryMs: 60_000,
    ...opts,
  });
  return { rec, path };
}

describe('CallRecorder', () => {
  it('puts the caller left and the bot right on one timeline, without what a clear cut', async () => {
    let t = 1_000;
    const path = join(dir, 'call.wav');
    const rec = new CallRecorder({
      path,
      sampleRate: RATE,
      log: createLogger('silent'),
      now: () => t,
      flushEveryMs: 60_000,
    });
    // The caller: 1 s in 100 ms frames, speaking from 200 to 500 ms.
    for (let i = 0; i < 10; i++) rec.caller(pcm(100, i >= 2 && i < 5 ? 1000 : 0));
    // The bot: 20 ms frames scheduled to play from 600 ms to 1 s, cleared at 810 ms.
    for (let i = 0; i < 20; i++) rec.botFrame(pcm(20, 2000), 1_000 + 600 + i * 20);
    rec.cleared(1_000 + 810);
    t = 1_000 + 1_000;
    const { durationMs, written } = rec.close();
    await written;
    expect(durationMs).toBe(1000);

    const wav = channels(await readFile(path));
    expect(wav).toMatchObject({
      channels: 2,
      rate: RATE,
      dataBytes: RATE * 4,
      riffBytes: 36 + RATE * 4,
    });
    expect(wav.left).toHaveLength(RATE);
    expect(span(wav.left, 1000)).toEqual([1600, 3999]);
    expect(wav.left.filter((v) => v !== 0 && v !== 1000)).toHaveLength(0);
    expect(span(wav.right, 2000)).toEqual([4800, 6479]); // 600 ms to the clear at 810 ms
    expect(wav.right.filter((v) => v !== 0 && v !== 2000)).toHaveLength(0);
  });

  it('writes as the call goes, and drops bot audio scheduled past the hang-up', async () => {
    let t = 0;
    const path = join(dir, 'live.wav');
    const rec = new CallRecorder({
      path,
      sampleRate: RATE,
      log: createLogger('silent'),
      now: () => t,
      flushEveryMs: 10,
      settleMs: 0,
    });
    rec.caller(pcm(500, 300));
    t = 500;
    await new Promise((r) => setTimeout(r, 50)); // a flush or more
    expect((await stat(path)).size).toBe(44 + 500 * 8 * 4);
    rec.botFrame(pcm(200, 2000), 500); // plays 500-700 ms, but the call ends at 600 ms
    t = 600;
    const { durationMs, written } = rec.close();
    await written;
    expect(durationMs).toBe(600);
    const wav = channels(await readFile(path));
    expect(span(wav.right, 2000)).toEqual([4000, 4799]);
  });

  it('keeps every sample value, the extremes and negatives included, on its own channel', async () => {
    const clock = { t: 0 };
    const { rec, path } = recorder('values.wav', clock);
    // 100 ms a side of a ramp over the whole 16-bit range, the bot's the caller's reversed.
    const ramp = Buffer.alloc(800 * 2);
    for (let i = 0; i < 800; i++) ramp.writeInt16LE(Math.round(-32768 + (i * 65535) / 799), i * 2);
    const reversed = Buffer.alloc(ramp.length);
    for (let i = 0; i < 800; i++) reversed.writeInt16LE(ramp.readInt16LE((799 - i) * 2), i * 2);
    rec.caller(ramp);
    rec.botFrame(reversed, 0);
    clock.t = 100;
    await rec.close().written;

    const wav = channels(await readFile(path));
    expect(wav.left).toHaveLength(800);
    for (let i = 0; i < 800; i++) {
      expect(wav.left[i]).toBe(ramp.readInt16LE(i * 2));
      expect(wav.right[i]).toBe(reversed.readInt16LE(i * 2));
    }
    expect(wav.left[0]).toBe(-32768);
    expect(wav.right[0]).toBe(32767);
  });

  it('places audio far past the first flush (a stalled flush, a long lead) where it belongs', async () => {
    const clock = { t: 0 };
    const { rec, path } = recorder('long.wav', clock);
    // Nothing written for 5 s: the caller's 5 s, and bot audio scheduled at 4.5 s, are held.
    for (let i = 0; i < 50; i++) rec.caller(pcm(100, i === 42 ? -700 : 0));
    rec.botFrame(pcm(300, -1500), 4_500);
    clock.t = 4_700;
    rec.cleared(4_700); // the last 100 ms of the bot's frame were never heard
    clock.t = 5_000;
    const { durationMs, written } = rec.close();
    await written;

    expect(durationMs).toBe(5000);
    const wav = channels(await readFile(path));
    expect(wav.left).toHaveLength(5 * RATE);
    expect(span(wav.left, -700)).toEqual([42 * 800, 43 * 800 - 1]);
    expect(span(wav.right, -1500)).toEqual([4.5 * RATE, 4.7 * RATE - 1]);
    expect(wav.right.filter((v) => v !== 0 && v !== -1500)).toHaveLength(0);
  });

  it('caller audio arriving after its moment was written is dropped, not shifted', async () => {
    const clock = { t: 0 };
    const { rec, path } = recorder('late.wav', clock, { settleMs: 0 });
    rec.caller(pcm(100, 100));
    clock.t = 300;
    (rec as unknown as { flushSettled(): void }).flushSettled(); // 300 ms written, 200 of it silence
    rec.caller(pcm(300, 200)); // its first 200 ms belong to what is written already
    clock.t = 500;
    await rec.close().written;

    const wav = channels(await readFile(path));
    expect(wav.left).toHaveLength(4000);
    expect(span(wav.left, 100)).toEqual([0, 799]);
    expect(span(wav.left, 200)).toEqual([2400, 3199]);
  });

  it("writes only its own samples from a reused block, never another recording's", async () => {
    // Recorder A writes 1500 sample pairs (a 2048-pair block), which goes back to the pool once
    // written; B's 1000 pairs then come from the same block, whose tail still holds A's audio.
    const clock = { t: 0 };
    const a = recorder('a.wav', clock);
    rec(a.rec, 1500, 7, 8);
    clock.t = 1500 / (RATE / 1000);
    await a.rec.close().written;
    const clockB = { t: 0 };
    const b = recorder('b.wav', clockB);
    rec(b.rec, 1000, 3, 0);
    clockB.t = 1000 / (RATE / 1000);
    await b.rec.close().written;

    const wavA = channels(await readFile(a.path));
    expect(wavA.left).toHaveLength(1500);
    expect(wavA.left.every((v) => v === 7) && wavA.right.every((v) => v === 8)).toBe(true);
    const wavB = channels(await readFile(b.path));
    expect(wavB.left).toHaveLength(1000);
    expect(wavB.left.every((v) => v === 3) && wavB.right.every((v) => v === 0)).toBe(true);

    /** `samples` of the caller at `callerValue` and as many of the bot at `botValue` from 0. */
    function rec(r: CallRecorder, samples: number, callerValue: number, botValue: number): void {
      const ms = samples / (RATE / 1000);
      r.caller(pcm(ms, callerValue));
      if (botValue) r.botFrame(pcm(ms, botValue), 0);
    }
  });

  it('after a write error the recording stops growing and its length says what was written', async () => {
    const clock = { t: 0 };
    const errors: unknown[] = [];
    const log = createLogger('silent');
    log.error = (obj: unknown) => void errors.push(obj);
    const { rec } = recorder(join('missing-folder', 'call.wav'), clock, { log, settleMs: 0 });
    await new Promise((r) => setTimeout(r, 50)); // the open fails
    for (let i = 0; i < 30; i++) {
      rec.caller(pcm(100, 100));
      clock.t += 100;
    }
    (rec as unknown as { flushSettled(): void }).flushSettled();

    expect(errors).toEqual([expect.objectContaining({ code: 'RECORDING_WRITE_FAILED' })]);
    const { durationMs, written } = rec.close();
    await written;
    expect(durationMs).toBe(0);
  });

  it("is repaired when opened after a crash left the header's sizes at 0", async () => {
    const path = join(dir, 'crashed.wav');
    const rec = new CallRecorder({
      path,
      sampleRate: RATE,
      log: createLogger('silent'),
      now: () => 0,
      flushEveryMs: 60_000,
    });
    rec.caller(pcm(250, 500));
    // What the process wrote before it died: the header with sizes 0 and 250 ms of audio.
    (rec as unknown as { writeUpTo(n: number): void }).writeUpTo(2000);
    await new Promise((r) => setTimeout(r, 50));
    expect(channels(await readFile(path)).dataBytes).toBe(0);

    expect(await openRecording(path)).toEqual({ size: 44 + 2000 * 4 });
    const wav = channels(await readFile(path));
    expect(wav.dataBytes).toBe(2000 * 4);
    expect(span(wav.left, 500)).toEqual([0, 1999]);
  });

  it('deletes recordings older than the retention, and keeps them with 0', async () => {
    const { utimes, writeFile } = await import('node:fs/promises');
    const old = join(dir, 'old.wav');
    const fresh = join(dir, 'fresh.wav');
    await writeFile(old, 'x');
    await writeFile(fresh, 'x');
    const now = Date.now();
    await utimes(old, new Date(now - 31 * 86_400_000), new Date(now - 31 * 86_400_000));
    const log = createLogger('silent');
    expect(await sweepRecordings(dir, 0, log, now)).toBe(0);
    expect(await sweepRecordings(dir, 30, log, now)).toBe(1);
    await expect(stat(old)).rejects.toThrow();
    await expect(stat(fresh)).resolves.toBeDefined();
  });
});
