/**
 * The post-call summary: a short LLM summary of the conversation, in the call's language.
 */
import { streamText, type LlmProvider } from '../providers/llm/types.js';
import type { TurnRecord } from '../conversation/turn-record.js';

export function summaryPrompt(turns: readonly TurnRecord[], language: string | undefined): string {
  const lines = turns.flatMap((t) => [
    `Caller: ${t.userText}`,
    `Bot: ${t.heardText || t.botText}${t.interrupted ? ' (interrupted)' : ''}`,
  ]);
  return [
    `Summarise this phone call between a caller and a voice assistant in ${language ?? 'the language the caller used'}.`,
    'Two or three sentences: what the caller wanted, what they were told, and any follow-up needed.',
    'Plain text, no lists.',
    '',
    ...lines,
  ].join('\n');
}

export async function summarizeCall(
  llm: LlmProvider,
  turns: readonly TurnRecord[],
  language: string | undefined,
  signal: AbortSignal,
): Promise<string> {
  const text = await streamText(
    llm.stream({ messages: [{ role: 'user', content: summaryPrompt(turns, language) }], signal }),
  );
  return text.trim();
}
