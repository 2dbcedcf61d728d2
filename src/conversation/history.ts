/**
 * The conversation as the LLM sees it: OpenAI chat messages, one exchange after another. An
 * exchange is the caller's words, then the assistant's tool calls with their results (when the
 * model used tools), then what the caller heard of the answer. Only whole exchanges are kept and
 * dropped, so a tool result never loses the call it answers.
 */
import type { ChatMessage } from '../providers/llm/types.js';

/** The marks history puts on a reply the caller cut off. */
export const INTERRUPTED_MARK = '[interrupted by the caller]';
export const INTERRUPTED_BEFORE_ANSWER = '[interrupted by the caller before answering]';

export class ChatHistory {
  private readonly exchanges: ChatMessage[][] = [];

  constructor(private readonly maxExchanges: number) {}

  /** The messages after the system prompt, oldest first. */
  messages(): ChatMessage[] {
    return this.exchanges.flat();
  }

  /** Adds one exchange (starting with the caller's message); the oldest go past the limit. */
  add(exchange: ChatMessage[]): void {
    if (exchange.length === 0) return;
    this.exchanges.push(exchange);
    if (this.exchanges.length > this.maxExchanges) {
      this.exchanges.splice(0, this.exchanges.length - this.maxExchanges);
    }
  }

  get size(): number {
    return this.exchanges.length;
  }
}

/** The assistant's closing message of an exchange: what was heard, marked when cut off. */
export function heardReply(heard: string, interrupted: boolean): ChatMessage {
  const content = interrupted
    ? heard
      ? `${heard}… ${INTERRUPTED_MARK}`
      : INTERRUPTED_BEFORE_ANSWER
    : heard;
  return { role: 'assistant', content };
}
