// The red-flag rules: each red flag of the audit-event guide (seed 004) and each anomaly of the IAM
// Logs screen (seed 000), as a named rule with documented, configurable thresholds. A rule looks at
// the entry just written and, with indexed window queries, at the entries around it.
import { fold } from '../scim/fold.js';
import type { StoredAuditEntry } from './entry.js';
import type { RelatedEntries, Severity } from '../db/flag-repository.js';
import { daysLabel, inMaintenanceWindow, isIn, localTime, utcTime, withinBusinessHours, type BusinessHours, type RuleContext } from './rule-config.js';
import { COUNT_CAP, NOT_FAILURE, systemKey, type RuleQueries } from './rule-queries.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

export type ContextNeed = 'serviceAccounts' | 'businessHours' | 'maintenanceWindows' | 'onLeave' | 'terminated' | 'expectedSystems';

export interface Threshold {
  default: number;
  label: string;
  /** the largest value that means something: a count past COUNT_CAP is never reached (window counts
   * stop there), and each day of a window is one index seek (the index begins with the day) */
  max: number;
}

/** the upper bounds of thresholds, by kind */
const MAX_WINDOW_MINUTES = 7 * 24 * 60;
const MAX_WINDOW_HOURS = 30 * 24;
const MAX_DAYS = 365;

export interface Finding {
  subject: string;
  title: string;
  explanation: string;
  /**
   * earlier entries that belong to the flag (RelatedEntries): read from an open flag's last entry on,
   * so a new burst under it is still linked (failures that did not raise it themselves: below the
   * threshold again, or counted by a rule that only a success raises)
   */
  related?: RelatedEntries;
  severity?: Severity;
}

export interface RuleInput {
  entry: StoredAuditEntry & { ts: number };
  q: RuleQueries;
  t: Record<string, number>;
  context: RuleContext;
}

export interface Rule {
  id: string;
  name: string;
  severity: Severity;
  /** where the rule comes from */
  source: string;
  description: string;
  /** what to do when it is raised */
  action: string;
  /** the action codes whose entries the rule looks at ('*' = every SCIM entry) */
  on: string[];
  thresholds: Record<string, Threshold>;
  /** the context the rule cannot judge without: each item must be set; an item that is a list of
   * several is set when any one of them is (people on leave or terminated) */
  needs: (ContextNeed | ContextNeed[])[];
  evaluate(input: RuleInput): Finding | null;
}

/** Each piece of context: when it counts as missing, and how the Rules screen says so. */
const CONTEXT: Record<ContextNeed, { missing: (c: RuleContext) => boolean; absent: string }> = {
  serviceAccounts: { missing: (c) => c.serviceAccounts.length === 0, absent: 'service accounts are listed' },
  // with no working day, every moment would be "outside business hours"
  businessHours: { missing: (c) => c.businessHours.days.length === 0, absent: 'business days are ticked' },
  maintenanceWindows: { missing: (c) => c.maintenanceWindows.length === 0, absent: 'maintenance windows are set' },
  onLeave: { missing: (c) => c.onLeave.length === 0, absent: 'users on leave are listed' },
  terminated: { missing: (c) => c.terminated.length === 0, absent: 'terminated users are listed' },
  expectedSystems: { missing: (c) => Object.keys(c.expectedSystems).length === 0, absent: 'expected systems are listed' },
};

/** The context a rule needs and lacks (empty: it can judge), derived from its `needs` alone. */
export function missingContext(rule: Rule, context: RuleContext): ContextNeed[] {
  const missing: ContextNeed[] = [];
  for (const need of rule.needs) {
    const anyOf = Array.isArray(need) ? need : [need];
    if (anyOf.every((n) => CONTEXT[n].missing(context))) missing.push(...anyOf);
  }
  return missing;
}

/** What the Rules screen and the catalog say of a rule that lacks its context; null when it can judge. */
export function lackingContext(rule: Rule, context: RuleContext): string | null {
  const parts: string[] = [];
  for (const need of rule.needs) {
    const anyOf = Array.isArray(need) ? need : [need];
    if (!anyOf.every((n) => CONTEXT[n].missing(context))) continue;
    // "users on leave or terminated are listed": the alternatives share one sentence
    parts.push(anyOf.length === 2 && anyOf[0] === 'onLeave' && anyOf[1] === 'terminated' ? 'users on leave or terminated are listed' : anyOf.map((n) => CONTEXT[n].absent).join(' or '));
  }
  if (parts.length === 0) return null;
  return `No ${parts.join(' and no ')} on the Rules screen.`;
}

