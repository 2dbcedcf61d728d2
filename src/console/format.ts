/**
 * How the console writes times and lengths: wall times in the operator's zone
 * (`CONSOLE_TIMEZONE`), lengths as m:ss or milliseconds, and dates typed into a filter read as
 * midnight in that zone.
 */

export class Clock {
  private readonly dateTime: Intl.DateTimeFormat;
  private readonly parts: Intl.DateTimeFormat;
  private readonly brief: Intl.DateTimeFormat;

  constructor(readonly timeZone: string) {
    this.dateTime = new Intl.DateTimeFormat('en-IN', {
      timeZone,
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hour12: false,
    });
    this.brief = new Intl.DateTimeFormat('en-IN', {
      timeZone,
      day: 'numeric',
      month: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hour12: false,
    });
    this.parts = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** "26 Nov 2026, 14:05:09". */
  format(ms: number): string {
    return this.dateTime.format(ms);
  }

  /** "26 Nov, 14:05", for lists. */
  short(ms: number): string {
    return this.brief.format(ms);
  }

  /** The zone's offset from UTC at `ms`, in ms (Asia/Kolkata: +5.5 h). */
  private offsetAt(ms: number): number {
    const p = Object.fromEntries(this.parts.formatToParts(ms).map((x) => [x.type, x.value]));
    const local = Date.UTC(
      Number(p.year),
      Number(p.month) - 1,
      Number(p.day),
      Number(p.hour),
      Number(p.minute),
      Number(p.second),
    );
    return local - Math.floor(ms / 1000) * 1000;
  }

  /** Epoch ms of midnight at the start of `yyyy-mm-dd` in the zone; undefined if malformed. */
  startOfDay(date: string): number | undefined {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
    if (!m) return undefined;
    const utc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    if (Number.isNaN(utc)) return undefined;
    // Twice, so a day on which the offset changes still lands on its local midnight.
    const first = utc - this.offsetAt(utc);
    return utc - this.offsetAt(first);
  }
}

/** "4:07" (or "1:02:03"); "–" when unknown. */
export function clockLength(ms: number | undefined): string {
  if (ms === undefined) return '–';
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** "1 234 ms" style for latencies; "–" when unknown. */
export function millis(ms: number | undefined): string {
  return ms === undefined ? '–' : `${Math.round(ms).toLocaleString('en-IN')} ms`;
}
