/** Shared set-up for the fake's own tests: one fake per file, violations checked after each test. */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { FakeOpenAI } from '../fakes/index.js';
import { encodeWav } from '../../src/audio/index.js';

export interface FakeContext {
  fake: FakeOpenAI;
  /** `maxRetries: 0`, as the brief for these tests asks. */
  client: OpenAI;
  /** Returns the violations recorded so far and clears them (for tests that expect some). */
  takeViolations(): string[];
}

export function useFakeOpenAI(): FakeContext {
  const context = {} as FakeContext;
  beforeAll(async () => {
    context.fake = await FakeOpenAI.start({ logViolations: false });
    context.client = new OpenAI({ apiKey: 'test', baseURL: context.fake.baseUrl, maxRetries: 0 });
    context.takeViolations = () => context.fake.violations.splice(0);
  });
  afterEach(() => {
    const violations = context.fake.violations.splice(0);
    context.fake.reset();
    expect(violations, 'spec violations recorded by the fake').toEqual([]);
  });
  afterAll(async () => {
    await context.fake.close();
  });
  return context;
}

/** A mono 16-bit PCM WAV of silence. */
export function makeWav(durationMs: number, sampleRateHz = 16_000): Buffer {
  return encodeWav(new Int16Array(Math.round((durationMs * sampleRateHz) / 1000)), sampleRateHz);
}

export interface ReadResult {
  bytes: Buffer;
  /** `performance.now()` at which each chunk arrived. */
  arrivals: number[];
}

export interface ChunkReader {
  /** The next body chunk, or undefined at the end. */
  next(): Promise<Uint8Array | undefined>;
  cancel(): Promise<void>;
}

export function chunkReader(response: Response): ChunkReader {
  if (!response.body) throw new Error('response has no body');
  const reader = response.body.getReader();
  return {
    next: async () => {
      const read = (await reader.read()) as { done: boolean; value?: Uint8Array };
      return read.done ? undefined : read.value;
    },
    cancel: () => reader.cancel(),
  };
}

/** Reads a fetch Response body to the end, noting when each chunk arrived. */
export async function readBody(response: Response): Promise<ReadResult> {
  const reader = chunkReader(response);
  const parts: Uint8Array[] = [];
  const arrivals: number[] = [];
  for (let chunk = await reader.next(); chunk; chunk = await reader.next()) {
    parts.push(chunk);
    arrivals.push(performance.now());
  }
  return { bytes: Buffer.concat(parts), arrivals };
}

/** Resolves to 'timeout' if `promise` has not settled within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A raw POST with a bearer key, for requests the SDK would never send. */
export function post(
  fake: FakeOpenAI,
  path: string,
  body: RequestInit['body'],
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<Response> {
  return fetch(`${fake.baseUrl}${path}`, {
    method: 'POST',
    headers: { authorization: 'Bearer test', ...headers },
    body,
  });
}

/**
 * A TCP relay in front of the fake that notes when the client's connection closes: what the
 * server sees when the SDK aborts a request (a kept-alive connection would stay open). Closed
 * after each test.
 */
export interface Relay {
  baseUrl: string;
  closed: Promise<void>;
  server: Server;
  sockets: Set<Socket>;
}
const relays: Relay[] = [];
afterEach(async () => {
  for (const relay of relays.splice(0)) {
    for (const socket of relay.sockets) socket.destroy();
    await new Promise((resolve) => relay.server.close(resolve));
  }
});
export async function startRelay(fakeBaseUrl: string): Promise<Relay> {
  const target = new URL(fakeBaseUrl);
  let onClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (onClosed = resolve));
  const sockets = new Set<Socket>();
  const server = createServer((downstream) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(downstream).add(upstream);
    downstream.pipe(upstream).pipe(downstream);
    downstream.on('close', () => {
      upstream.destroy();
      onClosed();
    });
    upstream.on('close', () => downstream.destroy());
    downstream.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const relay = { baseUrl: `http://127.0.0.1:${port}/v1`, closed, server, sockets };
  relays.push(relay);
  return relay;
}
