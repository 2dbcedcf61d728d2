/** The language-model interface: a chat history in, the reply's text streamed out, cancellable. */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface LlmRequest {
  messages: ChatMessage[];
  signal: AbortSignal;
}

export interface LlmProvider {
  /** Model name, for logs and the call record. */
  readonly model: string;
  /**
   * Streams the reply as non-empty content deltas as they arrive. Ends quietly when the model
   * stops (including for `length` or `content_filter`). Throws a VoicebotError (PROVIDER_*) on
   * failure, first-token timeout or stall, and PROVIDER_ABORTED when `signal` aborts. Breaking
   * out of the loop or aborting `signal` closes the HTTP request.
   */
  stream(req: LlmRequest): AsyncIterable<string>;
}
