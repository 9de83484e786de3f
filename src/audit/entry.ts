// One audit entry as the application builds it before it is appended to the trail.

export type Outcome = 'SUCCESS' | 'FAILURE';

export interface AuditEntry {
  /** epoch milliseconds; null when the source gave no valid time */
  ts: number | null;
  /** broad category: User, Group, Schema, Auth, Token, Settings, Session, … */
  type: string;
  /** SCIM, WEB, API, CLI */
  protocol: string;
  /** what happened in the protocol's own words: Create User, Sign In, … */
  event: string;
  http?: number | null;
  /** human line first, then the detail */
  log: string;
  /** catalog code: PROVISIONING_ADD, LOGIN, … */
  action?: string | null;
  outcome?: Outcome | null;
  /** who acted: a token name, an administrator */
  principal?: string | null;
  /** whom it concerned: a userName, a group displayName */
  target?: string | null;
  resourceId?: string | null;
  sourceIp?: string | null;
  userAgent?: string | null;
  /** the sender's event id, for events ingested from other systems */
  eventId?: string | null;
  country?: string | null;
  ticket?: string | null;
  targetSystem?: string | null;
  /** what makes two failed requests "the same request" */
  fingerprint?: string | null;
}

export interface StoredAuditEntry extends Required<Omit<AuditEntry, 'ts'>> {
  id: number;
  ts: number | null;
  /** target, else principal, in lower case: whom the entry is about (set by the repository) */
  subject: string | null;
}
