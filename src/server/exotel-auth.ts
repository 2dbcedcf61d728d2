/**
 * Who may open a stream or ask the Exotel endpoints anything. Off by default (the seed ran open);
 * two checks an operator can turn on, applied before any upgrade or work, so a refused request
 * records nothing:
 *
 * - HTTP Basic (`EXOTEL_STREAM_BASIC_AUTH=key:token`): Exotel sends it when the applet's URL is
 *   `wss://KEY:TOKEN@host/...` (or `https://KEY:TOKEN@host/...` for the dynamic and flow URLs).
 * - An address allow-list (`EXOTEL_IP_ALLOWLIST`, CIDRs): Exotel's egress ranges. Behind a proxy
 *   the client address comes from `X-Forwarded-For`, believed only from `TRUSTED_PROXIES`
 *   (Fastify's `trustProxy` works that out into `request.ip`).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { addressList, listed } from '../addresses.js';

export interface ExotelAuthOptions {
  /** `key:token`, or undefined for no Basic check. */
  basicAuth: string | undefined;
  /** Addresses and CIDRs, or empty for no address check. */
  ipAllowlist: readonly string[];
}

/** A Fastify hook that refuses requests failing the configured checks (401/403). */
export function exotelGuard(opts: ExotelAuthOptions) {
  const allow =
    opts.ipAllowlist.length > 0 ? addressList(opts.ipAllowlist, 'EXOTEL_IP_ALLOWLIST') : undefined;
  const expected = opts.basicAuth ? Buffer.from(opts.basicAuth) : undefined;
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (allow && !listed(allow, request.ip)) {
      request.log.warn({ code: 'EXOTEL_IP_REFUSED' }, 'request from an address not allowed');
      return reply.code(403).send({ error: { code: 'FORBIDDEN', message: 'address not allowed' } });
    }
    if (expected && !basicMatches(request.headers.authorization, expected)) {
      request.log.warn({ code: 'EXOTEL_AUTH_REFUSED' }, 'request without the right credentials');
      return reply
        .code(401)
        .header('www-authenticate', 'Basic realm="voicebot"')
        .send({ error: { code: 'UNAUTHORIZED', message: 'credentials required' } });
    }
  };
}

function basicMatches(header: string | undefined, expected: Buffer): boolean {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1]!, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
