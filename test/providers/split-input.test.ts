import { describe, expect, it } from 'vitest';
import { MAX_TTS_INPUT_CHARS, splitTtsInput } from '../../src/providers/tts/split-input.js';

describe('splitTtsInput', () => {
  it('leaves text within the limit whole', () => {
    expect(splitTtsInput('  Namaste, welcome.  ')).toEqual(['Namaste, welcome.']);
    expect(splitTtsInput('x'.repeat(MAX_TTS_INPUT_CHARS))).toHaveLength(1);
  });

  it('cuts long text at sentence ends, every piece within the limit, nothing lost', () => {
    const sentence = 'Aapka home loan ka EMI har mahine ki paanch tareekh ko kata jayega. ';
    const text = sentence.repeat(150).trim(); // about 10,000 characters
    const pieces = splitTtsInput(text);
    expect(pieces.length).toBe(3);
    for (const p of pieces) {
      expect(p.length).toBeLessThanOrEqual(MAX_TTS_INPUT_CHARS);
      expect(p.endsWith('.')).toBe(true);
    }
    expect(pieces.join(' ')).toBe(text);
  });

  it('cuts at a Devanagari danda, or at a space when there is no sentence end', () => {
    const hindi = 'यह एक लंबा वाक्य है। '.repeat(300).trim();
    expect(splitTtsInput(hindi).every((p) => p.endsWith('।'))).toBe(true);
    const words = 'word '.repeat(2000).trim();
    const pieces = splitTtsInput(words);
    expect(pieces.every((p) => p.length <= MAX_TTS_INPUT_CHARS && !p.endsWith(' '))).toBe(true);
    expect(pieces.join(' ')).toBe(words);
  });

  it('cuts text with no space at all at the limit, never inside a surrogate pair', () => {
    const emoji = '😀'.repeat(3000); // 6000 UTF-16 units
    const pieces = splitTtsInput(emoji);
    expect(pieces.join('')).toBe(emoji);
    expect(
      pieces.every((p) => p.length <= MAX_TTS_INPUT_CHARS && !/[\uD800-\uDBFF]$/.test(p)),
    ).toBe(true);
  });
});
