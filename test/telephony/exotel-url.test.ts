import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SAMPLE_RATE,
  SUPPORTED_SAMPLE_RATES,
  isSupportedSampleRate,
  parseStreamQuery,
  resolveSampleRate,
} from '../../src/telephony/exotel-url.js';

function query(url: string): URLSearchParams {
  return new URL(url).searchParams;
}

describe('parseStreamQuery', () => {
  it('reads sample-rate', () => {
    expect(parseStreamQuery(query('wss://h/ws?sample-rate=16000')).sampleRate).toBe(16000);
  });

  it('reads sample_rate, the spelling some Exotel examples use', () => {
    expect(parseStreamQuery(query('wss://h/ws?sample_rate=24000')).sampleRate).toBe(24000);
  });

  it('prefers sample-rate over sample_rate', () => {
    const q = query('wss://h/ws?sample_rate=8000&sample-rate=16000');
    expect(parseStreamQuery(q).sampleRate).toBe(16000);
  });

  it('leaves sampleRate undefined when the URL has none', () => {
    expect(parseStreamQuery(query('wss://h/ws?agent=a')).sampleRate).toBeUndefined();
  });

  it.each([['abc'], [''], ['16k'], ['-8000'], ['8000.5']])(
    'reports a non-integer sample-rate %j as NaN, not as absent',
    (value) => {
      const q = new URLSearchParams({ 'sample-rate': value });
      expect(parseStreamQuery(q).sampleRate).toBeNaN();
    },
  );

  it('reads call_sid or CallSid, callLogId, from and to', () => {
    const a = parseStreamQuery(
      query('wss://h/ws?call_sid=CA1&callLogId=L1&from=%2B919876543210&to=%2B918047491899'),
    );
    expect(a).toMatchObject({
      callSid: 'CA1',
      callLogId: 'L1',
      from: '+919876543210',
      to: '+918047491899',
    });
    expect(parseStreamQuery(query('wss://h/ws?CallSid=CA2')).callSid).toBe('CA2');
  });

  it('treats every other parameter as a custom parameter', () => {
    const q = query('wss://h/ws?sample-rate=8000&CallSid=CA1&from=x&agent=loan_hi&p=k%3D1');
    expect(parseStreamQuery(q).custom).toEqual({ agent: 'loan_hi', p: 'k=1' });
  });

  it('keeps the first value of a repeated parameter', () => {
    expect(parseStreamQuery(query('wss://h/ws?agent=a&agent=b')).custom).toEqual({ agent: 'a' });
  });

  it('accepts a plain record and skips undefined values', () => {
    const parsed = parseStreamQuery({
      sample_rate: '16000',
      CallSid: 'CA1',
      agent: 'a',
      x: undefined,
    });
    expect(parsed).toEqual({ sampleRate: 16000, callSid: 'CA1', custom: { agent: 'a' } });
    expect(Object.keys(parsed.custom)).toEqual(['agent']);
  });

  it('keeps a __proto__ parameter as a plain key', () => {
    const custom = parseStreamQuery(query('wss://h/ws?__proto__=p')).custom;
    expect(Object.keys(custom)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(custom)).toBe(Object.prototype);
  });
});

describe('resolveSampleRate', () => {
  it('lists the supported rates and defaults to 8000', () => {
    expect(SUPPORTED_SAMPLE_RATES).toEqual([8000, 16000, 24000]);
    expect(DEFAULT_SAMPLE_RATE).toBe(8000);
    expect(isSupportedSampleRate(16000)).toBe(true);
    expect(isSupportedSampleRate(44100)).toBe(false);
  });

  it.each(SUPPORTED_SAMPLE_RATES.map((rate) => [rate]))('accepts %i Hz', (rate) => {
    expect(resolveSampleRate(rate, undefined)).toEqual({ ok: true, rate });
  });

  it('prefers the URL rate over start.media_format.sample_rate', () => {
    expect(resolveSampleRate(16000, 8000)).toEqual({ ok: true, rate: 16000 });
  });

  it('falls back to start.media_format.sample_rate without a URL rate', () => {
    expect(resolveSampleRate(undefined, 24000)).toEqual({ ok: true, rate: 24000 });
  });

  it('defaults to 8000 when neither gives a rate', () => {
    expect(resolveSampleRate(undefined, undefined)).toEqual({ ok: true, rate: 8000 });
  });

  it.each([[44100], [0], [16000.5], [-8000]])(
    'rejects URL rate %d with SAMPLE_RATE_UNSUPPORTED',
    (rate) => {
      const result = resolveSampleRate(rate, 8000);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.code).toBe('SAMPLE_RATE_UNSUPPORTED');
    },
  );

  it('rejects an unsupported start rate with SAMPLE_RATE_UNSUPPORTED', () => {
    const result = resolveSampleRate(undefined, 11025);
    expect(result).toMatchObject({ ok: false, error: { code: 'SAMPLE_RATE_UNSUPPORTED' } });
    if (!result.ok) expect(result.error.message).toContain('11025');
  });

  it('rejects a non-numeric URL rate rather than falling back', () => {
    const parsed = parseStreamQuery(query('wss://h/ws?sample-rate=abc'));
    const result = resolveSampleRate(parsed.sampleRate, 16000);
    expect(result).toMatchObject({ ok: false, error: { code: 'SAMPLE_RATE_UNSUPPORTED' } });
    if (!result.ok) expect(result.error.message).not.toContain('abc');
  });
});
