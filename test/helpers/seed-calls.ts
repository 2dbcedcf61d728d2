/**
 * Synthetic call records for the console's tests, page-load bench and screenshots: calls written
 * through the store's own write path (so rows are exactly what a live server stores), with
 * turns that have timings, interruptions, a tool call, a keypad entry and an occasional
 * fallback, and a silent stereo recording of the call's length.
 */
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { wavHeader } from '../../src/audio/wav.js';
import { recordingPath } from '../../src/recording/recordings.js';
import { speakNumbers } from '../../src/speech/numbers.js';
import type { TurnRecord } from '../../src/conversation/turn-record.js';
import type { CallStore } from '../../src/store/index.js';

const EXCHANGES: Array<[string, string]> = [
  [
    'Haan, mera loan balance kitna hai?',
    'Aapka outstanding balance ek lakh pachaas hazaar rupaye hai.',
  ],
  [
    'EMI kab due hai?',
    'Aapki agli EMI paanch December ko due hai, chaar hazaar paanch sau rupaye.',
  ],
  [
    'Can I pay part of it early?',
    'Yes, you can prepay from ten thousand rupees upwards, with no charge.',
  ],
  ['Interest rate kya hai?', 'Aapka rate saade aath percent saalana hai, floating.'],
  ['Mujhe statement chahiye.', 'Main aapke registered email par statement bhej deti hoon.'],
  ['Theek hai, aur kuch nahi.', 'Dhanyavaad! Aapka din shubh ho.'],
];

const AGENTS = ['loan_hi', 'clinic_en'];

export interface SeedOptions {
  /** The call's first moment (epoch ms). */
  startMs: number;
  turns: number;
  agent?: string;
  from?: string;
  /** Where recordings go; none is written when absent. */
  recordingsDir?: string;
  sampleRate?: number;
  status?: 'completed' | 'failed';
  /** What is said, turn by turn (repeated); a loan conversation in Hinglish by default. */
  exchanges?: Array<[string, string]>;
}

