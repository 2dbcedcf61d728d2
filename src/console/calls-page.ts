/**
 * The calls list: newest first, 50 a page, filtered by date, number, agent, status and who or
 * what ended the call. The filter form is POSTed, so a phone number typed into it never appears
 * in a URL (or in a proxy's access log); paging re-posts the same form with the next cursor.
 */
import type { CallListRow, CallRow, ListCallsQuery } from '../store/index.js';
import type { EndReason, HangupBy } from '../store/schema.js';
import { clockLength, millis, type Clock } from './format.js';
import { html, type Html } from './html.js';
import { tableHead } from './layout.js';

export const STATUSES = ['live', 'completed', 'failed', 'abandoned'] as const;
export const HANGUP_BY: HangupBy[] = ['caller', 'bot', 'unknown'];
export const END_REASONS: EndReason[] = [
  'caller_hangup',
  'end_call',
  'transfer',
  'idle',
  'max_duration',
  'voicemail',
  'stream_stopped',
  'connection_lost',
  'shutdown',
  'refused',
  'server_lost',
];

/** What the filter form sends (every field a string; empty means "any"). */
export interface CallFilters {
  from: string;
  to: string;
  number: string;
  agent: string;
  status: string;
  ended_by: string;
  reason: string;
}

export const NO_FILTERS: CallFilters = {
  from: '',
  to: '',
  number: '',
  agent: '',
  status: '',
  ended_by: '',
  reason: '',
};

const DAY_MS = 24 * 60 * 60 * 1000;

/** The form's fields read from a body or query; unknown values are dropped, not trusted. */
export function readFilters(input: Record<string, unknown> | undefined): CallFilters {
  const get = (k: keyof CallFilters) => {
    const v = input?.[k];
    return typeof v === 'string' ? v.trim().slice(0, 64) : '';
  };
  const oneOf = (v: string, allowed: readonly string[]) => (allowed.includes(v) ? v : '');
  return {
    from: get('from'),
    to: get('to'),
    number: get('number'),
    agent: get('agent'),
    status: oneOf(get('status'), STATUSES),
    ended_by: oneOf(get('ended_by'), HANGUP_BY),
    reason: oneOf(get('reason'), END_REASONS),
  };
}

/** The store query for these filters; a malformed date is reported, not ignored. */
export function toQuery(
  f: CallFilters,
  clock: Clock,
): { query: ListCallsQuery } | { error: string } {
  const since = f.from ? clock.startOfDay(f.from) : undefined;
  const toDay = f.to ? clock.startOfDay(f.to) : undefined;
  if ((f.from && since === undefined) || (f.to && toDay === undefined)) {
    return { error: 'Dates must be written as YYYY-MM-DD.' };
  }
  const query: ListCallsQuery = {};
  if (since !== undefined) query.since = since;
  if (toDay !== undefined) query.until = toDay + DAY_MS;
  if (f.number) query.number = f.number;
  if (f.agent) query.agent = f.agent;
  if (f.status) query.status = f.status;
  if (f.ended_by) query.hangupBy = f.ended_by;
  if (f.reason) query.endReason = f.reason;
  return { query };
}

const select = (
  name: string,
  label: string,
  value: string,
  options: readonly string[],
  anyLabel: string,
) =>
  html`<label
    >${label}
    <select name="${name}">
      <option value="">${anyLabel}</option>
      ${options.map(
        (o) =>
          html`<option value="${o}" ${o === value && html`selected`}>
            ${o.replace('_', ' ')}
          </option>`,
      )}
    </select></label
  >`;

