/**
 * One live Exotel stream: owns the call's root AbortController, its logger, its player and every
 * background task it starts. Frames come in through `handleText`/`handleBinary`; anything
 * malformed is logged with a code and dropped, and the call goes on.
 */
import { randomUUID } from 'node:crypto';
import type { Config } from '../config/index.js';
import { errorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { OutboundPlayer } from '../conversation/player.js';
import type { Pacer } from '../conversation/pacer.js';
import { speak } from '../conversation/speak.js';
import type { TtsCache } from '../conversation/tts-cache.js';
import type { TtsProvider } from '../providers/tts/types.js';
import type { SttProvider } from '../providers/stt/types.js';
import type { LlmProvider } from '../providers/llm/types.js';
import { Conversation } from '../conversation/conversation.js';
import type { TurnRecord } from '../conversation/turn-record.js';
import {
  decode,
  encode,
  encodeMediaFromBase64,
  type InboundEvent,
  type StartEvent,
} from './exotel-codec.js';
import { resolveSampleRate, type SampleRate, type StreamQuery } from './exotel-url.js';

export interface CallDeps {
  config: Config;
  logger: Logger;
  tts: TtsProvider;
  stt: SttProvider;
  llm: LlmProvider;
  ttsCache: TtsCache;
  pacer: Pacer;
  /** Called with every finished turn of every call. */
  onTurn?: (call: CallSession, turn: TurnRecord) => void;
}

/** What the session needs of its WebSocket. */
export interface CallSocket {
  send(text: string): void;
  close(code: number, reason: string): void;
  readonly bufferedBytes: number;
}

export const CLOSE_POLICY_VIOLATION = 1008;
const MAX_LOGS_PER_CODE = 5;

export type CallState = 'connected' | 'started' | 'stopped' | 'closed';

export class CallSession {
  readonly id = randomUUID();
  readonly connectedAt = Date.now();
  log: Logger;
  state: CallState = 'connected';
  streamSid: string | undefined;
  callSid: string | undefined;
  accountSid: string | undefined;
  from: string | undefined;
  to: string | undefined;
  customParameters: Record<string, string> = {};
  sampleRate: SampleRate | undefined;
  stopReason: string | undefined;
  player: OutboundPlayer | undefined;
  conversation: Conversation | undefined;
  readonly counters = { frames: 0, mediaFrames: 0, mediaBytes: 0, dtmf: 0, marks: 0, badFrames: 0 };
  readonly frameErrors = new Map<string, number>();
  /** The call's root signal: aborted when the call ends. Every task of the call hangs off it. */
  private readonly root = new AbortController();
  private readonly tasks = new Set<Promise<unknown>>();

  constructor(
    private readonly deps: CallDeps,
    private readonly socket: CallSocket,
    readonly query: StreamQuery,
  ) {
    this.callSid = query.callSid;
    this.from = query.from;
    this.to = query.to;
    this.customParameters = { ...query.custom };
    this.log = deps.logger.child({ sessionId: this.id, callSid: query.callSid });
  }

  get signal(): AbortSignal {
    return this.root.signal;
  }

  get callLogId(): string | undefined {
    return this.query.callLogId;
  }

  /** Validates what the URL says before any frame arrives; false when the call was refused. */
  open(): boolean {
    if (this.query.sampleRate !== undefined) {
      const rate = resolveSampleRate(this.query.sampleRate, undefined);
      if (!rate.ok) {
        this.refuse(rate.error.code, rate.error.message);
        return false;
      }
    }
    this.log.info({ sampleRate: this.query.sampleRate }, 'call connected');
    return true;
  }

  handleText(text: string): void {
    this.counters.frames++;
    const result = decode(text, { maxBytes: this.deps.config.ws.maxPayloadBytes });
    if (!result.ok) return this.frameError(result.error.code, result.error.message);
    this.dispatch(result.event);
  }

  handleBinary(): void {
    this.counters.frames++;
    this.frameError('FRAME_BINARY', 'binary frames are not part of the protocol');
  }

  /** Ends the call: aborts every task, stops the player, waits for tasks to settle. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.root.abort();
    this.player?.close();
    await Promise.allSettled([...this.tasks, this.conversation?.close()]);
    this.log.info(
      {
        durationMs: Date.now() - this.connectedAt,
        stopReason: this.stopReason,
        ...this.counters,
        player: this.player?.stats,
      },
      'call closed',
    );
  }

  /** Runs a background task owned by this call: awaited on close, errors logged with a code. */
  track(task: Promise<unknown>): void {
    const t = task.catch((err: unknown) => {
      if (!this.signal.aborted) this.log.error({ code: errorCode(err), err }, 'call task failed');
    });
    this.tasks.add(t);
    void t.finally(() => this.tasks.delete(t));
  }

  private dispatch(event: InboundEvent): void {
    switch (event.event) {
      case 'connected':
        return;
      case 'start':
        return this.onStart(event);
      case 'stop':
        this.stopReason = event.reason;
        this.state = 'stopped';
        this.log.info({ reason: event.reason }, 'call stopped');
        this.root.abort();
        this.player?.close();
        this.track(this.conversation?.close() ?? Promise.resolve());
        return;
      default:
        break;
    }
    if (this.state === 'stopped') return;
    if (this.state !== 'started' || !this.player || !this.conversation) {
      return this.frameError('FRAME_ORDER', `${event.event} before start`);
    }
    switch (event.event) {
      case 'media':
        this.counters.mediaFrames++;
        this.counters.mediaBytes += event.payload.length;
        this.conversation.onAudio(event.payload);
        return;
      case 'mark':
        this.counters.marks++;
        if (!this.player.onMarkEcho(event.name))
          this.log.debug({ mark: event.name }, 'unknown mark');
        return;
      case 'dtmf':
        this.counters.dtmf++;
        this.log.debug({ pii: { digit: event.digit } }, 'dtmf');
        this.conversation.onDtmf(event.digit);
        return;
      case 'clear':
        this.conversation.onClear();
        return;
    }
  }

  private onStart(event: StartEvent): void {
    if (this.state !== 'connected') return this.frameError('FRAME_ORDER', 'second start');
    const rate = resolveSampleRate(this.query.sampleRate, event.mediaFormat?.sampleRate);
    if (!rate.ok) return this.refuse(rate.error.code, rate.error.message);
    this.state = 'started';
    this.sampleRate = rate.rate;
    this.streamSid = event.streamSid;
    this.callSid = event.callSid ?? this.callSid;
    this.accountSid = event.accountSid;
    this.from = event.from ?? this.from;
    this.to = event.to ?? this.to;
    this.customParameters = { ...this.customParameters, ...event.customParameters };
    this.log = this.log.child({ callSid: this.callSid, streamSid: this.streamSid });
    this.log.info(
      {
        sampleRate: rate.rate,
        pii: { from: this.from, to: this.to, custom: this.customParameters },
      },
      'call started',
    );
    const { config, pacer } = this.deps;
    const socket = this.socket;
    this.player = new OutboundPlayer({
      streamSid: event.streamSid,
      sampleRate: rate.rate,
      frameMs: config.playback.frameMs,
      prebufferMs: config.playback.prebufferMs,
      leadMs: config.playback.leadMs,
      maxBufferedBytes: config.ws.maxBufferedBytes,
      transport: {
        send: (text) => socket.send(text),
        get bufferedBytes() {
          return socket.bufferedBytes;
        },
      },
      pacer,
      encodeMedia: encodeMediaFromBase64,
      encodeMark: (streamSid, name) => encode({ event: 'mark', streamSid, name }),
      encodeClear: (streamSid) => encode({ event: 'clear', streamSid }),
    });
    const conversation = new Conversation({
      config,
      log: this.log,
      player: this.player,
      tts: this.deps.tts,
      stt: this.deps.stt,
      llm: this.deps.llm,
      ttsCache: this.deps.ttsCache,
      sampleRate: rate.rate,
      params: this.customParameters,
      signal: this.signal,
      onTurn: (turn) => this.deps.onTurn?.(this, turn),
    });
    this.conversation = conversation;
    this.track(this.greet().finally(() => conversation.prepare()));
  }

  private async greet(): Promise<void> {
    const player = this.player;
    if (!player) return;
    const text = this.customParameters.greeting_text ?? this.deps.config.greetingText;
    const voice = this.customParameters.voice_id ?? this.deps.config.tts.voice;
    const startedAt = performance.now();
    try {
      const { utterance, fromCache } = await speak({
        player,
        tts: this.deps.tts,
        text,
        voice,
        kind: 'greeting_done',
        signal: this.signal,
        cache: this.deps.ttsCache,
      });
      const firstAudioMs =
        utterance.firstFrameAt === undefined ? undefined : utterance.firstFrameAt - startedAt;
      this.log.info({ fromCache, firstAudioMs }, 'greeting started');
    } catch (err) {
      if (this.signal.aborted) return;
      this.log.error({ code: errorCode(err), err: String(err) }, 'greeting failed');
    }
  }

  private frameError(code: string, message: string): void {
    this.counters.badFrames++;
    const seen = (this.frameErrors.get(code) ?? 0) + 1;
    this.frameErrors.set(code, seen);
    if (seen <= MAX_LOGS_PER_CODE) {
      this.log.warn({ code, detail: message, occurrence: seen }, 'malformed frame dropped');
    }
  }

  private refuse(code: string, message: string): void {
    this.log.warn({ code, detail: message }, 'call refused');
    this.socket.close(CLOSE_POLICY_VIOLATION, `${code}: ${message}`.slice(0, 120));
  }
}