/** Writes one finished call; returns its id. Timings are on `performance.now()`'s clock. */
export async function seedCall(store: CallStore, o: SeedOptions): Promise<string> {
  const id = randomUUID();
  const rate = o.sampleRate ?? 8000;
  const origin = performance.timeOrigin;
  const callSid = `CA${id.replaceAll('-', '')}`;
  const from = o.from ?? '+919812345670';
  store.callConnected({ id, at: o.startMs, callSid, from, to: '+918047491899' });
  store.callStarted(id, {
    at: o.startMs,
    callSid,
    from,
    to: '+918047491899',
    customParameters: { agent: o.agent ?? 'loan_hi' },
    sampleRate: rate,
    agent: o.agent ?? 'loan_hi',
  });
  let t = o.startMs + 3_000; // after the greeting
  let bargeIns = 0;
  let errors = 0;
  for (let i = 1; i <= o.turns; i++) {
    const said = o.exchanges ?? EXCHANGES;
    const [user, bot] = said[(i - 1) % said.length]!;
    const speechStart = t + 800;
    const speechEnd = speechStart + 1_800 + (i % 3) * 400;
    const endpoint = speechEnd + 500;
    const sttStart = speechEnd + 150;
    const sttEnd = sttStart + 300 + (i % 4) * 20;
    const llmRequest = Math.max(endpoint, sttEnd);
    const llmFirst = llmRequest + 380 + (i % 5) * 30;
    const ttsRequest = llmFirst + 160;
    const ttsFirst = ttsRequest + 240 + (i % 2) * 30;
    const firstAudio = ttsFirst + 15;
    const interrupted = i % 7 === 3;
    const fallback = i % 17 === 9;
    const dtmf = i % 11 === 5;
    const tool = i % 9 === 2;
    const replyEnd = firstAudio + (interrupted ? 1_200 : 3_500);
    const heard = interrupted ? bot.slice(0, Math.floor(bot.length / 2)) : bot;
    const record: TurnRecord = {
      index: i,
      source: dtmf ? 'dtmf' : 'speech',
      userText: dtmf ? '4 5 1 2' : user,
      botText: fallback ? 'Maaf kijiye, ek second, main dobara check karti hoon.' : bot,
      heardText: fallback ? 'Maaf kijiye, ek second, main dobara check karti hoon.' : heard,
      // What TTS got, when its numbers were read out in words.
      ...(!fallback && /\d/.test(bot) ? { spokenText: speakNumbers(bot, 'english') } : {}),
      interrupted,
      fallback,
      preemptiveStt: i % 2 === 0,
      errors: fallback ? ['LLM_TIMEOUT'] : [],
      toolCalls: tool
        ? [
            {
              id: `call_${i}`,
              name: 'lookup_loan',
              arguments: '{"loan_id":"HL-20931"}',
              result: '{"outstanding":150000,"next_emi_due":"2026-12-05","emi":4500}',
              status: 'ok',
              durationMs: 420,
              round: 1,
            },
          ]
        : [],
      ...(tool ? { filler: 'Ek second, main check karti hoon.' } : {}),
      timings: {
        speechStartAt: speechStart - origin,
        speechEndAt: speechEnd - origin,
        endpointAt: endpoint - origin,
        sttStartAt: sttStart - origin,
        sttEndAt: sttEnd - origin,
        llmRequestAt: llmRequest - origin,
        llmFirstTokenAt: llmFirst - origin,
        ttsRequestAt: ttsRequest - origin,
        ttsFirstByteAt: ttsFirst - origin,
        firstAudioAt: firstAudio - origin,
        replyEndAt: replyEnd - origin,
      },
    };
    store.turnRecorded(id, record);
    if (dtmf) {
      for (const [k, d] of ['4', '5', '1', '2'].entries()) {
        store.eventRecorded(id, { at: speechStart + k * 300, kind: 'dtmf', detail: d });
      }
    }
    if (fallback) {
      store.eventRecorded(id, {
        at: llmFirst,
        kind: 'error',
        code: 'LLM_TIMEOUT',
        detail: `turn ${i}`,
      });
      errors++;
    }
    if (interrupted) bargeIns++;
    t = replyEnd;
  }
  const end = t + 1_500;
  const durationMs = end - o.startMs;
  if (o.recordingsDir) {
    await writeFile(recordingPath(o.recordingsDir, id), encodeWavStereoSilence(rate, durationMs));
  }
  store.callEnded(id, {
    at: end,
    durationMs,
    status: o.status ?? 'completed',
    hangupBy: 'caller',
    endReason: 'caller_hangup',
    turnCount: o.turns,
    bargeInCount: bargeIns,
    errorCount: errors,
    ...(o.recordingsDir ? { recordingMs: durationMs } : {}),
  });
  store.summaryUpdated(id, {
    status: 'done',
    summary:
      'Caller asked about the outstanding balance, EMI date and prepayment; the bot answered from the loan record and offered a statement by email.',
  });
  return id;
}

/** `count` calls of 3–12 turns over the last days, across agents and numbers. */
export async function seedCalls(
  store: CallStore,
  count: number,
  opts: { recordingsDir?: string; nowMs?: number } = {},
): Promise<string[]> {
  const now = opts.nowMs ?? Date.now();
  const ids: string[] = [];
  for (let k = 0; k < count; k++) {
    ids.push(
      await seedCall(store, {
        startMs: now - (k + 1) * 47 * 60_000,
        turns: 3 + ((k * 5) % 10),
        agent: AGENTS[k % AGENTS.length],
        from: `+9198${String(10_000_000 + k * 7_919).padStart(8, '0')}`,
        status: k % 13 === 6 ? 'failed' : 'completed',
        ...(opts.recordingsDir ? { recordingsDir: opts.recordingsDir } : {}),
      }),
    );
  }
  return ids;
}

/** A silent stereo WAV of a given length: the stand-in recording of a seeded call. */
function encodeWavStereoSilence(rate: number, durationMs: number): Buffer {
  const bytes = Math.round((rate * durationMs) / 1000) * 4;
  return Buffer.concat([wavHeader(rate, 2, bytes), Buffer.alloc(bytes)]);
}
