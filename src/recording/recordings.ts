/**
 * Where recordings live (`RECORDINGS_DIR/<call id>.wav`), how one is opened for serving (its
 * header repaired first if the call's process died before writing the sizes), and the retention
 * sweep (`RECORDING_RETENTION_DAYS`; 0 keeps them).
 */
import { open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';

const HEADER_BYTES = 44;
const DAY_MS = 24 * 60 * 60 * 1000;

/** A call id as file name: our ids are UUIDs; anything else is refused. */
export function recordingPath(dir: string, callId: string): string {
  if (!/^[A-Za-z0-9-]{1,64}$/.test(callId)) throw new Error('not a call id');
  return join(dir, `${callId}.wav`);
}

/**
 * The recording's size in bytes, or undefined when there is none. A header whose sizes do not
 * match the file (a crash mid-call) is rewritten from the file's length first.
 */
export async function openRecording(path: string): Promise<{ size: number } | undefined> {
  let fh;
  try {
    fh = await open(path, 'r+');
  } catch {
    return undefined;
  }
  try {
    const { size } = await fh.stat();
    if (size < HEADER_BYTES) return undefined;
    const header = Buffer.alloc(HEADER_BYTES);
    await fh.read(header, 0, HEADER_BYTES, 0);
    if (header.toString('latin1', 0, 4) !== 'RIFF') return undefined;
    const blockAlign = header.readUInt16LE(32) || 4;
    const data = size - HEADER_BYTES - ((size - HEADER_BYTES) % blockAlign);
    if (header.readUInt32LE(40) !== data || header.readUInt32LE(4) !== 36 + data) {
      header.writeUInt32LE(36 + data, 4);
      header.writeUInt32LE(data, 40);
      await fh.write(header, 0, HEADER_BYTES, 0);
    }
    return { size: HEADER_BYTES + data };
  } finally {
    await fh.close();
  }
}

/** Deletes recordings older than `days` (by modification time); returns how many. */
export async function sweepRecordings(
  dir: string,
  days: number,
  log: Logger,
  now = Date.now(),
): Promise<number> {
  if (days <= 0) return 0;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!name.endsWith('.wav')) continue;
    const path = join(dir, name);
    try {
      if ((await stat(path)).mtimeMs < now - days * DAY_MS) {
        await rm(path);
        removed++;
      }
    } catch (err) {
      log.warn({ code: 'RECORDING_SWEEP_FAILED', detail: (err as Error).message }, 'retention');
    }
  }
  if (removed > 0) log.info({ removed, days }, 'old recordings deleted');
  return removed;
}
