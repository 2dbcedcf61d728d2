/**
 * The frame every console page shares: head (one stylesheet, htmx and the console's own
 * script, all served by us), a skip link, the navigation and a sign-out button.
 */
import { html, type Html } from './html.js';

export type Section = 'calls' | 'live' | 'outbound' | 'campaigns' | 'agents' | 'try';

const NAV: Array<[Section, string, string]> = [
  ['calls', '/console/calls', 'Calls'],
  ['live', '/console/live', 'Live'],
  ['outbound', '/console/outbound', 'Outbound'],
  ['campaigns', '/console/campaigns', 'Campaigns'],
  ['agents', '/console/agents', 'Agents'],
  ['try', '/console/try', 'Try an agent'],
];

export interface PageOptions {
  title: string;
  section?: Section;
  /** Extra module scripts (paths under /console/assets/). */
  scripts?: string[];
}

export function page(opts: PageOptions, body: Html): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <meta name="htmx-config" content='{"includeIndicatorStyles":false,"historyCacheSize":0}' />
        <title>${opts.title} · Voicebot console</title>
        <link rel="stylesheet" href="/console/assets/console.css" />
        <script src="/console/assets/htmx.min.js" defer></script>
        <script src="/console/assets/console.js" type="module"></script>
        ${(opts.scripts ?? []).map(
          (s) => html`<script src="/console/assets/${s}" type="module"></script>`,
        )}
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <a class="brand" href="/console/calls">Voicebot console</a>
          ${
            opts.section &&
            html`<nav aria-label="Console">
                <ul>
                  ${NAV.map(
                    ([key, href, label]) =>
                      html`<li>
                        <a href="${href}" ${key === opts.section && html`aria-current="page"`}
                          >${label}</a
                        >
                      </li>`,
                  )}
                </ul>
              </nav>
              <form method="post" action="/console/sign-out" class="sign-out">
                <button type="submit">Sign out</button>
              </form>`
          }
        </header>
        <main id="main" tabindex="-1">${body}</main>
      </body>
    </html>`;
}

/** One labelled value in a `<dl class="facts">`; nothing when the value is unknown. */
export function fact(label: string, value: Html | string | number | undefined): Html {
  return value === undefined || value === ''
    ? html``
    : html`<div>
        <dt>${label}</dt>
        <dd>${value}</dd>
      </div>`;
}

/** A table's header row; `num` columns are right-aligned. */
export function tableHead(columns: ReadonlyArray<string | [string, 'num']>): Html {
  return html`<thead>
    <tr>
      ${columns.map((c) =>
        typeof c === 'string'
          ? html`<th scope="col">${c}</th>`
          : html`<th scope="col" class="num">${c[0]}</th>`,
      )}
    </tr>
  </thead>`;
}
