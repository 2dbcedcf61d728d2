/**
 * One exchange: the caller's words → the reply (LLM rounds, with the tools the model calls in
 * between) → what the caller heard. A turn owns its AbortController and everything it says,
 * builds its own record from what each stage returns, and settles `done` exactly once:
 *
 * - `exchange`: the record and the chat messages the exchange adds to the history;
 * - `quiet`: the utterance held no words (noise, a phantom transcript): nothing to record;
 * - `dropped`: the caller went on speaking before any of it played (`drop()`), or the call
 *   ended before the caller's words were known.
 *
 * Rules kept here: a reply that fails before any audio becomes the fallback line; a tool that
 * keeps the caller waiting in silence gets a filler line; `end_call` / `transfer_call` lock the
 * turn (nothing interrupts the goodbye) and close it with the model's words or the plan's line.
 *
 * No dead air on faults, counted from the end of the caller's speech whatever stage is slow:
 * nothing heard by `holdAfterMs` → the filler line ("One moment, please."); no reply audio by
 * `turnTimeoutMs` (a running tool round excepted; its own timeout bounds it, and the deadline
 * starts again when it returns) → the stages are aborted (`TURN_TIMEOUT`) and the fallback line
 * is said. The stages run on `work`, a child of the turn's controller, so a deadline stops them
 * without stopping the turn's own lines.
 */
