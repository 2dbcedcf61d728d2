/**
 * Turns streamed LLM deltas into speakable sentences, so TTS can start on the first sentence
 * while the model is still writing. Pure: no timers, no I/O.
 *
 * A sentence ends at `.`, `?`, `!`, `…`, `।`, `॥` (a run of them, plus closing quotes or
 * brackets) followed by whitespace, or at a newline. The whitespace may only arrive with the
 * next delta, so an end at the very end of the text waits for it (or for `flush`): "3.5" and
 * "e.g." are never split. Pieces shorter than `minChars` and common abbreviations ("Dr.",
 * "Rs.", initials) are merged into the following sentence. Markdown symbols and emojis, which
 * TTS would read aloud, are removed and whitespace is collapsed.
 *
 * First clause first (`firstClauseWords`): until the first piece is out, a clause boundary (`,`
 * `;` `:` or a dash, then whitespace) after that many words ends it too, so TTS starts on
 * "Ji bilkul, Rahul ji," while the model is still writing the rest of the sentence.
 */

export interface SentenceAggregatorOptions {
  /** Shortest piece emitted on its own (after clean-up); shorter ones join the next. Default 12. */
  minChars?: number;
  /** The first piece may end at a clause boundary after this many words (0 or unset: never). */
  firstClauseWords?: number;
}

const CLAUSE_MARKS = new Set([',', ';', ':', '—', '–', '،']);

const TERMINALS = new Set(['.', '?', '!', '…', '।', '॥']);
const CLOSERS = new Set(['"', "'", '”', '’', ')', ']', '}', '»', '*', '_', '`']);
/** Words that end in a period without ending the sentence ("Dr. Sharma", "Rs. 500"). */
const ABBREVIATIONS = new Set([
  'mr',
  'mrs',
  'ms',
  'dr',
  'prof',
  'sr',
  'jr',
  'st',
  'vs',
  'e.g',
  'i.e',
  'rs',
  'smt',
  'shri',
  'pvt',
  'approx',
  'govt',
  'dept',
]);

const isSpace = (ch: string | undefined): boolean => ch !== undefined && /\s/.test(ch);
const isNewline = (ch: string | undefined): boolean => ch === '\n' || ch === '\r';

/** Emoji (with skin tones, flags, keycaps, ZWJ sequences) and the space before them. */
const EMOJI =
  /\s*(?:[\p{Extended_Pictographic}\p{Emoji_Modifier}\p{Regional_Indicator}\u{FE0F}\u{20E3}]|\u{200D}(?=\p{Extended_Pictographic}))+/gu;

/** Removes what TTS must not read aloud and collapses whitespace. */
export function cleanForSpeech(text: string): string {
  return text
    .replace(/^[ \t]*[-•][ \t]+/gm, '') // list bullets
    .replace(/[*#`]/g, '')
    .replace(EMOJI, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** True when a candidate ending in a single '.' ends with an abbreviation or an initial. */
function endsWithAbbreviation(candidate: string): boolean {
  const match = /(\S+)\.\P{L}*$/u.exec(candidate);
  if (!match?.[1]) return false;
  const word = match[1].replace(/^[^\p{L}]+/u, '');
  return ABBREVIATIONS.has(word.toLowerCase()) || /^\p{Lu}$/u.test(word);
}

type Scan =
  /** A sentence may end before `end`; `text[end]` is the whitespace after it. */
  | { kind: 'end'; end: number; singlePeriod: boolean }
  /** Punctuation at `at` reaches the end of the text: the next delta decides. */
  | { kind: 'pending'; at: number }
  | { kind: 'none' };

/** Words in `text` before `at`. */
function wordsBefore(text: string, at: number): number {
  return text
    .slice(0, at)
    .split(/\s+/)
    .filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
}

function nextEnd(text: string, from: number, clauseWords = 0): Scan {
  for (let i = from; i < text.length; i++) {
    const ch = text[i]!;
    if (isNewline(ch)) return { kind: 'end', end: i, singlePeriod: false };
    if (clauseWords > 0 && CLAUSE_MARKS.has(ch)) {
      if (i + 1 === text.length) return { kind: 'pending', at: i };
      // "1,50,000" and "10:30" have no space after the mark: not a clause end.
      if (isSpace(text[i + 1]) && wordsBefore(text, i + 1) >= clauseWords)
        return { kind: 'end', end: i + 1, singlePeriod: false };
      continue;
    }
    if (!TERMINALS.has(ch)) continue;
    let j = i;
    while (j < text.length && TERMINALS.has(text[j]!)) j++;
    let k = j;
    while (k < text.length && CLOSERS.has(text[k]!)) k++;
    if (k === text.length) return { kind: 'pending', at: i };
    if (isSpace(text[k])) return { kind: 'end', end: k, singlePeriod: j - i === 1 && ch === '.' };
    i = k - 1; // "3.5", "e.g": not an end
  }
  return { kind: 'none' };
}

export class SentenceAggregator {
  private readonly minChars: number;
  private readonly firstClauseWords: number;
  /** A piece went out: later ones end at sentence ends only. */
  private emitted = false;
  private buffer = '';
  /** Where scanning resumes: earlier ends in the buffer were already judged too short. */
  private scanFrom = 0;

  constructor(opts: SentenceAggregatorOptions = {}) {
    this.minChars = opts.minChars ?? 12;
    this.firstClauseWords = opts.firstClauseWords ?? 0;
  }

  /** Adds a delta and returns the sentences it completed (cleaned, never empty), in order. */
  push(delta: string): string[] {
    const out: string[] = [];
    let text = this.buffer + delta;
    let from = this.scanFrom;
    for (;;) {
      const scan = nextEnd(text, from, this.emitted ? 0 : this.firstClauseWords);
      if (scan.kind !== 'end') {
        from = scan.kind === 'pending' ? scan.at : text.length;
        break;
      }
      const raw = text.slice(0, scan.end);
      const sentence = cleanForSpeech(raw);
      const tooShort =
        sentence.length < this.minChars || (scan.singlePeriod && endsWithAbbreviation(raw));
      if (sentence !== '' && tooShort) {
        from = scan.end + 1;
        continue;
      }
      if (sentence !== '') {
        out.push(sentence);
        this.emitted = true;
      }
      text = text.slice(scan.end + 1);
      from = 0;
    }
    this.buffer = text;
    this.scanFrom = from;
    return out;
  }

  /** Returns what is left (the end of the reply) as one cleaned sentence, or null; then resets. */
  flush(): string | null {
    const rest = cleanForSpeech(this.buffer);
    this.buffer = '';
    this.scanFrom = 0;
    this.emitted = false;
    return rest === '' ? null : rest;
  }
}
