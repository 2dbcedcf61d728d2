/**
 * The smaller console pages: sign-in, live calls (a table that htmx refreshes every two
 * seconds), the loaded agent profiles, and "Try an agent" (whose work is done by try.js).
 */
import type { AgentProfile } from '../agents/profile.js';
import type { CallListRow, OutboundCall } from '../store/index.js';
import { callsTable, statusBadge } from './calls-page.js';
import type { Clock } from './format.js';
import { html, type Html } from './html.js';
import { fact, tableHead } from './layout.js';

export function signInPage(message?: string): Html {
  return html`<section class="sign-in">
    <h1>Sign in</h1>
    <p>Enter the server's admin key (<code>ADMIN_API_KEY</code>).</p>
    ${message && html`<p class="error" role="alert">${message}</p>`}
    <form method="post" action="/console/sign-in">
      <label
        >Admin key
        <input
          type="password"
          name="key"
          required
          minlength="16"
          autocomplete="current-password"
          autofocus
      /></label>
      <button type="submit">Sign in</button>
    </form>
  </section>`;
}

/** The live table; htmx swaps it for a fresh copy every two seconds. */
export function liveSection(calls: CallListRow[], clock: Clock, now: number): Html {
  return html`<section
    id="live"
    hx-get="/console/live/rows"
    hx-trigger="every 2s"
    hx-swap="outerHTML"
    aria-live="polite"
  >
    <p class="count" data-live-count="${calls.length}">
      ${
        calls.length === 0
          ? 'No calls in progress.'
          : `${calls.length} call${calls.length === 1 ? '' : 's'} in progress.`
      }
      <small>Updated ${clock.format(now)}.</small>
    </p>
    ${calls.length > 0 && callsTable(calls, clock, now)}
  </section>`;
}

export function livePage(calls: CallListRow[], clock: Clock, now: number): Html {
  return html`<h1>Live calls</h1>
    <p class="hint">
      Every call in progress on any instance that shares this database. The list updates itself.
    </p>
    ${liveSection(calls, clock, now)}`;
}

function agentCard(p: AgentProfile, isDefault: boolean): Html {
  return html`<article class="agent" id="agent-${p.name}">
    <h2>${p.name} ${isDefault && html`<span class="badge">default</span>`}</h2>
    ${p.description && html`<p>${p.description}</p>`}
    <dl class="facts">
      ${fact('Persona', `${p.personaName}, ${p.personaAge}, ${p.gender}, ${p.city}`)}
      ${fact('Tone', p.tone)} ${fact('Language', p.language)} ${fact('Voice', p.voice)}
      ${fact('Greeting', p.greetingText)}
      ${fact(
        'Models',
        [p.models.llm, p.models.stt, p.models.tts].some(Boolean)
          ? `LLM ${p.models.llm ?? 'default'}, STT ${p.models.stt ?? 'default'}, TTS ${p.models.tts ?? 'default'}`
          : 'server defaults',
      )}
      ${fact('Endpointing', p.endpointingMs && `${p.endpointingMs} ms`)}
      ${fact('Barge-in after', p.bargeInMs !== undefined ? `${p.bargeInMs} ms` : undefined)}
      ${fact('Fallback line', p.fallbackText)} ${fact('Goodbye line', p.goodbyeText)}
      ${fact(
        'Idle',
        p.idle &&
          `after ${p.idle.afterMs ?? 'default'} ms, ${p.idle.prompts ?? 'default'} prompts${p.idle.message ? `: “${p.idle.message}”` : ''}`,
      )}
      ${fact('Longest call', p.maxCallMs && `${Math.round(p.maxCallMs / 60000)} min`)}
      ${fact('Documents', p.documents ? `${p.documents.length.toLocaleString('en-IN')} characters` : 'none')}
    </dl>
    <h3>Tools</h3>
    <ul class="tools">
      ${p.endCall !== false && html`<li><code>end_call</code> (built in): hang up when done</li>`}
      ${
        p.transfer &&
        html`<li><code>transfer_call</code> (built in): hand over to ${p.transfer.number}</li>`
      }
      ${p.tools.map(
        (t) =>
          html`<li>
            <code>${t.name}</code>: ${t.description}
            <small>${t.method} ${t.url.split('?')[0]} · ${t.timeoutMs} ms</small>
          </li>`,
      )}
      ${p.tools.length === 0 && !p.transfer && p.endCall === false && html`<li>None.</li>`}
    </ul>
    <p><a href="/console/try?agent=${p.name}">Try ${p.name} →</a></p>
  </article>`;
}

