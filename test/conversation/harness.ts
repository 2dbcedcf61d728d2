/**
 * The conversation on a virtual clock (vitest fake timers, `performance.now()` included): a
 * scripted VAD (a window is speech when its mean amplitude is high), scripted STT/LLM/TTS with
 * delays on the same clock, the real Exotel player, and an Exotel peer that plays what it gets
 * and echoes each mark when its audio has played. A test drives the caller's microphone frame
 * by frame and reads what the bot did; a whole exchange runs in milliseconds of real time.
 */
import { afterEach, beforeEach, vi } from 'vitest';
import {
  createAgentRegistry,
  resolveCallPlan,
  type AgentProfile,
  type CallPlan,
} from '../../src/agents/index.js';
import { DetectorVadStream, type VoiceActivityDetector } from '../../src/audio/vad/index.js';
import { loadConfig } from '../../src/config/index.js';
import { HedgeBudget } from '../../src/conversation/hedge-budget.js';
import { Conversation, type CallEnd } from '../../src/conversation/conversation.js';
import { TtsCache } from '../../src/conversation/tts-cache.js';
import type { TurnRecord } from '../../src/conversation/turn-record.js';
import { VoicebotError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import type { LlmEvent, LlmProvider, LlmRequest } from '../../src/providers/llm/types.js';
import type { SttProvider, SttRequest, SttResult } from '../../src/providers/stt/types.js';
import type { TtsProvider, TtsRequest } from '../../src/providers/tts/types.js';
import { ExotelPlayer } from '../../src/telephony/exotel-player.js';
import { Pacer } from '../../src/telephony/pacer.js';
import type { ToolResult } from '../../src/tools/http-tool.js';
import type { ToolInvoker } from '../../src/tools/toolbox.js';
import { splitTokens } from '../fakes/index.js';

export const RATE = 8000;
const FRAME_MS = 20;
const FRAME_SAMPLES = (RATE * FRAME_MS) / 1000;
/** Caller "voice": a constant amplitude the scripted VAD calls speech. */
const VOICE = 3000;

/** Starts the virtual clock; call before building a harness, `vi.useRealTimers()` after. */
export function useVirtualClock(): void {
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance', 'Date'],
  });
}

/**
 * The virtual clock around every test of the file; `track` a harness to have it closed after
 * its test (before the clock goes back to real time).
 */
export function virtualClockPerTest(): { track(h: Harness): Harness } {
  const open: Harness[] = [];
  beforeEach(() => useVirtualClock());
  afterEach(async () => {
    for (const h of open.splice(0)) await h.close();
    vi.useRealTimers();
  });
  return { track: (h) => (open.push(h), h) };
}

/** Exotel echoed a mark of this kind (`greeting_done`, `response_done`, …): it was heard. */
export const echoed = (c: Harness, kind: string): boolean =>
  c.peer.marks.some((m) => m.name.startsWith(kind) && m.echoedAt !== undefined);
/** How many marks of this kind Exotel echoed. */
export const echoes = (c: Harness, kind: string): number =>
  c.peer.marks.filter((m) => m.name.startsWith(kind) && m.echoedAt !== undefined).length;

/**
 * A tracked call whose greeting was heard and whose lines are synthesized (idle prompts off
 * unless `env` turns them on).
 */
export async function greetedCall(
  clock: { track(h: Harness): Harness },
  opts: HarnessOptions = {},
): Promise<Harness> {
  const h = clock.track(await startHarness({ ...opts, env: { IDLE_AFTER_MS: '0', ...opts.env } }));
  await h.until(() => echoed(h, 'greeting_done') && h.ready());
  return h;
}

function aborted(): VoicebotError {
  return new VoicebotError('PROVIDER_ABORTED', 'aborted');
}

/** Resolves after `ms` on the (virtual) clock; rejects PROVIDER_ABORTED when `signal` aborts. */
function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(aborted());
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A window is speech when its mean absolute amplitude is over 500. */
class AmplitudeDetector implements VoiceActivityDetector {
  readonly sampleRate = RATE;
  readonly frameSamples = FRAME_SAMPLES;
  process(frame: Int16Array): Promise<number> {
    let sum = 0;
    for (const s of frame) sum += Math.abs(s);
    return Promise.resolve(sum / frame.length > 500 ? 1 : 0);
  }
  reset(): void {}
  close(): void {}
}

