/** The timing summary `voicebot call` prints for one simulated call. */
import type { SimulatedCall } from './simulated-call.js';

export interface CallSummary {
  firstAudioAfterStartMs: number | null;
  framesReceived: number;
  frameSizes: Record<string, number>;
  botAudioMs: number;
  marks: Array<{ name: string; receivedAtMs: number; echoedAtMs: number | null }>;
  clears: number;
  underruns: number;
  underrunMs: number;
  invalidFrames: string[];
  closeCode: number | null;
  closeReason: string;
}

export function summarize(call: SimulatedCall, sampleRate: number): CallSummary {
  const rel = (t: number) => Math.round(t - call.startedAt);
  const frameSizes: Record<string, number> = {};
  let bytes = 0;
  for (const f of call.frames) {
    frameSizes[f.bytes] = (frameSizes[f.bytes] ?? 0) + 1;
    bytes += f.bytes;
  }
  const first = call.frames[0];
  return {
    firstAudioAfterStartMs: first ? rel(first.at) : null,
    framesReceived: call.frames.length,
    frameSizes,
    botAudioMs: Math.round(bytes / ((sampleRate * 2) / 1000)),
    marks: call.marks.map((m) => ({
      name: m.name,
      receivedAtMs: rel(m.at),
      echoedAtMs: m.echoedAt === undefined ? null : rel(m.echoedAt),
    })),
    clears: call.clears.length,
    underruns: call.underruns.length,
    underrunMs: Math.round(call.underruns.reduce((a, b) => a + b, 0)),
    invalidFrames: call.invalidFrames,
    closeCode: call.closeCode ?? null,
    closeReason: call.closeReason,
  };
}

export function formatSummary(s: CallSummary): string {
  const lines = [
    `first audio after start: ${s.firstAudioAfterStartMs === null ? 'none' : `${s.firstAudioAfterStartMs} ms`}`,
    `frames received:         ${s.framesReceived} (${
      Object.entries(s.frameSizes)
        .map(([size, n]) => `${n} x ${size} B`)
        .join(', ') || 'none'
    })`,
    `bot audio:               ${s.botAudioMs} ms`,
    `marks:                   ${s.marks.map((m) => `${m.name} @${m.receivedAtMs} ms (echoed ${m.echoedAtMs ?? '-'} ms)`).join(', ') || 'none'}`,
    `clears:                  ${s.clears}`,
    `underruns:               ${s.underruns} (${s.underrunMs} ms)`,
  ];
  if (s.invalidFrames.length > 0)
    lines.push(`invalid frames:          ${s.invalidFrames.join('; ')}`);
  if (s.closeCode !== null) lines.push(`closed:                  ${s.closeCode} ${s.closeReason}`);
  return lines.join('\n');
}