export function agentsPage(profiles: AgentProfile[], defaultAgent: string | undefined): Html {
  return html`<h1>Agents</h1>
    <p class="hint">
      The profiles loaded from <code>AGENTS_DIR</code> at start-up (read-only: edit the files and
      restart). A call picks one with the <code>agent</code> custom parameter.
    </p>
    ${
      profiles.length === 0
        ? html`<p class="empty">
            No profiles are loaded; calls use the server's environment settings.
          </p>`
        : profiles.map((p) => agentCard(p, p.name === defaultAgent))
    }`;
}

export function tryPage(agents: string[], selected: string | undefined): Html {
  return html`<h1>Try an agent</h1>
    <p class="hint">
      Talk to an agent from this browser, over the same WebSocket protocol Exotel uses. Headphones
      keep the bot from hearing itself. The call is recorded and listed like any other.
    </p>
    <form id="try" class="try" aria-describedby="try-status">
      <label
        >Agent
        <select name="agent">
          ${agents.length === 0 && html`<option value="">server default</option>`}
          ${agents.map(
            (a) => html`<option value="${a}" ${a === selected && html`selected`}>${a}</option>`,
          )}
        </select></label
      >
      <label
        >Sample rate
        <select name="rate">
          <option value="8000">8 kHz (phone)</option>
          <option value="16000" selected>16 kHz</option>
        </select></label
      >
      <div class="actions">
        <button type="submit" id="talk">Talk</button>
        <button type="button" id="hangup" disabled>Hang up</button>
      </div>
    </form>
    <p id="try-status" role="status" data-state="idle">Press Talk and allow the microphone.</p>
    <p class="meters" id="meters">
      Sent <span id="sent-ms">0</span> ms of your voice · heard <span id="played-ms">0</span> ms of
      the bot
    </p>
    <section aria-labelledby="tt-h">
      <h2 id="tt-h">Transcript</h2>
      <ol id="transcript" class="conversation" aria-live="polite"></ol>
      <p id="call-link" hidden><a href="#">Open this call's record →</a></p>
    </section>`;
}

/** The outbound calls placed (POST /api/calls/outbound), newest first, with how each went. */
export function outboundPage(calls: OutboundCall[], clock: Clock): Html {
  const when = (ms: number | undefined) => (ms === undefined ? '–' : clock.short(ms));
  return html`<h1>Outbound calls</h1>
    <p class="hint">
      Calls placed through Exotel (<code>POST /api/calls/outbound</code>), the newest 100, with
      Exotel's status for each; answered calls link to their conversation.
    </p>
    ${
      calls.length === 0
        ? html`<p class="empty">No outbound calls yet.</p>`
        : html`<table class="calls">
            ${tableHead(['Placed', 'To', 'Agent', 'Status', 'Answered', 'Ended', 'Problem', 'Call'])}
            <tbody>
              ${calls.map(
                (c) =>
                  html`<tr data-outbound="${c.id}">
                    <td data-label="Placed" class="when">${clock.short(c.createdAtMs)}</td>
                    <td data-label="To">${c.to}</td>
                    <td data-label="Agent">${c.agent ?? '–'}</td>
                    <td data-label="Status">${statusBadge(c.status)}</td>
                    <td data-label="Answered" class="when">${when(c.answeredAtMs)}</td>
                    <td data-label="Ended" class="when">${when(c.endedAtMs)}</td>
                    <td data-label="Problem">${c.error ?? '–'}</td>
                    <td data-label="Call">
                      ${
                        c.answeredAtMs !== undefined && c.callSid
                          ? html`<a href="/console/calls/${c.callSid}">conversation</a>`
                          : '–'
                      }
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }`;
}
