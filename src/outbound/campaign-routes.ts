/**
 * Campaigns over HTTP (admin auth): `POST /api/campaigns` (JSON rows, or a CSV body whose first
 * column is the number and whose other columns become the call's parameters, with the settings
 * in the query string), `GET /api/campaigns/:id`, `GET /api/campaigns/:id/outcomes.csv`, and
 * `POST /api/campaigns/:id/pause|resume|cancel`.
 */
import { parse } from 'csv-parse/sync';
import type { FastifyInstance, FastifyReply, preHandlerAsyncHookHandler } from 'fastify';
import type { AgentRegistry } from '../agents/index.js';
import type { CallStore, CampaignRow } from '../store/index.js';
import { checkCampaign, inWindow } from './campaigns.js';
import { OutboundRequestError } from './outbound-calls.js';
import { sendOutboundError } from './routes.js';

/** The settings a CSV upload carries in its query string. */
function settingsFromQuery(q: Record<string, unknown>): Record<string, unknown> {
  const s = (k: string) => {
    const v = q[k];
    return typeof v === 'string' ? v : undefined;
  };
  return {
    name: s('name'),
    agent: s('agent'),
    concurrency: s('concurrency'),
    calls_per_second: s('calls_per_second'),
    window: { start: s('window_start'), end: s('window_end'), timezone: s('timezone') },
    retry: {
      on: s('retry_on')
        ?.split(',')
        .map((x) => x.trim())
        .filter(Boolean),
      max_attempts: s('max_attempts'),
      after_ms: s('retry_after_ms'),
    },
  };
}

