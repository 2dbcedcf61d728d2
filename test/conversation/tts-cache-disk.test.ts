/** The TTS cache's folder: entries survive a new cache on the same folder, a damaged file is a miss, and the folder stays under its size. */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TtsCache, ttsCacheKey } from '../../src/conversation/tts-cache.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tts-cache-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const key = (text: string) => ttsCacheKey(text, 'shimmer', 'gpt-4o-mini-tts', 8000);

describe('the TTS cache folder', () => {
  it('gives a new cache (another process, a restart) what an earlier one stored', async () => {
    const a = new TtsCache(1 << 20, { dir, maxDiskBytes: 1 << 20 });
    const pcm = Buffer.from([1, 2, 3, 4, 5, 6]);
    await a.put(key('Namaste.'), pcm);
    const b = new TtsCache(1 << 20, { dir, maxDiskBytes: 1 << 20 });
    expect(b.get(key('Namaste.'))).toBeUndefined();
    expect(await b.load(key('Namaste.'))).toEqual(pcm);
    expect(b.get(key('Namaste.'))).toEqual(pcm);
    expect(await b.load(key('Other.'))).toBeUndefined();
  });

  it('keeps what a call caches on its own in memory only', async () => {
    const a = new TtsCache(1 << 20, { dir, maxDiskBytes: 1 << 20 });
    a.set(key('Namaste Rahul ji.'), Buffer.from([1, 2]));
    await a.fill(key('Aapka din shubh ho.'), () => Promise.resolve(Buffer.from([3, 4])));
    expect(a.get(key('Namaste Rahul ji.'))).toEqual(Buffer.from([1, 2]));
    expect(a.get(key('Aapka din shubh ho.'))).toEqual(Buffer.from([3, 4]));
    expect(await readdir(dir)).toEqual([]);
    await a.fill(key('Shared.'), () => Promise.resolve(Buffer.from([5])), { share: true });
    expect((await readdir(dir)).filter((f) => f.endsWith('.pcm'))).toHaveLength(1);
  });

  it('takes a damaged or foreign file for a miss', async () => {
    const a = new TtsCache(1 << 20, { dir, maxDiskBytes: 1 << 20 });
    await a.put(key('Namaste.'), Buffer.from([1, 2, 3, 4]));
    const [file] = (await readdir(dir)).filter((f) => f.endsWith('.pcm'));
    await writeFile(join(dir, file!), Buffer.from([9, 9]));
    const b = new TtsCache(1 << 20, { dir, maxDiskBytes: 1 << 20 });
    expect(await b.load(key('Namaste.'))).toBeUndefined();
  });

  it('keeps the folder under its size, oldest files first', async () => {
    const errors: unknown[] = [];
    const a = new TtsCache(1 << 20, { dir, maxDiskBytes: 2_500, onError: (e) => errors.push(e) });
    for (let i = 0; i < 5; i++) {
      await a.put(key(`line ${i}`), Buffer.alloc(1_000, i));
      await new Promise((r) => setTimeout(r, 15));
    }
    const b = new TtsCache(1 << 20, { dir, maxDiskBytes: 2_500 });
    expect(await b.load(key('line 0'))).toBeUndefined();
    expect(await b.load(key('line 4'))).toBeDefined();
    expect((await readdir(dir)).filter((f) => f.endsWith('.pcm')).length).toBeLessThanOrEqual(2);
    expect(errors).toEqual([]);
  });
});
