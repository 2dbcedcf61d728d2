import { describe, expect, it } from 'vitest';
import { SentenceAggregator, cleanForSpeech } from '../../src/conversation/sentence-aggregator.js';

/** Pushes each delta; returns what each push returned and what flush returned. */
function feed(deltas: string[], minChars?: number): { pushes: string[][]; flushed: string | null } {
  const aggregator = new SentenceAggregator(minChars === undefined ? {} : { minChars });
  const pushes = deltas.map((d) => aggregator.push(d));
  return { pushes, flushed: aggregator.flush() };
}

/** All sentences in order, flush included. */
function sentences(deltas: string[], minChars?: number): string[] {
  const { pushes, flushed } = feed(deltas, minChars);
  return [...pushes.flat(), ...(flushed === null ? [] : [flushed])];
}

/** Every way of cutting `text` into two deltas. */
function allSplits(text: string): string[][] {
  return Array.from({ length: text.length + 1 }, (_, i) => [text.slice(0, i), text.slice(i)]);
}

describe('SentenceAggregator: sentence ends', () => {
  it.each([
    ['.', 'Aapka plan active hai. Aur kuch?'],
    ['?', 'Kya aap plan badalna chahenge? Bataiye.'],
    ['!', 'Bahut badhiya choice hai! Main abhi karti hoon.'],
    ['। (danda)', 'Aapka plan active hai। अब बताइए'],
    ['॥ (double danda)', 'यह हमारा सबसे अच्छा प्लान है॥ अब बताइए'],
    ['… (ellipsis character)', 'Ek second, main check karti hoon… ho gaya'],
  ])('%s followed by a space ends a sentence', (_, text) => {
    const [first] = sentences([text]);
    const cut = text.search(/[.?!।॥…] /) + 1;
    expect(first).toBe(text.slice(0, cut));
  });

  it('emits a sentence as soon as the whitespace after it arrives', () => {
    const aggregator = new SentenceAggregator();

    expect(aggregator.push('Aapka plan active hai.')).toEqual([]);
    expect(aggregator.push(' Aur')).toEqual(['Aapka plan active hai.']);
    expect(aggregator.push(' kuch?')).toEqual([]);
    expect(aggregator.flush()).toBe('Aur kuch?');
  });

  it('a newline ends a sentence even without punctuation', () => {
    expect(sentences(['Aapka basic plan\nPremium plan bhi hai'])).toEqual([
      'Aapka basic plan',
      'Premium plan bhi hai',
    ]);
  });

  it('a newline after the punctuation confirms the end at once', () => {
    const aggregator = new SentenceAggregator();

    expect(aggregator.push('Aapka plan active hai.\n')).toEqual(['Aapka plan active hai.']);
  });

  it('handles CRLF line ends', () => {
    expect(sentences(['Pehli line yahan hai\r\nDoosri line yahan hai\r\n'])).toEqual([
      'Pehli line yahan hai',
      'Doosri line yahan hai',
    ]);
  });

  it('keeps runs of punctuation together: "?!", "!!", "..."', () => {
    expect(sentences(['Sach mein aisa hua?! Haan bilkul!! Achha... theek hai.'], 1)).toEqual([
      'Sach mein aisa hua?!',
      'Haan bilkul!!',
      'Achha...',
      'theek hai.',
    ]);
  });

  it('keeps closing quotes and brackets with the sentence', () => {
    expect(sentences(['Usne kaha "theek hai." Phir woh chale gaye.'])).toEqual([
      'Usne kaha "theek hai."',
      'Phir woh chale gaye.',
    ]);
    expect(sentences(['(Yeh offer sirf aaj ke liye hai.) Kya aap lenge?'])).toEqual([
      '(Yeh offer sirf aaj ke liye hai.)',
      'Kya aap lenge?',
    ]);
  });
});

