/**
 * The fake OpenAI server with the benchmark's provider model applied to every request, run as
 * its own process so it does not share the voicebot's event loop:
 *   npx tsx bench/fake-openai.ts [port]
 * Prints the base URL (for OPENAI_BASE_URL) on its first stdout line.
 */
import { createInterface } from 'node:readline';
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
const fake = await FakeOpenAI.start({ port, logViolations: false });
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
// Exit with the parent: a closed stdin means the bench process is gone. A `stats` line asks for
// the requests answered so far, by endpoint (the bench counts wasted requests with it).
process.stdin.on('close', stop);
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'stats') return;
  const counts: Record<string, number> = { chat: 0, speech: 0, transcriptions: 0 };
  for (const r of fake.requests) counts[r.endpoint] = (counts[r.endpoint] ?? 0) + 1;
  console.log(JSON.stringify({ stats: counts }));
});
