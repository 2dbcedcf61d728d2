/**
 * The language-model interface: OpenAI chat messages (tool calls and tool results included) and
 * the tools on offer go in; the reply streams out as events, text as it arrives and each tool
 * call once it is complete. Cancellable through `signal`.
 */
import type OpenAI from 'openai';

/** One message of a chat history, exactly as the chat completions API takes it. */
export type ChatMessage = OpenAI.Chat.ChatCompletionMessageParam;
/** A function the model may call, as the chat completions API takes it. */
export type ChatTool = OpenAI.Chat.ChatCompletionFunctionTool;

/** A complete tool call: the model's id for it, the function's name and its JSON arguments. */
export interface LlmToolCall {
  id: string;
  name: string;
  /** As the model wrote it: meant to be JSON, not guaranteed to be. */
  arguments: string;
}

export type LlmEvent =
  /** A non-empty piece of the reply's text. */
  | { type: 'text'; text: string }
  /** A tool call whose arguments are complete. */
  | { type: 'tool-call'; call: LlmToolCall };

export interface LlmRequest {
  messages: ChatMessage[];
  /** Functions on offer; none when empty or absent. */
  tools?: ChatTool[];
  /** `none` makes the model answer in words even with tools on offer. */
  toolChoice?: 'auto' | 'none';
  signal: AbortSignal;
}

export interface LlmProvider {
  /** Model name, for logs and the call record. */
  readonly model: string;
  /**
   * Streams the reply: text events as they arrive, a tool-call event as soon as that call's
   * arguments are complete. Ends quietly when the model stops (including for `length` or
   * `content_filter`). Throws a VoicebotError (PROVIDER_*) on failure, first-token timeout or
   * stall, and PROVIDER_ABORTED when `signal` aborts. Breaking out of the loop or aborting
   * `signal` closes the HTTP request.
   */
  stream(req: LlmRequest): AsyncIterable<LlmEvent>;
}

/** The text of a stream of events, for callers that want words only (a summary). */
export async function streamText(events: AsyncIterable<LlmEvent>): Promise<string> {
  let text = '';
  for await (const event of events) if (event.type === 'text') text += event.text;
  return text;
}
