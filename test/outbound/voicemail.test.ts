/**
 * The answer check's verdicts on what speech to text writes in an outbound call's first seconds:
 * voicemail greetings and operator announcements (English, Hindi, romanised Hindi) are machines;
 * the ways people answer the phone, including "he is not available", are not.
 */
import { describe, expect, it } from 'vitest';
import { classifyAnswer, normaliseHeard } from '../../src/outbound/voicemail.js';

const MACHINES = [
  'The person you are calling is not available. Please leave a message after the beep.',
  'Hi, you have reached Rahul. I cannot take your call right now.',
  'Please leave your message after the tone.',
  'Your call has been forwarded to an automated voice messaging system.',
  'The number you have dialled is switched off.',
  'The number you are calling is not reachable at the moment.',
  'The subscriber you are trying to reach is busy on another call.',
  "Sorry, I can't come to the phone. Leave a message.",
  'Welcome to the voicemail of Priya Sharma.',
  'The mailbox is full.',
  'This customer is currently out of coverage area.',
  'आप जिस नंबर पर कॉल कर रहे हैं वह अभी बंद है।',
  'आपने जिस नंबर को डायल किया है वह अभी स्विच ऑफ़ है।',
  'कृपया बीप के बाद अपना संदेश छोड़ें।',
  'जिस व्यक्ति से आप संपर्क करना चाहते हैं वह अभी उपलब्ध नहीं है, कृपया कुछ समय बाद प्रयास करें।',
  'आप जिस नंबर पर कॉल कर रहे हैं वह अभी नेटवर्क क्षेत्र से बाहर है।',
  'आप जिस व्यक्ति को कॉल कर रहे हैं वह दूसरी कॉल पर व्यस्त है।',
  'Aap jis number par call kar rahe hain woh abhi band hai.',
  'Beep ke baad apna sandesh record karein.',
  'Yeh number abhi uplabdh nahi hai, kuch samay baad call karein.',
  'Number abhi pahunch se bahar hai.',
];

const PEOPLE = [
  'Hello?',
  'Hello, haan ji.',
  'Haan ji, boliye.',
  'Ji, kaun bol raha hai?',
  'हाँ जी, बोलिए।',
  'हैलो, कौन?',
  'Yes, who is this?',
  'Hello, Rahul speaking.',
  'Rahul is not available right now.',
  'Main abhi busy hoon, baad mein call karo.',
  'Haan bolo, main office mein hoon.',
  'Ek minute, please wait.',
  '',
  'Hello hello, aawaz nahi aa rahi.',
];

describe('the answer check', () => {
  it.each(MACHINES)('hears a machine in %j', (text) => {
    const v = classifyAnswer(text);
    expect(v.machine).toBe(true);
    expect(v.cues.length).toBeGreaterThan(0);
  });

  it.each(PEOPLE)('hears a person in %j', (text) => {
    expect(classifyAnswer(text).machine).toBe(false);
  });

  it('takes one weak cue for a person and two for a machine', () => {
    expect(classifyAnswer('Rahul is not available.')).toEqual({
      machine: false,
      cues: ['not available'],
    });
    expect(classifyAnswer('Rahul is not available, please try again later.').machine).toBe(true);
  });

  it('reads a cue split across two utterances when given all that was heard', () => {
    expect(classifyAnswer('Hi, this is Rahul.').machine).toBe(false);
    expect(classifyAnswer('Hi, this is Rahul. Leave a message.').machine).toBe(true);
  });

  it('spells Devanagari one way: nukta dropped, chandrabindu as anusvara', () => {
    expect(normaliseHeard('थोड़ी देर, पहुँच से बाहर!')).toBe('थोडी देर पहुंच से बाहर');
    expect(classifyAnswer('वह अभी पहुँच से बाहर है').machine).toBe(true);
  });
});
