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
import { CallRecorder } from '../../src/recording/call-recorder.js';
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