describe('SentenceAggregator: not sentence ends', () => {
  it.each([
    ['a decimal', 'Is plan mein 3.5 GB data milta hai roz.'],
    ['a price with a decimal', 'Iski keemat 199.99 rupaye hai sirf.'],
    ['a time', 'Office 9.30 baje khulta hai subah.'],
    ['a domain', 'Aap www.example.com par dekh sakte hain.'],
    ['an email', 'Mail karein help@example.co.in par abhi.'],
    ['"e.g." mid-sentence', 'Kuch plans, e.g. basic aur premium, available hain.'],
    ['"i.e." mid-sentence', 'Monthly plan, i.e. tees din ka, sabse sasta hai.'],
    ['"Dr." before a name', 'Aapki appointment Dr. Sharma ke saath kal hai.'],
    ['"Mr." before a name', 'Kya main Mr. Verma se baat kar rahi hoon?'],
    ['"Rs." before an amount', 'Basic plan sirf Rs. 199 mein milta hai.'],
    ['initials', 'Yeh scheme A. P. J. Abdul Kalam ke naam par hai.'],
  ])('%s', (_, text) => {
    expect(sentences([text], 1)).toEqual([text]);
  });

  it('punctuation at the end of a delta waits for the next one ("3." + "5")', () => {
    const aggregator = new SentenceAggregator({ minChars: 1 });

    expect(aggregator.push('Data limit 3.')).toEqual([]);
    expect(aggregator.push('5 GB hai.')).toEqual([]);
    expect(aggregator.push(' Theek?')).toEqual(['Data limit 3.5 GB hai.']);
  });

  it('semicolons and colons do not end sentences', () => {
    expect(sentences(['Do plans hain: basic; aur premium wala bhi hai.'], 1)).toEqual([
      'Do plans hain: basic; aur premium wala bhi hai.',
    ]);
  });
});

describe('SentenceAggregator: deltas cut anywhere', () => {
  it('"Hel" + "lo. H" + "ow are you?"', () => {
    expect(feed(['Hel', 'lo. H', 'ow are you?'], 1)).toEqual({
      pushes: [[], ['Hello.'], []],
      flushed: 'How are you?',
    });
  });

  const text =
    'Namaste ji, main Priya bol rahi hoon. Aapka plan 3.5 GB ka hai! Kya aur madad karun?';
  const expected = [
    'Namaste ji, main Priya bol rahi hoon.',
    'Aapka plan 3.5 GB ka hai!',
    'Kya aur madad karun?',
  ];

  it.each(allSplits(text).map((split) => [split[0]!.length, split] as const))(
    'cut at %i gives the same sentences',
    (_, split) => {
      expect(sentences([...split])).toEqual(expected);
    },
  );

  it('one character at a time gives the same sentences', () => {
    expect(sentences([...text])).toEqual(expected);
  });

  it('Devanagari one character at a time', () => {
    const hindi = 'आपका प्लान चालू है। क्या आप कुछ और जानना चाहेंगे? धन्यवाद।';
    expect(sentences([...hindi])).toEqual([
      'आपका प्लान चालू है।',
      'क्या आप कुछ और जानना चाहेंगे?',
      'धन्यवाद।',
    ]);
  });

  it('LLM-style tokens with leading spaces', () => {
    const tokens = [
      'Ji',
      ' haan',
      ',',
      ' aapka',
      ' recharge',
      ' ho',
      ' gaya',
      '.',
      ' Kuch',
      ' aur',
      '?',
    ];
    expect(feed(tokens)).toEqual({
      pushes: [[], [], [], [], [], [], [], [], ['Ji haan, aapka recharge ho gaya.'], [], []],
      flushed: 'Kuch aur?',
    });
  });
});

describe('SentenceAggregator: minimum length', () => {
  it('merges a piece shorter than minChars into the next sentence', () => {
    expect(sentences(['Ji. Aapka plan kal expire ho raha hai. Theek?'])).toEqual([
      'Ji. Aapka plan kal expire ho raha hai.',
      'Theek?',
    ]);
  });

  it('"1." of a numbered list does not stand alone', () => {
    expect(
      sentences(['Pehla plan hai yeh.\n1. Basic plan 199 ka\n2. Premium plan 499 ka\n']),
    ).toEqual(['Pehla plan hai yeh.', '1. Basic plan 199 ka', '2. Premium plan 499 ka']);
  });

  it('counts the cleaned text: markdown does not make a piece long enough', () => {
    expect(sentences(['**Haan.** Aapka plan active hai.'])).toEqual([
      'Haan. Aapka plan active hai.',
    ]);
  });

  it('is configurable', () => {
    expect(sentences(['Ji. Haan. Theek hai.'], 1)).toEqual(['Ji.', 'Haan.', 'Theek hai.']);
    expect(sentences(['Ji. Haan. Theek hai. Bataiye.'], 30)).toEqual([
      'Ji. Haan. Theek hai. Bataiye.',
    ]);
  });

  it('flush emits a short remainder anyway', () => {
    expect(feed(['Ji.'])).toEqual({ pushes: [[]], flushed: 'Ji.' });
  });
});

