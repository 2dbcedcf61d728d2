/**
 * CPU of one turn's provider calls on the server's event loop: a transcription of the hello
 * fixture, a streamed chat completion of the bench's reply and its streamed speech, through our
 * providers and the official SDK, against the bench's fake OpenAI in its own process. Compares
 * the SDK on Node's `fetch` (what the server used before) with the SDK on `requestFetch` (what it
 * uses now), alternating, several rounds:
 *   npm run bench:providers        (PROVIDER_TURNS=300 PROVIDER_CONCURRENCY=30 PROVIDER_ROUNDS=3)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { Agent } from 'undici';
import { decodeWav } from '../src/audio/wav.js';
import { requestFetch } from '../src/providers/request-fetch.js';
import { OpenAILlmProvider } from '../src/providers/llm/openai-llm.js';
import { OpenAISttProvider } from '../src/providers/stt/openai-stt.js';
import { OpenAITts } from '../src/providers/tts/openai-tts.js';
import { REPLY, TRANSCRIPT } from './model.js';
import { ROOT, stop } from './processes.js';
import { startFake } from './server.js';

const TURNS = Number(process.env.PROVIDER_TURNS ?? 300);
const CONCURRENCY = Number(process.env.PROVIDER_CONCURRENCY ?? 30);
const ROUNDS = Number(process.env.PROVIDER_ROUNDS ?? 3);

const fake = await startFake();
const wav = decodeWav(readFileSync(join(ROOT, 'test/fixtures/hello-8k.wav')));

function providers(client: OpenAI) {
  return {
    stt: new OpenAISttProvider(client, { model: 'whisper-1', timeoutMs: 10_000 }),
    llm: new OpenAILlmProvider(client, {
      model: 'gpt-4o-mini',
      firstTokenTimeoutMs: 10_000,
      stallMs: 10_000,
    }),
    tts: new OpenAITts(client, { model: 'gpt-4o-mini-tts', timeoutMs: 10_000, stallMs: 10_000 }),
  };
}

const clients = {
  'Node fetch': (dispatcher: Agent) =>
    new OpenAI({
      apiKey: 'sk-bench',
      baseURL: fake.baseUrl,
      maxRetries: 0,
      logLevel: 'off',
      fetchOptions: { dispatcher },
    }),
  requestFetch: (dispatcher: Agent) =>
    new OpenAI({
      apiKey: 'sk-bench',
      baseURL: fake.baseUrl,
      maxRetries: 0,
      logLevel: 'off',
      fetch: requestFetch(dispatcher),
    }),
};

async function turn(p: ReturnType<typeof providers>): Promise<void> {
  const signal = new AbortController().signal;
  const heard = await p.stt.transcribe({ audio: wav.samples, sampleRate: wav.sampleRate, signal });
  if (heard.text.trim() !== TRANSCRIPT) throw new Error(`unexpected transcript ${heard.text}`);
  let reply = '';
  for await (const e of p.llm.stream({ messages: [{ role: 'user', content: heard.text }], signal }))
    if (e.type === 'text') reply += e.text;
  if (reply !== REPLY) throw new Error(`unexpected reply ${reply}`);
  let bytes = 0;
  for await (const chunk of p.tts.synthesize({ text: reply, voice: 'alloy', signal }))
    bytes += chunk.length;
  if (bytes === 0) throw new Error('no speech');
}

/** CPU ms per turn (user + system, this process) over TURNS turns, CONCURRENCY at a time. */
async function measure(p: ReturnType<typeof providers>): Promise<number> {
  for (let i = 0; i < 20; i++) await turn(p); // warm: JIT, connections
  const before = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < TURNS) await turn(p);
    }),
  );
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / TURNS;
}

const results: Record<string, number[]> = { 'Node fetch': [], requestFetch: [] };
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, make] of Object.entries(clients)) {
      const dispatcher = new Agent({ keepAliveTimeout: 60_000 });
      results[name]!.push(await measure(providers(make(dispatcher))));
      await dispatcher.close();
    }
  }
} finally {
  await stop(fake.child);
}
console.log(
  `CPU per turn (STT + LLM stream + TTS stream), ${TURNS} turns, ${CONCURRENCY} at a time, ${ROUNDS} rounds`,
);
console.log('| SDK on | ms per turn, each round | median |');
console.log('|---|---|---:|');
for (const [name, ms] of Object.entries(results)) {
  const sorted = [...ms].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  console.log(`| ${name} | ${ms.map((m) => m.toFixed(2)).join(', ')} | ${median.toFixed(2)} |`);
}
