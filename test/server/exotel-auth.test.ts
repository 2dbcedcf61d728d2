/**
 * Exotel auth, off by default: HTTP Basic (as Exotel sends for wss://key:token@host URLs) and an
 * address allow-list, checked before the upgrade (401/403, nothing recorded), on the stream and
 * on /voicebot/init and the flow endpoints. X-Forwarded-For counts only from TRUSTED_PROXIES.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { addressList, listed } from '../../src/addresses.js';
import { loadConfig } from '../../src/config/index.js';
import { startServer, type TestServer } from '../helpers/app.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const start = (env: Record<string, string>) =>
  startServer({ OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', GREETING_TEXT: 'Hello.', ...env });

/** The upgrade's outcome: 'open', or the HTTP status it was refused with. */
function upgrade(url: string, headers: Record<string, string> = {}): Promise<'open' | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.terminate();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => undefined);
  });
}

const basic = (creds: string) => `Basic ${Buffer.from(creds).toString('base64')}`;

describe('address lists', () => {
  it('match addresses and CIDRs of both families, and IPv4-mapped IPv6', () => {
    const list = addressList(['10.0.0.0/8', '203.0.113.7', 'fd00::/8'], 'X');
    expect(listed(list, '10.20.30.40')).toBe(true);
    expect(listed(list, '::ffff:10.20.30.40')).toBe(true);
    expect(listed(list, '203.0.113.7')).toBe(true);
    expect(listed(list, '203.0.113.8')).toBe(false);
    expect(listed(list, 'fd12::1')).toBe(true);
    expect(listed(list, '2001:db8::1')).toBe(false);
  });

  it('fail start-up naming the variable when an entry is not an address', () => {
    expect(() =>
      loadConfig({ OPENAI_API_KEY: 'k', EXOTEL_IP_ALLOWLIST: '10.0.0.0/8, exotel.com' }),
    ).toThrow(/EXOTEL_IP_ALLOWLIST: "exotel.com" is not an address or CIDR/);
    expect(() => loadConfig({ OPENAI_API_KEY: 'k', TRUSTED_PROXIES: '10.0.0.0/40' })).toThrow(
      /TRUSTED_PROXIES/,
    );
  });
});

describe('HTTP Basic (EXOTEL_STREAM_BASIC_AUTH)', () => {
  it('refuses the upgrade without the credentials, takes it with them (wss://key:token@host)', async () => {
    server = await start({ EXOTEL_STREAM_BASIC_AUTH: 'exo-key:exo-token' });
    const url = `${server.wsBase}/was?sample-rate=8000`;
    expect(await upgrade(url)).toBe(401);
    expect(await upgrade(url, { authorization: basic('exo-key:wrong') })).toBe(401);
    expect(await upgrade(url.replace('ws://', 'ws://exo-key:exo-token@'))).toBe('open');
    await server.voicebot.store.flush(2_000);
    expect((await server.voicebot.store.listCalls({})).calls).toEqual([]);
  });

  it('guards /voicebot/init and the flow endpoints too', async () => {
    server = await start({ EXOTEL_STREAM_BASIC_AUTH: 'exo-key:exo-token' });
    const app = server.voicebot.app;
    for (const url of [
      '/voicebot/init?CallSid=CA1',
      '/exotel/passthru?CallSid=CA1',
      '/exotel/connect?CallSid=CA1',
    ]) {
      expect((await app.inject({ method: 'GET', url })).statusCode).toBe(401);
      const ok = await app.inject({
        method: 'GET',
        url,
        headers: { authorization: basic('exo-key:exo-token') },
      });
      expect([200, 302, 404]).toContain(ok.statusCode);
    }
  });

  it('is off by default', async () => {
    server = await start({});
    expect(await upgrade(`${server.wsBase}/was?sample-rate=8000`)).toBe('open');
  });
});

describe('address allow-list (EXOTEL_IP_ALLOWLIST)', () => {
  it('refuses an address not on the list with 403, before the upgrade', async () => {
    server = await start({ EXOTEL_IP_ALLOWLIST: '10.0.0.0/8' });
    expect(await upgrade(`${server.wsBase}/was?sample-rate=8000`)).toBe(403);
    const init = await server.voicebot.app.inject({
      method: 'GET',
      url: '/voicebot/init?CallSid=CA1',
    });
    expect(init.statusCode).toBe(403);
  });

  it('believes X-Forwarded-For only from a trusted proxy', async () => {
    server = await start({ EXOTEL_IP_ALLOWLIST: '10.0.0.0/8' });
    const url = `${server.wsBase}/was?sample-rate=8000`;
    expect(await upgrade(url, { 'x-forwarded-for': '10.1.2.3' })).toBe(403);
    await server.close();
    server = await start({ EXOTEL_IP_ALLOWLIST: '10.0.0.0/8', TRUSTED_PROXIES: '127.0.0.1' });
    const proxied = `${server.wsBase}/was?sample-rate=8000`;
    expect(await upgrade(proxied, { 'x-forwarded-for': '10.1.2.3' })).toBe('open');
    expect(await upgrade(proxied, { 'x-forwarded-for': '192.0.2.1' })).toBe(403);
  });
});
