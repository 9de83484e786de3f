// Business hours are judged on local time computed once per quarter hour (rule-config.ts): the
// result must equal a direct Intl computation for every instant, across DST changes and odd offsets.
// A context read back from settings is validated (parseContext).
import t from 'tap';
import { daysLabel, defaultContext, localTime, parseContext, utcTime, withinBusinessHours, type BusinessHours } from '../../src/audit/rule-config.js';

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

const formats = new Map<string, Intl.DateTimeFormat>();
function direct(ms: number, hours: BusinessHours): boolean {
  let format = formats.get(hours.timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: hours.timeZone, hour: '2-digit', minute: '2-digit', weekday: 'short', hourCycle: 'h23' });
    formats.set(hours.timeZone, format);
  }
  const parts = format.formatToParts(new Date(ms));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '0';
  const minutes = Number(get('hour')) * 60 + Number(get('minute'));
  const day = WEEKDAYS.indexOf(get('weekday'));
  const [sh, sm] = hours.start.split(':').map(Number);
  const [eh, em] = hours.end.split(':').map(Number);
  const start = sh! * 60 + sm!;
  const end = eh! * 60 + em!;
  if (start < end) return hours.days.includes(day) && minutes >= start && minutes < end;
  if (minutes >= start) return hours.days.includes(day);
  return minutes < end && hours.days.includes((day + 6) % 7);
}

// zones with DST, half- and quarter-hour offsets, a 30-minute DST shift, and the date line
const ZONES = ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kathmandu', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Pacific/Apia'];
const SHIFTS: [string, string, number[]?][] = [
  ['07:00', '19:00'],
  ['22:00', '06:00'],
  ['00:00', '23:59'],
  ['08:45', '17:15'],
  // starts right at the hours that DST changes skip or repeat
  ['02:20', '12:00', [0, 1, 2, 3, 4, 5, 6]],
  ['03:10', '01:50', [0, 1, 2, 3, 4, 5, 6]],
];

t.test('quarter-hour cached local time agrees with Intl at every minute around DST changes', async (t) => {
  let checked = 0;
  let mismatches = 0;
  for (const timeZone of ZONES) {
    for (const [start, end, days = [1, 2, 3, 4, 5]] of SHIFTS) {
      const hours: BusinessHours = { start, end, days, timeZone };
      // every 97 minutes through 2026, then every minute of the days around the DST changes
      const from = Date.UTC(2026, 0, 1);
      const instants: number[] = [];
      for (let ms = from; ms < Date.UTC(2027, 0, 1); ms += 97 * 60_000 + 13_000) instants.push(ms);
      for (const day of [Date.UTC(2026, 2, 29), Date.UTC(2026, 9, 25), Date.UTC(2026, 3, 5), Date.UTC(2026, 2, 8), Date.UTC(2026, 8, 27), Date.UTC(2026, 10, 1), Date.UTC(2026, 9, 4)]) {
        for (let ms = day - 12 * 3_600_000; ms < day + 12 * 3_600_000; ms += 60_000) instants.push(ms);
      }
      for (const ms of instants) {
        checked++;
        if (withinBusinessHours(ms, hours) !== direct(ms, hours)) mismatches++;
      }
    }
  }
  t.ok(checked > 300_000, `${checked} instants checked`);
  t.equal(mismatches, 0, 'no instant judged differently');
});

t.test('parseContext: a stored time zone that Intl does not know falls back to TZ instead of breaking the business-hours rules', async (t) => {
  const base = defaultContext('Europe/Paris');
  const parsed = parseContext({ ...base, businessHours: { ...base.businessHours, timeZone: 'Mars/Olympus_Mons' } }, 'Europe/Paris');
  t.equal(parsed.businessHours.timeZone, 'Europe/Paris');
  t.doesNotThrow(() => withinBusinessHours(Date.UTC(2026, 0, 14, 10, 0), parsed.businessHours), 'the rule can judge');
  t.equal(parseContext({ ...base, businessHours: { ...base.businessHours, timeZone: 'America/New_York' } }, 'UTC').businessHours.timeZone, 'America/New_York', 'a known zone is kept');
  const times = parseContext({ ...base, businessHours: { ...base.businessHours, start: '7:00', end: '24:00' } }, 'UTC').businessHours;
  t.strictSame([times.start, times.end], ['07:00', '19:00'], 'times that are not HH:MM fall back to the defaults');
});

t.test('times in explanations: local with weekday, zone and offset; UTC says UTC', async (t) => {
  t.equal(localTime(Date.UTC(2026, 2, 3, 18, 30), 'Europe/Paris'), 'Tue 2026-03-03 19:30 Europe/Paris (UTC+01:00)');
  t.equal(localTime(Date.UTC(2026, 2, 30, 4, 30), 'Europe/Paris'), 'Mon 2026-03-30 06:30 Europe/Paris (UTC+02:00)', 'summer time');
  t.equal(localTime(Date.UTC(2026, 0, 14, 10, 0), 'Asia/Kathmandu'), 'Wed 2026-01-14 15:45 Asia/Kathmandu (UTC+05:45)');
  t.equal(localTime(Date.UTC(2026, 0, 14, 10, 0), 'UTC'), 'Wed 2026-01-14 10:00 UTC (UTC+00:00)', 'offset zero');
  t.equal(localTime(Date.UTC(2026, 0, 14, 23, 59, 59), 'UTC'), 'Wed 2026-01-14 23:59 UTC (UTC+00:00)', 'to the minute, never rounded up');
  t.equal(localTime(Date.UTC(2026, 0, 14, 4, 0), 'America/New_York'), 'Tue 2026-01-13 23:00 America/New_York (UTC-05:00)', 'the local date, not the UTC one');
  t.equal(utcTime(Date.UTC(2026, 2, 3, 18, 30)), '2026-03-03 18:30:00 UTC');
  t.equal(utcTime(Date.UTC(2026, 2, 3, 18, 30, 5, 120)), '2026-03-03 18:30:05.120 UTC');
  t.equal(daysLabel([1, 2, 3, 4, 5]), 'Mon–Fri');
  t.equal(daysLabel([5, 4, 3, 2, 1, 1]), 'Mon–Fri', 'in any order, once each');
  t.equal(daysLabel([0, 6]), 'Sun, Sat');
  t.equal(daysLabel([1, 3, 5]), 'Mon, Wed, Fri');
  t.equal(daysLabel([]), '');
});
