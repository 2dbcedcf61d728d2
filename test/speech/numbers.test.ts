/**
 * Numbers as Indian callers say them: each case is [what the LLM wrote, spoken in English words,
 * spoken in Hindi words]. Amounts in lakh and crore, phones and identifiers digit by digit, dates
 * day first, times, percentages, ordinals, ranges, decimals and the Hindi fractions, Hinglish
 * sentences, and names with digits that must stay as they are.
 */
import { describe, expect, it } from 'vitest';
import { numberStyleFor, speakNumbers } from '../../src/speech/numbers.js';

const CASES: ReadonlyArray<readonly [string, string, string]> = [
  ['₹1,50,000', 'one lakh fifty thousand rupees', 'एक लाख पचास हज़ार रुपये'],
  [
    '₹1,50,000.50',
    'one lakh fifty thousand rupees and fifty paise',
    'एक लाख पचास हज़ार रुपये और पचास पैसे',
  ],
  ['₹4500', 'four thousand five hundred rupees', 'चार हज़ार पांच सौ रुपये'],
  ['₹ 4,500', 'four thousand five hundred rupees', 'चार हज़ार पांच सौ रुपये'],
  ['Rs. 2.5 crore', 'two point five crore rupees', 'ढाई करोड़ रुपये'],
  ['Rs 2.5 crore', 'two point five crore rupees', 'ढाई करोड़ रुपये'],
  ['Rs.500', 'five hundred rupees', 'पांच सौ रुपये'],
  ['Rs500 only', 'five hundred rupees only', 'पांच सौ रुपये only'],
  ['INR 10,000', 'ten thousand rupees', 'दस हज़ार रुपये'],
  ['5,400/-', 'five thousand four hundred rupees', 'पांच हज़ार चार सौ रुपये'],
  ['4,500 rupees', 'four thousand five hundred rupees', 'चार हज़ार पांच सौ रुपये'],
  ['4,500 rupaye', 'four thousand five hundred rupaye', 'चार हज़ार पांच सौ रुपये'],
  ['₹1', 'one rupee', 'एक रुपया'],
  ['₹99.5', 'ninety nine rupees and fifty paise', 'निन्यानवे रुपये और पचास पैसे'],
  [
    '₹12,34,567',
    'twelve lakh thirty four thousand five hundred sixty seven rupees',
    'बारह लाख चौंतीस हज़ार पांच सौ सड़सठ रुपये',
  ],
  ['₹1,00,00,000', 'one crore rupees', 'एक करोड़ रुपये'],
  ['₹10 crore', 'ten crore rupees', 'दस करोड़ रुपये'],
  ['₹1.5 lakh', 'one point five lakh rupees', 'डेढ़ लाख रुपये'],
  ['₹1.25 lakh', 'one point two five lakh rupees', 'सवा लाख रुपये'],
  ['₹1.75 lakh', 'one point seven five lakh rupees', 'पौने दो लाख रुपये'],
  ['₹3.5 lakh', 'three point five lakh rupees', 'साढ़े तीन लाख रुपये'],
  ['₹45L', 'forty five lakh rupees', 'पैंतालीस लाख रुपये'],
  ['₹2Cr', 'two crore rupees', 'दो करोड़ रुपये'],
  ['₹10k', 'ten thousand rupees', 'दस हज़ार रुपये'],
  ['₹500-1000', 'five hundred to one thousand rupees', 'पांच सौ से एक हज़ार रुपये'],
  ['₹5,000 to ₹10,000', 'five thousand to ten thousand rupees', 'पांच हज़ार से दस हज़ार रुपये'],
  ['₹2-3 lakh', 'two to three lakh rupees', 'दो से तीन लाख रुपये'],
  ['Rs. 250/- only', 'two hundred fifty rupees only', 'दो सौ पचास रुपये only'],
  ['₹150,000', 'one lakh fifty thousand rupees', 'एक लाख पचास हज़ार रुपये'],
  [
    '₹7,50,000 ka loan',
    'seven lakh fifty thousand rupees ka loan',
    'सात लाख पचास हज़ार रुपये ka loan',
  ],
  [
    'EMI ₹12,500 hai',
    'EMI twelve thousand five hundred rupees hai',
    'EMI बारह हज़ार पांच सौ रुपये hai',
  ],
  [
    'Processing fee ₹999 plus GST.',
    'Processing fee nine hundred ninety nine rupees plus GST.',
    'Processing fee नौ सौ निन्यानवे रुपये plus GST.',
  ],
  [
    'Aapka balance ₹23,456.78 hai.',
    'Aapka balance twenty three thousand four hundred fifty six rupees and seventy eight paise hai.',
    'Aapka balance तेईस हज़ार चार सौ छप्पन रुपये और अठहत्तर पैसे hai.',
  ],
  ['Your limit is ₹5 lakh.', 'Your limit is five lakh rupees.', 'Your limit is पांच लाख रुपये.'],
  ['2 lakh rupaye', 'two lakh rupaye', 'दो लाख रुपये'],
  [
    'Call 98765 43210',
    'Call nine eight seven six five, four three two one zero',
    'Call नौ आठ सात छह पांच, चार तीन दो एक शून्य',
  ],
  [
    'Call 9876543210',
    'Call nine eight seven six five, four three two one zero',
    'Call नौ आठ सात छह पांच, चार तीन दो एक शून्य',
  ],
  [
    'Call +91 98765 43210',
    'Call plus nine one, nine eight seven six five, four three two one zero',
    'Call प्लस नौ एक, नौ आठ सात छह पांच, चार तीन दो एक शून्य',
  ],
  [
    'Call +91-98765-43210',
    'Call plus nine one, nine eight seven six five, four three two one zero',
    'Call प्लस नौ एक, नौ आठ सात छह पांच, चार तीन दो एक शून्य',
  ],
  [
    'Call +919876543210',
    'Call plus nine one, nine eight seven six five, four three two one zero',
    'Call प्लस नौ एक, नौ आठ सात छह पांच, चार तीन दो एक शून्य',
  ],
  [
    'Call 098765 43210',
    'Call zero, nine eight seven six five, four three two one zero',
    'Call शून्य, नौ आठ सात छह पांच, चार तीन दो एक शून्य',
  ],
  [
    'Landline 080-4749 1899',
    'Landline zero eight zero, four seven four nine, one eight nine nine',
    'Landline शून्य आठ शून्य, चार सात चार नौ, एक आठ नौ नौ',
  ],
  [
    'Landline 022 2345 6789',
    'Landline zero two two, two three four five, six seven eight nine',
    'Landline शून्य दो दो, दो तीन चार पांच, छह सात आठ नौ',
  ],
  [
    'Toll free 1800-123-4567',
    'Toll free one eight hundred, one two three, four five six seven',
    'Toll free एक आठ शून्य शून्य, एक दो तीन, चार पांच छह सात',
  ],
  [
    'Toll free 1800 209 1234',
    'Toll free one eight hundred, two zero nine, one two three four',
    'Toll free एक आठ शून्य शून्य, दो शून्य नौ, एक दो तीन चार',
  ],
  [
    'Toll free 1860 500 1234',
    'Toll free one eight six zero, five zero zero, one two three four',
    'Toll free एक आठ छह शून्य, पांच शून्य शून्य, एक दो तीन चार',
  ],
  [
    'Whatsapp on 98765 43210 karein.',
    'Whatsapp on nine eight seven six five, four three two one zero karein.',
    'Whatsapp on नौ आठ सात छह पांच, चार तीन दो एक शून्य karein.',
  ],
  [
    'Your OTP is 482913.',
    'Your OTP is four eight two nine one three.',
    'Your OTP is चार आठ दो नौ एक तीन.',
  ],
  ['OTP: 4829', 'OTP: four eight two nine', 'OTP: चार आठ दो नौ'],
  ['OTP 4829 hai.', 'OTP four eight two nine hai.', 'OTP चार आठ दो नौ hai.'],
  ['PIN 0042', 'PIN zero zero four two', 'PIN शून्य शून्य चार दो'],
  ['CVV 123', 'CVV one two three', 'CVV एक दो तीन'],
  [
    'Account number 1234 5678 9012',
    'Account number one two three four, five six seven eight, nine zero one two',
    'Account number एक दो तीन चार, पांच छह सात आठ, नौ शून्य एक दो',
  ],
  [
    'Account no. 50100234567890',
    'Account no. five zero one zero, zero two three four, five six seven eight, nine zero',
    'Account no. पांच शून्य एक शून्य, शून्य दो तीन चार, पांच छह सात आठ, नौ शून्य',
  ],
  [
    'A/c 123456789',
    'A/c one two three four, five six seven, eight nine',
    'A/c एक दो तीन चार, पांच छह सात, आठ नौ',
  ],
  [
    'Application number 2026-00451',
    'Application number two zero two six, zero zero four five one',
    'Application number दो शून्य दो छह, शून्य शून्य चार पांच एक',
  ],
  [
    'Reference no. 889900',
    'Reference no. eight eight nine nine zero zero',
    'Reference no. आठ आठ नौ नौ शून्य शून्य',
  ],
  [
    'Loan account number is 600123456',
    'Loan account number is six zero zero one, two three four, five six',
    'Loan account number is छह शून्य शून्य एक, दो तीन चार, पांच छह',
  ],
  [
    'Policy number: 12345678',
    'Policy number: one two three four, five six seven eight',
    'Policy number: एक दो तीन चार, पांच छह सात आठ',
  ],
  [
    'Aadhaar 1234 5678 9012',
    'Aadhaar one two three four, five six seven eight, nine zero one two',
    'Aadhaar एक दो तीन चार, पांच छह सात आठ, नौ शून्य एक दो',
  ],
  [
    'Customer ID 4455667',
    'Customer ID four four five five, six six seven',
    'Customer ID चार चार पांच पांच, छह छह सात',
  ],
  [
    'Your ticket number is 45123.',
    'Your ticket number is four five one two three.',
    'Your ticket number is चार पांच एक दो तीन.',
  ],
  ['Room number 204', 'Room number two zero four', 'Room number दो शून्य चार'],
  ['05/12/2026', 'fifth December twenty twenty six', 'पांच दिसंबर दो हज़ार छब्बीस'],
  ['5/12/26', 'fifth December twenty twenty six', 'पांच दिसंबर दो हज़ार छब्बीस'],
  ['05-12-2026', 'fifth December twenty twenty six', 'पांच दिसंबर दो हज़ार छब्बीस'],
  ['05.12.2026', 'fifth December twenty twenty six', 'पांच दिसंबर दो हज़ार छब्बीस'],
  ['2026-12-05', 'fifth December twenty twenty six', 'पांच दिसंबर दो हज़ार छब्बीस'],
  ['31/01/2027', 'thirty first January twenty twenty seven', 'इकतीस जनवरी दो हज़ार सत्ताईस'],
  ['5 Dec', 'fifth December', 'पांच दिसंबर'],
  ['5th December 2026', 'fifth December twenty twenty six', 'पांच दिसंबर दो हज़ार छब्बीस'],
  ['December 5, 2026', 'fifth December twenty twenty six', 'पांच दिसंबर दो हज़ार छब्बीस'],
  ['Dec 5', 'fifth December', 'पांच दिसंबर'],
  ['1st Jan', 'first January', 'एक जनवरी'],
  ['the 22nd of March', 'the twenty second of March', 'the बाईसवां of March'],
  ['15 August 1947', 'fifteenth August nineteen forty seven', 'पंद्रह अगस्त उन्नीस सौ सैंतालीस'],
  ['5 दिसंबर', 'fifth December', 'पांच दिसंबर'],
  [
    'EMI due on 05/12/2026.',
    'EMI due on fifth December twenty twenty six.',
    'EMI due on पांच दिसंबर दो हज़ार छब्बीस.',
  ],
  ['Payment by 10th Oct.', 'Payment by tenth October.', 'Payment by दस अक्टूबर.'],
  ['10:30 AM', 'ten thirty AM', 'सुबह साढ़े दस बजे'],
  ['10:30 am', 'ten thirty AM', 'सुबह साढ़े दस बजे'],
  ['10:30AM', 'ten thirty AM', 'सुबह साढ़े दस बजे'],
  ['9 AM', 'nine AM', 'सुबह नौ बजे'],
  ['9am', 'nine AM', 'सुबह नौ बजे'],
  ['6 pm', 'six PM', 'शाम छह बजे'],
  ['6 p.m.', 'six PM', 'शाम छह बजे'],
  ['5.30 pm', 'five thirty PM', 'शाम साढ़े पांच बजे'],
  ['10:00', "ten o'clock", 'दस बजे'],
  ['18:00', 'six PM', 'शाम छह बजे'],
  ['12:30 PM', 'twelve thirty PM', 'दोपहर साढ़े बारह बजे'],
  ['1:30 PM', 'one thirty PM', 'दोपहर डेढ़ बजे'],
  ['2:30 PM', 'two thirty PM', 'दोपहर ढाई बजे'],
  ['10:15 AM', 'ten fifteen AM', 'सुबह सवा दस बजे'],
  ['10:45 AM', 'ten forty five AM', 'सुबह पौने ग्यारह बजे'],
  ['7:20 PM', 'seven twenty PM', 'शाम सात बजकर बीस मिनट'],
  ['12:00 AM', 'twelve AM', 'रात बारह बजे'],
  ['9am-6pm', 'nine AM to six PM', 'सुबह नौ बजे से शाम छह बजे'],
  ['9 AM to 6 PM', 'nine AM to six PM', 'सुबह नौ बजे से शाम छह बजे'],
  ['10:00-18:00', "ten o'clock to six PM", 'दस बजे से शाम छह बजे'],
  ['10 baje', 'ten baje', 'दस बजे'],
  ['Kal 11:30 baje aaiye.', 'Kal eleven thirty baje aaiye.', 'Kal साढ़े ग्यारह बजे aaiye.'],
  ['8.5%', 'eight point five percent', 'साढ़े आठ प्रतिशत'],
  ['12%', 'twelve percent', 'बारह प्रतिशत'],
  ['10.25%', 'ten point two five percent', 'सवा दस प्रतिशत'],
  ['7.75%', 'seven point seven five percent', 'पौने आठ प्रतिशत'],
  ['8.45%', 'eight point four five percent', 'आठ दशमलव चार पांच प्रतिशत'],
  ['0.5%', 'zero point five percent', 'आधा प्रतिशत'],
  ['8-9%', 'eight to nine percent', 'आठ से नौ प्रतिशत'],
  ['12 percent', 'twelve percent', 'बारह प्रतिशत'],
  ['18% GST', 'eighteen percent GST', 'अठारह प्रतिशत GST'],
  ['50% off', 'fifty percent off', 'पचास प्रतिशत off'],
  ['1.5%', 'one point five percent', 'डेढ़ प्रतिशत'],
  ['2.5%', 'two point five percent', 'ढाई प्रतिशत'],
  ['1st', 'first', 'पहला'],
  ['2nd', 'second', 'दूसरा'],
  ['3rd', 'third', 'तीसरा'],
  ['4th', 'fourth', 'चौथा'],
  ['21st', 'twenty first', 'इक्कीसवां'],
  ['100th', 'one hundredth', 'सौवां'],
  ['10-15 days', 'ten to fifteen days', 'दस से पंद्रह days'],
  ['2-3 din', 'two to three din', 'दो से तीन din'],
  ['3 to 5', 'three to five', 'तीन to पांच'],
  ['1.5', 'one point five', 'डेढ़'],
  ['2.5', 'two point five', 'ढाई'],
  ['3.5', 'three point five', 'साढ़े तीन'],
  ['0.5', 'zero point five', 'आधा'],
  ['3.14', 'three point one four', 'तीन दशमलव एक चार'],
  ['12.75', 'twelve point seven five', 'पौने तेरह'],
  ['1.5 km', 'one point five km', 'डेढ़ km'],
  ['2.5 litre', 'two point five litre', 'ढाई litre'],
  ['42', 'forty two', 'बयालीस'],
  ['100', 'one hundred', 'सौ'],
  ['1,000', 'one thousand', 'एक हज़ार'],
  ['12,345', 'twelve thousand three hundred forty five', 'बारह हज़ार तीन सौ पैंतालीस'],
  ['1,50,000', 'one lakh fifty thousand', 'एक लाख पचास हज़ार'],
  ['150000', 'one lakh fifty thousand', 'एक लाख पचास हज़ार'],
  ['1000000', 'ten lakh', 'दस लाख'],
  ['2026', 'two thousand twenty six', 'दो हज़ार छब्बीस'],
  ['in 2026', 'in twenty twenty six', 'in दो हज़ार छब्बीस'],
  ['since 1998', 'since nineteen ninety eight', 'since उन्नीस सौ अट्ठानवे'],
  ['saal 2020 mein', 'saal twenty twenty mein', 'saal दो हज़ार बीस mein'],
  ['from 2005', 'from two thousand five', 'from दो हज़ार पांच'],
  ['007', 'zero zero seven', 'शून्य शून्य सात'],
  ['0123', 'zero one two three', 'शून्य एक दो तीन'],
  ['GPT-4o', 'GPT-4o', 'GPT-4o'],
  ['Covid-19', 'Covid-19', 'Covid-19'],
  ['4G', '4G', '4G'],
  ['5G network', '5G network', '5G network'],
  ['H1N1', 'H1N1', 'H1N1'],
  ['MP3', 'MP3', 'MP3'],
  ['A4 size', 'A4 size', 'A4 size'],
  ['24x7 support', '24x7 support', '24x7 support'],
  ['iPhone 15', 'iPhone fifteen', 'iPhone पंद्रह'],
  ['2BHK flat', '2BHK flat', '2BHK flat'],
  ['Windows 11', 'Windows eleven', 'Windows ग्यारह'],
  ['Version v2.0', 'Version v2.0', 'Version v2.0'],
  ['Flat 2BHK at ₹45L', 'Flat 2BHK at forty five lakh rupees', 'Flat 2BHK at पैंतालीस लाख रुपये'],
  [
    'Aapki EMI ₹4,500 hai, due date 5 December hai.',
    'Aapki EMI four thousand five hundred rupees hai, due date fifth December hai.',
    'Aapki EMI चार हज़ार पांच सौ रुपये hai, due date पांच दिसंबर hai.',
  ],
  [
    'Aapka loan ₹2.5 lakh ka hai, 12% interest par, 24 mahine ke liye.',
    'Aapka loan two point five lakh rupees ka hai, twelve percent interest par, twenty four mahine ke liye.',
    'Aapka loan ढाई लाख रुपये ka hai, बारह प्रतिशत interest par, चौबीस mahine ke liye.',
  ],
  [
    'Mujhe 98765 43210 par call karein, 10 baje ke baad.',
    'Mujhe nine eight seven six five, four three two one zero par call karein, ten baje ke baad.',
    'Mujhe नौ आठ सात छह पांच, चार तीन दो एक शून्य par call karein, दस बजे ke baad.',
  ],
  [
    'Aapka OTP 482913 hai, 10 minute mein expire hoga.',
    'Aapka OTP four eight two nine one three hai, ten minute mein expire hoga.',
    'Aapka OTP चार आठ दो नौ एक तीन hai, दस minute mein expire hoga.',
  ],
  [
    'Kripya ₹1,500 ka payment 15/01/2027 tak karein.',
    'Kripya one thousand five hundred rupees ka payment fifteenth January twenty twenty seven tak karein.',
    'Kripya एक हज़ार पांच सौ रुपये ka payment पंद्रह जनवरी दो हज़ार सत्ताईस tak karein.',
  ],
  [
    'Office 9:30 AM se 6:30 PM tak khula hai.',
    'Office nine thirty AM se six thirty PM tak khula hai.',
    'Office सुबह साढ़े नौ बजे se शाम साढ़े छह बजे tak khula hai.',
  ],
  [
    'Interest rate 8.5% se shuru hota hai.',
    'Interest rate eight point five percent se shuru hota hai.',
    'Interest rate साढ़े आठ प्रतिशत se shuru hota hai.',
  ],
  [
    'Aapko 3-4 din mein call aayega.',
    'Aapko three to four din mein call aayega.',
    'Aapko तीन से चार din mein call aayega.',
  ],
  [
    'Hamare 1,200 branches hain.',
    'Hamare one thousand two hundred branches hain.',
    'Hamare एक हज़ार दो सौ branches hain.',
  ],
  ['Aapki 3rd EMI pending hai.', 'Aapki third EMI pending hai.', 'Aapki तीसरा EMI pending hai.'],
  [
    'Total ₹12,34,567 due hain.',
    'Total twelve lakh thirty four thousand five hundred sixty seven rupees due hain.',
    'Total बारह लाख चौंतीस हज़ार पांच सौ सड़सठ रुपये due hain.',
  ],
  [
    'Aapka appointment 5th Dec ko 4:30 PM par hai.',
    'Aapka appointment fifth December ko four thirty PM par hai.',
    'Aapka appointment पांच दिसंबर ko शाम साढ़े चार बजे par hai.',
  ],
  [
    'GPT-4o se baat kar rahe hain, Covid-19 ke baad.',
    'GPT-4o se baat kar rahe hain, Covid-19 ke baad.',
    'GPT-4o se baat kar rahe hain, Covid-19 ke baad.',
  ],
  [
    'Your balance is ₹5,000 and your EMI of ₹1,250 is due on 05/12/2026.',
    'Your balance is five thousand rupees and your EMI of one thousand two hundred fifty rupees is due on fifth December twenty twenty six.',
    'Your balance is पांच हज़ार रुपये and your EMI of एक हज़ार दो सौ पचास रुपये is due on पांच दिसंबर दो हज़ार छब्बीस.',
  ],
  [
    'Please call 1800-123-4567 between 9 AM and 6 PM.',
    'Please call one eight hundred, one two three, four five six seven between nine AM and six PM.',
    'Please call एक आठ शून्य शून्य, एक दो तीन, चार पांच छह सात between सुबह नौ बजे and शाम छह बजे.',
  ],
  [
    'We open at 9 and close at 6.',
    'We open at nine and close at six.',
    'We open at नौ and close at छह.',
  ],
];

