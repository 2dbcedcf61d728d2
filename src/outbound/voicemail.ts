/**
 * Is it a machine? The words heard in the first seconds of an outbound call, checked for the
 * cues of a voicemail greeting or an operator's announcement ("the number you are calling is
 * switched off"), in English, Hindi (Devanagari) and romanised Hindi as speech to text writes them.
 *
 * One strong cue is enough ("leave a message", "बीप के बाद", "the number you have dialled"). Weak
 * cues ("not available", "बंद है", "try later") are things a person may say too ("Rahul is not
 * available"), so it takes two of them. Anything else is taken for a person: a wrong "person"
 * costs a greeting to a machine, a wrong "machine" hangs up on a customer.
 */

export interface AnswerVerdict {
  machine: boolean;
  /** The cues that decided it (from the lists below: fixed words, safe to log). */
  cues: string[];
}

const STRONG: ReadonlyArray<[string, RegExp]> = [
  ['leave a message', /\bleave (a |an |your )?(short |brief |voice )?(message|msg)\b/],
  ['after the beep', /\b(after|at) the (beep|tone|signal)\b/],
  ['voicemail', /\bvoice ?mail(box)?\b|\bmail ?box\b|\bvoice messag(e|ing)\b|\bautomated messag/],
  ['record your message', /\brecord (your|a) (message|name)\b/],
  [
    'the number you are calling',
    /\b(the )?(number|subscriber|person|customer|mobile)( number)? you (are|have) (calling|called|dialled|dialed|trying)\b/,
  ],
  ['you have reached', /\byou('ve| have) reached\b/],
  [
    "can't take your call",
    /\b(can ?not|can't|cant|unable to) (take|answer|come to) (your call|the phone)\b/,
  ],
  ['switched off', /\bswitch(ed)? off\b/],
  ['not reachable', /\bnot reachable\b|\bout of (network )?coverage\b|\bout of service\b/],
  ['busy on another call', /\bbusy (on|with) another call\b/],
  ['beep ke baad', /\bbeep (ke|ki) (baad|bad)\b|\bsandesh (chhod|chod|record)/],
  ['aap jis number', /\baap jis (number|vyakti)\b/],
  ['pahunch se bahar', /\bpahunch se bahar\b|\bnetwork (kshetra |chhetra )?se bahar\b/],
  ['बीप के बाद', /बीप (के|की आवाज के) बाद|टोन के बाद/],
  ['संदेश छोड़ें', /(संदेश|मैसेज) (छोड|रिकॉर्ड|रिकार्ड)/],
  ['आप जिस नंबर', /(आप|आपने) जिस (नंबर|नम्बर|व्यक्ति|ग्राहक)/],
  ['स्विच ऑफ', /स्विच (ऑफ|आफ)/],
  ['पहुंच से बाहर', /पहुं?च से बाहर|(नेटवर्क|कवरेज) (क्षेत्र )?से बाहर/],
  ['दूसरी कॉल पर व्यस्त', /दूसरी (कॉल|काल) पर व्यस्त/],
  ['वॉइस मेल', /(वॉइस|वॉयस|वाइस) ?मेल/],
];

const WEAK: ReadonlyArray<[string, RegExp]> = [
  ['not available', /\b(not available|unavailable|not in service)\b/],
  ['try later', /\b(try|call) (again )?(later|after some time|back later)\b/],
  ['beep', /\bbeep\b/],
  ['please', /\bplease (try|call|leave|wait)\b/],
  ['uplabdh nahi', /\buplabdh nahi\b/],
  ['vyast hai', /\bvyast hai\b/],
  ['band hai', /\b(abhi )?band hai\b/],
  ['kuch samay baad', /\b(kuch|thodi) (samay|der) (baad|bad)\b/],
  ['उपलब्ध नहीं', /उपलब्ध नहीं/],
  ['बंद है', /बंद है/],
  ['व्यस्त है', /व्यस्त (है|हैं)/],
  ['कुछ समय बाद', /(कुछ|थोडी) (समय|देर) (बाद|पश्चात)/],
  ['कृपया प्रयास करें', /(कृपया|क्रिपया).*(प्रयास|कॉल) (करें|करे)/],
];

/**
 * Lower case, one space between words, punctuation gone; Devanagari's nukta dropped and
 * chandrabindu read as anusvara, the two places speech to text spells one word two ways.
 */
export function normaliseHeard(text: string): string {
  return text
    .normalize('NFC')
    .toLowerCase()
    .replace(/\u093c/g, '')
    .replace(/\u0901/g, '\u0902')
    .replace(/[’‘`]/g, "'")
    .replace(/[^\p{L}\p{M}\p{N}' ]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The verdict on what was heard so far (all of it, so a cue split over two utterances counts). */
export function classifyAnswer(text: string): AnswerVerdict {
  const heard = normaliseHeard(text);
  const strong = STRONG.filter(([, re]) => re.test(heard)).map(([cue]) => cue);
  if (strong.length > 0) return { machine: true, cues: strong };
  const weak = WEAK.filter(([, re]) => re.test(heard)).map(([cue]) => cue);
  return { machine: weak.length >= 2, cues: weak };
}
