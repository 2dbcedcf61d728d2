/**
 * Browser sessions for the admin API (and the console to come): signing in with ADMIN_API_KEY
 * sets an HttpOnly, SameSite=Strict cookie, so the key never sits in a URL or in page storage.
 *
 * The cookie holds its expiry and an HMAC of it under a key derived from ADMIN_API_KEY: no
 * session table, so every worker and every instance accepts it, and changing the admin key signs
 * everybody out.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'vb_session';
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

function mac(apiKey: string, expiresAtMs: number): string {
  const key = createHmac('sha256', 'voicebot admin session v1').update(apiKey).digest();
  return createHmac('sha256', key).update(`v1.${expiresAtMs}`).digest('base64url');
}

/** A session token that expires `ttlMs` from `now`. */
export function issueSession(apiKey: string, now = Date.now(), ttlMs = SESSION_TTL_MS): string {
  const expiresAtMs = now + ttlMs;
  return `v1.${expiresAtMs}.${mac(apiKey, expiresAtMs)}`;
}

/** True when `token` was issued under `apiKey` and has not expired. */
export function sessionValid(token: string | undefined, apiKey: string, now = Date.now()): boolean {
  const m = /^v1\.(\d{13,16})\.([A-Za-z0-9_-]{43})$/.exec(token ?? '');
  if (!m) return false;
  const expiresAtMs = Number(m[1]);
  if (!(expiresAtMs > now)) return false;
  const given = Buffer.from(m[2]!);
  const expected = Buffer.from(mac(apiKey, expiresAtMs));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The `Set-Cookie` value for `token` (empty with max-age 0 signs out). */
export function sessionCookie(token: string, request: FastifyRequest, maxAgeMs: number): string {
  const parts = [
    `${SESSION_COOKIE}=${token}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${Math.floor(maxAgeMs / 1000)}`,
  ];
  // request.protocol believes X-Forwarded-Proto only from TRUSTED_PROXIES.
  if (request.protocol === 'https') parts.push('Secure');
  return parts.join('; ');
}

/** The session cookie's value in the request, if any. */
export function sessionFrom(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === SESSION_COOKIE) return rest.join('=');
  }
  return undefined;
}
