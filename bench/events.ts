// The events of the ingestion benchmarks (bench:ingest over HTTP, bench:ingest-writer in process):
// a realistic mix of an identity provider's day, and the timestamps a batch carries.
import { randomUUID } from 'node:crypto';
import { rng } from './lib.js';

const GIVEN = ['alex', 'sam', 'maria', 'jonas', 'aiko', 'priya', 'lena', 'omar', 'chen', 'fatima', 'noah', 'ines', 'lucas', 'mia'];
const FAMILY = ['schmidt', 'garcia', 'nakamura', 'okafor', 'larsen', 'rossi', 'dubois', 'kowalski', 'silva', 'haddad', 'meyer', 'novak'];
const COUNTRIES = ['FR', 'DE', 'US', 'GB', 'NL', 'ES', 'IT', 'PL', 'SE', 'IN'];
const SYSTEMS = ['Okta', 'Salesforce', 'Workday', 'ServiceNow', 'GitHub', 'SAP', 'Active Directory', 'Google Workspace'];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148',
  'okta-idx/1.0 (Okta Verify 9.20)',
];
const SERVICE = ['svc-idm', 'svc-hr-sync', 'okta-provisioning', 'sailpoint'];

/** [share, action, outcome] — a day of a mid-size IdP's events, roughly. */
const MIX: [number, string, 'SUCCESS' | 'FAILURE' | null][] = [
  [0.4, 'LOGIN', 'SUCCESS'],
  [0.08, 'LOGIN', 'FAILURE'],
  [0.12, 'LOGOUT', 'SUCCESS'],
  [0.04, 'CHANGE_PASSWORD', 'SUCCESS'],
  [0.01, 'CHANGE_PASSWORD', 'FAILURE'],
  [0.02, 'FORGOT_PASSWORD', 'SUCCESS'],
  [0.015, 'USE_RESET_PASSWORD_TOKEN', 'SUCCESS'],
  [0.06, 'PROVISIONING_ADD', 'SUCCESS'],
  [0.1, 'PROVISIONING_MODIFY', 'SUCCESS'],
  [0.02, 'PROVISIONING_DISABLE', 'SUCCESS'],
  [0.01, 'PROVISIONING_ENABLE', 'SUCCESS'],
  [0.005, 'DE_PROVISIONING', 'SUCCESS'],
  [0.01, 'RETRY_PROVISIONING', 'FAILURE'],
  [0.05, 'SYNCHRONIZATION', 'SUCCESS'],
  [0.005, 'SYNCHRONIZATION', 'FAILURE'],
  [0.01, 'SYNCHRONIZATION_ORPHAN', null],
  [0.01, 'RECONCILIATION_RECORD_FALSE', null],
  [0.01, 'USER_ACCOUNT_LOCKED', 'SUCCESS'],
  [0.005, 'IMPERSONATION', 'SUCCESS'],
  [0.02, 'SAML_ASSERTION', 'SUCCESS'],
];

export interface BenchEvent {
  id: string;
  timestamp: string | number;
  action: string;
  outcome?: 'SUCCESS' | 'FAILURE';
  principal?: string;
  targetUser?: string;
  targetSystem?: string;
  sourceIp?: string;
  country?: string;
  userAgent?: string;
  ticket?: string;
  detail?: Record<string, unknown>;
}

