/**
 * One call: what happened (who, how long, how it ended, the summary), the recording, the
 * conversation as the caller lived it (the bot's words split into heard and not heard where the
 * caller cut in, keys pressed, tool calls with their results, errors and fallbacks), a latency
 * waterfall per turn, and the call's events. Clicking a turn's time seeks the recording there.
 */
import type { CallDetail, CallEventRow, TurnRow } from '../store/index.js';
import type { StoredTimings } from '../store/index.js';
import { endedText, statusBadge } from './calls-page.js';
import { clockLength, millis, type Clock } from './format.js';
import { html, type Html } from './html.js';
import { fact, tableHead } from './layout.js';

type Timing = keyof StoredTimings['relative'];

/** The stages drawn in the waterfall: from one timing to another, relative to end of speech. */
const STAGES: Array<{ key: string; label: string; from: Timing | 'zero'; to: Timing }> = [
  { key: 'endpoint', label: 'Endpoint', from: 'zero', to: 'endpointAt' },
  { key: 'stt', label: 'STT', from: 'sttStartAt', to: 'sttEndAt' },
  { key: 'llm', label: 'LLM first token', from: 'llmRequestAt', to: 'llmFirstTokenAt' },
  { key: 'tts', label: 'TTS first byte', from: 'ttsRequestAt', to: 'ttsFirstByteAt' },
  { key: 'audio', label: 'First audio', from: 'zero', to: 'firstAudioAt' },
];

interface Bar {
  key: string;
  label: string;
  start: number;
  end: number;
}

function bars(t: StoredTimings): Bar[] {
  if (t.anchor === undefined) return [];
  const out: Bar[] = [];
  for (const s of STAGES) {
    const start = s.from === 'zero' ? 0 : t.relative[s.from];
    const end = t.relative[s.to];
    if (start === undefined || end === undefined) continue;
    out.push({ key: s.key, label: s.label, start, end: Math.max(start, end) });
  }
  return out;
}

/** The waterfall of every turn that has speech timings, on one shared scale. */
function waterfall(turns: TurnRow[]): Html {
  const rows = turns
    .filter((t) => t.role === 'bot')
    .map((t) => ({ turn: t, bars: bars(t.timings) }))
    .filter((r) => r.bars.length > 0);
  if (rows.length === 0) return html`<p class="empty">No turn has speech timings.</p>`;
  const min = Math.min(0, ...rows.flatMap((r) => r.bars.map((b) => b.start)));
  const max = Math.max(1, ...rows.flatMap((r) => r.bars.map((b) => b.end)));
  const span = max - min;
  const x = (ms: number) => ((ms - min) / span) * 1000;
  return html`<p class="hint">
      Each bar runs from when a stage started to when it answered, measured from the moment the
      caller stopped speaking (the line at 0). Scale: ${millis(min)} to ${millis(max)}.
    </p>
    <ol class="waterfall">
      ${rows.map(
        (r) =>
          html`<li data-turn="${r.turn.index}">
            <h3>
              Turn
              ${r.turn.index}${r.turn.preemptiveStt && html` <small>(STT started early)</small>`}
            </h3>
            <dl>
              ${r.bars.map(
                (b) =>
                  html`<div class="stage stage-${b.key}">
                    <dt>${b.label}</dt>
                    <dd>
                      <span class="ms">${millis(b.end - b.start)}</span>
                      <svg viewBox="0 0 1000 12" preserveAspectRatio="none" aria-hidden="true">
                        <line
                          x1="${x(0).toFixed(1)}"
                          x2="${x(0).toFixed(1)}"
                          y1="0"
                          y2="12"
                          class="zero"
                        />
                        <rect
                          x="${x(b.start).toFixed(1)}"
                          width="${Math.max(2, x(b.end) - x(b.start)).toFixed(1)}"
                          y="1"
                          height="10"
                        />
                      </svg>
                    </dd>
                  </div>`,
              )}
            </dl>
          </li>`,
      )}
    </ol>`;
}