const who = (e: StoredAuditEntry) => e.target ?? e.principal ?? 'unknown';
const minutes = (n: number) => `${n} minute${n === 1 ? '' : 's'}`;
const hours = (n: number) => `${n} hour${n === 1 ? '' : 's'}`;
/** the time of an entry in UTC, saying so; a time judged against local hours or windows is `local` */
const at = utcTime;
/** the time of an entry in the rules' time zone (the business hours'), with weekday and offset */
const local = (ms: number, c: RuleContext) => localTime(ms, c.businessHours.timeZone);
const businessHours = (bh: BusinessHours) => `${daysLabel(bh.days)} ${bh.start}–${bh.end}, ${bh.timeZone}`;
/** a window count; the queries stop counting at COUNT_CAP */
const atLeast = (n: number) => (n >= COUNT_CAP ? `${COUNT_CAP}+` : String(n));

export const RULES: Rule[] = [
  {
    id: 'login-brute-force',
    name: 'Repeated failed sign-ins for one account',
    severity: 'high',
    source: 'Seed 004 › Login: multiple LOGIN FAILURE in quick succession',
    description: 'Several LOGIN FAILURE entries for the same account within a short window: a possible brute-force attack, or a user locked out.',
    action: 'Check whether USER_ACCOUNT_LOCKED followed. Contact the user to verify whether they were trying to sign in; if not, treat it as an attack (block the source IP, reset the password).',
    on: ['LOGIN', 'USER_ACCOUNT_LOCKED'],
    thresholds: { failures: { default: 5, label: 'failures', max: COUNT_CAP }, windowMinutes: { default: 10, label: 'window (minutes)', max: MAX_WINDOW_MINUTES } },
    needs: [],
    evaluate({ entry, q, t }) {
      const target = who(entry);
      const since = entry.ts - t.windowMinutes! * MIN;
      if (entry.action === 'USER_ACCOUNT_LOCKED') {
        // only refreshes an open flag's story: the lock followed
        const failures = q.countForSubject(target, 'LOGIN', since, entry.ts, 'FAILURE');
        if (failures < t.failures!) return null;
        return {
          subject: fold(target),
          title: `${atLeast(failures)} failed sign-ins for "${target}" — account locked`,
          explanation: `${atLeast(failures)} failed sign-ins for "${target}" within ${minutes(t.windowMinutes!)}; USER_ACCOUNT_LOCKED followed at ${at(entry.ts)}, so further guessing is blocked for now.`,
          severity: 'medium',
        };
      }
      if (entry.outcome !== 'FAILURE') return null;
      const failures = q.countForSubject(target, 'LOGIN', since, entry.ts, 'FAILURE');
      if (failures < t.failures!) return null;
      const locked = q.countForSubject(target, 'USER_ACCOUNT_LOCKED', since, entry.ts) > 0;
      return {
        subject: fold(target),
        title: `${atLeast(failures)} failed sign-ins for "${target}" in ${minutes(t.windowMinutes!)}`,
        explanation: `${atLeast(failures)} LOGIN FAILURE entries for "${target}" within ${minutes(t.windowMinutes!)}, the last from ${entry.sourceIp ?? 'an unknown address'}. ${locked ? 'USER_ACCOUNT_LOCKED followed.' : 'No USER_ACCOUNT_LOCKED followed: the attempts were not stopped by a lock.'}`,
        related: (after) => q.idsForSubject(target, 'LOGIN', Math.max(since, after), entry.ts, 'FAILURE', 20),
        severity: locked ? 'medium' : 'high',
      };
    },
  },
  {
    id: 'login-success-after-failures',
    name: 'Successful sign-in right after several failures',
    severity: 'high',
    source: 'Seed 004 › Login: LOGIN SUCCESS immediately after several failures',
    description: 'A LOGIN SUCCESS for an account that had several LOGIN FAILURE entries just before: someone may have guessed the password.',
    action: 'Confirm with the user that it was them. If not, end their sessions, reset the password and review what the account did.',
    on: ['LOGIN'],
    thresholds: { failures: { default: 3, label: 'failures before', max: COUNT_CAP }, windowMinutes: { default: 15, label: 'window (minutes)', max: MAX_WINDOW_MINUTES } },
    needs: [],
    evaluate({ entry, q, t }) {
      if (entry.outcome !== 'SUCCESS') return null;
      const target = who(entry);
      const since = entry.ts - t.windowMinutes! * MIN;
      const failures = q.countForSubject(target, 'LOGIN', since, entry.ts, 'FAILURE');
      if (failures < t.failures!) return null;
      return {
        subject: fold(target),
        title: `"${target}" signed in after ${atLeast(failures)} failures`,
        explanation: `LOGIN SUCCESS for "${target}" from ${entry.sourceIp ?? 'an unknown address'} at ${at(entry.ts)}, after ${atLeast(failures)} failed attempts within ${minutes(t.windowMinutes!)}.`,
        related: (after) => q.idsForSubject(target, 'LOGIN', Math.max(since, after), entry.ts, 'FAILURE', 20),
      };
    },
  },
  {
    id: 'login-new-origin',
    name: 'Sign-in from a new IP address or country',
    severity: 'medium',
    source: 'Seed 004 › Login: LOGIN from an unfamiliar IP address or country',
    description: 'A LOGIN SUCCESS from an IP address or country never seen before for that user (the first sign-in of a user is not flagged).',
    action: 'Verify with the user that they signed in from there (travel, new network). If not, treat it as unauthorized access.',
    on: ['LOGIN'],
    thresholds: {},
    needs: [],
    evaluate({ entry, q }) {
      if (entry.outcome !== 'SUCCESS') return null;
      const target = fold(who(entry));
      const news: string[] = [];
      if (entry.country && q.isNewOrigin(target, 'country', entry.country.toUpperCase(), entry.ts)) news.push(`country ${entry.country.toUpperCase()}`);
      if (entry.sourceIp && q.isNewOrigin(target, 'ip', entry.sourceIp, entry.ts)) news.push(`IP address ${entry.sourceIp}`);
      if (news.length === 0) return null;
      return {
        subject: `${target}|${news.join(',')}`,
        title: `"${who(entry)}" signed in from a new ${news.join(' and ')}`,
        explanation: `LOGIN SUCCESS for "${who(entry)}" at ${at(entry.ts)} from a ${news.join(' and a ')} not seen for this user before.`,
        severity: news.some((n) => n.startsWith('country')) ? 'high' : 'medium',
      };
    },
  },
  {
    id: 'login-unusual-hours',
    name: 'Sign-in outside business hours',
    severity: 'low',
    source: 'Seed 004 › Login: LOGIN SUCCESS … especially at unusual hours',
    description: 'A LOGIN SUCCESS outside the business hours set on the Rules screen.',
    action: 'Check that the user was working at that time (on call, travel). Combined with a new IP or country, treat it as suspicious.',
    on: ['LOGIN'],
    thresholds: {},
    needs: ['businessHours'],
    evaluate({ entry, context }) {
      if (entry.outcome !== 'SUCCESS' || withinBusinessHours(entry.ts, context.businessHours)) return null;
      return {
        subject: fold(who(entry)),
        title: `"${who(entry)}" signed in outside business hours`,
        explanation: `LOGIN SUCCESS at ${local(entry.ts, context)}, outside business hours (${businessHours(context.businessHours)}).`,
      };
    },
  },
  {
    id: 'impersonation-without-ticket',
    name: 'Impersonation without a ticket reference',
    severity: 'high',
    source: 'Seed 004 › Login: IMPERSONATION without a corresponding support ticket',
    description: 'An administrator signed in as another user and the event carries no ticket reference.',
    action: 'Ask the administrator for the support ticket or investigation that justified it, and record it.',
    on: ['IMPERSONATION'],
    thresholds: {},
    needs: [],
    evaluate({ entry }) {
      if (entry.ticket && entry.ticket.trim()) return null;
      const admin = entry.principal ?? 'unknown';
      // Seed 004: every IMPERSONATION is to be reviewed for its reason. A failed one opened no session,
      // but an administrator still tried to act as someone else with no reason on record: raised,
      // worded as the attempt it was, one step lower
      if (entry.outcome === 'FAILURE') {
        return {
          subject: `${admin}→${who(entry)}|${entry.id}`,
          title: `"${admin}" tried to impersonate "${who(entry)}" without a ticket`,
          explanation: `IMPERSONATION FAILURE at ${at(entry.ts)}: "${admin}" tried to act as "${who(entry)}" with no ticket reference. The attempt failed, so no session as "${who(entry)}" was opened.`,
          severity: 'medium',
        };
      }
      return {
        subject: `${admin}→${who(entry)}|${entry.id}`,
        title: `"${admin}" impersonated "${who(entry)}" without a ticket`,
        explanation: `IMPERSONATION at ${at(entry.ts)} by "${admin}" as "${who(entry)}" with no ticket reference.`,
      };
    },
  },
  {
    id: 'service-account-password-change',
    name: 'Password change by a service account at an unexpected time',
    severity: 'high',
    source: 'Seed 004 › Password: CHANGE_PASSWORD where the Principal is a service account at an unexpected time',
    description: 'CHANGE_PASSWORD performed by a service or system account outside business hours and outside any maintenance window.',
    action: 'Find out which job or person used the service account; rotate its credentials if nobody can explain it.',
    on: ['CHANGE_PASSWORD'],
    thresholds: {},
    needs: ['serviceAccounts', 'businessHours'],
    evaluate({ entry, context }) {
      if (!isIn(context.serviceAccounts, entry.principal)) return null;
      if (withinBusinessHours(entry.ts, context.businessHours) || inMaintenanceWindow(entry.ts, context.maintenanceWindows)) return null;
      // a failed change is still the account used at an unexpected time: raised, as the attempt it was
      const failed = entry.outcome === 'FAILURE';
      return {
        subject: `${entry.principal}|${entry.id}`,
        title: `Service account "${entry.principal}" ${failed ? 'tried to change' : 'changed'} the password of "${who(entry)}" at an unexpected time`,
        explanation: `CHANGE_PASSWORD${failed ? ' FAILURE' : ''} at ${local(entry.ts, context)} by the service account "${entry.principal}" for "${who(entry)}", outside business hours (${businessHours(context.businessHours)}) and ${context.maintenanceWindows.length > 0 ? 'outside every maintenance window' : 'with no maintenance window set'}.`,
      };
    },
  },
  {
    id: 'bulk-reset-outside-maintenance',
    name: 'Bulk password reset outside a maintenance window',
    severity: 'critical',
    source: 'Seed 004 › Password: BULK_ADMIN_USER_RESET_PASSWORD outside of a planned maintenance window',
    description: 'An administrator reset the passwords of many users at once outside any maintenance window set on the Rules screen.',
    action: 'Confirm with the administrator that it was planned and authorized; if not, treat it as an incident.',
    on: ['BULK_ADMIN_USER_RESET_PASSWORD'],
    thresholds: {},
    needs: ['maintenanceWindows'],
    evaluate({ entry, context }) {
      // without any window the rule lacks its context (needs) and is not run
      if (inMaintenanceWindow(entry.ts, context.maintenanceWindows)) return null;
      // a failed one reset nothing, but an unplanned attempt is worth the same question, one step lower
      const failed = entry.outcome === 'FAILURE';
      return {
        subject: `${entry.principal ?? 'unknown'}|${entry.id}`,
        title: `Bulk password reset${failed ? ' attempted' : ''} by "${entry.principal ?? 'unknown'}" outside a maintenance window`,
        explanation: `BULK_ADMIN_USER_RESET_PASSWORD${failed ? ' FAILURE' : ''} at ${local(entry.ts, context)}, outside every configured maintenance window${failed ? ': it failed, so no password was reset' : ''}.`,
        ...(failed ? { severity: 'high' as const } : {}),
      };
    },
  },
  {
    id: 'reset-token-without-forgot',
    name: 'Reset link used without a prior forgot-password request',
    severity: 'high',
    source: 'Seed 004 › Password: USE_RESET_PASSWORD_TOKEN appearing without a prior FORGOT_PASSWORD event',
    description: 'A one-time password reset link was used for a user who did not request one (no FORGOT_PASSWORD before it within the window).',
    action: "Check how the link was obtained and verify it was sent to the user's own address; reset the password again if in doubt.",
    on: ['USE_RESET_PASSWORD_TOKEN'],
    thresholds: { windowHours: { default: 24, label: 'look-back (hours)', max: MAX_WINDOW_HOURS } },
    needs: [],
    evaluate({ entry, q, t }) {
      const target = who(entry);
      if (q.countForSubject(target, 'FORGOT_PASSWORD', entry.ts - t.windowHours! * HOUR, entry.ts) > 0) return null;
      return {
        subject: `${target}|${entry.id}`,
        title: `Reset link used for "${target}" without a forgot-password request`,
        explanation: `USE_RESET_PASSWORD_TOKEN at ${at(entry.ts)} for "${target}" with no FORGOT_PASSWORD in the ${hours(t.windowHours!)} before.`,
      };
    },
  },
  {
    id: 'repeated-password-changes',
    name: 'Several password changes for one user',
    severity: 'medium',
    source: 'Seed 004 › Password: multiple CHANGE_PASSWORD events for the same user within a short period',
    description: 'Several CHANGE_PASSWORD entries for the same user in a short period.',
    action: 'Ask the user whether they changed it; repeated changes can hide a takeover or a password-history bypass.',
    on: ['CHANGE_PASSWORD'],
    thresholds: { changes: { default: 3, label: 'changes', max: COUNT_CAP }, windowHours: { default: 24, label: 'window (hours)', max: MAX_WINDOW_HOURS } },
    needs: [],
    evaluate({ entry, q, t }) {
      // a change sent without outcome is a change (its detail says so); only a FAILURE changed nothing
      if (entry.outcome === 'FAILURE') return null;
      const target = who(entry);
      const since = entry.ts - t.windowHours! * HOUR;
      const count = q.countForSubject(target, 'CHANGE_PASSWORD', since, entry.ts, NOT_FAILURE);
      if (count < t.changes!) return null;
      return {
        subject: fold(target),
        title: `${atLeast(count)} password changes for "${target}" in ${hours(t.windowHours!)}`,
        explanation: `${atLeast(count)} CHANGE_PASSWORD entries for "${target}" within ${hours(t.windowHours!)} (failed attempts not counted).`,
        related: (after) => q.idsForSubject(target, 'CHANGE_PASSWORD', Math.max(since, after), entry.ts, NOT_FAILURE, 20),
      };
    },
  },
  {
    id: 'unexpected-provisioning-add',
    name: 'Account created on a system the user is not expected on',
    severity: 'medium',
    source: 'Seed 004 › Provisioning: PROVISIONING_ADD for a user who is not expected to have access to that system',
    description: 'PROVISIONING_ADD on a target system that is not in the expected systems listed for that user on the Rules screen.',
    action: 'Verify that the access was requested and approved (new hire, role change); remove it if not.',
    on: ['PROVISIONING_ADD'],
    thresholds: {},
    needs: ['expectedSystems'],
    evaluate({ entry, context }) {
      if (entry.outcome === 'FAILURE' || !entry.targetSystem) return null;
      const expected = context.expectedSystems[who(entry).toLowerCase()];
      if (!expected) return null;
      if (isIn(expected, entry.targetSystem)) return null;
      return {
        subject: `${fold(who(entry))}|${entry.targetSystem.toLowerCase()}`,
        title: `"${who(entry)}" got an account on ${entry.targetSystem}, which is not expected`,
        explanation: `PROVISIONING_ADD at ${at(entry.ts)} on ${entry.targetSystem}; the Rules screen lists ${expected.join(', ') || 'no systems'} for "${who(entry)}".`,
      };
    },
  },
  {
    id: 'deprovisioning-without-termination',
    name: 'Full de-provisioning without a termination',
    severity: 'high',
    source: 'Seed 004 › Provisioning: DE_PROVISIONING without a corresponding termination workflow',
    description: 'DE_PROVISIONING (all access removed) for a user who is not listed as terminated on the Rules screen.',
    action: 'Check with HR that the person left; if not, restore access and find out who triggered it.',
    on: ['DE_PROVISIONING'],
    thresholds: {},
    needs: ['terminated'],
    evaluate({ entry, context }) {
      if (entry.outcome === 'FAILURE' || isIn(context.terminated, who(entry))) return null;
      return {
        subject: fold(who(entry)),
        title: `All access of "${who(entry)}" removed without a termination`,
        explanation: `DE_PROVISIONING at ${at(entry.ts)} for "${who(entry)}", who is not listed as terminated on the Rules screen.`,
      };
    },
  },
  {
    id: 'enable-on-leave-or-terminated',
    name: 'Account re-enabled for a user on leave or terminated',
    severity: 'critical',
    source: 'Seed 004 › Provisioning: PROVISIONING_ENABLE for a user who is on leave or already terminated',
    description: 'PROVISIONING_ENABLE for a user listed as on leave or terminated on the Rules screen.',
    action: 'Disable the account again unless the return was approved; find out who re-enabled it.',
    on: ['PROVISIONING_ENABLE'],
    thresholds: {},
    needs: [['onLeave', 'terminated']],
    evaluate({ entry, context }) {
      if (entry.outcome === 'FAILURE') return null;
      const terminated = isIn(context.terminated, who(entry));
      const onLeave = isIn(context.onLeave, who(entry));
      if (!terminated && !onLeave) return null;
      return {
        subject: `${fold(who(entry))}|${entry.id}`,
        title: `"${who(entry)}" re-enabled while ${terminated ? 'terminated' : 'on leave'}`,
        explanation: `PROVISIONING_ENABLE at ${at(entry.ts)} for "${who(entry)}", listed as ${terminated ? 'terminated' : 'on leave'} on the Rules screen.`,
        severity: terminated ? 'critical' : 'high',
      };
    },
  },
  {
    id: 'repeated-retry-provisioning',
    name: 'Provisioning retried again and again',
    severity: 'medium',
    source: 'Seed 004 › Provisioning: multiple RETRY_PROVISIONING events',
    description: 'Several RETRY_PROVISIONING entries for the same user: a persistent connectivity or configuration problem.',
    action: 'Open the original failure, fix the connector or target system, then retry once.',
    on: ['RETRY_PROVISIONING'],
    thresholds: { retries: { default: 3, label: 'retries', max: COUNT_CAP }, windowHours: { default: 24, label: 'window (hours)', max: MAX_WINDOW_HOURS } },
    needs: [],
    evaluate({ entry, q, t }) {
      const target = who(entry);
      const since = entry.ts - t.windowHours! * HOUR;
      const count = q.countForSubject(target, 'RETRY_PROVISIONING', since, entry.ts);
      if (count < t.retries!) return null;
      return {
        subject: fold(target),
        title: `Provisioning of "${target}" retried ${atLeast(count)} times`,
        explanation: `${atLeast(count)} RETRY_PROVISIONING entries for "${target}" within ${hours(t.windowHours!)}${entry.targetSystem ? ` (last on ${entry.targetSystem})` : ''}.`,
        related: (after) => q.idsForSubject(target, 'RETRY_PROVISIONING', Math.max(since, after), entry.ts, null, 20),
      };
    },
  },
  {
    id: 'sync-failing-days',
    name: 'Synchronization failing several days in a row',
    severity: 'high',
    source: 'Seed 004 › Synchronization: SYNCHRONIZATION FAILURE occurring several days in a row',
    description: 'SYNCHRONIZATION FAILURE on several consecutive days (UTC): the source feed is broken and users have stale data.',
    action: 'Investigate the source system (HR feed, LDAP, CSV) and the sync job; users may have stale or missing access meanwhile.',
    on: ['SYNCHRONIZATION'],
    thresholds: { days: { default: 3, label: 'consecutive days', max: MAX_DAYS } },
    needs: [],
    evaluate({ entry, q, t }) {
      if (entry.outcome !== 'FAILURE') return null;
      // one index seek per day; a month is as far back as the title counts
      const { days: run, ids } = q.syncFailureDays(entry.ts, entry.targetSystem, Math.max(t.days!, 31));
      if (run < t.days!) return null;
      return {
        subject: systemKey(entry.targetSystem) ?? 'synchronization',
        title: `Synchronization${entry.targetSystem ? ` of ${entry.targetSystem}` : ''} failed ${run} days in a row`,
        explanation: `SYNCHRONIZATION FAILURE on each of the last ${run} days (UTC), the latest at ${at(entry.ts)}.`,
        // the failures of each counted day (up to SYNC_IDS_PER_DAY a day)
        related: ids,
      };
    },
  },
  {
    id: 'orphan-volume',
    name: 'Many orphan records after a synchronization',
    severity: 'medium',
    source: 'Seed 004 › Synchronization: a high volume of SYNCHRONIZATION_ORPHAN events after a synchronization',
    description: 'Many SYNCHRONIZATION_ORPHAN entries in a short time: new hires not onboarded, or a broken matching rule creating ghosts.',
    action: 'Review the orphans: onboard real new hires, fix the matching rule, and do not link or create users in bulk without review.',
    on: ['SYNCHRONIZATION_ORPHAN'],
    thresholds: { orphans: { default: 50, label: 'orphans', max: COUNT_CAP }, windowMinutes: { default: 60, label: 'window (minutes)', max: MAX_WINDOW_MINUTES } },
    needs: [],
    evaluate({ entry, q, t }) {
      const since = entry.ts - t.windowMinutes! * MIN;
      const count = q.countOrphans(since, entry.ts, entry.targetSystem);
      if (count < t.orphans!) return null;
      return {
        subject: systemKey(entry.targetSystem) ?? 'synchronization',
        title: `${atLeast(count)} orphan records in ${minutes(t.windowMinutes!)}`,
        explanation: `${atLeast(count)} SYNCHRONIZATION_ORPHAN entries within ${minutes(t.windowMinutes!)}${entry.targetSystem ? ` (source ${entry.targetSystem})` : ''}.`,
        // the orphans that crossed the threshold; an open flag then gains each new one as it comes (a
        // volume rule's window is read for a new flag only: reading it again for every orphan of a
        // flood cost 40-80 µs each, in process)
        related: (after) => (after === -Infinity ? q.orphanIds(since, entry.ts, entry.targetSystem, Math.max(t.orphans!, 20)) : []),
      };
    },
  },
  {
    id: 'reconciliation-drift',
    name: 'Reconciliation mismatches for many users',
    severity: 'medium',
    source: 'Seed 004 › Synchronization: RECONCILIATION_RECORD_FALSE for many users',
    description: 'RECONCILIATION_RECORD_FALSE for many distinct users: the systems have drifted apart.',
    action: 'Find the cause of the drift (manual changes on the target, a failed sync) before reconciling in bulk.',
    on: ['RECONCILIATION_RECORD_FALSE'],
    thresholds: { users: { default: 20, label: 'users', max: COUNT_CAP }, windowHours: { default: 24, label: 'window (hours)', max: MAX_WINDOW_HOURS } },
    needs: [],
    evaluate({ entry, q, t }) {
      const since = entry.ts - t.windowHours! * HOUR;
      const users = q.countReconciliationUsers(t.windowHours! * HOUR, entry.ts, entry.targetSystem, t.users!);
      if (users < t.users!) return null;
      return {
        subject: systemKey(entry.targetSystem) ?? 'reconciliation',
        title: `Reconciliation mismatches for ${atLeast(users)} users`,
        explanation: `RECONCILIATION_RECORD_FALSE for ${atLeast(users)} distinct users within ${hours(t.windowHours!)}${entry.targetSystem ? ` on ${entry.targetSystem}` : ''}.`,
        // the latest mismatch of each user counted; an open flag then gains each new one as it comes
        // for a new flag only, as the orphans above
        related: (after) => (after === -Infinity ? q.reconciliationIds(since, entry.ts, entry.targetSystem, Math.max(t.users!, 20)) : []),
      };
    },
  },
  {
    id: 'link-orphan-by-system-account',
    name: 'Orphan linked by a system account',
    severity: 'medium',
    source: 'Seed 004 › Synchronization: LINK_ORPHAN performed by a system account without review of the matching rules',
    description: 'LINK_ORPHAN performed by a service or system account: automatic linking can grant unintended access.',
    action: 'Review the matching rule and this link; unlink if the match is wrong.',
    on: ['LINK_ORPHAN'],
    thresholds: {},
    needs: ['serviceAccounts'],
    evaluate({ entry, context }) {
      if (!isIn(context.serviceAccounts, entry.principal)) return null;
      return {
        subject: `${entry.principal}|${entry.id}`,
        title: `System account "${entry.principal}" linked an orphan to "${who(entry)}"`,
        explanation: `LINK_ORPHAN at ${at(entry.ts)} by "${entry.principal}" for "${who(entry)}".`,
      };
    },
  },
  {
    id: 'scim-401-wall',
    name: 'Wall of SCIM 401s',
    severity: 'high',
    source: 'Seed 000 › Tokens: a missing or expired token produces a wall of 401 entries',
    description: 'Many SCIM requests refused with 401 in a short time: the identity provider cannot provision.',
    action: "Fix the cause named in the flag: enable SCIM, or create a new token and paste it into the identity provider's configuration.",
    on: ['SCIM_AUTH'],
    thresholds: { failures: { default: 10, label: '401 responses', max: COUNT_CAP }, windowMinutes: { default: 10, label: 'window (minutes)', max: MAX_WINDOW_MINUTES } },
    needs: [],
    evaluate({ entry, q, t }) {
      const since = entry.ts - t.windowMinutes! * MIN;
      const count = q.countScimAuthFailures(since, entry.ts);
      if (count < t.failures!) return null;
      const found = q.authFailureCauses(since, entry.ts);
      const causes = found.map((c) => `${describeAuthCause(c.fingerprint)} (${c.n})`);
      // the causes are those of the window's latest COUNT_CAP refusals, the AUTH_CAUSES commonest named
      const unnamed = Math.min(count, COUNT_CAP) - found.reduce((sum, c) => sum + c.n, 0);
      if (unnamed > 0) causes.push(`other causes (${unnamed})`);
      return {
        subject: 'scim-auth',
        title: `${atLeast(count)} SCIM requests refused with 401 in ${minutes(t.windowMinutes!)}`,
        explanation: `${atLeast(count)} SCIM 401 responses within ${minutes(t.windowMinutes!)}. Cause: ${causes.join('; ')}.`,
        related: (after) => q.scimAuthFailureIds(Math.max(since, after), entry.ts, 50),
      };
    },
  },
  {
    id: 'scim-5xx-spike',
    name: 'Spike of SCIM server errors',
    severity: 'high',
    source: 'Seed 000 › Monthly review: clusters of server errors (5xx)',
    description: 'Several SCIM responses with a 5xx status in a short time: iamtrail itself is failing and identity providers will retry.',
    action: "Read the Log column of these entries and the server's process log; fix the fault (disk full, database locked) before the IdP gives up.",
    on: ['*'],
    thresholds: { errors: { default: 5, label: '5xx responses', max: COUNT_CAP }, windowMinutes: { default: 5, label: 'window (minutes)', max: MAX_WINDOW_MINUTES } },
    needs: [],
    evaluate({ entry, q, t }) {
      if (entry.protocol !== 'SCIM' || entry.http === null || entry.http < 500) return null;
      const since = entry.ts - t.windowMinutes! * MIN;
      const count = q.countServerErrors(since, entry.ts);
      if (count < t.errors!) return null;
      return {
        subject: 'scim-5xx',
        title: `${atLeast(count)} SCIM server errors in ${minutes(t.windowMinutes!)}`,
        explanation: `${atLeast(count)} SCIM responses with status 500 or above within ${minutes(t.windowMinutes!)}, the last at ${at(entry.ts)}: ${firstLine(entry.log)}`,
        // the errors that crossed the threshold; an open flag then gains each new one as it comes
        related: (after) => q.serverErrorIds(Math.max(since, after), entry.ts, Math.max(t.errors!, 20)),
      };
    },
  },
  {
    id: 'scim-bulk-removal',
    name: 'Bulk deletions or deactivations over SCIM',
    severity: 'critical',
    source: 'Seed 000 › Monthly review: unexpected bulk deletions',
    description: 'Many users or groups deleted or deactivated over SCIM in a short time.',
    action: "Confirm with the identity provider's administrator that it was planned (offboarding, scope change). An unplanned one is often a mis-scoped assignment.",
    on: ['PROVISIONING_DELETE', 'PROVISIONING_DISABLE'],
    thresholds: { removals: { default: 20, label: 'deletions or deactivations', max: COUNT_CAP }, windowMinutes: { default: 10, label: 'window (minutes)', max: MAX_WINDOW_MINUTES } },
    needs: [],
    evaluate({ entry, q, t }) {
      const principal = entry.principal;
      if (entry.protocol !== 'SCIM' || entry.outcome !== 'SUCCESS' || !principal) return null;
      const since = entry.ts - t.windowMinutes! * MIN;
      const count = q.countScimRemovals(principal, since, entry.ts);
      if (count < t.removals!) return null;
      return {
        subject: `scim-removal|${entry.principal}`,
        title: `${atLeast(count)} deletions or deactivations over SCIM in ${minutes(t.windowMinutes!)}`,
        explanation: `${atLeast(count)} PROVISIONING_DELETE / PROVISIONING_DISABLE entries over SCIM within ${minutes(t.windowMinutes!)}, by token "${entry.principal}".`,
        // the removals that crossed the threshold; an open flag then gains each new one as it comes
        related: (after) => q.scimRemovalIds(principal, Math.max(since, after), entry.ts, Math.max(t.removals!, 20)),
      };
    },
  },
  {
    id: 'scim-repeated-failure',
    name: 'The same SCIM request failing again and again',
    severity: 'medium',
    source: 'Seed 000 › Failed syncs: the same operation failing',
    description: 'The identity provider sends failing requests with the same method and path that get the same status again and again (a retried request, or many alike, such as groups that already exist).',
    action: 'Read the error in the Log column and fix the data or mapping in the identity provider; it will keep retrying until then.',
    on: ['SCIM_REQUEST'],
    thresholds: { failures: { default: 5, label: 'failures', max: COUNT_CAP }, windowMinutes: { default: 30, label: 'window (minutes)', max: MAX_WINDOW_MINUTES } },
    needs: [],
    evaluate({ entry, q, t }) {
      if (!entry.fingerprint) return null;
      const since = entry.ts - t.windowMinutes! * MIN;
      const count = q.countFingerprint(entry.fingerprint, since, entry.ts);
      if (count < t.failures!) return null;
      // "the same request" only in that sense: five different groups each created twice are five
      // POST /Groups answered 409. Said as what was counted; the error is one example when they differ.
      const [, request = entry.event, status = String(entry.http)] = /^scim:(.+) (\d{3})$/.exec(entry.fingerprint) ?? [];
      const counted = q.fingerprintEntries(entry.fingerprint, since, entry.ts, Math.max(t.failures!, 20));
      const last = firstLine(entry.log);
      const alike = counted.every((e) => e.first === (counted[0]?.first ?? ''));
      const errors = !alike
        ? `The errors differ; the last, as one example: ${last}`
        : count > counted.length
          ? `The latest ${counted.length} gave the same error: ${last}`
          : `Each gave the same error: ${last}`;
      return {
        subject: entry.fingerprint,
        title: `${request} failed ${atLeast(count)} times with ${status}`,
        explanation: `${request} answered ${status} ${atLeast(count)} times within ${minutes(t.windowMinutes!)} (counted together: same method, path and status). ${errors}`,
        related: counted.map((e) => e.id),
      };
    },
  },
  {
    id: 'scim-token-expiring',
    name: 'SCIM token expiring soon',
    severity: 'medium',
    source: 'Seed 000 › Tokens: an expired token produces a wall of 401s',
    description: 'A SCIM token that the identity provider is using expires soon; when it does, provisioning stops with 401s.',
    action: 'Create a new token, paste it into the identity provider, then revoke the old one (several tokens can be active at once).',
    on: ['*'],
    thresholds: { days: { default: 20, label: 'days before expiry', max: MAX_DAYS } },
    needs: [],
    evaluate({ entry, q, t }) {
      if (entry.protocol !== 'SCIM' || !entry.principal || entry.action === 'SCIM_AUTH') return null;
      const token = q.token(entry.principal);
      if (!token || token.expiresAt === null || token.revokedAt !== null) return null;
      const left = token.expiresAt - entry.ts;
      if (left > t.days! * DAY || left <= 0) return null;
      const days = Math.ceil(left / DAY);
      return {
        subject: `token:${entry.principal.toLowerCase()}`,
        title: `SCIM token "${entry.principal}" expires in ${days} day${days === 1 ? '' : 's'}`,
        explanation: `The identity provider is still using the token "${entry.principal}", which expires at ${at(token.expiresAt)}.`,
      };
    },
  },
];

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/** The fingerprints of SCIM 401s (scim-auth:<reason>[:<token>]) in words. */
export function describeAuthCause(fingerprint: string | null): string {
  const [, reason, ...rest] = (fingerprint ?? '').split(':');
  const token = rest.join(':');
  switch (reason) {
    case 'disabled':
      return 'SCIM provisioning is disabled';
    case 'expired':
      return `expired token "${token}"`;
    case 'revoked':
      return `revoked token "${token}"`;
    case 'unknown':
      return 'unknown token (wrong value in the identity provider)';
    case 'missing':
      return 'no token sent';
    case 'malformed':
      return 'malformed Authorization header';
    case 'wrong-scope':
      return `token "${token}" is not a SCIM token`;
    default:
      return 'unknown cause';
  }
}

export const RULES_BY_ID = new Map(RULES.map((r) => [r.id, r]));
