/**
 * The benchmark's fixed provider model, shared by the fake OpenAI process and the report: what
 * each provider call costs, what the bot answers, and the latency floor that model implies.
 */
import { splitTokens } from '../test/fakes/chat.js';

export const STT_MS = 300;
export const LLM_FIRST_TOKEN_MS = 400;
export const LLM_PER_TOKEN_MS = 20;
export const TTS_FIRST_BYTE_MS = 250;
export const TTS_REALTIME_FACTOR = 2;
/** The server's default ENDPOINTING_MS; the bench does not change it. */
export const ENDPOINTING_MS = 500;

export const TRANSCRIPT = 'Hello, I would like to know my loan balance please.';
export const REPLY = 'Sure, I can help with that. Anything else?';
export const FIRST_SENTENCE = 'Sure, I can help with that.';

/**
 * Tokens of the first sentence. The server only knows the sentence has ended when the token after
 * its period arrives (" Your"): that is token N+1, at first-token + N × per-token.
 */
export const FIRST_SENTENCE_TOKENS = splitTokens(FIRST_SENTENCE).length;

/**
 * The floor: voice end → first bot audio for a server that adds nothing and runs the
 * stages one after another: endpointing + STT + LLM first token + the first sentence's tokens +
 * TTS first byte.
 */
export const SEQUENTIAL_FLOOR_MS =
  ENDPOINTING_MS +
  STT_MS +
  LLM_FIRST_TOKEN_MS +
  FIRST_SENTENCE_TOKENS * LLM_PER_TOKEN_MS +
  TTS_FIRST_BYTE_MS;

/**
 * The floor for a server that also adds nothing but starts STT preemptively `preemptMs` into the
 * caller's silence: STT is hidden when it finishes by the endpoint.
 */
export function floorMs(preemptMs: number): number {
  const sttHidden = preemptMs > 0 && ENDPOINTING_MS - preemptMs >= STT_MS;
  return (
    ENDPOINTING_MS +
    (sttHidden ? 0 : STT_MS) +
    LLM_FIRST_TOKEN_MS +
    FIRST_SENTENCE_TOKENS * LLM_PER_TOKEN_MS +
    TTS_FIRST_BYTE_MS
  );
}
