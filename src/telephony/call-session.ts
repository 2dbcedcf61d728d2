/**
 * One live Exotel stream: owns the call's root AbortController, its logger, its player, its
 * conversation and every background task it starts, and reports the call's life to the store.
 * Frames come in through `handleText`/`handleBinary`; anything malformed is logged with a code
 * and dropped, and the call goes on.
 */
import { randomUUID } from 'node:crypto';
import type { AgentRegistry, CallPlan } from '../agents/index.js';
import type { Config } from '../config/index.js';
import { Conversation, type CallEnd } from '../conversation/conversation.js';
import type { TtsCache } from '../conversation/tts-cache.js';
import type { TurnRecord } from '../conversation/turn-record.js';
import { errorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import type { PostCallWorker } from '../postcall/post-call.js';
import type { ProviderSet } from '../providers/provider-set.js';
import type { CallStore, EndReason, HangupBy } from '../store/index.js';
import { CallRecorder } from '../recording/call-recorder.js';
import { recordingPath } from '../recording/recordings.js';
import { ExotelPlayer } from './exotel-player.js';
import type { Pacer } from './pacer.js';
import type { StartCushion } from './start-cushion.js';
import type { TransferBook } from './transfer-book.js';
import { prepareCall } from './call-setup.js';
import { decode, type InboundEvent, type StartEvent } from './exotel-codec.js';
import { resolveSampleRate, type SampleRate, type StreamQuery } from './exotel-url.js';

export interface CallDeps {
  config: Config;
  logger: Logger;
  providers: ProviderSet;
  ttsCache: TtsCache;
  pacer: Pacer;
  /** The process's learned start cushion (PLAYBACK_START_ADAPTIVE); absent: the fixed one. */
  startCushion?: StartCushion;
  store: CallStore;
  agents: AgentRegistry;
  postCall: PostCallWorker;
  transfers: TransferBook;
  /** This instance's lease id: the owner of its live calls (see server/lease-keeper.ts). */
  instanceId: string;
  metrics?: Metrics;
  /** Called with every finished turn of every call. */
  onTurn?: (call: CallSession, turn: TurnRecord) => void;
  /** A recording being finished on disk (the app waits for these on shutdown). */
  onRecordingWritten?: (written: Promise<void>) => void;
}

/** What the session needs of its WebSocket. */
export interface CallSocket {
  send(text: string): void;
  close(code: number, reason: string): void;
  readonly bufferedBytes: number;
}

export const CLOSE_POLICY_VIOLATION = 1008;
export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
const MAX_LOGS_PER_CODE = 5;
/** Frames held while the call is being set up (context lookup); about 10 s of audio. */
const MAX_HELD_EVENTS = 500;

export type CallState = 'connected' | 'starting' | 'started' | 'stopped' | 'closed';

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
  plan: CallPlan | undefined;
  sampleRate: SampleRate | undefined;
  stopReason: string | undefined;
  player: ExotelPlayer | undefined;
  conversation: Conversation | undefined;
  recorder: CallRecorder | undefined;
  readonly counters = { frames: 0, mediaFrames: 0, mediaBytes: 0, dtmf: 0, marks: 0, badFrames: 0 };
  readonly frameErrors = new Map<string, number>();
  /** The call's root signal: aborted when the call ends. Every task of the call hangs off it. */
  private readonly root = new AbortController();
  private readonly tasks = new Set<Promise<unknown>>();
  private readonly held: InboundEvent[] = [];
  private closedByBot = false;
  /** Until `start`: the start deadline; after it: the inbound silence deadline. */
  private inboundTimer: NodeJS.Timeout | undefined;
  private refusedFor: string | undefined;
  /** How the bot ended the call, when it did. */
  private ending: CallEnd | undefined;
  private refused = false;

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

  /**
   * Validates what the URL says before any frame arrives; false when the call was refused. A
   * socket is not a call until its `start`: nothing is recorded before, and a socket that sends
   * none within START_TIMEOUT_MS is closed.
   */
  open(): boolean {
    if (this.query.sampleRate !== undefined) {
      const rate = resolveSampleRate(this.query.sampleRate, undefined);
      if (!rate.ok) {
        this.refuse(rate.error.code, rate.error.message);
        return false;
      }
    }
    this.inboundTimer = setTimeout(
      () =>
        this.refuse('START_TIMEOUT', `no start within ${this.deps.config.ws.startTimeoutMs} ms`),
      this.deps.config.ws.startTimeoutMs,
    );
    this.log.info({ sampleRate: this.query.sampleRate }, 'socket connected');
    return true;
  }

  /** Frames keep the socket alive; after `start`, silence of INBOUND_IDLE_TIMEOUT_MS ends it. */
  private heardFrom(): void {
    if (this.state === 'connected' || this.state === 'closed') return;
    clearTimeout(this.inboundTimer);
    const ms = this.deps.config.ws.inboundIdleTimeoutMs;
    this.inboundTimer = setTimeout(() => {
      // Exotel streams audio the whole call: a silent peer is gone, not the bot's choice.
      this.log.warn({ code: 'NO_MEDIA', detail: `nothing for ${ms} ms` }, 'peer went silent');
      this.socket.close(CLOSE_POLICY_VIOLATION, `NO_MEDIA: nothing for ${ms} ms`);
    }, ms);
  }

  handleText(text: string): void {
    this.counters.frames++;
    this.heardFrom();
    const result = decode(text, { maxBytes: this.deps.config.ws.maxPayloadBytes });
    if (!result.ok) return this.frameError(result.error.code, result.error.message);
    this.dispatch(result.event);
  }

  handleBinary(): void {
    this.counters.frames++;
    this.frameError('FRAME_BINARY', 'binary frames are not part of the protocol');
  }

  /** Ends the call: aborts every task, stops the player, records the call, hands off post-call work. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    clearTimeout(this.inboundTimer);
    const wasStarted = this.conversation !== undefined;
    const recorded = this.state !== 'connected';
    this.state = 'closed';
    this.root.abort();
    this.player?.close();
    await Promise.allSettled([...this.tasks, this.conversation?.close()]);
    const recording = this.recorder?.close();
    if (recording) this.deps.onRecordingWritten?.(recording.written);
    const recordingMs = recording?.durationMs;
    const endedAt = Date.now();
    const stats = this.conversation?.stats;
    const errorCount =
      (this.conversation?.turns.reduce((n, t) => n + t.errors.length, 0) ?? 0) +
      this.counters.badFrames;
    if (!recorded) {
      // Never a call: no record, counted as a refused connection.
      this.deps.metrics?.connectionRefused(this.refusedFor ?? 'no_start');
      this.log.info({ durationMs: endedAt - this.connectedAt, ...this.counters }, 'socket closed');
      return;
    }
    this.deps.metrics?.liveCalls.dec();
    const status = wasStarted ? 'completed' : 'failed';
    this.deps.metrics?.callEnded(status, {
      bargeIns: stats?.bargeIns ?? 0,
      speculations: stats?.speculations ?? 0,
      speculationsUsed: stats?.speculationsUsed ?? 0,
      underruns: this.player?.stats.underruns ?? 0,
      underrunMs: this.player?.stats.underrunMs ?? 0,
      audibleUnderruns: this.player?.stats.audibleUnderruns ?? 0,
      endReason: this.endReason(),
    });
    this.deps.store.callEnded(this.id, {
      at: endedAt,
      durationMs: endedAt - this.connectedAt,
      status,
      hangupBy: this.hangupBy(),
      endReason: this.endReason(),
      ...(this.ending?.detail ? { endDetail: this.ending.detail } : {}),
      ...(this.ending?.transferTo ? { transferTo: this.ending.transferTo } : {}),
      turnCount: stats?.turns ?? 0,
      bargeInCount: stats?.bargeIns ?? 0,
      errorCount,
      ...(recordingMs !== undefined ? { recordingMs } : {}),
    });
    this.log.info(
      {
        durationMs: endedAt - this.connectedAt,
        stopReason: this.stopReason,
        ...this.counters,
        conversation: stats,
        player: this.player?.stats,
      },
      'call closed',
    );
    if (wasStarted && this.conversation) this.submitPostCall(this.conversation, endedAt);
  }

  /** True once the call has its `start` (a call, not just a socket). */
  get started(): boolean {
    return this.state !== 'connected' && this.state !== 'closed';
  }

  /**
   * The server is draining and the call outlived the grace period: the goodbye plays, then the
   * stream closes with 1001. A socket with no call yet is closed at once.
   */
  shutdown(): void {
    if (this.state === 'closed') return;
    if (this.conversation) return this.conversation.endForShutdown();
    this.closedByBot = true;
    this.ending = { reason: 'shutdown' };
    this.socket.close(CLOSE_GOING_AWAY, 'SHUTDOWN: the server is restarting');
  }

  /** The goodbye took too long: close now, with 1001. */
  forceClose(): void {
    if (this.state === 'closed') return;
    this.closedByBot = true;
    this.ending ??= { reason: 'shutdown' };
    this.socket.close(CLOSE_GOING_AWAY, 'SHUTDOWN: the server is restarting');
  }

  /** Runs a background task owned by this call: awaited on close, errors logged with a code. */
  track(task: Promise<unknown>): void {
    const t = task.catch((err: unknown) => {
      if (!this.signal.aborted)
        this.log.error({ code: errorCode(err), err: String(err) }, 'call task failed');
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
        this.deps.store.callStopped(this.id, { reason: event.reason, at: Date.now() });
        this.root.abort();
        this.player?.close();
        this.track(this.conversation?.close() ?? Promise.resolve());
        return;
      default:
        break;
    }
    if (this.state === 'stopped' || this.state === 'closed') return;
    if (this.state === 'starting') {
      if (this.held.length < MAX_HELD_EVENTS) this.held.push(event);
      else this.frameError('FRAME_ORDER', `${event.event} dropped while the call is being set up`);
      return;
    }
    const conversation = this.conversation;
    const player = this.player;
    if (this.state !== 'started' || !player || !conversation) {
      return this.frameError('FRAME_ORDER', `${event.event} before start`);
    }
    switch (event.event) {
      case 'media':
        this.counters.mediaFrames++;
        this.counters.mediaBytes += event.payload.length;
        this.recorder?.caller(event.payload);
        conversation.onAudio(event.payload);
        return;
      case 'mark':
        this.counters.marks++;
        if (!player.onMarkEcho(event.name)) this.log.debug({ mark: event.name }, 'unknown mark');
        return;
      case 'dtmf':
        this.counters.dtmf++;
        this.log.debug({ pii: { digit: event.digit } }, 'dtmf');
        this.deps.store.eventRecorded(this.id, {
          at: Date.now(),
          kind: 'dtmf',
          detail: event.digit,
        });
        conversation.onDtmf(event.digit);
        return;
      case 'clear':
        conversation.onClear();
        return;
    }
  }

  private onStart(event: StartEvent): void {
    if (this.state !== 'connected') return this.frameError('FRAME_ORDER', 'second start');
    const rate = resolveSampleRate(this.query.sampleRate, event.mediaFormat?.sampleRate);
    if (!rate.ok) return this.refuse(rate.error.code, rate.error.message);
    this.state = 'starting';
    this.heardFrom();
    this.sampleRate = rate.rate;
    this.streamSid = event.streamSid;
    this.callSid = event.callSid || this.callSid;
    this.accountSid = event.accountSid;
    this.from = event.from || this.from;
    this.to = event.to || this.to;
    this.log = this.log.child({ callSid: this.callSid, streamSid: this.streamSid });
    this.deps.store.callConnected({
      id: this.id,
      owner: this.deps.instanceId,
      callSid: this.callSid,
      callLogId: this.callLogId,
      from: this.from,
      to: this.to,
      at: this.connectedAt,
    });
    this.deps.metrics?.liveCalls.inc();
    this.track(this.begin(event, rate.rate));
  }

  /** Sets the call up (context, agent), then starts the conversation and replays held frames. */
  private async begin(event: StartEvent, rate: SampleRate): Promise<void> {
    const { config, store } = this.deps;
    const { plan, from, to } = await prepareCall(
      { config, store, agents: this.deps.agents, log: this.log },
      this.query.custom,
      event.customParameters,
      this.callSid,
    );
    if (this.state !== 'starting') return;
    this.plan = plan;
    this.customParameters = { ...plan.params };
    this.from ||= from;
    this.to ||= to;
    store.callStarted(this.id, {
      callSid: this.callSid,
      streamSid: event.streamSid,
      accountSid: this.accountSid,
      from: this.from,
      to: this.to,
      customParameters: this.customParameters,
      sampleRate: rate,
      agent: plan.agent,
      at: Date.now(),
    });
    this.track(this.linkOutbound());
    this.log.info(
      {
        sampleRate: rate,
        agent: plan.agent,
        pii: { from: this.from, to: this.to, custom: plan.params },
      },
      'call started',
    );
    const providers = this.deps.providers.for({
      llmModel: plan.models.llm,
      sttModel: plan.models.stt,
      ttsModel: plan.models.tts,
    });
    const player = ExotelPlayer.forCall(
      config,
      this.deps.pacer,
      this.socket,
      event.streamSid,
      rate,
      this.deps.startCushion,
    );
    const conversation = new Conversation({
      plan,
      output: player,
      ...providers,
      ttsCache: this.deps.ttsCache,
      sampleRate: rate,
      signal: this.signal,
      log: this.log,
      onTurn: (turn) => this.onTurn(turn),
      onEvent: (e) => store.eventRecorded(this.id, { at: Date.now(), ...e }),
      onEnd: (end) => this.onBotEnd(end),
    });
    if (config.recording.enabled) {
      const recorder = new CallRecorder({
        path: recordingPath(config.recording.dir, this.id),
        sampleRate: rate,
        log: this.log,
      });
      this.recorder = recorder;
      player.tap = {
        sent: (audio, playAt) => recorder.botFrame(audio, playAt),
        cleared: (at) => recorder.cleared(at),
      };
    }
    this.player = player;
    this.conversation = conversation;
    this.state = 'started';
    for (const e of this.held.splice(0)) this.dispatch(e);
    await conversation.start();
  }

  /**
   * The bot ends the call: closing the socket moves Exotel's flow to its next applet. A transfer
   * is stored under the CallSid first, because the flow asks for it as soon as the socket closes.
   */
  private onBotEnd(end: CallEnd): void {
    this.ending = end;
    this.closedByBot = true;
    this.track(
      (async () => {
        if (end.reason === 'transfer' && end.transferTo && this.callSid) {
          await this.deps.transfers.record({
            callSid: this.callSid,
            callId: this.id,
            number: end.transferTo,
            ...(end.detail ? { reason: end.detail } : {}),
            at: Date.now(),
          });
        }
        if (end.reason === 'voicemail') await this.markVoicemail();
        this.log.info({ reason: end.reason }, 'closing the stream');
        const code = end.reason === 'shutdown' ? CLOSE_GOING_AWAY : CLOSE_NORMAL;
        this.socket.close(
          code,
          end.reason === 'shutdown' ? 'SHUTDOWN: the server is restarting' : end.reason,
        );
      })(),
    );
  }

  /**
   * An outbound call whose row has no CallSid yet (the server that placed it died before storing
   * Exotel's answer, and the `answered` callback was lost): the stream brings it.
   */
  private async linkOutbound(): Promise<void> {
    const id = this.plan?.params['outbound_id'];
    if (!id || !this.callSid) return;
    try {
      const row = await this.deps.store.outbound.get(id);
      if (!row || row.callSid) return;
      await this.deps.store.outbound.update(id, {
        callSid: this.callSid,
        status: 'in-progress',
        answeredAtMs: Date.now(),
      });
      this.log.info({ outboundId: id }, 'outbound call linked by its stream');
    } catch (err) {
      this.log.warn({ code: errorCode(err), outboundId: id }, 'outbound row not linked');
    }
  }

  /**
   * An outbound call a machine answered: its outbound row says `voicemail` (a campaign retries
   * it per its policy) before the stream closes and Exotel reports the call `completed`. Only the
   * row of this very call: its CallSid must match.
   */
  private async markVoicemail(): Promise<void> {
    const id = this.plan?.params['outbound_id'];
    if (!id) return;
    try {
      const row = await this.deps.store.outbound.get(id);
      if (!row || !this.callSid || row.callSid !== this.callSid) {
        this.log.warn(
          { code: 'OUTBOUND_NOT_THIS_CALL', outboundId: id },
          'voicemail not marked: the outbound row is not this call',
        );
        return;
      }
      await this.deps.store.outbound.update(id, { status: 'voicemail', endedAtMs: Date.now() });
    } catch (err) {
      this.log.error(
        { code: errorCode(err), outboundId: id },
        'voicemail not marked on the outbound row',
      );
    }
  }

  private hangupBy(): HangupBy {
    if (this.closedByBot) return 'bot';
    return this.stopReason === 'callended' ? 'caller' : 'unknown';
  }

  /** Why the call ended, for the record. */
  private endReason(): EndReason {
    if (this.ending) return this.ending.reason;
    if (this.refused) return 'refused';
    if (this.stopReason === 'callended') return 'caller_hangup';
    return this.stopReason ? 'stream_stopped' : 'connection_lost';
  }

  private onTurn(turn: TurnRecord): void {
    this.deps.store.turnRecorded(this.id, turn);
    this.deps.metrics?.turnFinished(turn);
    for (const code of turn.errors) {
      this.deps.store.eventRecorded(this.id, {
        at: Date.now(),
        kind: 'error',
        code,
        detail: `turn ${turn.index}`,
      });
    }
    this.deps.onTurn?.(this, turn);
  }

  private submitPostCall(conversation: Conversation, endedAt: number): void {
    this.deps.postCall.submit({
      id: this.id,
      callSid: this.callSid,
      language: this.plan?.language,
      turns: conversation.turns,
      record: {
        id: this.id,
        callSid: this.callSid ?? null,
        streamSid: this.streamSid ?? null,
        accountSid: this.accountSid ?? null,
        callLogId: this.callLogId ?? null,
        from: this.from ?? null,
        to: this.to ?? null,
        agent: this.plan?.agent ?? null,
        customParameters: this.customParameters,
        connectedAt: new Date(this.connectedAt).toISOString(),
        endedAt: new Date(endedAt).toISOString(),
        durationMs: endedAt - this.connectedAt,
        stopReason: this.stopReason ?? null,
        hangupBy: this.hangupBy(),
        endReason: this.endReason(),
        endDetail: this.ending?.detail ?? null,
        transferTo: this.ending?.transferTo ?? null,
        stats: conversation.stats,
        turns: conversation.turns,
      },
    });
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
    this.closedByBot = true;
    this.refused = true;
    this.refusedFor ??= code.toLowerCase();
    this.socket.close(CLOSE_POLICY_VIOLATION, `${code}: ${message}`.slice(0, 120));
  }
}
