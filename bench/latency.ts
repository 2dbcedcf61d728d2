/**
 * Latency: N turns on one simulated call. Each turn speaks the hello fixture and measures from
 * the end of the fixture (the caller's last frame, less the silence that pads it to a whole
 * frame) to the bot's first audio frame, then waits for the reply to finish playing (its mark
 * echoed) and pauses. The fixture ends in 300 ms of digital silence, so the time from the end of
 * the voice is the measured time + 300 ms; that is what the floor is compared with. Runs in the
 * bench process: one call is light next to the server.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { bytesFromPcm, decodeWav } from '../src/audio/index.js';
import { latencyStats, type LatencyStats } from '../src/simulator/load-report.js';
import {
  SimulatedCall,
  type ReceivedFrame,
  type ReceivedMark,
} from '../src/simulator/simulated-call.js';
import { ROOT } from './processes.js';

/** Digital silence at the end of every speech fixture (test/fixtures/README.md). */
export const FIXTURE_TRAILING_SILENCE_MS = 300;
export const HELLO_WAV = join(ROOT, 'test', 'fixtures', 'hello-16k.wav');
/** "I want to ask about" + 600 ms of silence + "my home loan interest rate." */
export const PAUSE_WAV = join(ROOT, 'test', 'fixtures', 'pause-16k.wav');

/**
 * The pause fixture with its mid-sentence silence cut to `pauseMs`: a caller who stops long enough
 * for the preemptive transcript (and a speculative reply) but short of the endpoint.
 */
export async function pauseSpeech(pauseMs: number): Promise<Int16Array> {
  const wav = decodeWav(await readFile(PAUSE_WAV));
  const s = wav.samples;
  let best = { start: 0, end: 0 };
  for (let i = 1, start = -1; i < s.length; i++) {
    if (s[i] === 0) {
      if (start < 0) start = i;
    } else {
      if (start > 0 && i - start > best.end - best.start) best = { start, end: i };
      start = -1;
    }
  }
  const keep = Math.round((pauseMs * wav.sampleRate) / 1000);
  if (best.end - best.start < keep) throw new Error('pause-16k.wav has no pause that long');
  const out = new Int16Array(s.length - (best.end - best.start) + keep);
  out.set(s.subarray(0, best.start + keep), 0);
  out.set(s.subarray(best.end), best.start + keep);
  return out;
}
/** Caller frame length unless a setting asks for Exotel's (about 100 ms). */
export const DEFAULT_CALLER_FRAME_MS = 20;
const REPLY_TIMEOUT_MS = 20_000;
/** The fixtures and the simulated call are 16 kHz. */
const SAMPLES_PER_MS = 16;

export interface LatencyRun {
  turns: number;
  /** End of the fixture (the caller's last frame less its padding) → first bot frame (ms). */
  fromLastFrameMs: number[];
  /** The same + the fixture's trailing silence: end of voice → first bot frame. */
  fromVoiceEnd: LatencyStats;
  underruns: number;
  missedTurns: number;
}

/** Silero's window (32 ms at 8 and 16 kHz): the VAD decides the silence a window at a time. */
const VAD_WINDOW_MS = 32;

/**
 * Where the voice ends within the caller's last frame and the server's VAD window, turn by turn,
 * as silence put before the speech (ms): spread over a frame or a window, whichever is longer
 * (steps of 0.618 of it, wrapped). Without it every turn ends at the same point of a frame and of
 * a window (the reply takes the same time each turn, so the next turn starts in step), and the
 * run measures one point's luck: the server sees the silence at once or a whole window or frame
 * late. With 20 ms frames and Silero that luck was worth 18 ms of p50 between two runs.
 */
export function leadInMs(turn: number, frameMs: number): number {
  return Math.floor(((turn * 0.618) % 1) * Math.max(frameMs, VAD_WINDOW_MS));
}

/**
 * `speech`: what the caller says each turn, at 16 kHz (default: the hello fixture); `frameMs`:
 * the caller's frame length.
 */
export async function measureLatency(
  wsUrl: string,
  turns: number,
  speech?: Int16Array,
  frameMs = DEFAULT_CALLER_FRAME_MS,
): Promise<LatencyRun> {
  const wav = decodeWav(await readFile(HELLO_WAV));
  if (wav.sampleRate !== 16000) throw new Error('hello-16k.wav is not 16 kHz');
  const samples = speech ?? wav.samples;
  const call = new SimulatedCall({ url: wsUrl, sampleRate: 16000 });
  await call.connect();
  const latencies: number[] = [];
  let missed = 0;
  try {
    call.start();
    call.startMic(frameMs);
    await waitReplyDone(call, call.startedAt); // the greeting
    await sleep(300);
    for (let i = 0; i < turns; i++) {
      const leadIn = leadInMs(i, frameMs) * SAMPLES_PER_MS;
      const turnPcm = new Int16Array(leadIn + samples.length);
      turnPcm.set(samples, leadIn);
      await call.say(bytesFromPcm(turnPcm));
      // The last frame is padded with silence after the speech: the voice ended that much earlier.
      const tailMs = (turnPcm.length / SAMPLES_PER_MS) % frameMs || frameMs;
      const t = performance.now() - (frameMs - tailMs);
      try {
        const first = await call.waitForEvent<ReceivedFrame>(
          'media',
          (f) => f.at > t,
          REPLY_TIMEOUT_MS,
        );
        latencies.push(first.at - t);
        await waitReplyDone(call, t);
      } catch {
        missed++;
      }
      call.frames.length = 0;
      call.botAudio.length = 0;
      await sleep(300);
    }
  } finally {
    await Promise.race([call.hangup(), sleep(5000)]);
  }
  return {
    turns,
    fromLastFrameMs: latencies.map((v) => Math.round(v)),
    fromVoiceEnd: latencyStats(latencies.map((v) => v + FIXTURE_TRAILING_SILENCE_MS)),
    underruns: call.underruns.length,
    missedTurns: missed,
  };
}

/** Until a mark received after `since` has been echoed (the reply has played out). */
async function waitReplyDone(call: SimulatedCall, since: number): Promise<void> {
  if (call.marks.some((m) => m.at > since && m.echoedAt !== undefined)) return;
  await call.waitForEvent<ReceivedMark>('mark-echo', (m) => m.at > since, REPLY_TIMEOUT_MS);
}
