/**
 * The persona's system prompt, built from a call's persona fields (`persona_name`,
 * `persona_age`, `tone`, `gender`, `city`, `language`, `documents`, `customer_name`) with the
 * seed's template, plus fixed rules for speaking on a phone call. Pure.
 */

export interface SystemPromptOptions {
  /** Longest documents text kept; longer text is cut at a word boundary. Default 6000. */
  maxDocumentChars?: number;
}

export const DEFAULT_MAX_DOCUMENT_CHARS = 6000;
export const DOCUMENTS_TRUNCATED_MARKER = '… [documents truncated]';
/** Single-line fields are cut to this many characters (a name, a city, a tone). */
const MAX_FIELD_CHARS = 100;

/** Rules every persona follows: what it writes is spoken on a phone line. */
export const PHONE_CALL_RULES = [
  'Phone call rules:',
  '- You are on a live phone call; everything you write is spoken aloud to the customer.',
  '- Keep each reply short: one to three short, simple spoken sentences.',
  '- Never use markdown, lists, headings, emojis or special symbols.',
  '- Ask only one question at a time.',
  '- Say numbers, prices, dates and times the way people say them aloud, in words ' +
    '(for example "pandrah sau rupaye", not "₹1,500"; amounts in lakh and crore; phone ' +
    'numbers, OTPs and account numbers digit by digit).',
  '- If you do not know something, say so; never make up facts, prices or policies.',
].join('\n');

interface Language {
  code: string;
  name: string;
  aliases: string[];
}

/** Languages of Indian callers that the transcription models know, by code, name and script. */
const LANGUAGES: Language[] = [
  { code: 'hi', name: 'Hindi', aliases: ['hindi', 'hinglish', 'हिंदी', 'हिन्दी'] },
  { code: 'en', name: 'English', aliases: ['english', 'angrezi'] },
  { code: 'ta', name: 'Tamil', aliases: ['tamil', 'தமிழ்'] },
  { code: 'te', name: 'Telugu', aliases: ['telugu', 'తెలుగు'] },
  { code: 'kn', name: 'Kannada', aliases: ['kannada', 'ಕನ್ನಡ'] },
  { code: 'mr', name: 'Marathi', aliases: ['marathi', 'मराठी'] },
  { code: 'bn', name: 'Bengali', aliases: ['bengali', 'bangla', 'বাংলা'] },
  { code: 'gu', name: 'Gujarati', aliases: ['gujarati', 'ગુજરાતી'] },
  { code: 'ml', name: 'Malayalam', aliases: ['malayalam', 'മലയാളം'] },
  { code: 'pa', name: 'Punjabi', aliases: ['punjabi', 'panjabi', 'ਪੰਜਾਬੀ'] },
  { code: 'ur', name: 'Urdu', aliases: ['urdu', 'اردو'] },
];

function findLanguage(language: string | undefined): Language | undefined {
  const key = language?.normalize('NFC').trim().toLowerCase();
  if (!key) return undefined;
  // A locale tag ("hi-IN", "en_US") counts as its language.
  const code = /^([a-z]{2})(?:[-_][a-z0-9]+)*$/.exec(key)?.[1];
  return LANGUAGES.find((l) => l.code === code || l.aliases.includes(key));
}

/**
 * The ISO-639-1 code to give speech-to-text for a persona's language (a name such as "Hindi",
 * "Hinglish" or "தமிழ்", or a code such as "hi" or "en-IN"); undefined when unknown, so the
 * model detects the language itself.
 */
export function languageHint(language: string | undefined): string | undefined {
  return findLanguage(language)?.code;
}

function field(params: Record<string, string>, key: string): string | undefined {
  const value = params[key]?.replace(/\s+/g, ' ').trim();
  return value ? value.slice(0, MAX_FIELD_CHARS).trim() : undefined;
}

/** Hindi adjectives agree with gender: "28 saal ka" for a man, "28 saal ki" otherwise. */
function isMale(gender: string | undefined): boolean {
  return /^(m|male|man|boy|guy|gentleman|purush|aadmi|ladka|पुरुष|आदमी|लड़का)$/i.test(gender ?? '');
}

/** Cuts `text` to at most `max` characters, at a word boundary when there is one. */
function truncateDocuments(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max + 1).search(/\s\S*$/);
  if (cut <= 0) cut = max;
  // Never split a surrogate pair.
  if (/[\uD800-\uDBFF]/.test(text[cut - 1] ?? '')) cut -= 1;
  return `${text.slice(0, cut).trimEnd()} ${DOCUMENTS_TRUNCATED_MARKER}`;
}

/**
 * The system prompt for a persona: the seed's four-line template, with a line left out (or a
 * clause) when its field is missing or blank, then the phone-call rules. Defaults: name
 * "Priya", tone "friendly", gender "assistant", city "India", language "Hinglish". Documents
 * longer than `maxDocumentChars` are cut at a word boundary and marked as truncated.
 */
export function buildSystemPrompt(
  params: Record<string, string>,
  opts: SystemPromptOptions = {},
): string {
  const name = field(params, 'persona_name') ?? 'Priya';
  const age = field(params, 'persona_age')?.match(/\d{1,3}/)?.[0];
  const tone = field(params, 'tone') ?? 'friendly';
  const gender = field(params, 'gender');
  const city = field(params, 'city') ?? 'India';
  const language = field(params, 'language') ?? 'Hinglish';
  const customer = field(params, 'customer_name');
  const documents = params['documents']?.trim();

  const who = `${tone} ${gender ?? 'assistant'}`;
  const article = /^[aeiou]/i.test(who) ? 'an' : 'a';
  const described = age
    ? `${age} saal ${isMale(gender) ? 'ka' : 'ki'} ${who}`
    : `${article} ${who}`;
  const known = findLanguage(language);
  const key = language.toLowerCase();
  // A code ("hi", "en-IN") is written out as the language's name; a name is kept as given.
  const languageName = known && !known.aliases.includes(key) ? known.name : language;
  const isHindi = known?.code === 'hi' && key !== 'hinglish';

  const lines = [
    `You are ${name}, ${described} from ${city}.`,
    `Baat karo ${languageName} mein${isHindi ? ' (Hinglish if Hindi)' : ''}.`,
    documents
      ? `Sirf in documents se jawab do: ${truncateDocuments(documents, opts.maxDocumentChars ?? DEFAULT_MAX_DOCUMENT_CHARS)}`
      : 'Koi documents nahi diye gaye hain: chhote jawab do, aur facts apne se mat banao.',
  ];
  if (customer) lines.push(`Customer ka naam: ${customer}`);
  return `${lines.join('\n')}\n\n${PHONE_CALL_RULES}`;
}
