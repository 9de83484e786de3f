// Test support shared by the red-flags*.test.ts files: fixed times, appending entries, reading the flags they raise.
import type { Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import type { AuditEntry } from '../src/audit/entry.js';
import type { RuleContext } from '../src/audit/rule-config.js';
import { build, type TestContext } from './helper.js';

export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
/** Wednesday 14 January 2026, 10:00 UTC: inside the default business hours (Mon–Fri 07:00–19:00). */
export const BASE = Date.UTC(2026, 0, 14, 10, 0);
/** Saturday 17 January 2026, 03:00 UTC: outside business hours. */
export const SATURDAY_NIGHT = Date.UTC(2026, 0, 17, 3, 0);
export const iso = (ms: number) => new Date(ms).toISOString();
/** an entry's time as the explanations of the rules give it when they keep UTC: "2026-01-14 10:00:00 UTC" */
export const utc = (ms: number) => `${iso(ms).slice(0, 10)} ${iso(ms).slice(11, iso(ms).endsWith('.000Z') ? 19 : 23)} UTC`;

export interface FlagRow {
  id: number;
  rule: string;
  subject: string;
  severity: string;
  title: string;
  explanation: string;
  action: string;
  status: string;
  entry_count: number;
  first_entry_id: number | null;
  last_entry_id: number | null;
  closed_at: number | null;
  closed_by: string | null;
  note: string | null;
}

export async function fresh(t: TestContext): Promise<FastifyInstance> {
  const { app } = await build(t, {}, { scim: false });
  return app;
}

export function flagsOf(app: FastifyInstance, rule: string): FlagRow[] {
  return app.database.sqlite.prepare('SELECT * FROM red_flags WHERE rule = ? ORDER BY id').all(rule) as FlagRow[];
}

export function linked(app: FastifyInstance, flagId: number): number[] {
  return (app.database.sqlite.prepare('SELECT entry_id AS id FROM red_flag_entries WHERE flag_id = ? ORDER BY entry_id').all(flagId) as { id: number }[]).map((r) => r.id);
}

export function lastEntry(app: FastifyInstance): { id: number; ts: number; action: string; fingerprint: string | null; http: number | null } {
  return app.database.sqlite.prepare('SELECT id, ts, action, fingerprint, http FROM audit_log ORDER BY id DESC LIMIT 1').get() as never;
}

/** ids of the audit entries matching a SQL condition, oldest first */
export function idsWhere(app: FastifyInstance, where: string): number[] {
  return (app.database.sqlite.prepare(`SELECT id FROM audit_log WHERE ${where} ORDER BY id`).all() as { id: number }[]).map((r) => r.id);
}

export type Entry = Partial<AuditEntry> & { ts: number | null; action: string | null };

/** An add(app, entry) that appends with these type and protocol, event = the action (or 'Unknown Endpoint'), outcome SUCCESS, unless the entry says otherwise. */
export function adder(defaults: Pick<AuditEntry, 'type' | 'protocol'>): (app: FastifyInstance, e: Entry) => number {
  return (app, e) => app.repos.audit.append({ ...defaults, event: e.action ?? 'Unknown Endpoint', log: `${e.action} (test)`, outcome: 'SUCCESS', ...e });
}

/** Appends a User entry over the API (unless the entry says otherwise). */
export const add = adder({ type: 'User', protocol: 'API' });

export function setContext(app: FastifyInstance, c: Partial<RuleContext>): void {
  app.repos.rules.saveContext({ ...app.repos.rules.defaultContext(), ...c });
}

/** The one flag of a rule: open, with its severity, and exactly these linked entries (entry_count agrees). */
export function theFlag(t: Test, app: FastifyInstance, rule: string, severity: string | null, entries: number[]): FlagRow {
  const flags = flagsOf(app, rule);
  t.equal(flags.length, 1, `one ${rule} flag`);
  const flag = flags[0]!;
  t.equal(flag.status, 'open', 'status open');
  if (severity !== null) t.equal(flag.severity, severity, `severity ${severity}`);
  t.same(linked(app, flag.id), [...entries].sort((a, b) => a - b), 'linked entries');
  t.equal(flag.entry_count, entries.length, 'entry_count');
  t.ok(flag.action.length > 0, 'with the action to take');
  return flag;
}
