/**
 * The operator console at `/console`: server-rendered pages (see the *-page.ts modules) behind
 * the admin session cookie, with htmx and our own small scripts for the parts that move (live
 * calls, seeking the recording, talking to an agent). Everything it needs is served from this
 * package, so it works on a machine with no Internet access.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AgentRegistry } from '../agents/index.js';
import type { AgentProfile } from '../agents/profile.js';
import { VoicebotError } from '../errors.js';
import type { Logger } from '../log.js';
import { PRIVATE_HEADERS, bearerMatches } from '../server/admin-api.js';
import {
  SESSION_TTL_MS,
  issueSession,
  sessionCookie,
  sessionFrom,
  sessionValid,
} from '../server/admin-session.js';
import type { AuthThrottle } from '../server/auth-throttle.js';
import type { CallStore } from '../store/index.js';
import { callPage } from './call-page.js';
import { campaignPage, campaignsPage } from './campaigns-page.js';
import {
  NO_FILTERS,
  callsTable,
  filterForm,
  pager,
  readFilters,
  toQuery,
  type CallFilters,
} from './calls-page.js';
import { Clock } from './format.js';
import { html, type Html } from './html.js';
import { page, type PageOptions } from './layout.js';
import {
  agentsPage,
  livePage,
  liveSection,
  outboundPage,
  signInPage,
  tryPage,
} from './other-pages.js';

export interface ConsoleDeps {
  store: CallStore;
  agents: AgentRegistry;
  apiKey: string | undefined;
  throttle: AuthThrottle;
  timeZone: string;
  logger: Logger;
}

/** The package root: this file is src/console/routes.ts or dist/console/routes.js. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);

/** Served files: name → [path, content type]. The scripts are built by `npm run build`. */
const ASSETS: Record<string, [string, string]> = {
  'console.css': [join(ROOT, 'src/console/static/console.css'), 'text/css; charset=utf-8'],
  'htmx.min.js': [require.resolve('htmx.org/dist/htmx.min.js'), 'text/javascript; charset=utf-8'],
  'console.js': [join(ROOT, 'dist/console-client/console.js'), 'text/javascript; charset=utf-8'],
  'try.js': [join(ROOT, 'dist/console-client/try.js'), 'text/javascript; charset=utf-8'],
  'mic-worklet.js': [
    join(ROOT, 'dist/console-client/mic-worklet.js'),
    'text/javascript; charset=utf-8',
  ],
};

/** Pages may load only what we serve, talk only to us (the WebSocket included), and not be framed. */
const PAGE_CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  "media-src 'self'",
  "connect-src 'self'",
  "style-src 'self'",
  "script-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const LIVE_LIMIT = 100;

export function registerConsole(app: FastifyInstance, deps: ConsoleDeps): void {
  void app.register((scope, _opts, done) => {
    scope.addHook('onSend', (request, reply, payload, next) => {
      if (!request.url.startsWith('/console/assets/')) {
        reply.headers({ ...PRIVATE_HEADERS, 'content-security-policy': PAGE_CSP });
      }
      next(null, payload);
    });
    routes(scope, deps);
    done();
  });
}

