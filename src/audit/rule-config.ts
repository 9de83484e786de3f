// The context some red-flag rules need (service accounts, business hours, maintenance windows,
// people on leave or terminated, expected systems) and per-rule thresholds; kept in settings as JSON.
import { isValidTimeZone } from '../config.js';

export interface BusinessHours {
  /** "08:00" */
  start: string;
  /** "18:00" */
  end: string;
  /** 0 = Sunday … 6 = Saturday */
  days: number[];
  timeZone: string;
}

export interface MaintenanceWindow {
  /** ISO 8601 */
  start: string;
  end: string;
  note: string;
}

export interface RuleContext {
  serviceAccounts: string[];
  businessHours: BusinessHours;
  maintenanceWindows: MaintenanceWindow[];
  onLeave: string[];
  terminated: string[];
  /** user → the systems they are expected to have accounts on */
  expectedSystems: Record<string, string[]>;
}

export interface RuleSettings {
  enabled: boolean;
  thresholds: Record<string, number>;
}

export type RulesConfig = Record<string, Partial<RuleSettings>>;

export function defaultContext(timeZone: string): RuleContext {
  return {
    serviceAccounts: [],
    businessHours: { start: '07:00', end: '19:00', days: [1, 2, 3, 4, 5], timeZone },
    maintenanceWindows: [],
    onLeave: [],
    terminated: [],
    expectedSystems: {},
  };
}

const lower = (list: string[]) => list.map((s) => s.trim().toLowerCase()).filter(Boolean);

export const isIn = (list: string[], name: string | null | undefined) => !!name && lower(list).includes(name.toLowerCase());

const clocks = new Map<string, { format: Intl.DateTimeFormat; quarter: number; minutes: number; day: number }>();
const QUARTER = 15 * 60_000;
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** Minutes since local midnight and the weekday of an instant in a time zone. */
function localClock(ms: number, timeZone: string): { minutes: number; day: number } {
  // Intl formatting costs microseconds and the rules ask for every sign-in: the local time is
  // computed once per quarter hour of UTC (offsets and their changes fall on quarter hours) and
  // the minutes within the quarter are added.
  let clock = clocks.get(timeZone);
  if (!clock) {
    const format = new Intl.DateTimeFormat('en-US', { timeZone, hour: '2-digit', minute: '2-digit', weekday: 'short', hourCycle: 'h23' });
    clock = { format, quarter: Number.NaN, minutes: 0, day: 0 };
    clocks.set(timeZone, clock);
  }
  const quarter = Math.floor(ms / QUARTER);
  if (quarter !== clock.quarter) {
    const parts = clock.format.formatToParts(new Date(quarter * QUARTER));
    const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '0';
    clock.quarter = quarter;
    clock.minutes = Number(get('hour')) * 60 + Number(get('minute'));
    clock.day = WEEKDAYS.indexOf(get('weekday'));
  }
  const minutes = clock.minutes + Math.floor((ms - quarter * QUARTER) / 60_000);
  // a quarter that starts at 23:50 local ends after midnight
  return minutes >= 1440 ? { minutes: minutes - 1440, day: (clock.day + 1) % 7 } : { minutes, day: clock.day };
}

const stamps = new Map<string, Intl.DateTimeFormat>();

/**
 * An instant as a person in that zone reads it, with the weekday, the zone and its offset:
 * "Tue 2026-03-03 19:30 Europe/Paris (UTC+01:00)". For explanations of times judged against local
 * hours or windows (a UTC instant next to "07:00–19:00, Europe/Paris" reads as the wrong hour).
 * Asked only when a flag is raised. To the minute: business hours are judged to the minute.
 */
export function localTime(ms: number, timeZone: string): string {
  let format = stamps.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'longOffset',
    });
    stamps.set(timeZone, format);
  }
  const parts = format.formatToParts(new Date(ms));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  // longOffset: "GMT+01:00", or "GMT" at offset zero
  const offset = get('timeZoneName').replace(/^GMT/, '') || '+00:00';
  return `${get('weekday')} ${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')} ${timeZone} (UTC${offset})`;
}

/** An instant in UTC, saying so: "2026-03-03 18:30:00 UTC" (milliseconds only when there are some). */
export function utcTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, iso.endsWith('.000Z') ? 19 : 23)} UTC`;
}

/** The working days of business hours in words: "Mon–Fri", "Mon, Wed, Sat", "Sun–Sat". */
export function daysLabel(days: number[]): string {
  const sorted = [...new Set(days)].sort((a, b) => a - b);
  const consecutive = sorted.length > 2 && sorted.every((d, i) => i === 0 || d === sorted[i - 1]! + 1);
  if (consecutive) return `${WEEKDAYS[sorted[0]!]}–${WEEKDAYS[sorted[sorted.length - 1]!]}`;
  return sorted.map((d) => WEEKDAYS[d]).join(', ');
}

const toMinutes = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

export function withinBusinessHours(ms: number, hours: BusinessHours): boolean {
  const { minutes, day } = localClock(ms, hours.timeZone);
  const start = toMinutes(hours.start);
  const end = toMinutes(hours.end);
  if (start < end) return hours.days.includes(day) && minutes >= start && minutes < end;
  // a night shift (22:00–06:00): after the start on a working day, or before the end on the day after one
  if (minutes >= start) return hours.days.includes(day);
  return minutes < end && hours.days.includes((day + 6) % 7);
}

export function inMaintenanceWindow(ms: number, windows: MaintenanceWindow[]): MaintenanceWindow | undefined {
  return windows.find((w) => Date.parse(w.start) <= ms && ms < Date.parse(w.end));
}

/** An instant with an explicit zone (Z or ±hh:mm), so it never depends on the server's own zone. */
const ZONED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

export function isValidWindow(w: Partial<MaintenanceWindow> | null | undefined): w is MaintenanceWindow {
  return !!w && typeof w.start === 'string' && typeof w.end === 'string' && ZONED.test(w.start) && ZONED.test(w.end) && Date.parse(w.start) < Date.parse(w.end);
}

/** a time of day as the business hours hold it */
export const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;

/** Validates a context document coming from the Rules screen or the API. */
export function parseContext(input: unknown, fallbackZone: string): RuleContext {
  const base = defaultContext(fallbackZone);
  if (!input || typeof input !== 'object') return base;
  const o = input as Partial<RuleContext>;
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.trim() !== '').map((x) => x.trim()) : []);
  const hours = o.businessHours ?? base.businessHours;
  return {
    serviceAccounts: strings(o.serviceAccounts),
    businessHours: {
      start: HH_MM.test(hours.start) ? hours.start : base.businessHours.start,
      end: HH_MM.test(hours.end) ? hours.end : base.businessHours.end,
      days: Array.isArray(hours.days) ? hours.days.filter((d) => Number.isInteger(d) && d >= 0 && d <= 6) : base.businessHours.days,
      // a zone Intl does not know would make every business-hours check throw
      timeZone: typeof hours.timeZone === 'string' && isValidTimeZone(hours.timeZone) ? hours.timeZone : fallbackZone,
    },
    maintenanceWindows: Array.isArray(o.maintenanceWindows) ? o.maintenanceWindows.filter(isValidWindow).map((w) => ({ start: w.start, end: w.end, note: String(w.note ?? '') })) : [],
    onLeave: strings(o.onLeave),
    terminated: strings(o.terminated),
    expectedSystems:
      o.expectedSystems && typeof o.expectedSystems === 'object'
        ? Object.fromEntries(Object.entries(o.expectedSystems).map(([user, systems]) => [user.trim().toLowerCase(), strings(systems)]))
        : {},
  };
}
