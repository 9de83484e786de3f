// View-model formatting: the route formats, templates only print.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      fractionalSecondDigits: 3,
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export interface FormattedDate {
  /** 01/15/2025, 14:32:07.842 in the configured zone, or a dash */
  text: string;
  /** the exact instant (ISO 8601, UTC) for <time datetime>, or null when there is none */
  iso: string | null;
}

/** The seed's millisecond format; a dash when the entry has no valid timestamp. */
export function formatTimestamp(ms: number | null | undefined, timeZone: string): FormattedDate {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return { text: '-', iso: null };
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return { text: '-', iso: null };
  return { text: formatter(timeZone).format(date), iso: date.toISOString() };
}

/** A shorter form for lists (created, expires): 01/15/2025, 14:32 */
export function formatDay(ms: number | null | undefined, timeZone: string): string {
  const { text } = formatTimestamp(ms, timeZone);
  return text === '-' ? '-' : text.slice(0, 17);
}
