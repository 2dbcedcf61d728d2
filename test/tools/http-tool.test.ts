/** HTTP tools against a real local backend: the request the backend gets, and every failure. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { callHttpTool } from '../../src/tools/http-tool.js';
import type { HttpToolSpec } from '../../src/tools/spec.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** A backend that records each request and answers with `answer` (or never, for 'hang'). */
async function backend(
  answer:
    | 'hang'
    | ((req: Seen) => {
        status?: number;
        body?: string | Buffer;
        headers?: Record<string, string>;
      }),
): Promise<{ base: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(s);
      if (answer === 'hang') return;
      const a = answer(s);
      res.writeHead(a.status ?? 200, { 'content-type': 'application/json', ...a.headers });
      res.end(a.body ?? '');
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function tool(url: string, extra: Partial<HttpToolSpec> = {}): HttpToolSpec {
  return {
    name: 'check_loan_status',
    description: 'x',
    parameters: { type: 'object' },
    url,
    method: 'POST',
    headers: { authorization: 'Bearer s3cret' },
    timeoutMs: 2000,
    ...extra,
  };
}

const opts = (signal = new AbortController().signal) => ({ maxBytes: 16 * 1024, signal });

describe('callHttpTool', () => {
  it("POSTs the arguments as JSON with the operator's headers and returns the JSON answer", async () => {
    const { base, seen } = await backend(() => ({ body: '{"status":"approved"}' }));
    const result = await callHttpTool(
      tool(`${base}/loan-status?v=2`),
      { application_id: 'HL-1' },
      opts(),
    );
    expect(result).toEqual({ status: 'ok', content: '{"status":"approved"}' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: 'POST',
      url: '/loan-status?v=2',
      body: '{"application_id":"HL-1"}',
    });
    expect(seen[0]!.headers['authorization']).toBe('Bearer s3cret');
    expect(seen[0]!.headers['content-type']).toBe('application/json');
  });

  it('GET puts the arguments in the query, objects as JSON', async () => {
    const { base, seen } = await backend(() => ({ body: '{"open":"10:00"}' }));
    await callHttpTool(
      tool(`${base}/hours?lang=hi`, { method: 'GET' }),
      { city: 'Pune & Mumbai', days: [1, 2], when: null },
      opts(),
    );
    const url = new URL(seen[0]!.url, base);
    expect(seen[0]!.method).toBe('GET');
    expect(url.searchParams.get('lang')).toBe('hi');
    expect(url.searchParams.get('city')).toBe('Pune & Mumbai');
    expect(url.searchParams.get('days')).toBe('[1,2]');
    expect(url.searchParams.has('when')).toBe(false);
    expect(seen[0]!.body).toBe('');
  });

  it('a non-2xx answer is an error the model can read, with the start of the body', async () => {
    const { base } = await backend(() => ({ status: 503, body: '{"error":"maintenance"}' }));
    const result = await callHttpTool(tool(base), {}, opts());
    expect(result.status).toBe('error');
    expect(JSON.parse(result.content)).toEqual({
      error: 'the service answered HTTP 503',
      body: '{"error":"maintenance"}',
    });
  });

  it('an answer that is not JSON is an error', async () => {
    const { base } = await backend(() => ({
      body: '<html>oops</html>',
      headers: { 'content-type': 'text/html' },
    }));
    const result = await callHttpTool(tool(base), {}, opts());
    expect(result).toEqual({
      status: 'error',
      content: '{"error":"the service answered with something that is not JSON"}',
    });
  });

  it('an empty 2xx answer is a success', async () => {
    const { base } = await backend(() => ({ status: 204 }));
    expect(await callHttpTool(tool(base), {}, opts())).toEqual({
      status: 'ok',
      content: '{"ok":true}',
    });
  });

  it('cuts a large answer at maxBytes and says so', async () => {
    const big = JSON.stringify({ rows: 'x'.repeat(50_000) });
    const { base } = await backend(() => ({ body: big }));
    const result = await callHttpTool(tool(base), {}, { ...opts(), maxBytes: 1000 });
    expect(result.status).toBe('ok');
    expect(result.content.startsWith(big.slice(0, 1000))).toBe(true);
    expect(result.content).toMatch(/…\[answer cut at 1000 bytes\]$/);
    expect(result.content.length).toBeLessThan(1100);
  });

  it('gives up at its timeout', async () => {
    const { base } = await backend('hang');
    const started = performance.now();
    const result = await callHttpTool(tool(base, { timeoutMs: 300 }), {}, opts());
    expect(result).toEqual({ status: 'timeout', content: '{"error":"no answer within 300 ms"}' });
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('is cancelled when the turn is (a barge-in)', async () => {
    const { base, seen } = await backend('hang');
    const ac = new AbortController();
    const pending = callHttpTool(tool(base), {}, opts(ac.signal));
    while (seen.length === 0) await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    expect((await pending).status).toBe('cancelled');
  });

  it('an unreachable backend or a redirect is an error, not an exception', async () => {
    const { base } = await backend(() => ({
      status: 302,
      headers: { location: 'http://169.254.169.254/' },
    }));
    expect((await callHttpTool(tool(base), {}, opts())).content).toMatch(/could not be reached/);
    const closed = base.replace(/:\d+$/, ':9');
    expect(await callHttpTool(tool(closed), {}, opts())).toEqual({
      status: 'error',
      content: '{"error":"the service could not be reached"}',
    });
  });
});