import type { CallPlan } from '../agents/call-plan.js';
import { VoicebotError, errorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { linkedAbort } from '../providers/linked-abort.js';
import type { ChatMessage, LlmProvider } from '../providers/llm/types.js';
import type { TtsProvider } from '../providers/tts/types.js';
import type { Toolbox } from '../tools/toolbox.js';
import type { AudioOutput, UtteranceKind } from './audio-output.js';
import { heardOf, lineSpeech, type Speech } from './heard-text.js';
import { heardReply } from './history.js';
import type { CallLines } from './lines.js';
import { untilAborted } from '../retry.js';
import { Reply, type ReplyResult } from './reply.js';
import type { Transcript } from './transcriber.js';
import { isMeaningfulTranscript } from './transcript-filter.js';
import { ToolRound, type CallControl } from './tool-round.js';
import type { HeardTimings, ReplyTimings, TurnRecord, TurnSource } from './turn-record.js';

export interface TurnDeps {
  output: AudioOutput;
  llm: LlmProvider;
  tts: TtsProvider;
  lines: CallLines;
  toolbox: Toolbox;
  plan: CallPlan;
  log: Logger;
}

export interface TurnInput {
  index: number;
  source: TurnSource;
  /** The caller's words; rejects when transcription failed. */
  transcript: Promise<Transcript>;
  /** Words of a silent turn the caller went on from (never rejects). */
  carried?: Promise<string>;
  heard: HeardTimings;
  preemptive: boolean;
  /** The history as it stands when the model is asked. */
  history: () => ChatMessage[];
  /**
   * A speculative turn (started on a preemptive transcript before the endpoint): its tools wait
   * for this, and never run if it rejects. Its audio is held by its output the same way.
   */
  confirmed?: Promise<void>;
  /** The call's signal. */
  signal: AbortSignal;
}

export type TurnOutcome =
  | { kind: 'exchange'; record: TurnRecord; messages: ChatMessage[]; ending?: CallControl }
  | { kind: 'quiet' }
  | { kind: 'dropped' };

/** A filler never starts sooner than this after the tools did (a fast tool needs none). */
export const FILLER_GRACE_MS = 250;

export class Turn {
  readonly controller: AbortController;
  readonly done: Promise<TurnOutcome>;
  /** The caller's words (with any carried ones); '' when they could not be heard. */
  readonly words: Promise<string>;
  private readonly speeches: Speech[] = [];
  private readonly record: TurnRecord;
  /** Tool rounds whose results came back: assistant tool calls, then the tool messages. */
  private readonly toolMessages: ChatMessage[] = [];
  private lastToolRound = 0;
  /** The round whose tools are running: the record lists them as cancelled if the turn ends. */
  private waiting: ToolRound | undefined;
  private ending: CallControl | undefined;
  /** Audio of the turn still being written (a filler); a later round waits for it. */
  private writing: Promise<unknown> = Promise.resolve();
  private settle!: (o: TurnOutcome) => void;
  private settled = false;
  /** The stages' controller: aborted by the turn's, or alone by the turn's deadline. */
  private readonly work: AbortController;
  /** The end of the caller's speech: the deadlines count from here. */
  private readonly anchor: number;
  private round = 1;
  private holdTimer: ReturnType<typeof setTimeout> | undefined;
  private deadlineTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly deps: TurnDeps,
    private readonly input: TurnInput,
  ) {
    const { controller, unlink } = linkedAbort(input.signal);
    this.controller = controller;
    const work = linkedAbort(controller.signal);
    this.work = work.controller;
    this.anchor = input.heard.speechEndAt ?? input.heard.endpointAt ?? performance.now();
    this.record = {
      index: input.index,
      source: input.source,
      userText: '',
      botText: '',
      heardText: '',
      interrupted: false,
      fallback: false,
      preemptiveStt: input.preemptive,
      errors: [],
      toolCalls: [],
      timings: { ...input.heard },
    };
    this.words = Promise.all([input.carried ?? '', input.transcript]).then(
      ([carried, t]) => `${carried} ${t.text}`.trim(),
      () => '',
    );
    this.done = new Promise<TurnOutcome>((resolve) => (this.settle = resolve)).finally(() => {
      clearTimeout(this.holdTimer);
      clearTimeout(this.deadlineTimer);
      work.unlink();
      unlink();
    });
    this.armHold();
    this.armDeadline(this.anchor);
    void this.run().then(
      (outcome) => this.finish(outcome),
      (err: unknown) => {
        deps.log.error({ code: errorCode(err), err: String(err) }, 'turn failed');
        this.finish(this.cut());
      },
    );
  }

  /** Some of the turn's audio (a filler line included) has gone to the caller. */
  get audioStarted(): boolean {
    return this.speeches.some((s) => (s.utterance?.sentAudioMs ?? 0) > 0);
  }

  /** Some of the model's words (or the fallback line) have gone to the caller. */
  private get answerStarted(): boolean {
    return this.speeches.some((s) => s.kind !== 'filler' && (s.utterance?.sentAudioMs ?? 0) > 0);
  }

  /** Closing the call: nothing may interrupt it. */
  get locked(): boolean {
    return this.ending !== undefined;
  }

  /** The caller talked over the reply: stop it, keep what they heard. */
  interrupt(): void {
    if (this.settled || this.locked) return;
    // What was heard, measured before the clear drops the rest.
    const heard = this.speeches.map((s) => heardOf(s, s.utterance?.heardMs() ?? 0));
    this.deps.output.clear();
    this.record.interrupted = true;
    // Before the caller's words are known (the call's time limit) there is nothing to record.
    this.finish(this.record.userText ? this.exchange(heard) : { kind: 'dropped' });
    this.controller.abort();
  }

  /**
   * A speculative turn is the caller's: the endpoint came, and the turn gets the utterance's
   * timings and its place in the call (`index`).
   */
  confirm(heard: HeardTimings, index: number): void {
    Object.assign(this.record.timings, heard);
    this.record.index = index;
  }

  /** The caller went on speaking before the reply made a sound: forget it. */
  drop(): void {
    if (this.settled) return;
    this.finish({ kind: 'dropped' });
    this.controller.abort();
  }

  private finish(outcome: TurnOutcome): void {
    if (this.settled) return;
    this.settled = true;
    this.settle(outcome);
  }

  private async run(): Promise<TurnOutcome> {
    const r = this.record;
    const signal = this.work.signal;
    let transcript: Transcript;
    try {
      transcript = await untilAborted(this.input.transcript, signal);
    } catch (err) {
      if (this.controller.signal.aborted) return this.cut();
      r.errors.push(errorCode(signal.aborted ? signal.reason : err));
      r.userText = '[inaudible]';
      return this.fallback();
    }
    r.timings.sttStartAt = transcript.sttStartAt;
    r.timings.sttEndAt = transcript.sttEndAt;
    const text = await this.words;
    if (this.controller.signal.aborted) return this.cut();
    if (signal.aborted) {
      r.userText = text || '[inaudible]';
      r.errors.push(errorCode(signal.reason));
      return this.fallback();
    }
    if (r.source === 'speech' && !isMeaningfulTranscript(text)) return { kind: 'quiet' };
    r.userText = text;

    const { plan, toolbox } = this.deps;
    const messages: ChatMessage[] = [
      { role: 'system', content: plan.systemPrompt },
      ...this.input.history(),
      { role: 'user', content: text },
    ];
    const offered = toolbox.definitions.length > 0;
    for (let round = 1; ; round++) {
      this.round = round;
      const lastRound = round > plan.tools.maxRounds;
      const reply = new Reply(
        { ...this.deps, voice: plan.voice, numbers: plan.numbers },
        {
          messages,
          ...(offered
            ? { tools: toolbox.definitions, ...(lastRound ? { toolChoice: 'none' as const } : {}) }
            : {}),
        },
        signal,
        round,
        () => !this.answerStarted,
        () => this.writing,
      );
      this.speeches.push(reply.speech);
      const tools = new ToolRound(toolbox, round, !lastRound, signal, this.input.confirmed);
      let result: ReplyResult;
      try {
        result = await reply.run((call) => {
          tools.take(call);
          this.ending ??= tools.control;
        });
      } catch (err) {
        if (this.controller.signal.aborted) return this.cut();
        return this.fallback(signal.aborted ? signal.reason : err, reply);
      }
      if (
        signal.aborted &&
        !this.controller.signal.aborted &&
        !this.answerStarted &&
        !this.ending
      ) {
        // The deadline passed before the reply made a sound: it is replaced by the fallback.
        return this.fallback(signal.reason, reply);
      }
      this.noteRound(result);
      if (this.controller.signal.aborted) return this.cut();
      if (this.ending) return this.close(tools, result);
      if (tools.calls.length === 0) break;
      if (lastRound) {
        r.toolCalls.push(...tools.unfinished('not run: too many tool rounds'));
        break;
      }
      this.waiting = tools;
      const outcomes = await this.withFiller(tools.results(), tools, signal);
      if (this.controller.signal.aborted) return this.cut();
      this.waiting = undefined;
      // The next round gets a whole budget of its own: the tools' own timeouts bounded theirs.
      this.armDeadline(performance.now());
      const roundMessages = tools.messages(result.text, outcomes);
      r.toolCalls.push(...outcomes.map((o) => o.record));
      messages.push(...roundMessages);
      this.toolMessages.push(...roundMessages);
      this.lastToolRound = round;
    }
    return this.played();
  }

  /**
   * Waits for a round's tools; when nothing of the turn has been heard FILLER_AFTER_MS after the
   * caller stopped (and at least FILLER_GRACE_MS into the wait), says the tool's line.
   */
  private async withFiller<T>(
    results: Promise<T>,
    tools: ToolRound,
    signal: AbortSignal,
  ): Promise<T> {
    let finished = false;
    void results.finally(() => (finished = true));
    const { plan, toolbox, output } = this.deps;
    const heard = this.input.heard;
    const anchor = heard.speechEndAt ?? heard.endpointAt ?? performance.now();
    const delay = Math.max(FILLER_GRACE_MS, anchor + plan.tools.fillerAfterMs - performance.now());
    const timer = setTimeout(() => {
      if (finished || signal.aborted || this.audioStarted || output.isSpeaking()) return;
      if (this.record.filler !== undefined) return;
      const text =
        tools.calls.map((c) => toolbox.messageFor(c)).find(Boolean) ?? plan.tools.fillerText;
      this.record.filler = text;
      this.writing = this.say('filler', 'filler_done', text, tools.round).catch((err: unknown) => {
        if (!signal.aborted) this.record.errors.push(errorCode(err));
      });
    }, delay);
    try {
      return await results;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Nothing of the turn heard `holdAfterMs` after the caller stopped: the filler line. */
  private armHold(): void {
    const { holdAfterMs } = this.deps.plan.limits;
    if (holdAfterMs <= 0) return;
    this.holdTimer = setTimeout(
      () => {
        const { output, plan } = this.deps;
        if (this.settled || this.work.signal.aborted || this.record.filler !== undefined) return;
        if (this.audioStarted || output.isSpeaking()) return;
        this.record.filler = plan.tools.fillerText;
        this.deps.log.info({ turn: this.record.index }, 'reply late: saying the filler line');
        this.writing = this.say('filler', 'filler_done', plan.tools.fillerText, this.round).catch(
          (err: unknown) => {
            if (!this.controller.signal.aborted) this.record.errors.push(errorCode(err));
          },
        );
      },
      Math.max(0, this.anchor + holdAfterMs - performance.now()),
    );
  }

  /** No reply audio `turnTimeoutMs` after `from` (tools aside): the stages are aborted. */
  private armDeadline(from: number): void {
    clearTimeout(this.deadlineTimer);
    const { turnTimeoutMs } = this.deps.plan.limits;
    if (turnTimeoutMs <= 0 || this.settled) return;
    this.deadlineTimer = setTimeout(
      () => {
        if (this.settled || this.answerStarted || this.waiting || this.ending) return;
        this.deps.log.warn(
          { turn: this.record.index, turnTimeoutMs },
          'no reply in time: saying the fallback line',
        );
        this.work.abort(
          new VoicebotError(
            'TURN_TIMEOUT',
            `no reply ${turnTimeoutMs} ms after the caller stopped`,
          ),
        );
      },
      Math.max(0, from + turnTimeoutMs - performance.now()),
    );
  }

  /** `end_call` / `transfer_call`: the model's words or the plan's line, heard to the end. */
  private async close(tools: ToolRound, result: ReplyResult): Promise<TurnOutcome> {
    const { plan } = this.deps;
    const ending = this.ending!;
    // Tools started alongside the control call are not waited for.
    this.record.toolCalls.push(...tools.unfinished('not run: the call is ending'));
    this.record.ending = ending.reason;
    if (!result.text.trim()) {
      const line =
        ending.reason === 'transfer'
          ? (plan.transfer?.message ?? plan.goodbyeText)
          : plan.goodbyeText;
      await this.say('closing', 'goodbye_done', line, tools.round).catch((err: unknown) => {
        this.record.errors.push(errorCode(err));
      });
    }
    const outcome = await this.played();
    return outcome.kind === 'exchange' ? { ...outcome, ending } : outcome;
  }

  private async fallback(err?: unknown, reply?: Reply): Promise<TurnOutcome> {
    const r = this.record;
    if (reply) {
      // It made no sound: the fallback line replaces it.
      reply.speech.utterance?.cancel();
      this.speeches.splice(this.speeches.indexOf(reply.speech), 1);
      r.errors.push(...reply.errorCodes);
      if (r.errors.at(-1) !== errorCode(err)) r.errors.push(errorCode(err));
    }
    r.fallback = true;
    this.deps.log.warn({ codes: r.errors }, 'turn failed: saying the fallback line');
    try {
      await this.say('fallback', 'fallback_done', this.deps.plan.fallbackText, 1);
    } catch (e) {
      if (this.controller.signal.aborted) return this.cut();
      r.errors.push(errorCode(e));
      this.deps.log.error({ code: errorCode(e) }, 'fallback line failed');
    }
    return this.played();
  }

  /** Says a fixed line (cached when it can be) as one speech of this turn, after its audio so far. */
  private async say(kind: Speech['kind'], utt: UtteranceKind, text: string, round: number) {
    await this.writing;
    const line = await this.deps.lines.say(utt, text, this.controller.signal);
    this.speeches.push(lineSpeech(kind, round, text, line.utterance, line.audioMs, line.said));
  }

  /**
   * Waits until everything the turn said has been heard (or cut), then records the exchange.
   * A reply heard to its end is a whole exchange even when the call ends right after it.
   */
  private async played(): Promise<TurnOutcome> {
    await this.writing;
    const results = await Promise.all(
      this.speeches.map((s) => s.utterance?.played ?? Promise.resolve(undefined)),
    );
    const heard = this.speeches.map((s, i) => {
      const p = results[i];
      return heardOf(s, p === undefined || p.completed ? undefined : p.heardMs);
    });
    this.record.interrupted = results.some((p) => p !== undefined && !p.completed);
    return this.exchange(heard);
  }

  /** The call ended under the turn: recorded as far as it got, when the caller's words are known. */
  private cut(): TurnOutcome {
    if (!this.record.userText) return { kind: 'dropped' };
    const heard = this.speeches.map((s) => heardOf(s, s.utterance?.heardMs() ?? 0));
    this.record.interrupted = true;
    return this.exchange(heard);
  }

  private exchange(heard: string[]): TurnOutcome {
    const r = this.record;
    r.timings.replyEndAt ??= performance.now();
    const firstFrames = this.speeches
      .map((s) => s.utterance?.firstFrameAt)
      .filter((t): t is number => t !== undefined);
    if (firstFrames.length > 0) r.timings.firstAudioAt = Math.min(...firstFrames);
    if (this.waiting) r.toolCalls.push(...this.waiting.unfinished('cancelled: the caller spoke'));
    this.waiting = undefined;
    r.botText = this.speeches.flatMap((s) => s.produced).join(' ');
    const spoken = this.speeches.flatMap((s) => s.said).join(' ');
    if (spoken !== r.botText) r.spokenText = spoken;
    r.heardText = heard.filter(Boolean).join(' ');
    // The model sees its own words of the final round (and the fallback), as heard.
    const answer = this.speeches
      .map((s, i) =>
        (s.kind === 'reply' && s.round > this.lastToolRound) || s.kind === 'fallback'
          ? heard[i]
          : '',
      )
      .filter(Boolean)
      .join(' ');
    const messages: ChatMessage[] = [
      { role: 'user', content: r.userText },
      ...this.toolMessages,
      heardReply(answer || (r.interrupted ? '' : r.botText), r.interrupted),
    ];
    return {
      kind: 'exchange',
      record: r,
      messages,
      ...(this.ending ? { ending: this.ending } : {}),
    };
  }

  private noteRound(result: ReplyResult): void {
    const t = this.record.timings;
    for (const [k, v] of Object.entries(result.timings) as [
      keyof ReplyTimings,
      number | undefined,
    ][]) {
      if (v !== undefined) t[k] ??= v;
    }
    this.record.errors.push(...result.errors);
  }
}
