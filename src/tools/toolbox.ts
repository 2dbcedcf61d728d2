/**
 * A call's tools: what the LLM is offered (the profile's HTTP tools, plus `end_call` and
 * `transfer_call` when the plan allows them), and how one call of a tool is run and recorded.
 * Built-in call controls are not run here: they end the turn, and the conversation acts on them.
 */
import type { ChatTool, LlmToolCall } from '../providers/llm/types.js';
import type { ToolCallRecord } from '../conversation/turn-record.js';
import type { ArgumentValidator } from './arguments.js';
import { callHttpTool, type HttpToolOptions, type ToolResult } from './http-tool.js';
import {
  END_CALL,
  END_CALL_DEFINITION,
  TRANSFER_CALL,
  TRANSFER_CALL_DEFINITION,
  httpToolDefinition,
  type HttpToolSpec,
} from './spec.js';

/** An HTTP tool as loaded from a profile: its spec and its compiled argument check. */
export interface HttpTool extends HttpToolSpec {
  readonly checkArguments: ArgumentValidator;
}

/** How an HTTP tool is called: over HTTP (`callHttpTool`), or a script in tests. */
export type ToolInvoker = (
  tool: HttpTool,
  args: Record<string, unknown>,
  opts: HttpToolOptions,
) => Promise<ToolResult>;

export interface ToolboxOptions {
  tools: readonly HttpTool[];
  /** Default: `callHttpTool`. */
  invoke?: ToolInvoker;
  endCall: boolean;
  transfer: boolean;
  /** Longest tool answer passed to the model, in bytes. */
  maxResultBytes: number;
}

/** A finished tool call: its record, and the tool message for the model. */
export interface ToolOutcome {
  record: ToolCallRecord;
  content: string;
}

/** Arguments and results are stored on the call record up to this many characters. */
const RECORD_CHARS = 4_000;

export class Toolbox {
  private readonly byName: Map<string, HttpTool>;
  readonly definitions: readonly ChatTool[];

  constructor(private readonly opts: ToolboxOptions) {
    this.byName = new Map(opts.tools.map((t) => [t.name, t]));
    this.definitions = [
      ...opts.tools.map(httpToolDefinition),
      ...(opts.endCall ? [END_CALL_DEFINITION] : []),
      ...(opts.transfer ? [TRANSFER_CALL_DEFINITION] : []),
    ];
  }

  /** `end_call` or `transfer_call`, when offered: the call ends after this turn. */
  controlOf(call: LlmToolCall): 'end_call' | 'transfer' | undefined {
    if (call.name === END_CALL && this.opts.endCall) return 'end_call';
    if (call.name === TRANSFER_CALL && this.opts.transfer) return 'transfer';
    return undefined;
  }

  /** The line to say while this call runs, if its tool has one. */
  messageFor(call: LlmToolCall): string | undefined {
    return this.byName.get(call.name)?.message;
  }

  /** Runs an HTTP tool call; every failure becomes a result the model can read. */
  async run(call: LlmToolCall, round: number, signal: AbortSignal): Promise<ToolOutcome> {
    const startedAt = performance.now();
    const tool = this.byName.get(call.name);
    const done = (status: ToolCallRecord['status'], content: string): ToolOutcome => ({
      content,
      record: {
        id: call.id,
        name: call.name,
        arguments: call.arguments.slice(0, RECORD_CHARS),
        result: content.slice(0, RECORD_CHARS),
        status,
        durationMs: Math.round(performance.now() - startedAt),
        round,
      },
    });
    if (!tool) return done('rejected', JSON.stringify({ error: `there is no tool ${call.name}` }));
    const check = tool.checkArguments(call.arguments);
    if (!check.ok) return done('rejected', JSON.stringify({ error: check.problem }));
    const invoke = this.opts.invoke ?? callHttpTool;
    const result = await invoke(tool, check.args, {
      maxBytes: this.opts.maxResultBytes,
      signal,
    });
    return done(result.status, result.content);
  }

  /** The record of a call that was not run (the call ended, or the caller spoke first). */
  notRun(call: LlmToolCall, round: number, why: string): ToolCallRecord {
    return {
      id: call.id,
      name: call.name,
      arguments: call.arguments.slice(0, RECORD_CHARS),
      result: why,
      status: 'cancelled',
      durationMs: 0,
      round,
    };
  }
}