function routes(app: FastifyInstance, deps: ConsoleDeps): void {
  const { store, agents, apiKey, throttle } = deps;
  const clock = new Clock(deps.timeZone);
  const log = deps.logger.child({ component: 'console' });
  const assetCache = new Map<string, Buffer>();

  const send = (reply: FastifyReply, status: number, opts: PageOptions, body: Html) =>
    reply.code(status).type('text/html; charset=utf-8').send(page(opts, body).value);

  const disabled = (reply: FastifyReply) =>
    send(
      reply,
      503,
      { title: 'Console off' },
      html`<h1>The console is off</h1>
        <p>
          Set <code>ADMIN_API_KEY</code> (16 characters or more) in the server's environment and
          restart it; then sign in here with that key.
        </p>`,
    );

  /** Lets signed-in browsers through; others go to the sign-in page. */
  const signedIn = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!apiKey) return disabled(reply);
    if (sessionValid(sessionFrom(request), apiKey)) return;
    if (request.headers['hx-request']) {
      return reply.code(401).header('hx-redirect', '/console/sign-in').send();
    }
    return reply.redirect('/console/sign-in', 303);
  };

  /** A page whose data could not be read: the database is down, say so and keep the shell. */
  const storeDown = (reply: FastifyReply, opts: PageOptions, err: unknown) => {
    if (!(err instanceof VoicebotError && err.code === 'STORE_UNAVAILABLE')) throw err;
    log.warn({ code: 'CONSOLE_STORE_UNAVAILABLE' }, 'console page without data');
    return send(
      reply,
      503,
      opts,
      html`<p class="error" role="alert">
        The database is unavailable right now; calls are still being answered and their records are
        kept. Try again shortly.
      </p>`,
    );
  };

  app.get('/console/assets/:name', async (request, reply) => {
    const { name } = request.params as { name: string };
    const asset = ASSETS[name];
    if (!asset)
      return reply.code(404).send({ error: { code: 'NOT_FOUND', message: 'no such file' } });
    let body = assetCache.get(name);
    if (!body) {
      try {
        body = await readFile(asset[0]);
      } catch {
        log.error(
          { code: 'CONSOLE_ASSET_MISSING', asset: name },
          'console file missing; run `npm run build`',
        );
        return reply
          .code(500)
          .send({ error: { code: 'CONSOLE_ASSET_MISSING', message: 'run npm run build' } });
      }
      assetCache.set(name, body);
    }
    return reply.type(asset[1]).header('cache-control', 'public, max-age=300').send(body);
  });

  app.get('/console', async (_request, reply) => reply.redirect('/console/calls', 303));

  app.get('/console/sign-in', async (request, reply) => {
    if (!apiKey) return disabled(reply);
    if (sessionValid(sessionFrom(request), apiKey)) return reply.redirect('/console/calls', 303);
    return send(reply, 200, { title: 'Sign in' }, signInPage());
  });

  app.post('/console/sign-in', async (request, reply) => {
    if (!apiKey) return disabled(reply);
    const wait = throttle.waitMs(request.ip);
    if (wait > 0) {
      const s = Math.ceil(wait / 1000);
      return send(
        reply.header('retry-after', String(s)),
        429,
        { title: 'Sign in' },
        signInPage(`Too many wrong keys from this address. Try again in ${s} s.`),
      );
    }
    const body = request.body as { key?: unknown } | undefined;
    const key = typeof body?.key === 'string' ? body.key : '';
    if (!bearerMatches(`Bearer ${key}`, apiKey)) {
      throttle.failed(request.ip);
      return send(reply, 401, { title: 'Sign in' }, signInPage('That key is not right.'));
    }
    throttle.succeeded(request.ip);
    return reply
      .header('set-cookie', sessionCookie(issueSession(apiKey), request, SESSION_TTL_MS))
      .redirect('/console/calls', 303);
  });

  app.post('/console/sign-out', async (request, reply) =>
    reply.header('set-cookie', sessionCookie('', request, 0)).redirect('/console/sign-in', 303),
  );

  const callsList = async (reply: FastifyReply, filters: CallFilters, cursor?: string) => {
    const opts: PageOptions = { title: 'Calls', section: 'calls' };
    const form = filterForm(filters, agents.names());
    const q = toQuery(filters, clock);
    if ('error' in q) {
      return send(
        reply,
        400,
        opts,
        html`<h1>Calls</h1>
          ${form}
          <p class="error" role="alert">${q.error}</p>`,
      );
    }
    let result;
    try {
      result = await store.listCalls({ ...q.query, limit: 50, cursor });
    } catch (err) {
      if (err instanceof RangeError) return callsList(reply, filters);
      return storeDown(reply, opts, err);
    }
    return send(
      reply,
      200,
      opts,
      html`<h1>Calls</h1>
        ${form} ${callsTable(result.calls, clock, Date.now())} ${pager(filters, result.nextCursor)}`,
    );
  };

  // Filters other than the number may come in the query (links); the number only in a POST body.
  app.get('/console/calls', { preHandler: signedIn }, async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    return callsList(reply, { ...readFilters(q), number: '' });
  });

  app.post('/console/calls', { preHandler: signedIn }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const cursor = typeof body.cursor === 'string' && body.cursor ? body.cursor : undefined;
    return callsList(reply, body ? readFilters(body) : NO_FILTERS, cursor);
  });

  app.get('/console/calls/:id', { preHandler: signedIn }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const opts: PageOptions = { title: 'Call', section: 'calls' };
    let detail;
    try {
      detail = await store.getCall(id);
    } catch (err) {
      return storeDown(reply, opts, err);
    }
    if (!detail) {
      return send(
        reply,
        404,
        opts,
        html`<h1>No such call</h1>
          <p><a href="/console/calls">Back to the calls</a></p>`,
      );
    }
    return send(reply, 200, opts, callPage(detail, clock, Date.now()));
  });

  const liveCalls = () => store.listCalls({ status: 'live', limit: LIVE_LIMIT });

  app.get('/console/live', { preHandler: signedIn }, async (_request, reply) => {
    const opts: PageOptions = { title: 'Live calls', section: 'live' };
    try {
      const { calls } = await liveCalls();
      return send(reply, 200, opts, livePage(calls, clock, Date.now()));
    } catch (err) {
      return storeDown(reply, opts, err);
    }
  });

  // The fragment htmx polls; on a database outage the last table stays (htmx keeps it on 5xx).
  app.get('/console/live/rows', { preHandler: signedIn }, async (_request, reply) => {
    try {
      const { calls } = await liveCalls();
      return reply
        .type('text/html; charset=utf-8')
        .send(liveSection(calls, clock, Date.now()).value);
    } catch (err) {
      if (!(err instanceof VoicebotError && err.code === 'STORE_UNAVAILABLE')) throw err;
      return reply.code(503).send();
    }
  });

  app.get('/console/outbound', { preHandler: signedIn }, async (_request, reply) => {
    const opts: PageOptions = { title: 'Outbound calls', section: 'outbound' };
    try {
      return send(reply, 200, opts, outboundPage(await store.outbound.list(100), clock));
    } catch (err) {
      return storeDown(reply, opts, err);
    }
  });

  app.get('/console/campaigns', { preHandler: signedIn }, async (_request, reply) => {
    const opts: PageOptions = { title: 'Campaigns', section: 'campaigns' };
    try {
      return send(
        reply,
        200,
        opts,
        campaignsPage(await store.campaigns.list(50), clock, Date.now()),
      );
    } catch (err) {
      return storeDown(reply, opts, err);
    }
  });

  app.get('/console/campaigns/:id', { preHandler: signedIn }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const opts: PageOptions = { title: 'Campaign', section: 'campaigns' };
    try {
      const found = await store.campaigns.get(id);
      if (!found) {
        return send(reply, 404, opts, html`<h1>No such campaign</h1>`);
      }
      return send(reply, 200, opts, campaignPage(found.campaign, found.rows, clock, Date.now()));
    } catch (err) {
      return storeDown(reply, opts, err);
    }
  });

  // Pause, resume, cancel from the campaign's page (a form POST; the session cookie is
  // SameSite=Strict, so another site cannot make a browser send it).
  app.post('/console/campaigns/:id/:action', { preHandler: signedIn }, async (request, reply) => {
    const { id, action } = request.params as { id: string; action: string };
    if (action === 'cancel') await store.campaigns.cancel(id);
    else if (action === 'pause') {
      await store.campaigns.setStatus(id, 'paused', {
        reason: 'paused by an operator',
        from: ['running'],
      });
    } else if (action === 'resume') {
      await store.campaigns.setStatus(id, 'running', { from: ['paused'] });
    } else return reply.code(404).send();
    return reply.redirect(`/console/campaigns/${encodeURIComponent(id)}`, 303);
  });

  app.get('/console/agents', { preHandler: signedIn }, async (_request, reply) => {
    const profiles = agents
      .names()
      .map((n) => agents.get(n))
      .filter((p): p is AgentProfile => p !== undefined);
    return send(
      reply,
      200,
      { title: 'Agents', section: 'agents' },
      agentsPage(profiles, agents.default),
    );
  });

  app.get('/console/try', { preHandler: signedIn }, async (request, reply) => {
    const wanted = (request.query as { agent?: unknown }).agent;
    const names = agents.names();
    const selected = typeof wanted === 'string' && names.includes(wanted) ? wanted : agents.default;
    return send(
      reply,
      200,
      { title: 'Try an agent', section: 'try', scripts: ['try.js'] },
      tryPage(names, selected),
    );
  });
}