export function filterForm(f: CallFilters, agents: string[]): Html {
  return html`<form method="post" action="/console/calls" class="filters" aria-label="Filter calls">
    <label>From <input type="date" name="from" value="${f.from}" /></label>
    <label>To <input type="date" name="to" value="${f.to}" /></label>
    <label
      >Number
      <input
        type="tel"
        name="number"
        value="${f.number}"
        placeholder="+9198…"
        autocomplete="off"
        inputmode="tel"
    /></label>
    ${select('agent', 'Agent', f.agent, agents, 'any')}
    ${select('status', 'Status', f.status, STATUSES, 'any')}
    ${select('ended_by', 'Ended by', f.ended_by, HANGUP_BY, 'anyone')}
    ${select('reason', 'Reason', f.reason, END_REASONS, 'any')}
    <div class="actions">
      <button type="submit">Filter</button>
      <a href="/console/calls">Clear</a>
    </div>
  </form>`;
}

export function statusBadge(status: string): Html {
  return html`<span class="badge status-${status}">${status}</span>`;
}

const REASON_TEXT: Record<EndReason, string> = {
  caller_hangup: 'caller hung up',
  end_call: 'bot ended it',
  transfer: 'transferred',
  idle: 'caller silent',
  max_duration: 'time limit',
  voicemail: 'voicemail',
  stream_stopped: 'stream stopped',
  connection_lost: 'connection lost',
  shutdown: 'server restart',
  refused: 'refused',
  server_lost: 'server lost',
};

/** How a call ended, in words: the reason, and who hung up when the reason does not say. */
export function endedText(c: CallRow): string {
  if (c.status === 'live') return 'in progress';
  const reason = c.endReason ? REASON_TEXT[c.endReason] : undefined;
  const implied = c.endReason === 'caller_hangup' || c.endReason === 'end_call';
  const by = c.hangupBy && c.hangupBy !== 'unknown' && !implied ? `by ${c.hangupBy}` : undefined;
  return [reason, by].filter(Boolean).join(', ') || '–';
}

export function callsTable(calls: CallListRow[], clock: Clock, now: number): Html {
  if (calls.length === 0) return html`<p class="empty">No calls match.</p>`;
  return html`<table class="calls">
    ${tableHead([
      'Started',
      'From',
      'To',
      'Agent',
      'Status',
      'Ended',
      ['Length', 'num'],
      ['Turns', 'num'],
      ['Barge-ins', 'num'],
      ['Errors', 'num'],
      ['First audio (median)', 'num'],
      'Recording',
    ])}
    <tbody>
      ${calls.map((c) => {
        const length = c.durationMs ?? (c.status === 'live' ? now - c.connectedAtMs : undefined);
        return html`<tr data-call="${c.id}">
          <td data-label="Started" class="when">
            <a href="/console/calls/${c.id}">${clock.short(c.startedAtMs ?? c.connectedAtMs)}</a>
          </td>
          <td data-label="From">${c.from ?? '–'}</td>
          <td data-label="To">${c.to ?? '–'}</td>
          <td data-label="Agent">${c.agent ?? '–'}</td>
          <td data-label="Status">${statusBadge(c.status)}</td>
          <td data-label="Ended">${endedText(c)}</td>
          <td data-label="Length" class="num">${clockLength(length)}</td>
          <td data-label="Turns" class="num">${c.turnCount}</td>
          <td data-label="Barge-ins" class="num">${c.bargeInCount}</td>
          <td data-label="Errors" class="num ${c.errorCount > 0 && 'bad'}">${c.errorCount}</td>
          <td data-label="First audio" class="num">${millis(c.firstAudioMedianMs)}</td>
          <td data-label="Recording">
            ${c.recordingMs !== undefined ? clockLength(c.recordingMs) : '–'}
          </td>
        </tr>`;
      })}
    </tbody>
  </table>`;
}

/** "Older calls" re-posts the filters with the cursor; the button is part of the filter form. */
export function pager(f: CallFilters, nextCursor: string | undefined): Html {
  if (!nextCursor) return html``;
  return html`<form method="post" action="/console/calls" class="pager">
    ${(Object.keys(f) as Array<keyof CallFilters>).map(
      (k) => html`<input type="hidden" name="${k}" value="${f[k]}" />`,
    )}
    <button type="submit" name="cursor" value="${nextCursor}">Older calls →</button>
  </form>`;
}
