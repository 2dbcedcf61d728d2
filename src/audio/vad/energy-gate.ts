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
 * Returns a predicate that is true when a window is quieter than `gateDbfs` RMS. With `null` the
 * gate is off and the predicate is always false.
 */
export function createEnergyGate(gateDbfs: number | null): (frame: Int16Array) => boolean {
  if (gateDbfs === null) return () => false;
  if (!Number.isFinite(gateDbfs) || gateDbfs > 0) {
    throw new VoicebotError(
      'CONFIG_INVALID',
      `VAD energy gate must be a dBFS value <= 0, got ${gateDbfs}`,
    );
  }
  const limit = FULL_SCALE * FULL_SCALE * 10 ** (gateDbfs / 10);
  return (frame) => meanSquare(frame) < limit;
}