/** Events of `users` distinct users, the same sequence for the same seed. */
export function eventGenerator(seed: number, users: number) {
  const rand = rng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const cumulative: number[] = [];
  let sum = 0;
  for (const [share] of MIX) cumulative.push((sum += share));
  const user = () => {
    const n = Math.floor(rand() * users);
    return `${GIVEN[n % GIVEN.length]}.${FAMILY[(n >> 4) % FAMILY.length]}${n}@contoso.example`;
  };
  // each user signs in from a few addresses: the "new origin" rule sees mostly known ones
  const ipOf = (who: string, variant: number) => {
    let h = variant * 2654435761;
    for (let i = 0; i < who.length; i++) h = (h * 31 + who.charCodeAt(i)) >>> 0;
    return `${10 + (h % 200)}.${(h >>> 8) % 256}.${(h >>> 16) % 256}.${1 + ((h >>> 24) % 254)}`;
  };

  return (ts: number | string): BenchEvent => {
    const r = rand() * sum;
    let k = 0;
    while (cumulative[k]! < r) k++;
    const [, action, outcome] = MIX[k]!;
    const who = user();
    const e: BenchEvent = { id: randomUUID(), timestamp: ts, action };
    if (outcome) e.outcome = outcome;
    if (action === 'LOGIN' || action === 'LOGOUT' || action === 'SAML_ASSERTION' || action === 'FORGOT_PASSWORD' || action === 'USE_RESET_PASSWORD_TOKEN') {
      e.principal = who;
      e.targetUser = who;
      e.targetSystem = 'Okta';
      e.sourceIp = ipOf(who, rand() < 0.9 ? 0 : Math.floor(rand() * 3));
      e.country = COUNTRIES[ipOf(who, 0).charCodeAt(1) % COUNTRIES.length];
      e.userAgent = pick(AGENTS);
      if (outcome === 'FAILURE') e.detail = { reason: rand() < 0.8 ? 'INVALID_CREDENTIALS' : 'MFA_TIMEOUT', attempt: 1 + Math.floor(rand() * 3) };
    } else if (action === 'CHANGE_PASSWORD') {
      e.principal = rand() < 0.9 ? who : pick(SERVICE);
      e.targetUser = who;
      e.targetSystem = pick(SYSTEMS);
      e.sourceIp = ipOf(who, 0);
      if (outcome === 'FAILURE') e.detail = { reason: 'PASSWORD_POLICY', policy: 'history' };
    } else if (action === 'IMPERSONATION') {
      e.principal = `admin${Math.floor(rand() * 20)}@contoso.example`;
      e.targetUser = who;
      e.targetSystem = 'Okta';
      if (rand() < 0.9) e.ticket = `INC-${100000 + Math.floor(rand() * 900000)}`;
    } else if (action === 'USER_ACCOUNT_LOCKED') {
      e.principal = 'okta';
      e.targetUser = who;
      e.targetSystem = 'Okta';
    } else if (action.startsWith('SYNCHRONIZATION') || action === 'RECONCILIATION_RECORD_FALSE') {
      e.principal = 'svc-hr-sync';
      e.targetUser = who;
      e.targetSystem = pick(['Workday', 'Active Directory', 'SAP']);
      e.detail = { job: `sync-${Math.floor(rand() * 1000)}`, records: Math.floor(rand() * 5000) };
    } else {
      e.principal = pick(SERVICE);
      e.targetUser = who;
      e.targetSystem = pick(SYSTEMS);
      e.detail = { attributes: ['department', 'title', 'manager'].slice(0, 1 + Math.floor(rand() * 3)), request: `REQ-${Math.floor(rand() * 1e6)}` };
    }
    return e;
  };
}

/**
 * The time of the i-th event of a batch sent at `now`: i × 37 ms earlier (modulo a minute; a batch of
 * 500 spans 18.5 s), so a batch's events fall among those of the batches sent before it, as a log
 * shipper's batches gathered from several sources do.
 */
export const batchEventTime = (now: number, i: number): string => new Date(now - ((i * 37) % 60_000)).toISOString();

/**
 * The most recent weekday at 11:00 UTC at least an hour before `now`. Sign-ins then fall within the
 * default business hours (07:00–19:00 Mon–Fri, TZ=UTC), as most of a real day's do; at night every
 * LOGIN SUCCESS would raise login-unusual-hours, making results depend on the hour the bench runs.
 */
export function businessHoursAnchor(now: number): number {
  const d = new Date(now - 3_600_000);
  d.setUTCHours(11, 0, 0, 0);
  while (d.getTime() > now - 3_600_000 || d.getUTCDay() === 0 || d.getUTCDay() === 6) d.setUTCDate(d.getUTCDate() - 1);
  return d.getTime();
}
