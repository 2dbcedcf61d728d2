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
 */
import type { CallPlan } from '../agents/call-plan.js';
import { errorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { linkedAbort } from '../providers/linked-abort.js';
import type { ChatMessage, LlmProvider, LlmToolCall } from '../providers/llm/types.js';
import type { TtsProvider } from '../providers/tts/types.js';
import type { Toolbox, ToolOutcome } from '../tools/toolbox.js';
import type { AudioOutput, UtteranceKind } from './audio-output.js';
import { heardOf, lineSpeech, type Speech } from './heard-text.js';
import { heardReply } from './history.js';
import { Reply, type ReplyResult } from './reply.js';
import { speak } from './speak.js';
import type { Transcript } from './transcriber.js';
import { isMeaningfulTranscript } from './transcript-filter.js';
import type { TtsCache } from './tts-cache.js';
import type {
  HeardTimings,
  ReplyTimings,
  TurnEnding,
  TurnRecord,
  TurnSource,
} from './turn-record.js';

export interface TurnDeps {
  output: AudioOutput;
  llm: LlmProvider;
  tts: TtsProvider;
  ttsCache: TtsCache;
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
  /** The call's signal. */
  signal: AbortSignal;
}

export interface CallEnding {
  reason: TurnEnding;
  /** The model's reason, for the record. */
  detail?: string;
}

export type TurnOutcome =
  | { kind: 'exchange'; record: TurnRecord; messages: ChatMessage[]; ending?: CallEnding }
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
  /** Tool calls running now: the record lists them as cancelled if the turn ends first. */
  private inFlight: Array<{ call: LlmToolCall; round: number; startedAt: number }> = [];
  private ending: CallEnding | undefined;
  /** Audio of the turn still being written (a filler); a later round waits for it. */
  private writing: Promise<unknown> = Promise.resolve();
  private settle!: (o: TurnOutcome) => void;
  private settled = false;

  constructor(
    private readonly deps: TurnDeps,
    private readonly input: TurnInput,
  ) {
    const { controller, unlink } = linkedAbort(input.signal);
    this.controller = controller;
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
    this.done = new Promise<TurnOutcome>((resolve) => (this.settle = resolve)).finally(unlink);
    void this.run().then(
      (outcome) => this.finish(outcome),
      (err: unknown) => {
        deps.log.error({ code: errorCode(err), err: String(err) }, 'turn failed');
        this.finish(this.cut());
      },
    );
  }

  get index(): number {
    return this.input.index;
  }

  /** Some of the turn's audio has gone to the caller. */
  get audioStarted(): boolean {
    return this.speeches.some((s) => (s.utterance?.sentAudioMs ?? 0) > 0);
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
    this.finish(this.exchange(heard));
    this.controller.abort();
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
    const signal = this.controller.signal;
    let transcript: Transcript;
    try {
      transcript = await this.input.transcript;
    } catch (err) {
      if (signal.aborted) return this.cut();
      r.errors.push(errorCode(err));
      r.userText = '[inaudible]';
      return this.fallback();
    }
    r.timings.sttStartAt = transcript.sttStartAt;
    r.timings.sttEndAt = transcript.sttEndAt;
    const text = await this.words;
    if (signal.aborted) return this.cut();
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
      const lastRound = round > plan.tools.maxRounds;
      const reply = new Reply(
        { ...this.deps, voice: plan.voice },
        {
          messages,
          ...(offered
            ? { tools: toolbox.definitions, ...(lastRound ? { toolChoice: 'none' as const } : {}) }
            : {}),
        },
        signal,
        round,
        () => !this.audioStarted,
        this.writing,
      );
      this.speeches.push(reply.speech);
      const calls: LlmToolCall[] = [];
      const runs = new Map<string, Promise<ToolOutcome>>();
      const onToolCall = (call: LlmToolCall) => {
        calls.push(call);
        const control = toolbox.controlOf(call);
        if (control && !this.ending) this.ending = { reason: control, detail: reasonOf(call) };
        else if (!this.ending && !lastRound) {
          runs.set(call.id, toolbox.run(call, round, signal));
          this.inFlight.push({ call, round, startedAt: performance.now() });
        }
      };
      let result: ReplyResult;
      try {
        result = await reply.run(onToolCall);
      } catch (err) {
        if (signal.aborted) return this.cut();
        return this.fallback(err, reply);
      }
      this.noteRound(result);
      if (signal.aborted) return this.cut();
      if (this.ending) return this.close(calls, runs, round, result);
      if (calls.length === 0) break;
      if (lastRound) {
        for (const c of calls)
          r.toolCalls.push(toolbox.notRun(c, round, 'not run: too many tool rounds'));
        break;
      }
      const outcomes = await this.awaitTools(calls, runs, signal);
      if (signal.aborted) return this.cut();
      this.inFlight = [];
      const roundMessages: ChatMessage[] = [
        {
          role: 'assistant',
          content: result.text || null,
          tool_calls: calls.map((c) => ({
            id: c.id,
            type: 'function' as const,
            function: { name: c.name, arguments: c.arguments },
          })),
        },
        ...outcomes.map((o): ChatMessage => ({
          role: 'tool',
          tool_call_id: o.record.id,
          content: o.content,
        })),
      ];
      r.toolCalls.push(...outcomes.map((o) => o.record));
      messages.push(...roundMessages);
      this.toolMessages.push(...roundMessages);
      this.lastToolRound = round;
    }
    return this.played();
  }

  /** Waits for the round's tools; says the filler when the caller would wait in silence. */
  private async awaitTools(
    calls: LlmToolCall[],
    runs: Map<string, Promise<ToolOutcome>>,
    signal: AbortSignal,
  ): Promise<ToolOutcome[]> {
    const all = Promise.all(calls.map((c) => runs.get(c.id)!));
    let finished = false;
    void all.finally(() => (finished = true));
    const { plan } = this.deps;
    const anchor = this.input.heard.speechEndAt ?? this.input.heard.endpointAt ?? performance.now();
    const now = performance.now();
    const delay = Math.max(FILLER_GRACE_MS, anchor + plan.tools.fillerAfterMs - now);
    const timer = setTimeout(() => {
      if (finished || signal.aborted || this.audioStarted || this.deps.output.isSpeaking()) return;
      const text =
        calls.map((c) => this.deps.toolbox.messageFor(c)).find(Boolean) ?? plan.tools.fillerText;
      this.record.filler = text;
      this.writing = this.say('filler', 'filler_done', text, this.lastToolRound + 1).catch(
        (err: unknown) => {
          if (!signal.aborted) this.record.errors.push(errorCode(err));
        },
      );
    }, delay);
    try {
      return await all;
    } finally {
      clearTimeout(timer);
    }
  }

  /** `end_call` / `transfer_call`: the model's words or the plan's line, heard to the end. */
  private async close(
    calls: LlmToolCall[],
    runs: Map<string, Promise<ToolOutcome>>,
    round: number,
    result: ReplyResult,
  ): Promise<TurnOutcome> {
    const { toolbox, plan } = this.deps;
    const ending = this.ending!;
    const control = calls.find((c) => toolbox.controlOf(c) === ending.reason);
    for (const c of calls) {
      if (c === control) {
        const done = ending.reason === 'transfer' ? 'transferring the call' : 'ending the call';
        this.record.toolCalls.push({ ...toolbox.notRun(c, round, done), status: 'ok' });
      } else this.record.toolCalls.push(toolbox.notRun(c, round, 'not run: the call is ending'));
    }
    // Tools started before the control call are not waited for (recorded above).
    void Promise.allSettled(runs.values());
    this.inFlight = [];
    this.record.ending = ending.reason;
    if (!result.text.trim()) {
      const line =
        ending.reason === 'transfer'
          ? (plan.transfer?.message ?? plan.goodbyeText)
          : plan.goodbyeText;
      await this.say('closing', 'goodbye_done', line, round).catch((err: unknown) => {
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

  /** Says a fixed line (cached when it can be) as one speech of this turn. */
  private async say(
    kind: Speech['kind'],
    utt: UtteranceKind,
    text: string,
    round: number,
  ): Promise<void> {
    const { output, tts, ttsCache, plan } = this.deps;
    await this.writing;
    const said = await speak({
      output,
      tts,
      text,
      voice: plan.voice,
      kind: utt,
      signal: this.controller.signal,
      cache: ttsCache,
    });
    this.speeches.push(lineSpeech(kind, round, text, said.utterance, said.audioMs));
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
    for (const f of this.inFlight) {
      const cancelled = this.deps.toolbox.notRun(f.call, f.round, 'cancelled: the caller spoke');
      r.toolCalls.push({ ...cancelled, durationMs: Math.round(performance.now() - f.startedAt) });
    }
    this.inFlight = [];
    r.botText = this.speeches.flatMap((s) => s.produced).join(' ');
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

/** The `reason` argument of a call-control call, when the model gave one. */
function reasonOf(call: LlmToolCall): string | undefined {
  try {
    const args = JSON.parse(call.arguments) as { reason?: unknown };
    return typeof args.reason === 'string' ? args.reason.slice(0, 200) : undefined;
  } catch {
    return undefined;
  }
}
