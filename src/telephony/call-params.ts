/**
 * Bounds on the custom parameters a call brings from the network (the stream URL's query and the
 * `start` frame). Exotel sends at most 3 of them in 256 characters; these limits leave room for
 * other bridges and tests while keeping a hostile frame from filling the record, the prompt or
 * the event loop. Whatever goes over is dropped or cut and said so (codes only, never values).
 * Pure.
 */

export const PARAM_LIMITS = {
  count: 16,
  keyChars: 64,
  valueChars: 1024,
  totalChars: 8192,
} as const;

const KEY = /^[A-Za-z0-9_.-]+$/;

export interface BoundedParams {
  params: Record<string, string>;
  /** Log-safe notes on what was dropped or cut (codes and counts). */
  problems: string[];
}

export function boundParams(input: Record<string, string>): BoundedParams {
  const out = new Map<string, string>();
  const problems: string[] = [];
  let total = 0;
  let dropped = 0;
  let cut = 0;
  let badKeys = 0;
  for (const [key, raw] of Object.entries(input)) {
    if (key.length > PARAM_LIMITS.keyChars || !KEY.test(key)) {
      badKeys++;
      continue;
    }
    let value = raw;
    if (value.length > PARAM_LIMITS.valueChars) {
      value = value.slice(0, PARAM_LIMITS.valueChars);
      cut++;
    }
    if (
      out.size >= PARAM_LIMITS.count ||
      total + key.length + value.length > PARAM_LIMITS.totalChars
    ) {
      dropped++;
      continue;
    }
    out.set(key, value);
    total += key.length + value.length;
  }
  if (badKeys)
    problems.push(`PARAM_BAD_KEY: ${badKeys} parameter(s) with an unusable name dropped`);
  if (cut)
    problems.push(`PARAM_TOO_LONG: ${cut} value(s) cut to ${PARAM_LIMITS.valueChars} characters`);
  if (dropped)
    problems.push(
      `PARAMS_TOO_MANY: ${dropped} parameter(s) over ${PARAM_LIMITS.count} or ${PARAM_LIMITS.totalChars} characters dropped`,
    );
  // fromEntries defines own properties, so a `__proto__` key stays a plain key.
  return { params: Object.fromEntries(out), problems };
}
