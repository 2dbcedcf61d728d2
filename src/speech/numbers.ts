/**
 * Numbers as an Indian speaker says them, for text to speech: amounts in lakh and crore
 * (`₹1,50,000` → "one lakh fifty thousand rupees" / "एक लाख पचास हज़ार रुपये"), phone numbers,
 * OTPs and account numbers digit by digit in the groups people read them in, day-first dates,
 * times ("साढ़े दस बजे"), percentages, ordinals, ranges, decimals, and the Hindi fractions (सवा,
 * साढ़े, पौने, डेढ़, ढाई) where that is how people speak.
 *
 * Pure and cheap: it runs on every sentence between the LLM and TTS. A sentence without a digit
 * comes back as it is. Words that carry digits inside them ("GPT-4o", "Covid-19", "MP3", "24x7")
 * are left alone; a number with a unit after it ("4G", "2BHK", "10k", "5L") is read.
 *
 * `to-words` (en-IN, hi-IN) turns integers into words; this module finds the numbers and phrases
 * them.
 */
import { ToWords as EnglishWords } from 'to-words/en-IN';
import { ToWords as HindiWords } from 'to-words/hi-IN';

/** Which words numbers are read in: English (also for Hinglish), or Hindi in Devanagari. */
export type NumberStyle = 'english' | 'hindi';

const EN = new EnglishWords();
const HI = new HindiWords();

/** The style a persona's language implies: Hindi words only for Hindi (not Hinglish). */
export function numberStyleFor(language: string | undefined): NumberStyle {
  if (!language) return 'english';
  const l = language.trim().toLowerCase();
  if (/hinglish|english|\ben\b/.test(l)) return 'english';
  return /^hi\b|^hi-|hindi|हिन्दी|हिंदी/.test(l) ? 'hindi' : 'english';
}

// ---------------------------------------------------------------------------------------------
// Words for integers, digits, decimals and fractions.

function cardinal(n: number, style: NumberStyle): string {
  return style === 'english' ? EN.convert(n).toLowerCase() : HI.convert(n);
}

/** A digit string as words, however long (BigInt past the safe range). */
function cardinalOf(digits: string, style: NumberStyle): string {
  const n = Number(digits);
  if (Number.isSafeInteger(n)) return cardinal(n, style);
  const big = BigInt(digits);
  return style === 'english' ? EN.convert(big).toLowerCase() : HI.convert(big);
}

function ordinal(n: number, style: NumberStyle): string {
  return style === 'english' ? EN.toOrdinal(n).toLowerCase() : HI.toOrdinal(n);
}

const DIGITS: Record<NumberStyle, readonly string[]> = {
  english: ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'],
  hindi: ['शून्य', 'एक', 'दो', 'तीन', 'चार', 'पांच', 'छह', 'सात', 'आठ', 'नौ'],
};

function digitWords(digits: string, style: NumberStyle): string {
  return [...digits].map((d) => DIGITS[style][Number(d)]).join(' ');
}

/** A run of digits read out, in groups: as written, else 5+5 for ten, else fours. */
function digitGroups(groups: string[], style: NumberStyle): string {
  let parts = groups;
  if (groups.length === 1) {
    const run = groups[0]!;
    if (run.length === 10) parts = [run.slice(0, 5), run.slice(5)];
    else if (run.length > 6) {
      // Fours; a lone digit at the end joins the group before it as three and two.
      parts = run.match(/.{1,4}/g) ?? [run];
      if (parts.at(-1)!.length === 1) {
        const tail = run.slice(-5);
        parts = [...parts.slice(0, -2), tail.slice(0, 3), tail.slice(3)];
      }
    }
  }
  return parts.map((g) => digitWords(g, style)).join(', ');
}

const POINT: Record<NumberStyle, string> = { english: 'point', hindi: 'दशमलव' };