/** The bot's words: what the caller heard, then what they did not (struck through). */
function botWords(t: TurnRow): Html {
  const heard = t.heardText ?? t.text;
  if (!t.interrupted || heard === t.text) return html`<p class="words">${t.text}</p>`;
  if (t.text.startsWith(heard)) {
    const rest = t.text.slice(heard.length);
    return html`<p class="words">
      <span class="heard">${heard}</span>${
        rest.trim() &&
        html`<s class="unheard"><span class="sr-only"> (not heard:) </span>${rest}</s>`
      }
    </p>`;
  }
  return html`<p class="words"><span class="heard">${heard || '(nothing)'}</span></p>
    <p class="words unheard-all">
      <span class="sr-only">Generated but not heard: </span><s class="unheard">${t.text}</s>
    </p>`;
}

function toolCalls(t: TurnRow): Html {
  return html`${t.toolCalls.map(
    (c) =>
      html`<details class="tool tool-${c.status}">
        <summary>Tool <code>${c.name}</code> · ${c.status} · ${millis(c.durationMs)}</summary>
        <dl>
          <dt>Arguments</dt>
          <dd><pre>${c.arguments}</pre></dd>
          <dt>Result</dt>
          <dd><pre>${c.result}</pre></dd>
        </dl>
      </details>`,
  )}`;
}

/** Keys pressed less than this apart are shown as one entry. */
const KEY_GROUP_MS = 3_000;

interface Item {
  at: number;
  order: number;
  body: Html;
}

function seekButton(atMs: number, origin: number, hasRecording: boolean): Html {
  const offset = Math.max(0, atMs - origin);
  const label = clockLength(offset);
  if (!hasRecording) return html`<span class="at">${label}</span>`;
  return html`<button
    type="button"
    class="seek at"
    data-seek="${(offset / 1000).toFixed(2)}"
    aria-label="Play the recording from ${label}"
  >
    ▶ ${label}
  </button>`;
}

function conversation(detail: CallDetail, origin: number, hasRecording: boolean): Html {
  const items: Item[] = [];
  for (const t of detail.turns) {
    const at = seekButton(t.atMs, origin, hasRecording);
    if (t.role === 'user') {
      items.push({
        at: t.atMs,
        order: t.index * 2,
        body: html`<li class="msg caller" data-turn="${t.index}">
          <div class="meta">${at} <span>Caller${t.source === 'dtmf' && ' (keypad)'}</span></div>
          <p class="words">${t.text || '(nothing heard)'}</p>
        </li>`,
      });
      continue;
    }
    const badges = [
      t.interrupted && html`<span class="badge warn">interrupted</span>`,
      t.fallback && html`<span class="badge bad">fallback line</span>`,
      t.ending === 'end_call' && html`<span class="badge">ended the call</span>`,
      t.ending === 'transfer' && html`<span class="badge">transferred</span>`,
      ...t.errors.map((e) => html`<span class="badge bad">${e}</span>`),
    ];
    items.push({
      at: t.atMs,
      order: t.index * 2 + 1,
      body: html`<li class="msg bot" data-turn="${t.index}">
        <div class="meta">${at} <span>Bot</span> ${badges}</div>
        ${toolCalls(t)} ${t.filler && html`<p class="filler">While the tool ran: “${t.filler}”</p>`}
        ${botWords(t)}
        ${
          t.spokenText &&
          html`<details class="spoken">
            <summary>Spoken as</summary>
            <p class="words">${t.spokenText}</p>
          </details>`
        }
      </li>`,
    });
  }
  // Keys pressed within a few seconds of each other are one entry.
  const keys: CallEventRow[][] = [];
  for (const e of detail.events) {
    if (e.kind !== 'dtmf') continue;
    const group = keys.at(-1);
    if (group && e.atMs - group.at(-1)!.atMs < KEY_GROUP_MS) group.push(e);
    else keys.push([e]);
  }
  for (const group of keys) {
    const first = group[0]!;
    items.push({
      at: first.atMs,
      order: Number.MAX_SAFE_INTEGER,
      body: html`<li class="msg key">
        <div class="meta">${seekButton(first.atMs, origin, hasRecording)} <span>Keypad</span></div>
        <p class="words">pressed ${group.map((e) => html`<kbd>${e.detail ?? '?'}</kbd> `)}</p>
      </li>`,
    });
  }
  items.sort((a, b) => a.at - b.at || a.order - b.order);
  if (items.length === 0) return html`<p class="empty">Nothing was said yet.</p>`;
  return html`<ol class="conversation">
    ${items.map((i) => i.body)}
  </ol>`;
}

