/**
 * The conversation of one call: greets, hears the caller (`Hearing`), applies the turn-taking
 * rules (`floor.ts`), runs one `Turn` per exchange, keeps the history the LLM sees, and ends the
 * call when the model asks to, when the line stays silent (`IdleWatch`) or at the time limit.
 * The call's audio goes out through an `AudioOutput`; how the call ends is handed to `onEnd`.
 */
import type { CallPlan } from '../agents/call-plan.js';
import { createVad, type StreamSampleRate, type VadStream } from '../audio/vad/index.js';
import { errorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { classifyAnswer } from '../outbound/voicemail.js';
import type { LlmProvider } from '../providers/llm/types.js';
import type { SttProvider } from '../providers/stt/types.js';
import type { TtsProvider } from '../providers/tts/types.js';
import { Toolbox, type ToolInvoker } from '../tools/toolbox.js';
import type { AudioOutput, UtteranceKind } from './audio-output.js';
import { DtmfCollector } from './dtmf-collector.js';
import {
  callerTakesFloor,
  keypadInput,
  utteranceEnded,
  type BotActivity,
  type FloorDecision,
} from './floor.js';
import { HeldOutput } from './held-output.js';
import { Hearing, type HeardUtterance, type TentativeUtterance } from './hearing.js';
import { ChatHistory } from './history.js';
import { IdleWatch } from './idle-watch.js';
import { CallLines } from './lines.js';
import type { Transcript } from './transcriber.js';
import { isMeaningfulTranscript } from './transcript-filter.js';
import type { TtsCache } from './tts-cache.js';
import { PROCESS_HEDGE_BUDGET, type HedgeBudget } from './hedge-budget.js';
import { Turn, type TurnInput, type TurnOutcome } from './turn.js';
import { turnLogFields, type HeardTimings, type TurnRecord } from './turn-record.js';

export interface ConversationDeps {
  plan: CallPlan;
  output: AudioOutput;
  stt: SttProvider;
  llm: LlmProvider;
  tts: TtsProvider;
  ttsCache: TtsCache;
  sampleRate: StreamSampleRate;
  /** The call's root signal. */
  signal: AbortSignal;
  log: Logger;
  /** The call's VAD; by default the plan's kind at the stream rate. */
  vad?: Promise<VadStream>;
  /** How HTTP tools are called; by default over HTTP. */
  invokeTool?: ToolInvoker;
  /** Hedged STT requests allowed; by default the process's, shared by its calls. */
  sttHedgeBudget?: HedgeBudget;
  /** Every finished exchange. */
  onTurn?: (turn: TurnRecord) => void;
  /** Something for the call record that is not a turn (a greeting that failed). */
  onEvent?: (e: { kind: 'error'; code: string; detail: string }) => void;
  /** The bot ends the call; its last words have been heard. */
  onEnd?: (end: CallEnd) => void;
}

export interface CallEnd {
  reason: 'end_call' | 'transfer' | 'idle' | 'max_duration' | 'shutdown' | 'voicemail';
  /** The model's reason for end_call / transfer_call; the cues heard for voicemail. */
  detail?: string;
  /** Where a transfer goes. */
  transferTo?: string;
}

export interface ConversationStats {
  turns: number;
  bargeIns: number;
  fallbacks: number;
  ignoredUtterances: number;
  merges: number;
  toolCalls: number;
  idlePrompts: number;
  /** Replies started on a preemptive transcript before the endpoint (SPECULATIVE_REPLY). */
  speculations: number;
  /** Of those, the ones the endpoint confirmed (the rest were discarded: wasted requests). */
  speculationsUsed: number;
}

/**
 * A call may discard one speculative reply on any turn, and after that one per this many turns: a
 * caller who pauses mid-sentence long enough to be answered costs an LLM request at most that
 * often, and the calls that gain from speculation keep it.
 */
export const SPECULATION_TURNS_PER_WASTE = 3;

/** An utterance this short (voiced ms) before the greeting is a "hello": greet at once. */
const HELLO_MAX_VOICED_MS = 1_500;

/** An outbound call's first seconds (`plan.answerCheck`): a person or a machine? */
interface AnswerCheck {
  /** Utterances that start before this (performance.now()) are checked. */
  until: number;
  /** What was heard so far. */
  heard: string[];
  /** Utterances before the greeting whose words are not known yet. */
  pending: number;
  timer: NodeJS.Timeout | undefined;
}

export class Conversation {
  readonly turns: TurnRecord[] = [];
  readonly history: ChatHistory;
  readonly stats: ConversationStats = {
    turns: 0,
    bargeIns: 0,
    fallbacks: 0,
    ignoredUtterances: 0,
    merges: 0,
    toolCalls: 0,
    idlePrompts: 0,
    speculations: 0,
    speculationsUsed: 0,
  };
  /** How the bot ended the call, once it has decided to. */
  ending: CallEnd | undefined;
  private readonly hearing: Hearing;
  private readonly dtmf: DtmfCollector;
  private readonly toolbox: Toolbox;
  private readonly idle: IdleWatch;
  private readonly lines: CallLines;
  private active: Turn | undefined;
  /** A reply started on a preemptive transcript, held until the endpoint confirms it. */
  private speculation: Speculation | undefined;
  /** Words of a silent turn the caller went on from. */
  private carry: Promise<string> | undefined;
  private maxTimer: NodeJS.Timeout | undefined;
  private check: AnswerCheck | undefined;
  private greeted = false;
  /** Stops the greeting (a machine answered) without ending the call's signal. */
  private readonly greeting = new AbortController();
  private readonly tasks = new Set<Promise<void>>();
  private turnIndex = 0;
  private closed = false;

  constructor(private readonly deps: ConversationDeps) {
    const { plan, log, signal } = deps;
    this.history = new ChatHistory(plan.limits.maxHistoryTurns);
    this.lines = new CallLines({
      output: deps.output,
      tts: deps.tts,
      cache: deps.ttsCache,
      voice: plan.voice,
      numbers: plan.numbers,
      signal,
      log,
    });
    this.toolbox = new Toolbox({
      tools: plan.tools.http,
      endCall: plan.tools.endCall,
      transfer: plan.transfer !== undefined,
      maxResultBytes: plan.tools.maxResultBytes,
      ...(deps.invokeTool ? { invoke: deps.invokeTool } : {}),
    });
    this.hearing = new Hearing(
      deps.vad ?? createVad(plan.turn.vad, deps.sampleRate),
      {
        sampleRate: deps.sampleRate,
        turn: plan.turn,
        stt: deps.stt,
        sttLanguage: plan.sttLanguage,
        sttHedgeMs: plan.limits.sttHedgeMs,
        sttHedgeBudget: deps.sttHedgeBudget ?? PROCESS_HEDGE_BUDGET,
        signal,
        log,
      },
      {
        speechStarted: () => this.idle.busy(),
        bargeIn: () => this.takeFloor(callerTakesFloor('speech', this.activity()), 'speech'),
        utterance: (u) => this.onUtterance(u),
        tentative: (t) => this.onTentative(t),
        tentativeStale: (id) => this.onTentativeStale(id),
      },
    );
    this.dtmf = new DtmfCollector(plan.limits.dtmfTimeoutMs, (digits) =>
      this.onKeypadInput(digits),
    );
    this.idle = new IdleWatch(plan.idle, (said) => this.onIdle(said));
  }

  /**
   * Greets the caller, then synthesizes ahead the lines the call may need in a hurry. An outbound
   * call with the answer check waits for the callee's first words (or a silence) instead, and
   * readies the greeting meanwhile.
   */
  async start(): Promise<void> {
    const { plan } = this.deps;
    this.maxTimer = setTimeout(
      () => this.endCall({ reason: 'max_duration' }),
      plan.limits.maxCallMs,
    );
    const answer = plan.answerCheck;
    if (answer) {
      this.check = {
        until: performance.now() + answer.windowMs,
        heard: [],
        pending: 0,
        timer: setTimeout(() => this.greetAfterSilence(), answer.greetAfterMs),
      };
      await this.lines.prepare(plan, [plan.greeting]);
      return;
    }
    await this.greet('start');
    await this.lines.prepare(plan);
  }

  /** Says the greeting, once; `after` is what set it off (for the log). */
  private async greet(after: 'start' | 'hello' | 'words' | 'silence' | 'keypad'): Promise<void> {
    if (this.greeted || this.closed || this.ending) return;
    this.greeted = true;
    const { plan, log, signal } = this.deps;
    const startedAt = performance.now();
    try {
      const { utterance, fromCache } = await this.lines.say(
        'greeting_done',
        plan.greeting,
        AbortSignal.any([signal, this.greeting.signal]),
      );
      const first = utterance.firstFrameAt;
      log.info(
        { after, fromCache, firstAudioMs: first === undefined ? undefined : first - startedAt },
        'greeting started',
      );
      this.track(utterance.played.then(() => this.lineQuiet()));
    } catch (err) {
      if (signal.aborted || this.greeting.signal.aborted) return;
      log.error({ code: errorCode(err), err: String(err) }, 'greeting failed');
      this.deps.onEvent?.({ kind: 'error', code: errorCode(err), detail: 'greeting' });
      this.lineQuiet();
    }
  }

  /** The callee said nothing (a person waiting for us to speak): greet, the check goes on. */
  private greetAfterSilence(): void {
    const check = this.check;
    if (!check || this.hearing.callerSpeaking || check.pending > 0) return;
    this.track(this.greet('silence'));
  }

  /**
   * The callee's first utterance, before the greeting. A short one ("Hello?") is answered at
   * once; a longer one waits for its words, since a machine's greeting is long. Either way the
   * words are checked, and a machine ends the call before (or while) the greeting plays.
   */
  private answerHeard(u: HeardUtterance, check: AnswerCheck): void {
    const { transcript } = u.transcribe();
    check.pending++;
    if (u.voicedMs <= HELLO_MAX_VOICED_MS) this.track(this.greet('hello'));
    this.track(
      transcript.then(
        (t) => {
          check.pending--;
          if (!this.judgeAnswer(check, t.text) && check.pending === 0) return this.greet('words');
        },
        (err: unknown) => {
          check.pending--;
          this.deps.log.warn({ code: errorCode(err) }, 'answer check: no transcript; greeting');
          if (check.pending === 0) return this.greet('words');
        },
      ),
    );
  }

  /** Adds `text` to what the check heard; a machine ends the call as `voicemail` (true). */
  private judgeAnswer(check: AnswerCheck, text: string): boolean {
    if (this.closed || this.ending) return true;
    if (text.trim()) check.heard.push(text);
    const verdict = classifyAnswer(check.heard.join(' '));
    if (!verdict.machine) return false;
    this.deps.log.info({ cues: verdict.cues }, 'answer check: a machine answered');
    clearTimeout(check.timer);
    this.greeting.abort();
    const turn = this.active;
    this.active = undefined;
    turn?.drop();
    if (this.deps.output.isSpeaking()) this.deps.output.clear();
    this.finishCall({ reason: 'voicemail', detail: verdict.cues.join(', ') });
    return true;
  }

  /** Caller audio from one `media` frame (s16le at the stream rate). */
  onAudio(payload: Buffer): void {
    if (!this.closed) this.hearing.push(payload);
  }

  onDtmf(digit: string): void {
    if (this.closed || this.ending) return;
    // A machine does not press keys.
    if (this.check && !this.greeted) this.track(this.greet('keypad'));
    this.idle.busy();
    if (this.dtmf.pending === '') this.takeFloor(callerTakesFloor('dtmf', this.activity()), 'dtmf');
    this.dtmf.push(digit);
  }

  /** An inbound `clear` (other bridges send it on barge-in): stop talking now. */
  onClear(): void {
    if (!this.closed) this.takeFloor(callerTakesFloor('clear', this.activity()), 'clear');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.maxTimer);
    clearTimeout(this.check?.timer);
    this.idle.close();
    this.dtmf.close();
    this.active?.controller.abort();
    this.discardSpeculation();
    await this.hearing.close();
    await Promise.allSettled([...this.tasks]);
  }

  private activity(): BotActivity {
    const turn = this.active;
    return {
      ...(turn ? { turn: { audioStarted: turn.audioStarted, locked: turn.locked } } : {}),
      outputSpeaking: this.deps.output.isSpeaking(),
      closing: this.ending !== undefined,
    };
  }

  private takeFloor(decision: FloorDecision, by: string): void {
    const turn = this.active;
    switch (decision) {
      case 'interrupt':
        this.stats.bargeIns++;
        this.deps.log.info({ kind: by }, 'barge-in');
        return turn?.interrupt();
      case 'merge':
        if (!turn) return;
        this.stats.merges++;
        this.carry = turn.words;
        this.active = undefined;
        turn.drop();
        this.deps.log.debug('caller went on before the reply: merging turns');
        return;
      case 'clear-output':
        this.stats.bargeIns++;
        this.deps.output.clear();
        this.deps.log.info({ kind: by }, 'barge-in');
        return;
      case 'keep':
        return;
    }
  }

  /** The answer check, when it will judge words whose speech began as `timings` say. */
  private judgedBy(timings: HeardTimings): AnswerCheck | undefined {
    const check = this.check;
    const began = timings.speechStartAt ?? timings.speechEndAt;
    return check && began !== undefined && began < check.until ? check : undefined;
  }

  private onUtterance(u: HeardUtterance): void {
    if (this.closed) return;
    const check = this.judgedBy(u.timings);
    const checked = check !== undefined && !this.ending;
    const spec = this.speculation;
    if (spec && u.preemptId === spec.id && !checked && this.mayAdopt(u)) return this.adopt(spec, u);
    this.discardSpeculation();
    if (checked && !this.greeted) return this.answerHeard(u, check);
    if (utteranceEnded(u, this.activity()) === 'ignore') {
      // Too short to take the floor while the bot talks or thinks: a backchannel or noise.
      this.stats.ignoredUtterances++;
      this.deps.log.debug(
        { voicedMs: u.voicedMs },
        'short utterance while the bot is busy: ignored',
      );
      return this.lineQuiet();
    }
    const { transcript, preemptive } = u.transcribe();
    // Registered before the turn's own wait on the words: a machine ends the call before a reply.
    if (checked) {
      this.track(
        transcript.then(
          (t) => void this.judgeAnswer(check, t.text),
          () => undefined,
        ),
      );
    }
    this.startTurn({ source: 'speech', transcript, heard: u.timings, preemptive });
  }

  private onKeypadInput(digits: string): void {
    if (this.closed || this.ending) return;
    this.takeFloor(keypadInput(this.activity()), 'dtmf');
    const transcript: Transcript = { text: `[keypad: ${digits}]` };
    this.startTurn({
      source: 'dtmf',
      transcript: Promise.resolve(transcript),
      heard: { endpointAt: performance.now() },
      preemptive: false,
    });
  }

  private startTurn(
    input: Pick<TurnInput, 'source' | 'transcript' | 'heard' | 'preemptive'>,
  ): void {
    this.discardSpeculation();
    const { plan, output, llm, tts, log } = this.deps;
    const carried = this.carry;
    this.carry = undefined;
    this.idle.busy();
    const turn = new Turn(
      { output, llm, tts, lines: this.lines, toolbox: this.toolbox, plan, log },
      {
        ...input,
        index: ++this.turnIndex,
        ...(carried ? { carried } : {}),
        history: () => this.history.messages(),
        signal: this.deps.signal,
      },
    );
    this.active = turn;
    this.track(turn.done.then((outcome) => this.onTurnDone(turn, outcome)));
  }

  /**
   * The preemptive transcript is in and the caller has been quiet PREEMPT_MS: start the reply
   * now (LLM, first TTS) with its audio and tools held, so that at the endpoint it is already on
   * its way. Only from a quiet floor: nothing playing, no turn in progress, no words carried.
   */
  private onTentative(t: TentativeUtterance): void {
    const { plan, output, llm, tts, log } = this.deps;
    if (!plan.turn.speculate || this.closed || this.ending || this.speculation) return;
    // Bounded waste: a call whose pauses keep fooling it stops guessing until its turns catch up
    // (one guess is free; after that one discard per SPECULATION_TURNS_PER_WASTE turns).
    const wasted = this.stats.speculations - this.stats.speculationsUsed;
    if (wasted > 0 && wasted + 1 > (this.turnIndex + 1) / SPECULATION_TURNS_PER_WASTE) return;
    if (this.active || this.carry || output.isSpeaking()) return;
    // Words the answer check will judge (an outbound call's first seconds) get no reply before
    // the verdict: a machine's greeting must not cost an LLM request.
    if (this.check && (!this.greeted || this.judgedBy(t.timings))) return;
    if (!isMeaningfulTranscript(t.transcript.text)) return;
    const held = new HeldOutput(output);
    const turn = new Turn(
      { output: held, llm, tts, lines: this.lines, toolbox: this.toolbox, plan, log },
      {
        source: 'speech',
        transcript: Promise.resolve(t.transcript),
        heard: t.timings,
        preemptive: true,
        index: this.turnIndex + 1,
        history: () => this.history.messages(),
        signal: this.deps.signal,
        confirmed: held.released,
      },
    );
    const spec: Speculation = { id: t.id, turn, output: held, adopted: false };
    this.speculation = spec;
    this.stats.speculations++;
    this.track(
      turn.done.then((outcome) => {
        if (spec.adopted) this.onTurnDone(turn, outcome);
      }),
    );
  }

  private onTentativeStale(id: number): void {
    if (this.speculation?.id === id) this.discardSpeculation();
  }

  /** Whether the utterance would start a turn of its own (see `onUtterance`). */
  private mayAdopt(u: HeardUtterance): boolean {
    return (
      !this.active && !this.carry && !this.ending && utteranceEnded(u, this.activity()) !== 'ignore'
    );
  }

  /** The endpoint confirmed the speculative reply: it becomes the turn and may be heard. */
  private adopt(spec: Speculation, u: HeardUtterance): void {
    this.speculation = undefined;
    spec.adopted = true;
    this.stats.speculationsUsed++;
    this.idle.busy();
    this.active = spec.turn;
    spec.turn.confirm(u.timings, ++this.turnIndex);
    spec.output.release();
  }

  /** A speculative reply the caller went on from: its requests are aborted, nothing was heard. */
  private discardSpeculation(): void {
    const spec = this.speculation;
    if (!spec) return;
    this.speculation = undefined;
    spec.output.discard();
    spec.turn.drop();
    this.deps.log.debug('caller went on: speculative reply discarded');
  }

  private onTurnDone(turn: Turn, outcome: TurnOutcome): void {
    if (this.active === turn) this.active = undefined;
    if (outcome.kind === 'quiet') {
      this.stats.ignoredUtterances++;
      this.deps.log.debug('no words in the utterance: no reply');
    }
    if (outcome.kind === 'exchange') {
      const r = outcome.record;
      this.history.add(outcome.messages);
      this.turns.push(r);
      this.stats.turns++;
      this.stats.toolCalls += r.toolCalls.length;
      if (r.fallback) this.stats.fallbacks++;
      this.idle.answered();
      this.logTurn(r);
      this.deps.onTurn?.(r);
      if (outcome.ending) {
        const { reason, detail } = outcome.ending;
        const transferTo = reason === 'transfer' ? this.deps.plan.transfer?.number : undefined;
        return this.finishCall({
          reason,
          ...(detail ? { detail } : {}),
          ...(transferTo ? { transferTo } : {}),
        });
      }
    }
    this.lineQuiet();
  }

  /** The server is going away: the goodbye plays (unless one is playing), then `onEnd`. */
  endForShutdown(): void {
    this.endCall({ reason: 'shutdown' });
  }

  /** The bot ends the call itself (idle, time limit, shutdown): the goodbye plays out first. */
  private endCall(end: CallEnd): void {
    // A turn that is already saying goodbye (end_call, transfer) finishes on its own.
    if (this.closed || this.ending || this.active?.locked) return;
    this.ending = end;
    this.idle.close();
    this.active?.interrupt();
    if (this.deps.output.isSpeaking()) this.deps.output.clear();
    this.track(
      this.sayOut('goodbye_done', this.deps.plan.goodbyeText).then(() => this.finishCall(end)),
    );
  }

  private finishCall(end: CallEnd): void {
    if (this.closed) return;
    this.ending = end;
    clearTimeout(this.maxTimer);
    clearTimeout(this.check?.timer);
    this.idle.close();
    this.deps.log.info({ reason: end.reason }, 'the bot ends the call');
    this.deps.onEnd?.(end);
  }

  /** The line may have gone quiet: start counting the caller's silence. */
  private lineQuiet(): void {
    if (this.closed || this.ending || this.active || this.hearing.callerSpeaking) return;
    if (!this.greeted) return;
    if (this.dtmf.pending !== '') return;
    this.idle.quiet();
  }

  private onIdle(said: number): void {
    if (this.closed || this.ending || this.active || this.hearing.callerSpeaking) return;
    if (this.deps.output.isSpeaking()) return this.idle.quiet();
    if (this.idle.exhausted) return this.endCall({ reason: 'idle' });
    this.idle.prompted();
    this.stats.idlePrompts++;
    this.deps.log.info({ prompt: said + 1 }, 'caller silent: idle prompt');
    this.track(this.sayOut('idle_done', this.deps.plan.idle.message).then(() => this.lineQuiet()));
  }

  /** Says a line and waits until it has been heard (or cut); a failure is logged, not thrown. */
  private async sayOut(kind: UtteranceKind, text: string): Promise<void> {
    try {
      await (
        await this.lines.say(kind, text)
      ).utterance.played;
    } catch (err) {
      if (!this.deps.signal.aborted)
        this.deps.log.warn({ code: errorCode(err), kind }, 'line failed');
    }
  }

  private logTurn(r: TurnRecord): void {
    this.deps.log.info(turnLogFields(r), 'turn');
    this.deps.log.debug({ turn: r.index, timings: r.timings }, 'turn timings');
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

interface Speculation {
  /** The preemptive snapshot it answers. */
  id: number;
  turn: Turn;
  output: HeldOutput;
  adopted: boolean;
}