/** "12.75" → "twelve point seven five"; an integer part with commas is read whole. */
function decimal(text: string, style: NumberStyle): string {
  const [int = '0', frac] = text.replace(/,/g, '').split('.');
  const whole = cardinalOf(int || '0', style);
  return frac ? `${whole} ${POINT[style]} ${digitWords(frac, style)}` : whole;
}

/**
 * Hindi's fractions: 1.5 डेढ़, 2.5 ढाई, n.5 साढ़े n, n.25 सवा n, n.75 पौने n+1 (undefined when
 * none applies). `beforeScale`: a lakh or crore follows, where 1.25 is सवा (लाख), not सवा एक.
 */
function hindiFraction(text: string, beforeScale = false): string | undefined {
  const m = /^(\d+)\.(5|50|25|75)$/.exec(text.replace(/,/g, ''));
  if (!m) return undefined;
  const n = Number(m[1]);
  const frac = m[2]!;
  if (frac.startsWith('5')) {
    if (n === 0) return 'आधा';
    if (n === 1) return 'डेढ़';
    if (n === 2) return 'ढाई';
    return `साढ़े ${cardinal(n, 'hindi')}`;
  }
  if (n === 0) return undefined;
  if (frac === '25') return n === 1 && beforeScale ? 'सवा' : `सवा ${cardinal(n, 'hindi')}`;
  return `पौने ${cardinal(n + 1, 'hindi')}`;
}

/** A number as it is said on its own: Hindi fractions where they apply, else decimal. */
function amountWords(text: string, style: NumberStyle, beforeScale = false): string {
  if (style === 'hindi') {
    const f = hindiFraction(text, beforeScale);
    if (f) return f;
  }
  return decimal(text, style);
}

// ---------------------------------------------------------------------------------------------
// Scales, currencies, months.

const SCALES: ReadonlyArray<[RegExp, Record<NumberStyle, string>]> = [
  [/^(k|thousand|hazaar|hazar|हज़ार|हजार)$/i, { english: 'thousand', hindi: 'हज़ार' }],
  [/^(l|lac|lacs|lakh|lakhs|लाख)$/i, { english: 'lakh', hindi: 'लाख' }],
  [/^(cr|crs|crore|crores|करोड़|करोड)$/i, { english: 'crore', hindi: 'करोड़' }],
  [/^(mn|million)$/i, { english: 'million', hindi: 'मिलियन' }],
  [/^(bn|billion)$/i, { english: 'billion', hindi: 'बिलियन' }],
];
const SCALE_WORD =
  'k|thousand|hazaa?r|हज़ार|हजार|l|lacs?|lakhs?|लाख|cr|crs|crores?|करोड़|करोड|mn|million|bn|billion';

function scaleWord(word: string | undefined, style: NumberStyle): string | undefined {
  if (!word) return undefined;
  return SCALES.find(([re]) => re.test(word))?.[1][style];
}

const RUPEES: Record<NumberStyle, { one: string; many: string; paise: string; and: string }> = {
  english: { one: 'rupee', many: 'rupees', paise: 'paise', and: 'and' },
  hindi: { one: 'रुपया', many: 'रुपये', paise: 'पैसे', and: 'और' },
};

