/**
 * The tool calls of one LLM round: each call is started the moment the model completes it
 * (several run side by side), a call-control call (`end_call`, `transfer_call`) is noted instead
 * of run, and once the results are in the round becomes the chat messages the model reads next:
 * its assistant message with the calls, then one tool message per call.
 */
import type { ChatMessage, LlmToolCall } from '../providers/llm/types.js';
import type { Toolbox, ToolOutcome } from '../tools/toolbox.js';
import type { ToolCallRecord, TurnEnding } from './turn-record.js';

export interface CallControl {
  reason: TurnEnding;
  /** The model's reason, for the record. */
  detail?: string;
}

export class ToolRound {
  readonly calls: LlmToolCall[] = [];
  /** Set when the model asked to end or hand over the call. */
  control: CallControl | undefined;
  /** Started (or waiting on `before`) calls; `startedAt` is set once a call really starts. */
  private readonly runs = new Map<
    string,
    { outcome: Promise<ToolOutcome>; startedAt: number | undefined }
  >();

  /** `mayRun`: false on the last round, whose calls are recorded but not run. */
  constructor(
    private readonly toolbox: Toolbox,
    readonly round: number,
    private readonly mayRun: boolean,
    private readonly signal: AbortSignal,
    /** Tools start only once this resolves (a speculative turn's confirmation); never if it rejects. */
    private readonly before?: Promise<void>,
  ) {}

  /** Takes a call the model completed: notes a call control, starts anything else. */
  take(call: LlmToolCall): void {
    this.calls.push(call);
    if (this.control) return;
    const reason = this.toolbox.controlOf(call);
    if (reason) this.control = { reason, detail: reasonOf(call) };
    else if (this.mayRun) {
      const entry: { startedAt: number | undefined } = { startedAt: undefined };
      const run = () => {
        entry.startedAt = performance.now();
        return this.toolbox.run(call, this.round, this.signal);
      };
      // Without a gate the call starts now, not a microtask later.
      const outcome = this.before
        ? this.before.then(run, (): ToolOutcome => ({
            record: this.toolbox.notRun(call, this.round, 'not run: the caller went on'),
            content: '',
          }))
        : run();
      this.runs.set(call.id, Object.assign(entry, { outcome }));
    }
  }

  /** Every call's outcome, in the model's order, once all are in. */
  results(): Promise<ToolOutcome[]> {
    return Promise.all(
      this.calls.map(
        (c) =>
          this.runs.get(c.id)?.outcome ??
          Promise.resolve({ record: this.toolbox.notRun(c, this.round, 'not run'), content: '' }),
      ),
    );
  }

  /** The messages this round adds: the assistant's calls, then their results. */
  messages(text: string, outcomes: ToolOutcome[]): ChatMessage[] {
    return [
      {
        role: 'assistant',
        content: text || null,
        tool_calls: this.calls.map((c) => ({
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
  }

  /**
   * Records for calls whose results will not be used: the control call itself (done), and the
   * others, started or not, with `why`.
   */
  unfinished(why: string): ToolCallRecord[] {
    const controlCall = this.control
      ? this.calls.find((c) => this.toolbox.controlOf(c) === this.control?.reason)
      : undefined;
    return this.calls.map((c) => {
      if (c === controlCall) {
        const done =
          this.control?.reason === 'transfer' ? 'transferring the call' : 'ending the call';
        return { ...this.toolbox.notRun(c, this.round, done), status: 'ok' as const };
      }
      const started = this.runs.get(c.id)?.startedAt;
      const record = this.toolbox.notRun(c, this.round, why);
      return started === undefined
        ? record
        : { ...record, durationMs: Math.round(performance.now() - started) };
    });
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
