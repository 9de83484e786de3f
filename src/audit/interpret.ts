// Interprets one audit entry with the event catalog (src/audit/catalog.ts): what it means and what
// to do, picking the variant that fits the entry — who acted on whom, the outcome, the SCIM status.
import { catalogEntry, httpGuidance, type Guidance } from './catalog.js';
import type { StoredAuditEntry } from './entry.js';

export interface Interpretation {
  code: string | null;
  label: string;
  category: string;
  summary: string;
  meaning: string;
  action: string;
  /** which guidance applied: 'principal = target', 'principal ≠ target', 'FAILURE', 'HTTP 404', 'over SCIM'; null = the default */
  variant: string | null;
  /** false when the code is missing or not in the catalog */
  known: boolean;
}

export type InterpretableEntry = Pick<StoredAuditEntry, 'action' | 'outcome' | 'principal' | 'target' | 'http' | 'protocol' | 'event'>;

/** The codes whose meaning is the SCIM status itself. */
const STATUS_CODES = new Set(['SCIM_REQUEST', 'SCIM_AUTH']);

const text = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');
const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function status(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * A FAILURE of a code whose catalog entry has no failure guidance: its default text says what
 * happens when it works, and a failed offboarding must not read as done.
 */
function failedAttempt(summary: string): Guidance {
  return {
    meaning: `This entry records a FAILURE: what the event stands for (${summary.charAt(0).toLowerCase()}${summary.slice(1).replace(/\.$/, '')}) did not happen, or not completely.`,
    action: 'Read the Log column, and the records of the system that sent it, for why it failed. Treat the change as not made until a later SUCCESS entry shows it.',
  };
}

/**
 * Picks, in order: the principal variant (principal = / ≠ target) — unless the entry failed, since a
 * failed change changed nothing (unless the code records a failure itself: failureIsTheEvent); for a
 * SCIM entry with a 4xx/5xx status, the guidance of that status; for a successful SCIM entry, the
 * code's SCIM guidance; the failure guidance (the catalog's, else failedAttempt()); the SUCCESS
 * variant; else the default. Never throws: an unknown or missing code gets generic guidance.
 */
export function interpret(entry: InterpretableEntry): Interpretation {
  const code = text(entry.action).toUpperCase() || null;
  const outcome = text(entry.outcome).toUpperCase();
  const http = status(entry.http);
  const scim = text(entry.protocol).toUpperCase() === 'SCIM' || (code !== null && STATUS_CODES.has(code));
  const failedStatus = scim ? httpGuidance(http) : undefined;
  const cat = catalogEntry(code);

  if (!cat) {
    const event = text(entry.event);
    const meaning = code
      ? `The code "${code}" is not in iamtrail's event catalog, so there is no ready-made guidance for it; the Event and Log columns say what happened.`
      : 'This entry carries no action code, so the catalog cannot interpret it; the Event and Log columns say what happened.';
    return {
      code,
      label: event || code || 'Unknown event',
      category: 'Other',
      summary: 'An event without an entry in the catalog.',
      meaning: failedStatus ? `${meaning} ${failedStatus.meaning}` : meaning,
      action: failedStatus
        ? failedStatus.action
        : 'Look the code up in the documentation of the system that sent it, and read the Log column. If it keeps appearing, add it to the catalog.',
      variant: failedStatus && http !== null ? `HTTP ${http}` : null,
      known: false,
    };
  }

  const failure = outcome === 'FAILURE' && !cat.failureIsTheEvent ? (cat.outcomes?.FAILURE ?? failedAttempt(cat.summary)) : undefined;
  let chosen: Guidance = cat.default;
  let variant: string | null = null;

  const principal = text(entry.principal);
  const target = text(entry.target);
  if (cat.principal && principal && target && !failure) {
    const self = same(principal, target);
    chosen = self ? cat.principal.self : cat.principal.other;
    variant = self ? 'principal = target' : 'principal ≠ target';
  } else if (failedStatus && http !== null) {
    chosen = failedStatus;
    variant = `HTTP ${http}`;
  } else if (scim && cat.scim && outcome !== 'FAILURE') {
    chosen = cat.scim;
    variant = 'over SCIM';
  } else if (failure) {
    chosen = failure;
    variant = 'FAILURE';
  } else if (outcome === 'SUCCESS' && cat.outcomes?.SUCCESS) {
    chosen = cat.outcomes.SUCCESS;
    variant = outcome;
  }

  return {
    code: cat.code,
    label: cat.label,
    category: cat.category,
    summary: cat.summary,
    meaning: chosen.meaning,
    action: chosen.action,
    variant,
    known: true,
  };
}
