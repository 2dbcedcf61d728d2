import { describe, expect, it } from 'vitest';
import { normaliseIndianNumber } from '../../src/outbound/phone-number.js';

describe('Indian numbers to E.164', () => {
  it.each([
    ['+919812345670', '+919812345670'],
    ['+91 98123 45670', '+919812345670'],
    ['+91-98123-45670', '+919812345670'],
    ['09812345670', '+919812345670'],
    ['9812345670', '+919812345670'],
    ['919812345670', '+919812345670'],
    ['6012345678', '+916012345678'],
    ['08047491899', '+918047491899'],
    ['(080) 4749 1899', '+918047491899'],
    ['+918047491899', '+918047491899'],
    ['01204567890', '+911204567890'],
  ])('%s → %s', (input, e164) => {
    expect(normaliseIndianNumber(input)).toEqual({ ok: true, e164 });
  });

  it.each([
    ['', 'is empty'],
    ['abc', 'may hold only digits'],
    ['+14155550100', 'must be an Indian number'],
    ['+9198123', 'must have 10 digits'],
    ['+9198123456701', 'must have 10 digits'],
    ['5812345670', 'must be a mobile number'],
    ['98123456', 'must be +91 and 10 digits'],
    ['0981234567', 'must have 10 digits'],
    ['+91 0812345670', 'has a 0 where the number starts'],
    ['98123 45670 ext 2', 'may hold only digits'],
  ])('refuses %j (%s)', (input, reason) => {
    const r = normaliseIndianNumber(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });
});
