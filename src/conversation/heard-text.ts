/**
 * Maps "the caller heard N ms of this utterance" to the words they heard, from the audio length
 * of each sentence. A partly heard sentence is cut at a word boundary in proportion to its audio.
 */
import type { Utterance } from './audio-output.js';

export interface SpokenSentence {
  text: string;
  /** Milliseconds of audio of this sentence written to the utterance. */
  audioMs: number;
}

/** One utterance of a turn and the sentences written into it. */
export interface Speech {
  /** A spoken LLM round, a line said while a tool runs, the fallback, or a closing line. */
  readonly kind: 'reply' | 'filler' | 'fallback' | 'closing';
  /** The LLM round it belongs to (1 for the first). */
  readonly round: number;
  /** Opened with its first audio. */
  utterance: Utterance | undefined;
  /** What was written into the utterance, with its audio length. */
  readonly sentences: SpokenSentence[];
  /** Everything produced for it, written or not (a reply cut short produced more). */
  readonly produced: string[];
  /** The words TTS was given for each of `produced` (numbers in words: speech/numbers.ts). */
  readonly said: string[];
}

/** A fixed line said as one utterance. */
export function lineSpeech(
  kind: Speech['kind'],
  round: number,
  text: string,
  utterance: Utterance,
  audioMs: number,
  said: string = text,
): Speech {
  return {
    kind,
    round,
    utterance,
    sentences: [{ text, audioMs }],
    produced: [text],
    said: [said],
  };
}

/** What the caller heard of a speech: all of it, or the part `heardMs` of audio carried. */
export function heardOf(speech: Speech, heardMs?: number): string {
  if (heardMs === undefined) return speech.sentences.map((s) => s.text).join(' ');
  return heardText(speech.sentences, heardMs);
}

export function heardText(sentences: readonly SpokenSentence[], heardMs: number): string {
  const parts: string[] = [];
  let offset = 0;
  for (const s of sentences) {
    if (heardMs >= offset + s.audioMs) {
      parts.push(s.text);
    } else {
      const fraction = s.audioMs > 0 ? Math.max(0, heardMs - offset) / s.audioMs : 0;
      const cut = cutAtWord(s.text, Math.floor(s.text.length * fraction));
      if (cut) parts.push(cut);
      break;
    }
    offset += s.audioMs;
  }
  return parts.join(' ');
}

function cutAtWord(text: string, chars: number): string {
  if (chars <= 0) return '';
  if (chars >= text.length) return text;
  const space = text.lastIndexOf(' ', chars);
  return (space > 0 ? text.slice(0, space) : '').trim();
}
