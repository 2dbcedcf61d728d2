import { describe, expect, it } from 'vitest';
import { isBackchannel, isMeaningfulTranscript } from '../../src/conversation/transcript-filter.js';

describe('isMeaningfulTranscript', () => {
  it.each([
    [''],
    ['   '],
    ['\n\t'],
    ['.'],
    ['...'],
    ['…'],
    ['?!'],
    ['- -'],
    ['♪'],
    ['♪ ♪ ♪'],
    ['।'],
  ])('empty, whitespace or punctuation only: %j', (text) => {
    expect(isMeaningfulTranscript(text)).toBe(false);
  });

  it.each([
    ['[Music]'],
    ['[MUSIC]'],
    ['(silence)'],
    ['[BLANK_AUDIO]'],
    ['[Applause] [Music]'],
    ['(upbeat music)'],
    ['*applause*'],
    ['♪ [Music] ♪'],
  ])('sound tags only: %j', (text) => {
    expect(isMeaningfulTranscript(text)).toBe(false);
  });

  it.each([
    ['you'],
    ['You'],
    ['You.'],
    [' you '],
    ['Thank you.'],
    ['thank you'],
    ['Thank you!'],
    ['Thanks for watching!'],
    ['Thank you for watching.'],
    ['Thank you so much for watching!'],
    ['Please subscribe.'],
    ['Subtitles by the Amara.org community'],
    ['Subtitles by Steve'],
    ['Captions by GetSubs.com'],
    ['Transcribed by ESO, translated by —'],
  ])('known silence hallucination: %j', (text) => {
    expect(isMeaningfulTranscript(text)).toBe(false);
  });

  it.each([
    ['Haan'],
    ['No'],
    ['Ok'],
    ['Bye.'],
    ['5'],
    ['Mera plan kya hai?'],
    ['Thank you very much, ab mera bill batao.'],
    ['Thank you, Priya.'],
    ['you know what, rehne do'],
    ['Can you help me?'],
    ['(laughs) haan bolo'],
    ['[Music] haan ji'],
    ['मेरा रिचार्ज कब खत्म होगा?'],
    ['हाँ'],
    ['What subtitles by default?'],
  ])('real speech: %j', (text) => {
    expect(isMeaningfulTranscript(text)).toBe(true);
  });
});

describe('isBackchannel', () => {
  it.each([
    // haan
    ['haan'],
    ['Haan.'],
    ['haa'],
    ['han'],
    ['Haan haan.'],
    ['Haan ji'],
    ['ji haan'],
    ['Haanji!'],
    // hmm
    ['hmm'],
    ['Hmm...'],
    ['hm'],
    ['mm'],
    ['mhm'],
    ['Mm-hmm.'],
    ['Hmmmm'],
    // ok
    ['ok'],
    ['OK!'],
    ['Okay.'],
    ['okay okay'],
    ['Ok ok ok ok'],
    // accha
    ['accha'],
    ['Acha.'],
    ['achha'],
    ['Achcha'],
    // ji
    ['ji'],
    ['Jee.'],
    // english
    ['yes'],
    ['Yeah.'],
    ['Right.'],
    ['uh-huh'],
    ['Uh huh.'],
    // theek hai
    ['theek hai'],
    ['Theek hai.'],
    ['thik hai'],
    ['Theek hai, theek hai.'],
    // combinations
    ['Haan, theek hai.'],
    ['Accha, ok.'],
    ['Haan ji, theek hai.'],
    ['Hmm, accha, ok.'],
    // Devanagari
    ['हाँ'],
    ['हां'],
    ['हाँ हाँ।'],
    ['हम्म'],
    ['अच्छा'],
    ['जी'],
    ['जी हाँ'],
    ['ठीक है'],
    ['ठीक है।'],
    ['ओके'],
    ['अच्छा, ठीक है।'],
  ])('%j is a backchannel', (text) => {
    expect(isBackchannel(text)).toBe(true);
  });

  it.each([
    [''],
    ['...'],
    ['No'],
    ['Nahi'],
    ['नहीं'],
    ['Ruko'],
    ['Wait'],
    ['Stop'],
    ['Hello?'],
    ['haan but mera sawaal hai'],
    ['Accha, mera bill kitna hai?'],
    ['ok, cancel karo'],
    ['theek nahi hai'],
    ['Haan, ok, accha, theek hai'], // four acknowledgements: the caller is saying something
    ['hai'],
    ['he'],
    ['uh'],
    ['Thank you'],
    ['haha'],
  ])('%j is not a backchannel', (text) => {
    expect(isBackchannel(text)).toBe(false);
  });
});