describe('SentenceAggregator: clean-up', () => {
  it('strips markdown emphasis, headings, code ticks and bullets', () => {
    expect(
      sentences(['## Plans\n- **Basic** plan `199` ka hai\n* Premium plan *499* ka hai\n']),
    ).toEqual(['Plans Basic plan 199 ka hai', 'Premium plan 499 ka hai']);
  });

  it('strips emojis', () => {
    expect(
      sentences(['Aapka recharge ho gaya 🎉👍🏽! Kuch aur? 😊 Family 👨‍👩‍👧 plan 🇮🇳 bhi hai.']),
    ).toEqual(['Aapka recharge ho gaya!', 'Kuch aur? Family plan bhi hai.']);
  });

  it('collapses whitespace and newlines inside a merged sentence', () => {
    expect(sentences(['Ji.\n\nAapka   plan\tactive hai.'])).toEqual(['Ji. Aapka plan active hai.']);
  });

  it('never emits empty strings', () => {
    const { pushes, flushed } = feed(['\n\n', '   ', '**', '\n', '🎉\n', '  ']);
    expect(pushes.flat()).toEqual([]);
    expect(flushed).toBeNull();
  });

  it('flush on nothing is null, and flush resets', () => {
    const aggregator = new SentenceAggregator();
    expect(aggregator.flush()).toBeNull();
    aggregator.push('Aapka plan active hai');
    expect(aggregator.flush()).toBe('Aapka plan active hai');
    expect(aggregator.flush()).toBeNull();
    expect(aggregator.push('Naya jawab yahan hai. ')).toEqual(['Naya jawab yahan hai.']);
  });

  it('cleanForSpeech keeps Devanagari combining marks and ZWJ/ZWNJ', () => {
    const text = 'हाँ, क्‍या आप ठीक हैं? ज़रूर।';
    expect(cleanForSpeech(text)).toBe(text);
  });
});

describe('SentenceAggregator: first clause first', () => {
  const run = (deltas: string[], words = 4) => {
    const agg = new SentenceAggregator({ firstClauseWords: words });
    const out = deltas.flatMap((d) => agg.push(d));
    const last = agg.flush();
    return last ? [...out, last] : out;
  };

  it('ends the first piece at a comma after enough words, later ones at sentence ends only', () => {
    expect(
      run([
        'Ji bilkul Rahul ji, ',
        'aapka loan, jo pichhle saal liya tha, ',
        'active hai. Aur kuch?',
      ]),
    ).toEqual([
      'Ji bilkul Rahul ji,',
      'aapka loan, jo pichhle saal liya tha, active hai.',
      'Aur kuch?',
    ]);
  });

  it('emits the clause as soon as the space after the comma arrives', () => {
    const agg = new SentenceAggregator({ firstClauseWords: 4 });
    expect(agg.push('Aapki EMI agle mahine,')).toEqual([]);
    expect(agg.push(' paanch tareekh ko due hai.')).toEqual(['Aapki EMI agle mahine,']);
  });

  it('does not end at a comma too early, or inside a number or a time', () => {
    expect(run(['Haan, aapka balance ₹1,50,000 hai, aur EMI 10:30 baje tak bharni hai.'])).toEqual([
      'Haan, aapka balance ₹1,50,000 hai,',
      'aur EMI 10:30 baje tak bharni hai.',
    ]);
  });

  it('is off by default', () => {
    expect(run(['Ji bilkul Rahul ji, aapka loan active hai.'], 0)).toEqual([
      'Ji bilkul Rahul ji, aapka loan active hai.',
    ]);
  });
});
