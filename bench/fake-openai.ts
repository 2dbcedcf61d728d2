/**
 * The fake OpenAI server with the benchmark's provider model applied to every request, run as
 * its own process so it does not share the voicebot's event loop:
 *   npx tsx bench/fake-openai.ts [port]
 * Prints the base URL (for OPENAI_BASE_URL) on its first stdout line.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { EVENT_LOOP_SAMPLE_MS, loopDelayMs } from '../src/metrics/loop-delay.js';
import { FakeOpenAI } from '../test/fakes/fake-openai.js';
import {
  LLM_FIRST_TOKEN_MS,
  LLM_PER_TOKEN_MS,
  REPLY,
  STT_MS,
  TRANSCRIPT,
  TTS_FIRST_BYTE_MS,
  TTS_REALTIME_FACTOR,
} from './model.js';

const port = Number(process.argv[2] ?? 0);
// Spec violations would print once per request under load; the test suite checks them.
// Requests are counted, not kept: a run's turn audio would otherwise pile up in the fake's heap.
const fake = await FakeOpenAI.start({ port, logViolations: false, keepRequests: false });
// Its schemas compiled now: the first turn measured would otherwise wait for them.
fake.warm();
fake.transcriptions.setDefault({ kind: 'text', text: TRANSCRIPT, delayMs: STT_MS });
fake.chat.setDefault({
  kind: 'stream',
  tokens: REPLY,
  firstTokenDelayMs: LLM_FIRST_TOKEN_MS,
  perTokenMs: LLM_PER_TOKEN_MS,
});
fake.speech.setDefault({
  kind: 'audio',
  firstByteDelayMs: TTS_FIRST_BYTE_MS,
  realtimeFactor: TTS_REALTIME_FACTOR,
});
console.log(fake.baseUrl);
const stop = () => void fake.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
// The fake's own event-loop delay: a late answer counts as the server's added delay, so a step
// reports how late the fake could have been.
const loop = monitorEventLoopDelay({ resolution: EVENT_LOOP_SAMPLE_MS });
loop.enable();
// Exit with the parent: a closed stdin means the bench process is gone. A `stats` line asks for
// the requests answered so far, by endpoint (the bench counts wasted requests with it); a `loop`
// line for the event-loop delay's p99 and max since the last `loop` line.
process.stdin.on('close', stop);
createInterface({ input: process.stdin }).on('line', (line) => {
  const ask = line.trim();
  if (ask === 'stats') console.log(JSON.stringify({ stats: fake.counts }));
  if (ask === 'loop') {
    const ms = (ns: number) => Math.round(loopDelayMs(ns / 1e6) * 10) / 10;
    console.log(JSON.stringify({ loop: { p99Ms: ms(loop.percentile(99)), maxMs: ms(loop.max) } }));
    loop.reset();
  }
});
