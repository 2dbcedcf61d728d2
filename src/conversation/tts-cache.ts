/**
 * Cache of synthesized audio at the stream rate, keyed by everything that changes the sound
 * (text, voice, model, rate). A repeated greeting or fallback line costs no TTS call and starts
 * at once. Least recently used entries go first once `maxBytes` is reached.
 *
 * With a folder (`DATA_DIR/tts-cache`), the lines made to be shared (`fill` with `share`: the
 * start-up synthesis of every profile's lines) are also files there, shared by the server's
 * processes (`WORKERS`) and kept across restarts. A miss in memory looks on disk before TTS. A
 * process about to make a shared line takes a lock file, so that another process making the same
 * line waits for its file instead of paying for a second synthesis. What calls cache on their own
 * (a greeting with the customer's name in it) stays in memory: no disk write on the call path,
 * and no caller's words in the folder. The folder is kept under `maxDiskBytes`, oldest first.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface TtsDiskOptions {
  dir: string;
  maxDiskBytes: number;
  /** A disk error (the cache goes on in memory). */
  onError?: (err: unknown, what: string) => void;
}

/** A lock older than this is taken for abandoned (its process died mid-synthesis). */
const STALE_LOCK_MS = 20_000;
/** How long a process waits for another's synthesis of the same line, and how often it looks. */
const LOCK_WAIT_MS = 10_000;
const LOCK_POLL_MS = 50;

export function ttsCacheKey(
  text: string,
  voice: string,
  model: string,
  sampleRate: number,
): string {
  return JSON.stringify([model, voice, sampleRate, text]);
}

export class TtsCache {
  private readonly entries = new Map<string, Buffer>();
  private readonly filling = new Map<string, Promise<void>>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(
    readonly maxBytes: number,
    private readonly disk?: TtsDiskOptions,
  ) {}

  /** Where an entry lives on disk. */
  private fileOf(key: string): string {
    const name = createHash('sha256').update(key).digest('hex').slice(0, 40);
    return join(this.disk!.dir, `${name}.pcm`);
  }

  /**
   * The entry from disk into memory, when another process (or an earlier run) made it; the file
   * starts with its key, so a name collision is a miss.
   */
  async load(key: string): Promise<Buffer | undefined> {
    const hit = this.entries.get(key);
    if (hit || !this.disk) return hit;
    let file: Buffer;
    try {
      file = await readFile(this.fileOf(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.disk.onError?.(err, 'read');
      return undefined;
    }
    const keyBytes = Buffer.byteLength(key);
    if (file.length < 4 + keyBytes || file.readUInt32LE(0) !== keyBytes) return undefined;
    if (file.toString('utf8', 4, 4 + keyBytes) !== key) return undefined;
    const pcm = file.subarray(4 + keyBytes);
    this.setInMemory(key, pcm);
    return pcm;
  }

  private async persist(key: string, pcm: Buffer): Promise<void> {
    const disk = this.disk!;
    const file = this.fileOf(key);
    const keyBytes = Buffer.from(key);
    const header = Buffer.alloc(4);
    header.writeUInt32LE(keyBytes.length, 0);
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      await mkdir(disk.dir, { recursive: true });
      await writeFile(tmp, Buffer.concat([header, keyBytes, pcm]));
      await rename(tmp, file);
      await this.prune();
    } catch (err) {
      disk.onError?.(err, 'write');
      await unlink(tmp).catch(() => undefined);
    }
  }

  /** Keeps the folder under `maxDiskBytes`, oldest files first. */
  async prune(): Promise<void> {
    const disk = this.disk;
    if (!disk) return;
    const names = (await readdir(disk.dir).catch(() => [] as string[])).filter((n) =>
      n.endsWith('.pcm'),
    );
    const files = (
      await Promise.all(
        names.map(async (n) => {
          const path = join(disk.dir, n);
          const st = await stat(path).catch(() => undefined);
          return st ? { path, size: st.size, at: st.mtimeMs } : undefined;
        }),
      )
    ).filter((f) => f !== undefined);
    let total = files.reduce((sum, f) => sum + f.size, 0);
    for (const f of files.sort((a, b) => a.at - b.at)) {
      if (total <= disk.maxDiskBytes) break;
      await unlink(f.path).catch(() => undefined);
      total -= f.size;
    }
  }

  /**
   * Takes the lock on making `key` (true), or waits while another process holds it and then
   * reads what it made (false). A lock left by a dead process is taken over after a while.
   */
  private async lock(key: string, signal: AbortSignal | undefined): Promise<boolean> {
    const path = `${this.fileOf(key)}.lock`;
    await mkdir(this.disk!.dir, { recursive: true }).catch(() => undefined);
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      // The call (or the server) is going away: neither wait nor make.
      if (signal?.aborted) return false;
      try {
        await (await open(path, 'wx')).close();
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return true;
      }
      const st = await stat(path).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > STALE_LOCK_MS) {
        await unlink(path).catch(() => undefined);
        continue;
      }
      if (await this.load(key)) return false;
      if (!st) continue;
      if (Date.now() > deadline) return true;
      await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
    }
  }

  private unlock(key: string): Promise<void> {
    return unlink(`${this.fileOf(key)}.lock`).catch(() => undefined);
  }

  get(key: string): Buffer | undefined {
    const hit = this.entries.get(key);
    if (!hit) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit;
  }

  /** Presence check that does not count as a hit or a miss. */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Keeps the entry in memory. */
  set(key: string, pcm: Buffer): void {
    this.setInMemory(key, pcm);
  }

  /** Keeps the entry in memory and, when there is a folder, on disk (shared), then resolves. */
  async put(key: string, pcm: Buffer): Promise<void> {
    if (this.setInMemory(key, pcm) && this.disk) await this.persist(key, pcm);
  }

  /** False when the entry is too big to keep. */
  private setInMemory(key: string, pcm: Buffer): boolean {
    if (pcm.length > this.maxBytes) return false;
    const old = this.entries.get(key);
    if (old) {
      this.bytes -= old.length;
      this.entries.delete(key);
    }
    this.entries.set(key, pcm);
    this.bytes += pcm.length;
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= v.length;
    }
    return true;
  }

  /**
   * Makes the entry with `make` unless it is there or already being made (calls starting
   * together share one synthesis). Rejects with `make`'s error; nothing is stored then.
   * With `share`, the entry is made once by the processes on the folder and kept there; `signal`
   * ends a wait for another process's synthesis of it.
   */
  fill(
    key: string,
    make: () => Promise<Buffer | undefined>,
    opts: { share?: boolean; signal?: AbortSignal } = {},
  ): Promise<void> {
    if (this.entries.has(key)) return Promise.resolve();
    let pending = this.filling.get(key);
    if (!pending) {
      pending = this.makeOnce(key, make, opts).finally(() => this.filling.delete(key));
      this.filling.set(key, pending);
    }
    return pending;
  }

  /**
   * From disk if it is there; else made (a shared line under the folder's lock, so processes make
   * it once, and written to the folder).
   */
  private async makeOnce(
    key: string,
    make: () => Promise<Buffer | undefined>,
    opts: { share?: boolean; signal?: AbortSignal },
  ): Promise<void> {
    if (await this.load(key)) return;
    if (!this.disk || !opts.share) {
      const pcm = await make();
      if (pcm) this.set(key, pcm);
      return;
    }
    if (!(await this.lock(key, opts.signal))) return;
    try {
      if (await this.load(key)) return;
      const pcm = await make();
      if (pcm && this.setInMemory(key, pcm)) await this.persist(key, pcm);
    } finally {
      await this.unlock(key);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }
}
