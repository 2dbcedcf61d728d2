/**
 * Latency: N turns on one simulated call. Each turn speaks the hello fixture and measures from
 * the caller's last frame to the bot's first audio frame, then waits for the reply to finish
 * playing (its mark echoed) and pauses. The fixture ends in 300 ms of digital silence, so the
 * time from the end of the voice is the measured time + 300 ms; that is what the floor is
 * compared with. Runs in the bench process: one call is light next to the server.
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
const FRAME_MS = 20;
const REPLY_TIMEOUT_MS = 20_000;

export interface LatencyRun {
  turns: number;
  /** Caller's last frame → first bot frame, per turn (ms). */
  fromLastFrameMs: number[];
  /** The same + the fixture's trailing silence: end of voice → first bot frame. */
  fromVoiceEnd: LatencyStats;
  underruns: number;
  missedTurns: number;
}

export async function measureLatency(wsUrl: string, turns: number): Promise<LatencyRun> {
  const wav = decodeWav(await readFile(HELLO_WAV));
  if (wav.sampleRate !== 16000) throw new Error('hello-16k.wav is not 16 kHz');
  const pcm = bytesFromPcm(wav.samples);
  const call = new SimulatedCall({ url: wsUrl, sampleRate: 16000 });
  await call.connect();
  const latencies: number[] = [];
  let missed = 0;
  try {
    call.start();
    call.startMic(FRAME_MS);
    await waitReplyDone(call, call.startedAt); // the greeting
    await sleep(300);
    for (let i = 0; i < turns; i++) {
      await call.say(pcm);
      const t = performance.now();
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