const MONTHS: Record<NumberStyle, readonly string[]> = {
  english: [
    'January',
    'February',
    'March',
    'April',
    'May',
    'June',
    'July',
    'August',
    'September',
    'October',
    'November',
    'December',
  ],
  hindi: [
    'जनवरी',
    'फ़रवरी',
    'मार्च',
    'अप्रैल',
    'मई',
    'जून',
    'जुलाई',
    'अगस्त',
    'सितंबर',
    'अक्टूबर',
    'नवंबर',
    'दिसंबर',
  ],
};
const MONTH_NAMES: ReadonlyArray<[RegExp, number]> = [
  /^(jan|january|जनवरी)$/i,
  /^(feb|february|फ़रवरी|फरवरी)$/i,
  /^(mar|march|मार्च)$/i,
  /^(apr|april|अप्रैल)$/i,
  /^(may|मई)$/i,
  /^(jun|june|जून)$/i,
  /^(jul|july|जुलाई)$/i,
  /^(aug|august|अगस्त)$/i,
  /^(sep|sept|september|सितंबर|सितम्बर)$/i,
  /^(oct|october|अक्टूबर|अक्तूबर)$/i,
  /^(nov|november|नवंबर|नवम्बर)$/i,
  /^(dec|december|दिसंबर|दिसम्बर)$/i,
].map((re, i) => [re, i]);
const MONTH =
  'jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|जनवरी|फ़रवरी|फरवरी|मार्च|अप्रैल|मई|जून|जुलाई|अगस्त|सितंबर|सितम्बर|अक्टूबर|अक्तूबर|नवंबर|नवम्बर|दिसंबर|दिसम्बर';

function monthIndex(name: string): number | undefined {
  return MONTH_NAMES.find(([re]) => re.test(name.replace(/\.$/, '')))?.[1];
}

function year(y: number, style: NumberStyle): string {
  if (style === 'hindi') {
    // 1998: उन्नीस सौ अट्ठानवे; 2026: दो हज़ार छब्बीस.
    return y >= 1100 && y < 2000
      ? `${cardinal(Math.floor(y / 100), style)} सौ${y % 100 ? ` ${cardinal(y % 100, style)}` : ''}`
      : cardinal(y, style);
  }
  if (y >= 2000 && y < 2010) return cardinal(y, style);
  if (y >= 1100 && y < 2100) {
    const hi = cardinal(Math.floor(y / 100), style);
    const lo = y % 100;
    if (lo === 0) return `${hi} hundred`;
    return `${hi} ${lo < 10 ? `oh ${cardinal(lo, style)}` : cardinal(lo, style)}`;
  }
  return cardinal(y, style);
}

function date(d: number, m: number, y: number | undefined, style: NumberStyle): string {
  const day = style === 'english' ? ordinal(d, style) : cardinal(d, style);
  const month = MONTHS[style][m]!;
  return y === undefined ? `${day} ${month}` : `${day} ${month} ${year(y, style)}`;
}

function fullYear(y: string): number {
  const n = Number(y);
  return y.length === 2 ? 2000 + n : n;
}

// ---------------------------------------------------------------------------------------------
// Times.

type Meridiem = 'am' | 'pm' | undefined;

function meridiem(text: string | undefined): Meridiem {
  if (!text) return undefined;
  return text.toLowerCase().startsWith('a') ? 'am' : 'pm';
}

/** सुबह, दोपहर, शाम, रात for an hour of the day (0–23). */
function partOfDay(h24: number): string {
  if (h24 >= 4 && h24 < 12) return 'सुबह';
  if (h24 >= 12 && h24 < 16) return 'दोपहर';
  if (h24 >= 16 && h24 < 20) return 'शाम';
  return 'रात';
}

function time(h: number, min: number, mer: Meridiem, style: NumberStyle, clock: boolean): string {
  // 24-hour clock past noon: said on the 12-hour clock.
  let hour = h;
  let m = mer;
  if (!m && h > 12 && h < 24) {
    hour = h - 12;
    m = 'pm';
  } else if (!m && h === 0) {
    hour = 12;
    m = 'am';
  }
  if (style === 'english') {
    const hh = cardinal(hour, style);
    const mm =
      min === 0 ? '' : min < 10 ? ` oh ${cardinal(min, style)}` : ` ${cardinal(min, style)}`;
    const suffix = m ? ` ${m === 'am' ? 'AM' : 'PM'}` : min === 0 && clock ? " o'clock" : '';
    return `${hh}${mm}${suffix}`;
  }
  const h24 = m === 'pm' && hour < 12 ? hour + 12 : m === 'am' && hour === 12 ? 0 : hour;
  const prefix = m ? `${partOfDay(h24)} ` : '';
  const next = (hour % 12) + 1;
  let said: string;
  if (min === 0) said = `${cardinal(hour, style)} बजे`;
  else if (min === 30) said = `${hindiFraction(`${hour}.5`)!} बजे`;
  else if (min === 15) said = `सवा ${cardinal(hour, style)} बजे`;
  else if (min === 45) said = `पौने ${cardinal(next, style)} बजे`;
  else said = `${cardinal(hour, style)} बजकर ${cardinal(min, style)} मिनट`;
  return prefix + said;
}

