/**
 * Judges transcripts before they reach the conversation: whether a transcript is worth a reply
 * (Whisper-family models invent stock phrases from silence and noise), and whether it is only a
 * short acknowledgement ("haan", "hmm", "theek hai") that should not interrupt the bot. Pure.
 */

/** Lower case, NFC, everything but letters, marks and digits turned into single spaces. */
function normalize(text: string): string {
  return text
    .normalize('NFC')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}]+/gu, ' ')
    .trim();
}

/**
 * Whole transcripts (normalized) that Whisper-family models produce from silence or noise, from
 * the subtitles they were trained on. Kept tight on purpose: "Thank you." is here although a
 * caller may really say it, because a reply to a phantom "thank you" is worse than missing a
 * real one at the end of a call; "bye" and "okay" are not, because callers say them often.
 */
const HALLUCINATIONS = new Set([
  'you',
  'thank you',
  'thanks for watching',
  'thank you for watching',
  'thank you so much for watching',
  'thank you very much for watching',
  'please subscribe',
  'please subscribe to my channel',
]);
/** Subtitle credits: "Subtitles by the Amara.org community", "Captions by …". */
const CREDITS =
  /^(subtitles?|subtitled|captions?|captioned|transcribed|transcription) by\b|\bamara org\b/;
/** Sound tags such as "[Music]", "(silence)", "[BLANK_AUDIO]", "*applause*". */
const SOUND_TAGS = /\[[^\]]*\]|\([^)]*\)|\*[^*]*\*/g;

/**
 * False for transcripts that are not speech worth answering: empty, whitespace or punctuation
 * only (including "..." and "♪"), only sound tags ("[Music]", "(silence)"), or one of the
 * known silence hallucinations ("you", "Thank you.", "Thanks for watching!", subtitle credits).
 */
export function isMeaningfulTranscript(text: string): boolean {
  const spoken = normalize(text.replace(SOUND_TAGS, ' '));
  if (spoken === '') return false;
  return !HALLUCINATIONS.has(spoken) && !CREDITS.test(spoken);
}

/** Spellings of each acknowledgement, mapped to one canonical word. */
const BACKCHANNEL_WORDS: [RegExp, string][] = [
  [/^(ha+n*|हाँ|हां|हा)$/u, 'haan'],
  [/^(ha+n+ji+|हांजी|हाँजी)$/u, 'haan ji'],
  [/^(h+m+|m+|m+h+m+|हम्म(्म)*)$/u, 'hmm'],
  [/^(ok+|okay+|okey|ओके|ओक)$/u, 'ok'],
  [/^(ac+h+a+|achcha+|अच्छा|अच्छ)$/u, 'accha'],
  [/^(ji+|jee+|जी)$/u, 'ji'],
  [/^(yes|yeah|yea|yep|yup)$/, 'yes'],
  [/^(right|alright)$/, 'right'],
  [/^(th?ee?k|thik|ठीक)$/u, 'theek'],
  [/^(hai|he|h|है)$/u, 'hai'],
  [/^(uh|un)$/, 'uh'],
  [/^huh$/, 'huh'],
];
/** Two-word acknowledgements, each counted as one unit. */
const PAIRS = new Map([
  ['theek hai', 'theek hai'],
  ['uh huh', 'uh huh'],
  ['haan ji', 'haan ji'],
  ['ji haan', 'haan ji'],
]);
const SINGLES = new Set(['haan', 'haan ji', 'hmm', 'ok', 'accha', 'ji', 'yes', 'right', 'theek']);
/** Most acknowledgements in one backchannel, once repetitions collapse ("theek hai" is one). */
const MAX_BACKCHANNEL_UNITS = 3;

/**
 * True for a short acknowledgement that must not count as the caller interrupting the bot:
 * haan, hmm, ok, accha, ji, yes, right, uh-huh, theek hai (in Latin or Devanagari script) and
 * short combinations like "haan ji, theek hai". Case, punctuation and repetition do not matter
 * ("Haan haan.", "OK!"); after repetitions collapse, at most three of them. Only a
 * question for while the bot is talking: when it is listening, "haan" is an answer.
 */
export function isBackchannel(text: string): boolean {
  const words = normalize(text).split(' ').filter(Boolean);
  if (words.length === 0 || words.length > 4 * MAX_BACKCHANNEL_UNITS) return false;
  const canonical = words.map((w) => BACKCHANNEL_WORDS.find(([re]) => re.test(w))?.[1]);
  const units: string[] = [];
  for (let i = 0; i < canonical.length; i++) {
    const word = canonical[i];
    if (word === undefined) return false;
    const pair = PAIRS.get(`${word} ${canonical[i + 1]}`);
    if (pair) i++;
    const unit = pair ?? word;
    if (!pair && !SINGLES.has(unit)) return false;
    if (units[units.length - 1] !== unit) units.push(unit);
  }
  return units.length <= MAX_BACKCHANNEL_UNITS;
}
