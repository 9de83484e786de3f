// The SCIM reads (list, .search, get by id) as plain data in and out, so that they can run on the
// reader thread (services/scim-reader.ts) as well as on the event loop: the same use case, the
// response already serialised, and a SCIM error as data instead of an exception.
import type { AuditEntry } from '../audit/entry.js';
import { buildScimEntry, type ScimAuditContext, type ScimRequestInfo } from '../audit/scim-entry.js';
import { ScimError, errorBody, type ScimType } from '../scim/errors.js';
import { noneMatch, type ChangeSummary, type ListParams, type Projection, type ProvisioningService } from './provisioning.js';

export type ReadJob =
  | { kind: 'list'; resourceType: 'User' | 'Group'; params: ListParams; baseUrl: string }
  | { kind: 'get'; resourceType: 'User' | 'Group'; id: string; projection: Projection; baseUrl: string };

export type ReadOutcome =
  | { ok: true; kind: 'list'; body: string; summary: string }
  | { ok: true; kind: 'get'; body: string; etag: string; change: ChangeSummary }
  | { ok: false; status: number; detail: string; scimType?: ScimType };

/** What the reader thread needs to log a read itself: the request and its audit context so far. */
export interface ReadLog {
  request: ScimRequestInfo;
  ctx: ScimAuditContext;
  ifNoneMatch?: string;
}

/** Runs one read; a SCIM error (unknown id, invalid filter…) is an outcome, anything else throws. */
export function runRead(svc: ProvisioningService, job: ReadJob): ReadOutcome {
  const isUser = job.resourceType === 'User';
  try {
    if (job.kind === 'list') {
      const result = isUser ? svc.listUsers(job.params, job.baseUrl) : svc.listGroups(job.params, job.baseUrl);
      return { ok: true, kind: 'list', body: JSON.stringify(result.body), summary: `Listed ${job.resourceType}s: ${result.summary}` };
    }
    const result = isUser ? svc.getUser(job.id, job.baseUrl, job.projection) : svc.getGroup(job.id, job.baseUrl, job.projection);
    return { ok: true, kind: 'get', body: JSON.stringify(result.resource), etag: result.etag, change: result.change };
  } catch (error) {
    if (error instanceof ScimError) return { ok: false, status: error.status, detail: error.message, scimType: error.scimType };
    throw error;
  }
}

/** The outcome's result, or its SCIM error thrown again (for the route's error handler). */
export function settle<K extends 'list' | 'get'>(outcome: ReadOutcome, kind: K): Extract<ReadOutcome, { ok: true; kind: K }> {
  if (!outcome.ok) throw new ScimError(outcome.status, outcome.detail, outcome.scimType);
  if (outcome.kind !== kind) throw new Error(`a ${kind} read answered as ${outcome.kind}`);
  return outcome as Extract<ReadOutcome, { ok: true; kind: K }>;
}

/** The status a read is answered with: its SCIM error's, 304 for a get whose ETag the client holds, or 200. */
export function readStatus(outcome: ReadOutcome, ifNoneMatch: string | undefined): number {
  if (!outcome.ok) return outcome.status;
  return outcome.kind === 'get' && noneMatch(ifNoneMatch, outcome.etag) ? 304 : 200;
}

/** The audit context once the read is done: what it found, or the error body it is answered with. */
export function describeRead(ctx: ScimAuditContext, outcome: ReadOutcome): ScimAuditContext {
  if (!outcome.ok) return { ...ctx, error: errorBody(outcome.status, outcome.detail, outcome.scimType) };
  if (outcome.kind === 'list') return { ...ctx, summary: outcome.summary };
  const { action, target, resourceId, summary, event } = outcome.change;
  return { ...ctx, action, target, resourceId, summary, event: event ?? ctx.event };
}

/** The read's audit entry: the same one the route's onSend hook writes for a read on the event loop. */
export function readEntry(log: ReadLog, outcome: ReadOutcome): AuditEntry {
  return buildScimEntry(log.request, describeRead(log.ctx, outcome), readStatus(outcome, log.ifNoneMatch));
}