// ---------------------------------------------------------------------------------------------
// The passes, in order. Each replaces digits with words, so a later pass never sees an earlier
// pass's output as a number.

const N = String.raw`\d{1,3}(?:,\d{2,3})+(?:\.\d+)?|\d+(?:\.\d+)?`;
const AMPM = String.raw`(?:[ap]\.\s?m\.|[ap]\s?m)(?![\p{L}])`;
/** Not inside a word or a number ("1,000" is one number, not "1" and "000"). */
const B = String.raw`(?<![\p{L}\p{N}]|\d[,.])`;
const E = String.raw`(?![\p{L}\p{N}])`;

interface Pass {
  re: RegExp;
  say: (m: RegExpExecArray, style: NumberStyle) => string | undefined;
}

const TO: Record<NumberStyle, string> = { english: 'to', hindi: 'से' };
const PERCENT: Record<NumberStyle, string> = { english: 'percent', hindi: 'प्रतिशत' };
const PLUS: Record<NumberStyle, string> = { english: 'plus', hindi: 'प्लस' };

/** Words that announce an identifier read digit by digit, alone ("OTP 4829")… */
const ID_WORDS = String.raw`otp|pin|upi pin|cvv|pnr|a\/c|acct|aadhaa?r|ओटीपी|पिन`;
/** …or with "number", "no.", "id" after them ("account number 1234…"), or those alone. */
const ID_NAMES = String.raw`account|application|reference|ref|policy|order|ticket|booking|customer|loan|registration|consumer|mobile|phone|contact|khata|खाता|आवेदन|मोबाइल|फ़ोन|फोन`;
const ID_MARKS = String.raw`number|no\.?|num|id|#|संख्या|नंबर|नम्बर`;

function amount(
  num: string,
  scale: string | undefined,
  currency: boolean,
  rupeeWord: string | undefined,
  style: NumberStyle,
): string {
  const sc = scaleWord(scale, style);
  const r = RUPEES[style];
  const plain = num.replace(/,/g, '');
  let words: string;
  let paise = '';
  if (sc) {
    words = `${amountWords(plain, style, true)} ${sc}`;
  } else if (currency && /\.\d{1,2}$/.test(plain)) {
    const [int = '0', frac = ''] = plain.split('.');
    words = cardinalOf(int, style);
    const p = Number(frac.padEnd(2, '0'));
    if (p > 0) paise = ` ${r.and} ${cardinal(p, style)} ${r.paise}`;
  } else {
    words = amountWords(plain, style);
  }
  if (!currency) return words;
  const unit = rupeeWord ?? (plain === '1' && !sc ? r.one : r.many);
  return `${words} ${unit}${paise}`;
}

