/**
 * Maps "the caller heard N ms of this reply" to the words they heard, from the audio length of
 * each sentence. A partly heard sentence is cut at a word boundary in proportion to its audio.
 */

export interface SpokenSentence {
  text: string;
  /** Milliseconds of audio of this sentence written to the reply. */
  audioMs: number;
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
