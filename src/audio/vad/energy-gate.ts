/**
 * The energy gate in front of a VAD model: a window whose RMS level is below the gate is called
 * silence without running the model, so the quiet part of a call (most of it) costs one pass of
 * multiply-adds per window.
 */
import { VoicebotError } from '../../errors.js';

const FULL_SCALE = 32768;

/** Mean of the squared samples of `frame` (0 for an empty frame). */
export function meanSquare(frame: Int16Array): number {
  if (frame.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < frame.length; i++) {
    const s = frame[i]!;
    sum += s * s;
  }
  return sum / frame.length;
}

/** RMS level of `frame` in dBFS (full scale = 32768); -Infinity for digital silence. */
export function rmsDbfs(frame: Int16Array): number {
  return 10 * Math.log10(meanSquare(frame) / (FULL_SCALE * FULL_SCALE));
}

/**
 * The mean square of samples at `gateDbfs` RMS, the level a gate compares with; null for `null`
 * (gate off).
 */
export function energyLimit(gateDbfs: number | null): number | null {
  if (gateDbfs === null) return null;
  if (!Number.isFinite(gateDbfs) || gateDbfs > 0) {
    throw new VoicebotError(
      'CONFIG_INVALID',
      `VAD energy gate must be a dBFS value <= 0, got ${gateDbfs}`,
    );
  }
  return FULL_SCALE * FULL_SCALE * 10 ** (gateDbfs / 10);
}

/**
 * Returns a predicate that is true when a window is quieter than `gateDbfs` RMS. With `null` the
 * gate is off and the predicate is always false.
 */
export function createEnergyGate(gateDbfs: number | null): (frame: Int16Array) => boolean {
  const limit = energyLimit(gateDbfs);
  if (limit === null) return () => false;
  return (frame) => meanSquare(frame) < limit;
}

/**
 * Where the sound in `frame` ends: the end (in samples) of its last block of `block` samples whose
 * mean square reaches `limit`, 0 when none does. Blocks are counted back from the end, so the
 * first one may be shorter.
 */
export function soundEnd(frame: Int16Array, limit: number, block: number): number {
  for (let end = frame.length; end > 0; end -= block) {
    const from = Math.max(0, end - block);
    let sum = 0;
    for (let i = from; i < end; i++) {
      const s = frame[i]!;
      sum += s * s;
    }
    if (sum >= limit * (end - from)) return end;
  }
  return 0;
}