const PASSES: Pass[] = [
  // Phone numbers: +91 and a mobile, a 0 and a mobile, STD code and number, 1800 toll-free.
  {
    re: new RegExp(
      String.raw`(?<!(?:₹|rs\.?|inr)\s?)${B}(?:(\+91[\s-]?|0)([6-9]\d{4})[\s-]?|([6-9]\d{4}) ?)(\d{5})${E}(?!\s*(?:%|\/-|rupees?|rs\b|lakh|crore))|${B}(\+91[\s-]?)?(0\d{2,4})[\s-](\d{3,4})[\s-]?(\d{4})${E}|${B}(1800|1860)[\s-]?(\d{3})[\s-]?(\d{3,4})${E}`,
      'giu',
    ),
    say: (m, style) => {
      // A hyphen between the halves only with a prefix: "60000-70000" is a range.
      if (m[4]) {
        const prefix = m[1]?.startsWith('+')
          ? `${PLUS[style]} ${digitWords('91', style)}, `
          : m[1] === '0'
            ? `${digitWords('0', style)}, `
            : '';
        return prefix + digitGroups([m[2] ?? m[3]!, m[4]], style);
      }
      if (m[6]) {
        const prefix = m[5] ? `${PLUS[style]} ${digitWords('91', style)}, ` : '';
        return prefix + digitGroups([m[6], m[7]!, m[8]!], style);
      }
      const tollFree =
        style === 'english'
          ? `one eight ${m[9] === '1800' ? 'hundred' : 'six zero'}`
          : digitWords(m[9]!, style);
      return `${tollFree}, ${digitGroups([m[10]!, m[11]!], style)}`;
    },
  },
  // An identifier after its name: "OTP 482913", "account no. 1234 5678 9012", "PIN: 0042".
  {
    re: new RegExp(
      String.raw`${B}((?:(?:${ID_WORDS})|(?:(?:${ID_NAMES})\s*)?(?:${ID_MARKS}))(?:\s*(?:is|hai|है|:|-))?\s*)(\d{3,}(?:[\s-]\d{3,})*)${E}`,
      'giu',
    ),
    say: (m, style) => `${m[1]!}${digitGroups(m[2]!.split(/[\s-]/), style)}`,
  },
  // Dates: 05/12/2026, 5-12-26, 05.12.2026 (day first); 2026-12-05.
  {
    re: new RegExp(
      String.raw`${B}(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})${E}|${B}(\d{4})-(\d{1,2})-(\d{1,2})${E}`,
      'gu',
    ),
    say: (m, style) => {
      const [d, mo, y] = m[1]
        ? [Number(m[1]), Number(m[3]), fullYear(m[4]!)]
        : [Number(m[7]), Number(m[6]), Number(m[5])];
      if (d < 1 || d > 31 || mo < 1 || mo > 12) return undefined;
      return date(d, mo - 1, y, style);
    },
  },
  // Dates with a month name: "5 Dec", "5th December 2026", "Dec 5", "December 5, 2026", "5 दिसंबर".
  {
    re: new RegExp(
      String.raw`${B}(\d{1,2})(?:st|nd|rd|th)?\s+(${MONTH})(?:,?\s+(\d{4}))?${E}|${B}(${MONTH})\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?${E}`,
      'giu',
    ),
    say: (m, style) => {
      const d = Number(m[1] ?? m[5]);
      const mo = monthIndex(m[2] ?? m[4]!);
      if (mo === undefined || d < 1 || d > 31) return undefined;
      const y = m[3] ?? m[6];
      return date(d, mo, y ? Number(y) : undefined, style);
    },
  },
  // Times, and ranges of them: 10:30 AM, 9am-6pm, 18:00, 10 baje.
  {
    re: new RegExp(
      String.raw`${B}(\d{1,2})(?:[:.](\d{2}))?\s*(${AMPM})?\s*(?:-|–|to|से)\s*(\d{1,2})(?:[:.](\d{2}))?\s*(${AMPM})|${B}(\d{1,2}):(\d{2})\s*(?:-|–|to|से)\s*(\d{1,2}):(\d{2})${E}`,
      'giu',
    ),
    say: (m, style) => {
      if (m[4]) {
        const second = meridiem(m[6]);
        const first = meridiem(m[3]) ?? second;
        return `${time(Number(m[1]), Number(m[2] ?? 0), first, style, false)} ${TO[style]} ${time(Number(m[4]), Number(m[5] ?? 0), second, style, false)}`;
      }
      if (Number(m[7]) > 23 || Number(m[8]) > 59) return undefined;
      return `${time(Number(m[7]), Number(m[8]), undefined, style, true)} ${TO[style]} ${time(Number(m[9]), Number(m[10]), undefined, style, true)}`;
    },
  },
  {
    re: new RegExp(
      String.raw`${B}(\d{1,2}):(\d{2})(?:\s*(${AMPM}))?(?:\s+(baje|बजे))?${E}|${B}(\d{1,2})(?:\.(\d{2}))?\s*(${AMPM})|${B}(\d{1,2})\s+(baje|बजे)${E}`,
      'giu',
    ),
    say: (m, style) => {
      if (m[1]) {
        const h = Number(m[1]);
        const min = Number(m[2]);
        if (h > 23 || min > 59) return undefined;
        const said = time(h, min, meridiem(m[3]), style, true);
        return m[4] && style === 'english' ? `${said.replace(/ o'clock$/, '')} ${m[4]}` : said;
      }
      if (m[7]) {
        const h = Number(m[5]);
        if (h < 1 || h > 12) return undefined;
        return time(h, Number(m[6] ?? 0), meridiem(m[7]), style, true);
      }
      const h = Number(m[8]);
      if (h > 24) return undefined;
      return style === 'english'
        ? `${cardinal(h, style)} ${m[9]!}`
        : time(h, 0, undefined, style, true);
    },
  },
  // Amounts: ₹1,50,000 · Rs. 2.5 crore · INR 500 · 5,400/- · 4,500 rupees · ₹500-1000.
  {
    re: new RegExp(
      String.raw`(?:₹|${B}(?:rs\.?|inr)(?=\s*\d))\s*(${N})(?:\s*(${SCALE_WORD})${E})?(?:\s*(?:-|–|to|से)\s*(?:₹|rs\.?\s*|inr\s*)?(${N})(?:\s*(${SCALE_WORD})${E})?)?(?:\s*(\/-|rupees?|rupaye|rupaiye|रुपये|रुपए|रुपया)${E})?|${B}(${N})(?:\s*(${SCALE_WORD})${E})?(?:\s*(?:-|–|to|से)\s*(${N})(?:\s*(${SCALE_WORD})${E})?)?\s*(\/-|rupees?|rupaye|rupaiye|रुपये|रुपए|रुपया)(?![\p{L}\p{N}])`,
      'giu',
    ),
    say: (m, style) => {
      const [num, scale, num2, scale2, suffix] = m[1]
        ? [m[1], m[2], m[3], m[4], m[5]]
        : [m[6]!, m[7], m[8], m[9], m[10]];
      // The rupee word as written, except a Latin one in Hindi words ("रुपये").
      const word =
        suffix && suffix !== '/-' && !(style === 'hindi' && /^[a-z]/i.test(suffix))
          ? suffix
          : undefined;
      if (!num2) return amount(num, scale, true, word, style);
      // A range: the unit once, at the end ("five hundred to one thousand rupees").
      const first = amount(
        num,
        scale && scale !== scale2 ? scale : undefined,
        false,
        undefined,
        style,
      );
      return `${first} ${TO[style]} ${amount(num2, scale2 ?? scale, true, word, style)}`;
    },
  },
  // Percentages, and ranges of them: 8.5%, 8-9%, 12 percent.
  {
    re: new RegExp(
      String.raw`${B}(${N})(?:\s*(?:-|–|to|से)\s*(${N}))?\s*(?:%|percent${E}|per cent${E}|pratishat${E}|प्रतिशत)`,
      'giu',
    ),
    say: (m, style) =>
      m[2]
        ? `${amountWords(m[1]!, style)} ${TO[style]} ${amountWords(m[2], style)} ${PERCENT[style]}`
        : `${amountWords(m[1]!, style)} ${PERCENT[style]}`,
  },
  // Ordinals: 1st, 22nd, 3rd, 10th.
  {
    re: new RegExp(String.raw`${B}(\d+)(st|nd|rd|th)${E}`, 'giu'),
    say: (m, style) => ordinal(Number(m[1]), style),
  },
  // A number with a scale: 2.5 lakh, 10k, 5L, 3 crore.
  {
    re: new RegExp(String.raw`${B}(${N})\s*(${SCALE_WORD})${E}`, 'giu'),
    say: (m, style) =>
      `${amountWords(m[1]!.replace(/,/g, ''), style, true)} ${scaleWord(m[2], style)!}`,
  },
  // Long digit runs and runs with a leading zero: identifiers, read digit by digit (a round
  // number such as 1000000 is an amount).
  {
    re: new RegExp(String.raw`${B}(0\d+|\d{7,})${E}`, 'gu'),
    say: (m, style) =>
      /^[1-9]\d*000$/.test(m[1]!) ? cardinalOf(m[1]!, style) : digitGroups([m[1]!], style),
  },
  // Years after a word that announces one: "in 2026", "since 1998", "सन 2020".
  {
    re: new RegExp(
      String.raw`${B}(in|since|from|till|until|by|of|year|saal|san|सन|साल|वर्ष)(\s+)(1[1-9]\d\d|20\d\d)${E}`,
      'giu',
    ),
    say: (m, style) => `${m[1]!}${m[2]!}${year(Number(m[3]), style)}`,
  },
  // Ranges: 10-15 days, 3 to 5.
  {
    re: new RegExp(String.raw`${B}(${N})\s*(?:-|–)\s*(${N})${E}`, 'gu'),
    say: (m, style) => `${amountWords(m[1]!, style)} ${TO[style]} ${amountWords(m[2]!, style)}`,
  },
  // Everything else: 4,500 · 12 · 3.14 · 2.5 (ढाई).
  {
    re: new RegExp(String.raw`${B}(${N})${E}`, 'gu'),
    say: (m, style) => amountWords(m[1]!, style),
  },
];

