import { describe, expect, it } from 'vitest';
import { PARAM_LIMITS, boundParams } from '../../src/telephony/call-params.js';

describe('boundParams', () => {
  it('keeps what Exotel sends (3 short parameters) untouched', () => {
    const params = { agent: 'loan_hi', customer_name: 'Asha', ctx: 'Ab3dE5gH7jK9' };
    expect(boundParams(params)).toEqual({ params, problems: [] });
  });

  it('cuts long values, drops what is over the count or the total, and says so', () => {
    const many = Object.fromEntries(
      Array.from({ length: 30 }, (_, i) => [`k${i}`, 'v'.repeat(2000)]),
    );
    const { params, problems } = boundParams(many);
    const entries = Object.entries(params);
    expect(entries.every(([, v]) => v.length === PARAM_LIMITS.valueChars)).toBe(true);
    expect(entries.reduce((n, [k, v]) => n + k.length + v.length, 0)).toBeLessThanOrEqual(
      PARAM_LIMITS.totalChars,
    );
    expect(entries.map(([k]) => k)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6']);
    expect(problems.map((p) => p.split(':')[0])).toEqual(['PARAM_TOO_LONG', 'PARAMS_TOO_MANY']);
    expect(problems.join(' ')).not.toContain('vvvv');
  });

  it('stops at 16 parameters however short', () => {
    const short = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'v']));
    expect(Object.keys(boundParams(short).params)).toHaveLength(PARAM_LIMITS.count);
  });

  it('drops keys that are too long or not plain names; __proto__-like keys stay data', () => {
    const { params, problems } = boundParams({
      ['k'.repeat(65)]: 'x',
      'has space': 'x',
      'ok.key-1_2': 'y',
    });
    expect(params).toEqual({ 'ok.key-1_2': 'y' });
    expect(problems).toEqual(['PARAM_BAD_KEY: 2 parameter(s) with an unusable name dropped']);
    const proto = boundParams(JSON.parse('{"__proto__":"x"}') as Record<string, string>);
    expect(Object.getPrototypeOf(proto.params)).toBe(Object.prototype);
  });
});