/** Inputs whose digits are part of a name, kept as written in both styles. */
const KEPT = ['GPT-4o', 'Covid-19', '4G', '5G', 'H1N1', 'MP3', 'A4', '24x7', '2BHK', 'v2.0'];

describe('numbers spoken the Indian way', () => {
  it('has at least 150 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(150);
  });

  it.each(CASES)('%s → English words', (input, english) => {
    expect(speakNumbers(input, 'english')).toBe(english);
  });

  it.each(CASES)('%s → Hindi words', (input, _english, hindi) => {
    expect(speakNumbers(input, 'hindi')).toBe(hindi);
  });

  it('leaves no digit outside the names it keeps', () => {
    for (const [input] of CASES) {
      for (const style of ['english', 'hindi'] as const) {
        let rest = speakNumbers(input, style);
        for (const name of KEPT) rest = rest.replaceAll(name, '');
        expect([input, rest]).toEqual([input, rest.replace(/\d/g, '')]);
      }
    }
  });

  it('returns a sentence without digits as it is', () => {
    const s = 'Namaste! Main Priya, Sahyog Bank se.';
    expect(speakNumbers(s, 'hindi')).toBe(s);
  });

  it('picks Hindi words for Hindi only, English for English and Hinglish', () => {
    expect(numberStyleFor('Hindi')).toBe('hindi');
    expect(numberStyleFor('hi-IN')).toBe('hindi');
    expect(numberStyleFor('हिंदी')).toBe('hindi');
    expect(numberStyleFor('Hinglish')).toBe('english');
    expect(numberStyleFor('English')).toBe('english');
    expect(numberStyleFor('en-IN')).toBe('english');
    expect(numberStyleFor(undefined)).toBe('english');
  });
});
