/**
 * A fake OpenAI API on 127.0.0.1 (plain node:http) for tests at the real HTTP boundary. Every
 * request is checked against OpenAI's OpenAPI spec; a request that breaks it gets a 400 in
 * OpenAI's error shape and is recorded in `violations`, which tests assert is empty. Valid
 * requests are recorded and answered by the behaviour scripted for their endpoint.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  EndpointControl,
  type ChatBehaviour,
  type ChatRequest,
  type Endpoint,
  type RecordedRequest,
  type SpeechBehaviour,
  type SpeechRequest,
  type TranscriptionBehaviour,
  type TranscriptionRequest,
} from './behaviours.js';
import { chatHandler } from './chat.js';
import { planFor, type EndpointHandler } from './endpoint-handler.js';
import { OpenApiValidator } from './openapi-validator.js';
import { errorPlan, playPlan, untilAborted, type ResponsePlan } from './response-plan.js';
import { speechHandler } from './speech.js';
import { transcriptionsHandler } from './transcriptions.js';

export interface FakeOpenAIOptions {
  /** Defaults to `resolveSpecPath()` (env `OPENAI_SPEC_PATH`, else `../shared/…`). */
  specPath?: string;
  /** Print each violation with console.warn as it happens. Default true. */
  logViolations?: boolean;
  /** Port on 127.0.0.1; default 0 (a free port). */
  port?: number;
  /**
   * Keep every valid request in `requests` (default true). A long benchmark turns it off: the
   * requests' bodies (every turn's audio) would pile up in the fake's heap, and its collections
   * would make its answers late. `counts` is kept either way.
   */
  keepRequests?: boolean;
}

const ROUTES: Record<string, Endpoint> = {
  'POST /v1/audio/speech': 'speech',
  'POST /v1/audio/transcriptions': 'transcriptions',
  'POST /v1/chat/completions': 'chat',
};

type AnyHandler = EndpointHandler<RecordedRequest, { kind: string }>;
type AnyControl = EndpointControl<RecordedRequest, { kind: string }>;

export class FakeOpenAI {
  /** e.g. `http://127.0.0.1:40123/v1`: pass as the SDK's `baseURL`. */
  readonly baseUrl: string;
  readonly speech = new EndpointControl<SpeechRequest, SpeechBehaviour>(
    speechHandler.builtInDefault,
  );
  readonly transcriptions = new EndpointControl<TranscriptionRequest, TranscriptionBehaviour>(
    transcriptionsHandler.builtInDefault,
  );
  readonly chat = new EndpointControl<ChatRequest, ChatBehaviour>(chatHandler.builtInDefault);
  /**
   * Spec-valid requests to any endpoint, in arrival order (none with `keepRequests: false`, nor
   * in the endpoints' own `requests`).
   */
  readonly requests: RecordedRequest[] = [];
  /** Spec-valid requests answered so far, by endpoint. */
  readonly counts: Record<Endpoint, number> = { chat: 0, speech: 0, transcriptions: 0 };
  /** Spec violations and requests the fake cannot serve; tests should assert this stays empty. */
  readonly violations: string[] = [];

  /** TCP connections accepted so far (keep-alive reuse shows as fewer connections than requests). */
  connectionsAccepted = 0;

  private readonly sockets = new Set<Socket>();
  private readonly shutdown = new AbortController();
  private requestCount = 0;

  private constructor(
    private readonly server: Server,
    private readonly validator: OpenApiValidator,
    private readonly logViolations: boolean,
    private readonly keepRequests: boolean,
  ) {
    const { port } = server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}/v1`;
    server.on('connection', (socket) => {
      this.connectionsAccepted++;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** Loads the spec and listens on 127.0.0.1 on a free port. */
  static async start(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
    const validator = await OpenApiValidator.load(options.specPath);
    // Like an API front end that keeps idle connections open without announcing a time limit
    // (no `Keep-Alive: timeout=N` header): the client's own idle limit decides reuse. Node's
    // default would announce 5 s.
    const server = createServer({ keepAliveTimeout: 0 });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const fake = new FakeOpenAI(
      server,
      validator,
      options.logViolations ?? true,
      options.keepRequests ?? true,
    );
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void fake.handle(req, res));
    return fake;
  }

  /** Compiles every endpoint's request schema now, so that no first request pays for it. */
  warm(): void {
    this.validator.precompile(
      Object.keys(ROUTES).map((route) => {
        const [method, pathname] = route.split(' ') as [string, string];
        return { method, pathname };
      }),
    );
  }

  /** Validates `value` against `#/components/schemas/<name>` (e.g. to check the fake's output). */
  validateComponent(name: string, value: unknown): string[] {
    return this.validator.validateComponent(name, value);
  }