/** CSV records keyed by header; the first column is the number, whatever its header says. */
function csvRecords(text: string): Array<Record<string, unknown>> {
  let rows: string[][];
  try {
    rows = parse(text, { skip_empty_lines: true, trim: true, bom: true, relax_column_count: true });
  } catch (err) {
    throw new OutboundRequestError(
      400,
      'CAMPAIGN_BAD_CSV',
      `the CSV could not be read: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const [header, ...body] = rows;
  if (!header || header.length === 0) {
    throw new OutboundRequestError(400, 'CAMPAIGN_BAD_CSV', 'the CSV needs a header row');
  }
  return body.map((cells) => {
    const rec: Record<string, unknown> = { to: cells[0] ?? '' };
    header.slice(1).forEach((h, i) => {
      if (h) rec[h] = cells[i + 1] ?? '';
    });
    return rec;
  });
}

const cell = (v: string | number | undefined) => {
  const s = v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

function outcomesCsv(rows: CampaignRow[]): string {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r.params)))];
  const head = ['row', 'to', ...keys, 'status', 'attempts', 'outcome', 'call_sid', 'summary'];
  const lines = rows.map((r) =>
    [
      r.index + 1,
      r.to,
      ...keys.map((k) => r.params[k]),
      r.state,
      r.attempts,
      r.outcome,
      r.callSid,
      r.summary,
    ]
      .map(cell)
      .join(','),
  );
  return [head.join(','), ...lines].join('\n') + '\n';
}

export function registerCampaigns(
  app: FastifyInstance,
  deps: { store: CallStore; agents: AgentRegistry; adminGuard: preHandlerAsyncHookHandler },
): void {
  const { store } = deps;
  const fail = sendOutboundError;
  const notFound = (reply: FastifyReply) =>
    reply.code(404).send({ error: { code: 'CAMPAIGN_NOT_FOUND', message: 'no such campaign' } });

  void app.register((scope, _opts, done) => {
    scope.addContentTypeParser(
      ['text/csv', 'text/plain'],
      { parseAs: 'string', bodyLimit: 20 * 1024 * 1024 },
      (_req, body, next) => next(null, body),
    );
    scope.post('/api/campaigns', { preHandler: deps.adminGuard }, async (request, reply) => {
      try {
        let body: Record<string, unknown>;
        let records: Array<Record<string, unknown>>;
        if (typeof request.body === 'string') {
          body = settingsFromQuery(request.query as Record<string, unknown>);
          records = csvRecords(request.body);
        } else {
          body = (request.body ?? {}) as Record<string, unknown>;
          if (typeof body.csv === 'string') records = csvRecords(body.csv);
          else if (Array.isArray(body.rows)) records = body.rows as Array<Record<string, unknown>>;
          else
            throw new OutboundRequestError(
              400,
              'CAMPAIGN_BAD_REQUEST',
              '"rows" (or "csv") is required',
            );
        }
        const input = checkCampaign(body, records, deps.agents);
        if (input.rows.length === 0) {
          return reply.code(400).send({
            error: { code: 'CAMPAIGN_NO_VALID_ROWS', message: 'no row has a valid number' },
            rejected: input.rejected,
          });
        }
        const id = await store.campaigns.create(input.settings, input.rows);
        request.log.info(
          { campaignId: id, rows: input.rows.length, rejected: input.rejected.length },
          'campaign created',
        );
        return reply.code(201).send({ id, accepted: input.rows.length, rejected: input.rejected });
      } catch (err) {
        return fail(reply, err);
      }
    });
    done();
  });

  app.get('/api/campaigns/:id', { preHandler: deps.adminGuard }, async (request, reply) => {
    const { id } = request.params as { id: string };
    try {
      const found = await store.campaigns.get(id);
      if (!found) return notFound(reply);
      const { campaign: c, rows } = found;
      const status =
        c.status === 'running' && !inWindow(Date.now(), c.window) ? 'waiting_window' : c.status;
      const byState: Record<string, number> = { pending: 0, dialing: 0, calling: 0, done: 0 };
      const outcomes: Record<string, number> = {};
      for (const r of rows) {
        byState[r.state] = (byState[r.state] ?? 0) + 1;
        if (r.state === 'done' && r.outcome) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
      }
      return {
        id: c.id,
        name: c.name,
        agent: c.agent,
        status,
        ...(status === 'waiting_window'
          ? {
              statusDetail: `outside the calling window ${c.window.start}–${c.window.end} (${c.window.timezone})`,
            }
          : {}),
        ...(c.pauseReason ? { pauseReason: c.pauseReason } : {}),
        settings: {
          concurrency: c.concurrency,
          calls_per_second: c.callsPerSecond,
          window: c.window,
          retry: { on: c.retry.on, max_attempts: c.retry.maxAttempts, after_ms: c.retry.afterMs },
        },
        counts: { total: rows.length, ...byState, outcomes },
        rows: rows.map((r) => ({
          to: r.to,
          status: r.state,
          attempts: r.attempts,
          outcome: r.outcome,
          callSid: r.callSid,
        })),
      };
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get(
    '/api/campaigns/:id/outcomes.csv',
    { preHandler: deps.adminGuard },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      try {
        const found = await store.campaigns.get(id);
        if (!found) return notFound(reply);
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="campaign-${id}.csv"`)
          .send(outcomesCsv(found.rows));
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  for (const action of ['pause', 'resume', 'cancel'] as const) {
    app.post(
      `/api/campaigns/:id/${action}`,
      { preHandler: deps.adminGuard },
      async (request, reply) => {
        const { id } = request.params as { id: string };
        try {
          const ok =
            action === 'cancel'
              ? await store.campaigns.cancel(id)
              : await store.campaigns.setStatus(id, action === 'pause' ? 'paused' : 'running', {
                  from: action === 'pause' ? ['running'] : ['paused'],
                  ...(action === 'pause' ? { reason: 'paused by an operator' } : {}),
                });
          if (!ok) {
            const found = await store.campaigns.get(id);
            if (!found) return notFound(reply);
            return reply.code(409).send({
              error: {
                code: 'CAMPAIGN_STATE',
                message: `cannot ${action} a campaign that is ${found.campaign.status}`,
              },
            });
          }
          return { id, action, ok: true };
        } catch (err) {
          return fail(reply, err);
        }
      },
    );
  }
}
