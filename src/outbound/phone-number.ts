/**
 * Indian phone numbers as callers type them, to E.164: `+9198…` (E.164), `098…` / `0120…`
 * (national, with the trunk 0), `9198…` (country code without +) and bare 10-digit mobile
 * numbers (`98…`, starting 6–9). Spaces, dashes, dots and brackets are ignored. Anything else
 * is refused with a reason, never guessed at.
 */

export type NumberCheck = { ok: true; e164: string } | { ok: false; reason: string };

export function normaliseIndianNumber(input: string): NumberCheck {
  const raw = input.trim();
  if (raw === '') return { ok: false, reason: 'is empty' };
  if (!/^\+?[0-9\s().-]+$/.test(raw)) {
    return { ok: false, reason: 'may hold only digits, spaces, dashes, brackets and a leading +' };
  }
  const plus = raw.startsWith('+');
  const digits = raw.replace(/\D/g, '');
  if (plus) {
    if (!digits.startsWith('91')) {
      return { ok: false, reason: 'must be an Indian number (+91…)' };
    }
    return tenDigits(digits.slice(2));
  }
  if (digits.startsWith('0')) return tenDigits(digits.replace(/^0+/, ''));
  if (digits.length === 12 && digits.startsWith('91')) return tenDigits(digits.slice(2));
  if (digits.length === 10) {
    if (!/^[6-9]/.test(digits)) {
      return {
        ok: false,
        reason: 'a 10-digit number without 0 or +91 must be a mobile number (starting 6–9)',
      };
    }
    return tenDigits(digits);
  }
  return { ok: false, reason: 'must be +91 and 10 digits, 0 and 10 digits, or a 10-digit mobile' };
}

/** The 10 national digits (mobile, or area code + subscriber for a landline). */
function tenDigits(national: string): NumberCheck {
  if (!/^[0-9]{10}$/.test(national)) {
    return { ok: false, reason: 'must have 10 digits after +91 or 0' };
  }
  if (national.startsWith('0')) return { ok: false, reason: 'has a 0 where the number starts' };
  return { ok: true, e164: `+91${national}` };
}