  /** Forgets requests, violations, queues and defaults. */
  reset(): void {
    this.requests.length = 0;
    for (const endpoint of Object.keys(this.counts) as Endpoint[]) this.counts[endpoint] = 0;
    this.violations.length = 0;
    for (const control of [this.speech, this.transcriptions, this.chat]) control.reset();
  }

  /** Ends hung and stalled responses, drops every connection and stops listening. */
  async close(): Promise<void> {
    this.shutdown.abort();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = performance.now();
    const requestEnded = new AbortController();
    res.on('close', () => requestEnded.abort());
    const signal = AbortSignal.any([requestEnded.signal, this.shutdown.signal]);
    res.setHeader('x-request-id', `req_fake_${++this.requestCount}`);
    try {
      const body = await readBody(req);
      // The modelled delays count from here: the fake's own parsing and checks are not in them.
      const received = performance.now();
      const plan = await this.answer(req, at, body);
      if (plan === 'hang') {
        await untilAborted(signal);
        res.destroy();
      } else {
        await playPlan(res, plan, signal, received);
      }
    } catch (err) {
      // A client that hangs up mid-upload (a cancelled turn) is normal, not a fault of the test.
      if (signal.aborted || req.errored) {
        res.destroy();
        return;
      }
      this.violation(`fake-openai failed while answering ${req.method} ${req.url}: ${String(err)}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end();
    }
  }

  private async answer(
    req: IncomingMessage,
    at: number,
    body: Buffer,
  ): Promise<ResponsePlan | 'hang'> {
    const pathname = new URL(req.url ?? '/', 'http://fake').pathname;
    const where = `${req.method} ${pathname}`;
    if (!/^Bearer \S+/.test(req.headers.authorization ?? '')) {
      this.violation(`${where}: no 'Authorization: Bearer <key>' header`);
      return errorPlan({ kind: 'error', status: 401, message: "You didn't provide an API key." });
    }
    const check = await this.validator.checkRequest({
      method: req.method ?? 'GET',
      pathname,
      contentType: req.headers['content-type'],
      body,
    });
    const endpoint = ROUTES[where];
    if (!check.ok || !endpoint) {
      const errors = check.ok ? ['the fake does not implement this operation'] : check.errors;
      this.violation(`${where}: ${errors.join('; ')}`);
      const status = check.ok ? 404 : check.status;
      const message = status === 404 ? `Invalid URL (${where})` : errors.join('; ');
      return errorPlan({ kind: 'error', status, message, param: check.ok ? null : check.param });
    }
    const request = { endpoint, body: check.body, headers: req.headers, at } as RecordedRequest;
    const handler = HANDLERS[endpoint];
    const unsupported = handler.unsupported(request);
    if (unsupported) {
      this.violation(`${where}: ${unsupported}`);
      return errorPlan({ kind: 'error', status: 400, message: unsupported });
    }
    this.counts[endpoint]++;
    if (this.keepRequests) this.requests.push(request);
    const control = this[endpoint] as unknown as AnyControl;
    const behaviour = await control.take(request, this.keepRequests);
    return planFor(handler, behaviour, request);
  }

  private violation(message: string): void {
    this.violations.push(message);
    if (this.logViolations) console.warn(`[fake-openai] ${message}`);
  }
}

const HANDLERS = {
  speech: speechHandler,
  transcriptions: transcriptionsHandler,
  chat: chatHandler,
} as unknown as Record<Endpoint, AnyHandler>;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}
