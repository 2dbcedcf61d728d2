/**
 * Campaigns in the console: the list (status, progress), and one campaign (its settings, counts
 * by outcome, each row, pause / resume / cancel, and the outcome CSV).
 */
import { inWindow } from '../outbound/campaigns.js';
import type { Campaign, CampaignRow, CampaignSummary } from '../store/index.js';
import { statusBadge } from './calls-page.js';
import type { Clock } from './format.js';
import { html, type Html } from './html.js';
import { fact, tableHead } from './layout.js';

/** running, or waiting_window when outside its calling window now. */
function shownStatus(c: Campaign, now: number): string {
  return c.status === 'running' && !inWindow(now, c.window) ? 'waiting_window' : c.status;
}

export function campaignsPage(list: CampaignSummary[], clock: Clock, now: number): Html {
  return html`<h1>Campaigns</h1>
    <p class="hint">
      Started with <code>POST /api/campaigns</code> (JSON rows or a CSV); see the README.
    </p>
    ${
      list.length === 0
        ? html`<p class="empty">No campaigns yet.</p>`
        : html`<table class="calls">
            ${tableHead(['Created', 'Name', 'Agent', 'Status', ['Done', 'num'], ['In progress', 'num'], 'Window'])}
            <tbody>
              ${list.map(
                (c) =>
                  html`<tr data-campaign="${c.id}">
                    <td data-label="Created" class="when">
                      <a href="/console/campaigns/${c.id}">${clock.short(c.createdAtMs)}</a>
                    </td>
                    <td data-label="Name">${c.name}</td>
                    <td data-label="Agent">${c.agent ?? 'default'}</td>
                    <td data-label="Status">${statusBadge(shownStatus(c, now))}</td>
                    <td data-label="Done" class="num">${c.counts.done} / ${c.counts.total}</td>
                    <td data-label="In progress" class="num">${c.counts.active}</td>
                    <td data-label="Window">${c.window.start}–${c.window.end}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }`;
}

export function campaignPage(c: Campaign, rows: CampaignRow[], clock: Clock, now: number): Html {
  const status = shownStatus(c, now);
  const outcomes: Record<string, number> = {};
  for (const r of rows)
    if (r.state === 'done' && r.outcome) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  const action = (name: string, label: string) =>
    html`<form method="post" action="/console/campaigns/${c.id}/${name}">
      <button type="submit">${label}</button>
    </form>`;
  return html`<h1>${c.name} ${statusBadge(status)}</h1>
    ${c.pauseReason && html`<p class="error" role="status">${c.pauseReason}</p>`}
    ${
      status === 'waiting_window' &&
      html`<p class="hint">
        Outside its calling window: nothing is dialled until ${c.window.start}.
      </p>`
    }
    <div class="actions">
      ${c.status === 'running' && action('pause', 'Pause')}
      ${c.status === 'paused' && action('resume', 'Resume')}
      ${(c.status === 'running' || c.status === 'paused') && action('cancel', 'Cancel')}
      <a href="/api/campaigns/${c.id}/outcomes.csv" download>Outcomes CSV</a>
    </div>
    <dl class="facts">
      ${fact('Created', clock.format(c.createdAtMs))} ${fact('Agent', c.agent ?? 'default')}
      ${fact('Rows', rows.length)} ${fact('Done', rows.filter((r) => r.state === 'done').length)}
      ${fact('In progress', rows.filter((r) => r.state === 'dialing' || r.state === 'calling').length)}
      ${fact('Concurrency', c.concurrency)} ${fact('Calls a second', c.callsPerSecond)}
      ${fact('Window', `${c.window.start}–${c.window.end} (${c.window.timezone})`)}
      ${fact('Retry', `${c.retry.on.join(', ') || 'nothing'}; up to ${c.retry.maxAttempts} attempts, ${Math.round(c.retry.afterMs / 60_000)} min apart`)}
      ${fact(
        'Outcomes',
        Object.entries(outcomes)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ') || '–',
      )}
    </dl>
    <h2>Rows</h2>
    <table class="calls">
      ${tableHead([['Row', 'num'], 'Number', 'Status', ['Attempts', 'num'], 'Outcome', 'Call'])}
      <tbody>
        ${rows.slice(0, 1000).map(
          (r) =>
            html`<tr data-row="${r.index}">
              <td data-label="Row" class="num">${r.index + 1}</td>
              <td data-label="Number">${r.to}</td>
              <td data-label="Status">${r.state}</td>
              <td data-label="Attempts" class="num">${r.attempts}</td>
              <td data-label="Outcome">${r.outcome ?? '–'}</td>
              <td data-label="Call">
                ${
                  r.callSid && r.outcome === 'completed'
                    ? html`<a href="/console/calls/${r.callSid}">conversation</a>`
                    : '–'
                }
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${rows.length > 1000 && html`<p class="hint">The first 1,000 rows; the CSV has them all.</p>`}`;
}
