/**
 * HTML for the console's server-rendered pages: a tagged template that escapes every
 * interpolated value unless it is already `Html` (another template's result, or `raw`). Arrays
 * are joined, and `undefined`, `null` and `false` render as nothing, so conditionals read as
 * `${cond && html`...`}`.
 */

/** Markup that is safe to insert as it is. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Part = Html | string | number | boolean | null | undefined | readonly Part[];

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text made safe for element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function render(part: Part): string {
  if (part instanceof Html) return part.value;
  if (Array.isArray(part)) return part.map(render).join('');
  if (part === undefined || part === null || part === false || part === true) return '';
  return escapeHtml(String(part));
}

/**
 * The templates' own indentation, collapsed once per template: a line break and the spaces
 * after it become one line break (the same whitespace to HTML, a third of the bytes on a long
 * call). Interpolated values are never touched.
 */
const compact = new WeakMap<TemplateStringsArray, string[]>();

function statics(strings: TemplateStringsArray): string[] {
  let parts = compact.get(strings);
  if (!parts) {
    parts = strings.map((s) => s.replace(/\n\s+/g, '\n'));
    compact.set(strings, parts);
  }
  return parts;
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  const parts = statics(strings);
  let out = parts[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + parts[i + 1]!;
  return new Html(out);
}

/** Trusted markup (never caller-supplied text). */
export function raw(markup: string): Html {
  return new Html(markup);
}