/**
 * A word with digits inside it, or digits then letters then digits: a name to leave alone
 * ("GPT-4o", "Covid-19", "H1N1", "24x7", "MP3", "A4"). Units after a number ("4G", "2BHK",
 * "10am", "21st") and the rupee prefixes ("Rs500") are not.
 */
const NAME_WITH_DIGITS =
  /[\p{L}\p{N}]*(?:\p{L}[-.]?\p{N}|\p{N}\p{L}+[-.]?\p{N})[\p{L}\p{N}]*(?:[-.][\p{L}\p{N}]+)*/gu;
const READ_ANYWAY = /^(rs\.?|inr|[ap]\.?m\.?)[-.]?\d/i;

/** `text` with its numbers in words of `style`; text without digits is returned as it is. */
export function speakNumbers(text: string, style: NumberStyle): string {
  if (!/\d/.test(text)) return text;
  // Private-use characters mark the names kept aside; one already in the text stays itself.
  if (/[\ue000-\uf8ff]/.test(text)) return text;
  const kept: string[] = [];
  let out = text.replace(NAME_WITH_DIGITS, (name) => {
    if (READ_ANYWAY.test(name) || /^[ap]m[-–]\d/i.test(name.replace(/^\d+/, ''))) return name;
    kept.push(name);
    // Its place, marked without a digit: a private-use character per name.
    return String.fromCharCode(0xe000 + kept.length - 1);
  });
  for (const pass of PASSES) {
    if (!/\d/.test(out)) break;
    pass.re.lastIndex = 0;
    out = out.replace(pass.re, (...args: unknown[]) => {
      const match = args.slice(0, -2) as string[];
      const m = Object.assign(match, { index: 0, input: '' }) as unknown as RegExpExecArray;
      return pass.say(m, style) ?? match[0]!;
    });
  }
  if (kept.length > 0) {
    out = out.replace(/[\ue000-\uf8ff]/g, (c) => kept[c.charCodeAt(0) - 0xe000] ?? c);
  }
  return out;
}
