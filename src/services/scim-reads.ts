// The SCIM reads (list, .search, get by id) as plain data in and out, so that they can run on the
// reader thread (services/scim-reader.ts) as well as on the event loop: the same use case, the
// response already serialised, and a SCIM error as data instead of an exception.
import { ScimError, type ScimType } from '../scim/errors.js';
import type { ChangeSummary, ListParams, Projection, ProvisioningService } from './provisioning.js';

export type ReadJob =
  | { kind: 'list'; resourceType: 'User' | 'Group'; params: ListParams; baseUrl: string }
  | { kind: 'get'; resourceType: 'User' | 'Group'; id: string; projection: Projection; baseUrl: string };

export type ReadOutcome =
  | { ok: true; kind: 'list'; body: string; summary: string }
  | { ok: true; kind: 'get'; body: string; etag: string; change: ChangeSummary }
  | { ok: false; status: number; detail: string; scimType?: ScimType };

/** Runs one read; a SCIM error (unknown id, invalid filter…) is an outcome, anything else throws. */
export function runRead(svc: ProvisioningService, job: ReadJob): ReadOutcome {
  const isUser = job.resourceType === 'User';
  try {
    if (job.kind === 'list') {
      const result = isUser ? svc.listUsers(job.params, job.baseUrl) : svc.listGroups(job.params, job.baseUrl);
      return { ok: true, kind: 'list', body: JSON.stringify(result.body), summary: result.summary };
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