type Step<T> = T | ((n: number) => T);
const pick = <T>(step: Step<T>, n: number): T =>
  typeof step === 'function' ? (step as (n: number) => T)(n) : step;

export interface SttStep {
  text?: string;
  error?: VoicebotError;
  delayMs?: number;
}

export class ScriptedStt implements SttProvider {
  readonly model = 'scripted-stt';
  readonly requests: SttRequest[] = [];
  readonly queue: SttStep[] = [];
  fallback: Step<SttStep> = { text: 'What is my loan balance?' };
  delayMs = 300;

  async transcribe(req: SttRequest): Promise<SttResult> {
    this.requests.push(req);
    const step = this.queue.shift() ?? pick(this.fallback, this.requests.length);
    await wait(step.delayMs ?? this.delayMs, req.signal);
    if (step.error) throw step.error;
    return { text: step.text ?? '' };
  }
}

export interface LlmStep {
  text?: string;
  toolCalls?: Array<{ name: string; arguments: Record<string, unknown> | string; id?: string }>;
  error?: VoicebotError;
  /** Fail after this many text tokens. */
  failAfterTokens?: number;
  firstTokenMs?: number;
  perTokenMs?: number;
}

export class ScriptedLlm implements LlmProvider {
  readonly model = 'scripted-llm';
  readonly requests: LlmRequest[] = [];
  readonly queue: Step<LlmStep>[] = [];
  fallback: Step<LlmStep> = { text: 'Your balance is five thousand rupees. Anything else?' };
  firstTokenMs = 400;
  perTokenMs = 20;

  async *stream(req: LlmRequest): AsyncGenerator<LlmEvent> {
    this.requests.push({ ...req, messages: structuredClone(req.messages) });
    const n = this.requests.length;
    const step = pick(this.queue.shift() ?? this.fallback, n);
    await wait(step.firstTokenMs ?? this.firstTokenMs, req.signal);
    if (step.error && step.failAfterTokens === undefined) throw step.error;
    const tokens = splitTokens(step.text ?? '');
    for (const [i, token] of tokens.entries()) {
      if (step.failAfterTokens === i) throw step.error ?? aborted();
      if (i > 0) await wait(step.perTokenMs ?? this.perTokenMs, req.signal);
      yield { type: 'text', text: token };
    }
    for (const [i, c] of (step.toolCalls ?? []).entries()) {
      await wait(step.perTokenMs ?? this.perTokenMs, req.signal);
      const args = typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments);
      yield {
        type: 'tool-call',
        call: { id: c.id ?? `call_${n}_${i}`, name: c.name, arguments: args },
      };
    }
  }

  /** The messages of the last request. */
  last(): LlmRequest['messages'] {
    return this.requests.at(-1)?.messages ?? [];
  }
}

export interface TtsStep {
  error?: VoicebotError;
  firstByteMs?: number;
}

/** Speech at the stream rate (no resampling): `msPerChar` of tone per character, 2× real time. */
export class ScriptedTts implements TtsProvider {
  readonly model = 'scripted-tts';
  readonly sampleRate = RATE;
  readonly requests: string[] = [];
  readonly queue: TtsStep[] = [];
  firstByteMs = 250;
  msPerChar = 40;
  chunkMs = 40;

  async *synthesize(req: TtsRequest): AsyncGenerator<Buffer> {
    this.requests.push(req.text);
    const step = this.queue.shift() ?? {};
    // A failure answers at once (an HTTP error), unless the step says otherwise.
    await wait(step.firstByteMs ?? (step.error ? 0 : this.firstByteMs), req.signal);
    if (step.error) throw step.error;
    const totalMs = Math.max(this.chunkMs, req.text.length * this.msPerChar);
    for (let at = 0; at < totalMs; at += this.chunkMs) {
      if (at > 0) await wait(this.chunkMs / 2, req.signal);
      yield tone(Math.min(this.chunkMs, totalMs - at));
    }
  }

  /** Milliseconds of audio this text becomes. */
  audioMs(text: string): number {
    return Math.max(this.chunkMs, text.length * this.msPerChar);
  }
}