function events(list: CallEventRow[], origin: number): Html {
  if (list.length === 0) return html`<p class="empty">No events.</p>`;
  return html`<table class="events">
    ${tableHead(['At', 'Kind', 'Code', 'Detail'])}
    <tbody>
      ${list.map(
        (e) =>
          html`<tr class="${e.kind === 'error' && 'bad'}">
            <td data-label="At">${clockLength(e.atMs - origin)}</td>
            <td data-label="Kind">${e.kind}</td>
            <td data-label="Code">${e.code ?? '–'}</td>
            <td data-label="Detail">${e.detail ?? '–'}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export function callPage(detail: CallDetail, clock: Clock, now: number): Html {
  const c = detail.call;
  const origin = c.startedAtMs ?? c.connectedAtMs;
  const live = c.status === 'live';
  const hasRecording = c.recordingMs !== undefined && !live;
  const length = c.durationMs ?? (live ? now - c.connectedAtMs : undefined);
  const params = Object.entries(c.customParameters);
  return html`<h1>Call ${statusBadge(c.status)}</h1>
    <dl class="facts">
      ${fact('Started', clock.format(origin))} ${fact('From', c.from ?? '–')}
      ${fact('To', c.to ?? '–')} ${fact('Agent', c.agent ?? '–')}
      ${fact('Length', clockLength(length))}
      ${fact(
        'Ended',
        html`${endedText(c)} ${c.endDetail && html`<br /><small>${c.endDetail}</small>`}
        ${c.transferTo && html`<br /><small>to ${c.transferTo}</small>`}`,
      )}
      ${fact('Turns', c.turnCount)} ${fact('Barge-ins', c.bargeInCount)}
      ${fact('Errors', c.errorCount)}
      ${fact('Sample rate', c.sampleRate ? `${c.sampleRate} Hz` : '–')}
      ${fact('Call SID', html`<code>${c.callSid ?? '–'}</code>`)}
    </dl>
    ${
      params.length > 0 &&
      html`<details class="params">
        <summary>Call parameters (${params.length})</summary>
        <dl>
          ${params.map(
            ([k, v]) =>
              html`<div>
                <dt><code>${k}</code></dt>
                <dd>${v.length > 160 ? `${v.slice(0, 160)}… (${v.length} characters)` : v}</dd>
              </div>`,
          )}
        </dl>
      </details>`
    }
    <section aria-labelledby="rec-h">
      <h2 id="rec-h">Recording</h2>
      ${
        hasRecording
          ? html`<audio
                id="recording"
                controls
                preload="metadata"
                src="/api/calls/${c.id}/recording"
                data-duration-ms="${c.recordingMs}"
              ></audio>
              <p class="hint">
                Caller on the left, bot on the right. ${clockLength(c.recordingMs)} ·
                <a href="/api/calls/${c.id}/recording" download="call-${c.id}.wav">download WAV</a>
              </p>`
          : html`<p class="empty">
              ${live ? 'The recording is ready when the call ends.' : 'This call has no recording.'}
            </p>`
      }
    </section>
    <section aria-labelledby="sum-h">
      <h2 id="sum-h">Summary</h2>
      ${
        c.summary
          ? html`<p class="summary">${c.summary}</p>`
          : html`<p class="empty">
              ${
                {
                  none: 'No summary.',
                  pending: 'Being written…',
                  failed: 'The summary failed.',
                  done: '',
                }[c.summaryStatus]
              }
            </p>`
      }
    </section>
    <section
      aria-labelledby="conv-h"
      id="conversation"
      ${
        live &&
        html`hx-get="/console/calls/${c.id}" hx-select="#conversation" hx-target="this"
        hx-swap="outerHTML" hx-trigger="every 2s"`
      }
    >
      <h2 id="conv-h">Conversation</h2>
      ${conversation(detail, origin, hasRecording)}
    </section>
    <section aria-labelledby="wf-h">
      <h2 id="wf-h">Latency per turn</h2>
      ${waterfall(detail.turns)}
    </section>
    <section aria-labelledby="ev-h">
      <h2 id="ev-h">Events</h2>
      ${events(detail.events, origin)}
    </section>`;
}
