/**
 * The conversation engine of one call: hears the caller (VAD + endpointing), transcribes,
 * answers through the LLM and TTS, and yields the floor the moment the caller talks over it.
 *
 * Turn life cycle: an utterance ends → its transcript (preemptive when possible) → a Reply
 * (LLM → sentences → TTS → player) → committed to history with what the caller heard.
 * - Caller confirmed speaking (BARGE_IN_MS of voice) while a reply plays: the turn's requests are
 *   aborted, the player clears (Exotel `clear`), history keeps only the heard part.
 * - Caller speaks again before the reply made a sound: the pending turn is dropped and its words
 *   are carried into the next one (a mid-sentence pause longer than ENDPOINTING_MS is not a turn).
 * - Utterances too short to barge in while the bot is busy (backchannels) are ignored.
 * - Provider failures end in the fallback line (pre-synthesized at call start) and the call
 *   goes on listening.
 */
import type { Config } from '../config/index.js';
import { errorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { pcmFromBytes } from '../audio/index.js';
import { createVad } from '../audio/vad/index.js';
import type { ChatMessage, LlmProvider } from '../providers/llm/types.js';
import type { SttProvider } from '../providers/stt/types.js';
import type { TtsProvider } from '../providers/tts/types.js';
import { DtmfCollector } from './dtmf-collector.js';
import { heardText, type SpokenSentence } from './heard-text.js';
import { buildSystemPrompt, languageHint } from './persona.js';
import type { AudioOutput, PlaybackResult, Utterance } from './audio-output.js';
import { Reply } from './reply.js';
import { prepareCachedSpeech, speak } from './speak.js';
import { isMeaningfulTranscript } from './transcript-filter.js';
import type { TtsCache } from './tts-cache.js';
import { TurnDetector, type TurnDetectorOptions, type TurnEvent } from './turn-detector.js';
import {
  stageDurations,
  type TurnRecord,
  type TurnSource,
  type TurnTimings,
} from './turn-record.js';
import { Transcriber } from './transcriber.js';

export interface ConversationDeps {
  config: Config;
  log: Logger;
  player: AudioOutput;
  tts: TtsProvider;
  stt: SttProvider;
  llm: LlmProvider;
  ttsCache: TtsCache;
  sampleRate: 8000 | 16000 | 24000;
  /** The call's custom parameters (persona fields, voice, language...). */
  params: Record<string, string>;
  /** The call's root signal. */
  signal: AbortSignal;
  /** Per-call turn settings (agent profile) over the configured ones. */
  turn?: Partial<TurnDetectorOptions>;
  /** Per-call fallback line over the configured one. */
  fallbackText?: string | undefined;
  /** Called with every finished turn. */
  onTurn?: (turn: TurnRecord) => void;
}

interface ActiveTurn {
  record: TurnRecord;
  controller: AbortController;
  /** The caller's words; never rejects once wrapped for carrying. */
  userText: Promise<string>;
  /** What is playing for this turn (the reply or the fallback line), once started. */
  utterance: () => Utterance | undefined;
  spoken: () => SpokenSentence[];
  /** Everything generated for the reply so far. */
  generated: () => string;
  finished: boolean;
}

export interface ConversationStats {
  turns: number;
  bargeIns: number;
  fallbacks: number;
  ignoredUtterances: number;
  merges: number;
}

export class Conversation {
  readonly turns: TurnRecord[] = [];
  readonly history: ChatMessage[] = [];
  readonly stats: ConversationStats = {
    turns: 0,
    bargeIns: 0,
    fallbacks: 0,
    ignoredUtterances: 0,
    merges: 0,
  };
  readonly voice: string;
  readonly fallbackText: string;
  private readonly systemPrompt: string;
  private readonly transcriber: Transcriber;
  private detector: TurnDetector | undefined;
  private readonly ready: Promise<void>;
  private chain: Promise<void>;
  private samples = 0;
  private active: ActiveTurn | undefined;
  private carry: Promise<string> | undefined;
  private speech: { startAt: number; bargedIn: boolean } | undefined;
  private readonly dtmf: DtmfCollector;
  private readonly tasks = new Set<Promise<void>>();
  private turnIndex = 0;
  private closed = false;

  constructor(private readonly deps: ConversationDeps) {
    const { config, params } = deps;
    this.voice = params.voice_id ?? config.tts.voice;
    this.fallbackText = deps.fallbackText ?? config.fallbackText;
    this.systemPrompt = buildSystemPrompt(params, { maxDocumentChars: config.maxDocumentChars });
    this.transcriber = new Transcriber(deps.stt, {
      sampleRate: deps.sampleRate,
      language: languageHint(params.language),
      signal: deps.signal,
      log: deps.log,
    });
    this.dtmf = new DtmfCollector(config.dtmfTimeoutMs, (digits) => this.onKeypadInput(digits));
    this.ready = createVad(config.turn.vad, deps.sampleRate).then(
      (vad) => {
        if (this.closed) return vad.close();
        this.detector = new TurnDetector(vad, deps.sampleRate, { ...config.turn, ...deps.turn });
      },
      (err: unknown) =>
        deps.log.error(
          { code: errorCode(err), err: String(err) },
          'vad unavailable; the call cannot hear',
        ),
    );
    this.chain = this.ready;
  }

  /**
   * Pre-synthesizes the fallback line into the cache, so it can be played even when TTS is what
   * failed. The session runs it after the greeting, to keep the greeting's TTS request first.
   */
  prepare(): Promise<void> {
    const task = prepareCachedSpeech({
      ...this.ttsTarget(),
      text: this.fallbackText,
      signal: this.deps.signal,
    }).catch((err: unknown) => {
      if (!this.deps.signal.aborted)
        this.deps.log.warn({ code: errorCode(err) }, 'fallback line not pre-synthesized');
    });
    this.track(task);
    return task;
  }

  get tts(): TtsProvider {
    return this.deps.tts;
  }

  /** Caller audio from one `media` frame (s16le at the stream rate). */
  onAudio(payload: Buffer): void {
    if (this.closed) return;
    const pcm = pcmFromBytes(payload);
    this.samples += pcm.length;
    const streamEndMs = (this.samples / this.deps.sampleRate) * 1000;
    const arrivedAt = performance.now();
    this.chain = this.chain
      .then(async () => {
        if (!this.detector || this.closed) return;
        const events = await this.detector.push(pcm);
        for (const ev of events) this.onTurnEvent(ev, (ms) => arrivedAt - (streamEndMs - ms));
      })
      .catch((err: unknown) => {
        if (!this.closed)
          this.deps.log.error(
            { code: errorCode(err), err: String(err) },
            'turn detection failed on a frame',
          );
      });
  }

  onDtmf(digit: string): void {
    if (this.closed) return;
    if (this.dtmf.pending === '' && this.botBusy()) this.bargeIn('dtmf');
    this.dtmf.push(digit);
  }

  /** An inbound `clear` (other bridges send it on barge-in): stop talking now. */
  onClear(): void {
    this.bargeIn('clear');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dtmf.close();
    this.active?.controller.abort();
    this.transcriber.cancelPreempt();
    await this.ready;
    this.detector?.close();
    await Promise.allSettled([...this.tasks, this.chain]);
  }

  private onTurnEvent(ev: TurnEvent, toWall: (streamMs: number) => number): void {
    switch (ev.type) {
      case 'speech-start':
        this.speech = { startAt: toWall(ev.atMs), bargedIn: false };
        return;
      case 'barge-in':
        if (this.speech) this.speech.bargedIn = true;
        this.bargeIn('speech');
        return;
      case 'preempt':
        if (this.deps.config.turn.preemptMs > 0) this.transcriber.preempt(ev.id, ev.audio);
        return;
      case 'resume':
        this.transcriber.discardPreempt(ev.preemptId);
        return;
      case 'end':
        return this.onUtteranceEnd(ev, toWall);
    }
  }

  private onUtteranceEnd(
    ev: Extract<TurnEvent, { type: 'end' }>,
    toWall: (ms: number) => number,
  ): void {
    const speech = this.speech;
    this.speech = undefined;
    if (this.botBusy() && !speech?.bargedIn) {
      // Too short to take the floor while the bot talks or thinks: a backchannel or noise.
      this.stats.ignoredUtterances++;
      this.transcriber.cancelPreempt();
      this.deps.log.debug(
        { voicedMs: ev.voicedMs },
        'short utterance while the bot is busy: ignored',
      );
      return;
    }
    const timings: TurnTimings = {
      speechStartAt: speech?.startAt ?? toWall(ev.startMs + this.deps.config.turn.preRollMs),
      speechEndAt: toWall(ev.speechEndMs),
      endpointAt: performance.now(),
    };
    const { text, preemptive } = this.transcriber.transcribe(ev, timings);
    const carry = this.carry;
    this.carry = undefined;
    const userText = carry ? Promise.all([carry, text]).then(([a, b]) => `${a} ${b}`.trim()) : text;
    const turn = this.startTurn('speech', userText, timings);
    turn.record.preemptiveStt = preemptive;
  }

  private onKeypadInput(digits: string): void {
    if (this.closed) return;
    this.bargeIn('dtmf');
    this.startTurn('dtmf', Promise.resolve(`[keypad: ${digits}]`), {
      endpointAt: performance.now(),
    });
  }

  /** The caller took the floor: interrupt the reply, or merge into a turn not yet answered. */
  private bargeIn(kind: 'speech' | 'clear' | 'dtmf'): void {
    const turn = this.active;
    if (turn && !turn.finished) {
      const started = (turn.utterance()?.sentAudioMs ?? 0) > 0;
      if (!started && kind === 'speech') {
        this.stats.merges++;
        this.carry = turn.userText.catch(() => '');
        turn.finished = true;
        turn.controller.abort();
        this.active = undefined;
        this.deps.log.debug('caller went on speaking before the reply: merging turns');
        return;
      }
      if (!started) return;
      this.stats.bargeIns++;
      this.interrupt(turn, kind);
      return;
    }
    if (this.deps.player.isSpeaking()) {
      this.stats.bargeIns++;
      this.deps.player.clear();
      this.deps.log.info({ kind }, 'barge-in');
    }
  }

  private interrupt(turn: ActiveTurn, kind: string): void {
    const { player } = this.deps;
    const heardMs = turn.utterance()?.heardMs() ?? 0;
    player.clear();
    turn.controller.abort();
    const r = turn.record;
    r.interrupted = true;
    r.botText = turn.generated();
    r.heardText = heardText(turn.spoken(), heardMs);
    r.timings.replyEndAt = performance.now();
    this.deps.log.info({ kind, heardMs: Math.round(heardMs) }, 'barge-in');
    this.commit(turn);
  }

  private startTurn(
    source: TurnSource,
    userText: Promise<string>,
    timings: TurnTimings,
  ): ActiveTurn {
    const controller = new AbortController();
    const onCallEnd = () => controller.abort();
    this.deps.signal.addEventListener('abort', onCallEnd, { once: true });
    controller.signal.addEventListener(
      'abort',
      () => this.deps.signal.removeEventListener('abort', onCallEnd),
      { once: true },
    );
    const turn: ActiveTurn = {
      record: {
        index: ++this.turnIndex,
        source,
        userText: '',
        botText: '',
        heardText: '',
        interrupted: false,
        fallback: false,
        preemptiveStt: false,
        errors: [],
        timings,
      },
      controller,
      userText,
      utterance: () => undefined,
      spoken: () => [],
      generated: () => '',
      finished: false,
    };
    this.active = turn;
    this.track(this.runTurn(turn));
    return turn;
  }

  private async runTurn(turn: ActiveTurn): Promise<void> {
    const r = turn.record;
    const signal = turn.controller.signal;
    let text: string;
    try {
      text = await turn.userText;
    } catch (err) {
      if (signal.aborted || turn.finished) return;
      r.errors.push(errorCode(err));
      r.userText = '[inaudible]';
      return this.fallback(turn);
    }
    if (signal.aborted || turn.finished) return;
    if (r.source === 'speech' && !isMeaningfulTranscript(text)) {
      this.stats.ignoredUtterances++;
      this.finishQuietly(turn);
      this.deps.log.debug('no words in the utterance: no reply');
      return;
    }
    r.userText = text;
    const reply = new Reply(
      {
        player: this.deps.player,
        llm: this.deps.llm,
        tts: this.deps.tts,
        voice: this.voice,
        log: this.deps.log,
      },
      [
        { role: 'system', content: this.systemPrompt },
        ...this.history,
        { role: 'user', content: text },
      ],
      signal,
      r.timings,
    );
    turn.spoken = () => reply.sentences;
    turn.utterance = () => reply.utterance;
    turn.generated = () => reply.generated.join(' ');
    let result: PlaybackResult;
    try {
      result = await reply.run();
    } catch (err) {
      if (turn.finished || signal.aborted) return;
      r.errors.push(...reply.errors);
      if (r.errors.at(-1) !== errorCode(err)) r.errors.push(errorCode(err));
      return this.fallback(turn);
    }
    if (turn.finished) return;
    r.errors.push(...reply.errors);
    r.botText = reply.generated.join(' ');
    r.heardText = result.completed ? reply.text : heardText(reply.sentences, result.heardMs);
    r.interrupted = result.cleared;
    r.timings.replyEndAt = performance.now();
    this.commit(turn);
  }

  private async fallback(turn: ActiveTurn): Promise<void> {
    const r = turn.record;
    const text = this.fallbackText;
    r.fallback = true;
    this.stats.fallbacks++;
    this.deps.log.warn({ codes: r.errors }, 'turn failed: saying the fallback line');
    try {
      const { utterance } = await speak({
        ...this.ttsTarget(),
        text,
        kind: 'fallback_done',
        signal: turn.controller.signal,
      });
      turn.utterance = () => utterance;
      turn.spoken = () => [{ text, audioMs: utterance.sentAudioMs }];
      turn.generated = () => text;
      r.timings.firstAudioAt = utterance.firstFrameAt;
      const played = await utterance.played;
      if (turn.finished) return;
      r.botText = text;
      r.heardText = played.completed ? text : heardText(turn.spoken(), played.heardMs);
      r.interrupted = played.cleared;
    } catch (err) {
      if (turn.finished || turn.controller.signal.aborted) return;
      r.errors.push(errorCode(err));
      this.deps.log.error({ code: errorCode(err) }, 'fallback line failed');
    }
    r.timings.replyEndAt = performance.now();
    this.commit(turn);
  }

  /** Ends a turn that produced no exchange (no words heard). */
  private finishQuietly(turn: ActiveTurn): void {
    turn.finished = true;
    if (this.active === turn) this.active = undefined;
  }

  /** Records the exchange: history gets the caller's words and what they heard of the reply. */
  private commit(turn: ActiveTurn): void {
    if (turn.finished) return;
    turn.finished = true;
    if (this.active === turn) this.active = undefined;
    const r = turn.record;
    const heard = r.interrupted
      ? r.heardText
        ? `${r.heardText}… [interrupted by the caller]`
        : '[interrupted by the caller before answering]'
      : r.heardText || r.botText;
    this.history.push({ role: 'user', content: r.userText }, { role: 'assistant', content: heard });
    const max = this.deps.config.llm.maxHistoryTurns * 2;
    if (this.history.length > max) this.history.splice(0, this.history.length - max);
    this.turns.push(r);
    this.stats.turns++;
    this.deps.log.info(
      {
        turn: r.index,
        source: r.source,
        interrupted: r.interrupted,
        fallback: r.fallback,
        preemptiveStt: r.preemptiveStt,
        errors: r.errors.length > 0 ? r.errors : undefined,
        ...stageDurations(r.timings),
        pii: { userText: r.userText, heardText: r.heardText },
      },
      'turn',
    );
    this.deps.log.debug({ turn: r.index, timings: r.timings }, 'turn timings');
    this.deps.onTurn?.(r);
  }

  private botBusy(): boolean {
    return (this.active !== undefined && !this.active.finished) || this.deps.player.isSpeaking();
  }

  private ttsTarget() {
    return {
      player: this.deps.player,
      tts: this.deps.tts,
      voice: this.voice,
      cache: this.deps.ttsCache,
    };
  }

  private track(task: Promise<void>): void {
    const t = task.catch((err: unknown) => {
      if (!this.deps.signal.aborted)
        this.deps.log.error({ code: errorCode(err), err: String(err) }, 'conversation task failed');
    });
    this.tasks.add(t);
    void t.finally(() => this.tasks.delete(t));
  }
}