function tone(ms: number): Buffer {
  const pcm = new Int16Array((RATE * ms) / 1000).fill(1000);
  return Buffer.from(pcm.buffer);
}

export interface BackendAnswer {
  delayMs?: number;
  result?: ToolResult;
}

/** The business's backend behind the HTTP tools, answering on the virtual clock. */
export class ScriptedBackend {
  readonly calls: Array<{
    tool: string;
    args: Record<string, unknown>;
    at: number;
    cancelled?: boolean;
  }> = [];
  readonly answers = new Map<string, BackendAnswer>();
  delayMs = 200;

  readonly invoke: ToolInvoker = async (tool, args, opts) => {
    const call: (typeof this.calls)[number] = { tool: tool.name, args, at: performance.now() };
    this.calls.push(call);
    const answer = this.answers.get(tool.name) ?? {};
    const delay = answer.delayMs ?? this.delayMs;
    try {
      await wait(Math.min(delay, tool.timeoutMs), opts.signal);
    } catch {
      call.cancelled = true;
      return { status: 'cancelled', content: '{"error":"cancelled: the caller spoke"}' };
    }
    if (delay > tool.timeoutMs) {
      return { status: 'timeout', content: `{"error":"no answer within ${tool.timeoutMs} ms"}` };
    }
    return answer.result ?? { status: 'ok', content: JSON.stringify({ tool: tool.name, args }) };
  };
}

export interface PeerFrame {
  at: number;
  playAt: number;
  ms: number;
}

/** Exotel's side of the socket: plays media in order, echoes marks when played, obeys clear. */
export class ExotelPeer {
  readonly bufferedBytes = 0;
  readonly frames: PeerFrame[] = [];
  readonly marks: Array<{ name: string; at: number; echoedAt?: number }> = [];
  readonly clears: number[] = [];
  player!: ExotelPlayer;
  private playEnd = 0;
  private readonly echoes = new Set<NodeJS.Timeout>();

  send(text: string): void {
    const msg = JSON.parse(text) as {
      event: string;
      media?: { payload: string };
      mark?: { name: string };
    };
    const now = performance.now();
    if (msg.event === 'media') {
      const ms = Buffer.from(msg.media!.payload, 'base64').length / ((RATE * 2) / 1000);
      if (this.playEnd < now) this.playEnd = now;
      this.frames.push({ at: now, playAt: this.playEnd, ms });
      this.playEnd += ms;
    } else if (msg.event === 'mark') {
      const mark: { name: string; at: number; echoedAt?: number } = {
        name: msg.mark!.name,
        at: now,
      };
      this.marks.push(mark);
      const timer = setTimeout(
        () => {
          this.echoes.delete(timer);
          mark.echoedAt = performance.now();
          this.player.onMarkEcho(mark.name);
        },
        Math.max(0, this.playEnd - now),
      );
      this.echoes.add(timer);
    } else if (msg.event === 'clear') {
      this.clears.push(now);
      this.playEnd = now;
      for (const t of this.echoes) clearTimeout(t);
      this.echoes.clear();
    }
  }

  /** Bot audio (ms) that started playing in [from, to). */
  playedBetween(from: number, to: number): number {
    return this.frames
      .filter((f) => f.playAt >= from && f.playAt < to)
      .reduce((a, f) => a + f.ms, 0);
  }

  /** When the first bot frame after `t` started playing. */
  firstPlayAfter(t: number): number | undefined {
    return this.frames.find((f) => f.at >= t)?.playAt;
  }
}

export interface HarnessOptions {
  /** Environment over the test defaults (as the server would read it). */
  env?: Record<string, string>;
  /** Agent profiles to pick from with the `agent` parameter. */
  profiles?: AgentProfile[];
  params?: Record<string, string>;
  callSid?: string;
  /** Hedged STT requests allowed (a fresh budget per call by default). */
  sttHedgeBudget?: HedgeBudget;
}

export interface Harness {
  conversation: Conversation;
  /** The call's root signal (aborted when the call ends). */
  signal: AbortSignal;
  plan: CallPlan;
  stt: ScriptedStt;
  llm: ScriptedLlm;
  tts: ScriptedTts;
  backend: ScriptedBackend;
  peer: ExotelPeer;
  player: ExotelPlayer;
  turns: TurnRecord[];
  ends: CallEnd[];
  events: Array<{ kind: string; code: string; detail: string }>;
  /** Samples in each push the VAD got, in order. */
  vadPushes: number[];
  /** The greeting was said and the lines the call may need were synthesized ahead. */
  ready(): boolean;
  /** Bot `media` messages sent after the greeting's. */
  replyFrames(): number;
  /** Bot audio (ms) sent after the greeting's. */
  replyMs(): number;
  /** Caller voice for `ms` (whole frames), the clock moving with it. */
  speak(ms: number): Promise<void>;
  /** Caller silence for `ms`. */
  silence(ms: number): Promise<void>;
  /** Silence until `pred` holds (checked every frame), at most `maxMs`; throws if it never does. */
  until(pred: () => boolean, maxMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Builds a call's conversation on the virtual clock (call `useVirtualClock()` first). */
export function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const config = loadConfig({
    OPENAI_API_KEY: 'test',
    GREETING_TEXT: 'Hello.',
    VAD: 'webrtc',
    ...opts.env,
  });
  const { plan } = resolveCallPlan(
    config,
    createAgentRegistry(opts.profiles ?? []),
    opts.params ?? {},
    { callSid: opts.callSid ?? 'CA_virtual' },
  );
  const root = new AbortController();
  const stt = new ScriptedStt();
  const llm = new ScriptedLlm();
  const tts = new ScriptedTts();
  const backend = new ScriptedBackend();
  const peer = new ExotelPeer();
  const pacer = new Pacer(config.playback.tickMs);
  const player = ExotelPlayer.forCall(config, pacer, peer, 'MZ_virtual', RATE);
  peer.player = player;
  const turns: TurnRecord[] = [];
  const ends: CallEnd[] = [];
  const events: Harness['events'] = [];
  const vadPushes: number[] = [];
  const vad = new DetectorVadStream('webrtc', RATE, new AmplitudeDetector(), null, {
    energyGateDbfs: null,
  });
  const push = vad.push.bind(vad);
  vad.push = (pcm) => {
    vadPushes.push(pcm.length);
    return push(pcm);
  };
  const conversation = new Conversation({
    plan,
    output: player,
    stt,
    llm,
    tts,
    ttsCache: new TtsCache(16 * 1024 * 1024),
    sampleRate: RATE,
    signal: root.signal,
    log: createLogger('silent'),
    vad: Promise.resolve(vad),
    invokeTool: backend.invoke,
    sttHedgeBudget: opts.sttHedgeBudget ?? new HedgeBudget(),
    onTurn: (t) => turns.push(t),
    onEvent: (e) => events.push(e),
    onEnd: (e) => ends.push(e),
  });
  let ready = false;
  const started = conversation.start().then(() => (ready = true));
  const frame = (value: number) => Buffer.from(new Int16Array(FRAME_SAMPLES).fill(value).buffer);
  const feed = async (ms: number, value: number) => {
    for (let t = 0; t < ms; t += FRAME_MS) {
      conversation.onAudio(frame(value));
      await vi.advanceTimersByTimeAsync(FRAME_MS);
    }
  };
  return Promise.resolve({
    conversation,
    signal: root.signal,
    plan,
    stt,
    llm,
    tts,
    backend,
    peer,
    player,
    turns,
    ends,
    events,
    vadPushes,
    ready: () => ready,
    replyFrames: () => {
      const greeting = peer.marks.find((m) => m.name.startsWith('greeting_done'));
      return greeting ? peer.frames.filter((f) => f.at > greeting.at).length : 0;
    },
    replyMs: () => {
      const greeting = peer.marks.find((m) => m.name.startsWith('greeting_done'));
      if (!greeting) return 0;
      return peer.frames.filter((f) => f.at > greeting.at).reduce((a, f) => a + f.ms, 0);
    },
    speak: (ms) => feed(ms, VOICE),
    silence: (ms) => feed(ms, 0),
    async until(pred, maxMs = 30_000) {
      for (let t = 0; !pred(); t += FRAME_MS) {
        if (t > maxMs) throw new Error(`condition not met within ${maxMs} ms of virtual time`);
        await feed(FRAME_MS, 0);
      }
    },
    async close() {
      root.abort();
      player.close();
      await conversation.close();
      await started;
      pacer.close();
    },
  });
}
