// Builds the audit entry of one SCIM request: the human line first, then the request (method, path,
// query, client, user agent, token) and the redacted body and error response.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditEntry, Outcome } from '../../audit/entry.js';
import { clip, redact, redactQuery } from '../../audit/redact.js';
import type { ScimErrorBody } from '../../scim/errors.js';

export interface ScimAuditContext {
  type: string;
  event: string;
  action?: string;
  principal?: string;
  tokenId?: number;
  target?: string;
  resourceId?: string;
  summary?: string;
  /** the RFC 7644 error body sent, if any */
  error?: ScimErrorBody;
  /** an authentication failure: the request never reached its handler */
  authFailure?: string;
  /** its machine-readable reason: disabled, missing, malformed, unknown, revoked, expired, wrong-scope */
  authReason?: string;
  /** set once the entry is written (inside a change's transaction, or by the onSend hook) */
  written: boolean;
  /** Entra ID mode: refused requests are counted, not logged */
  skip: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    scimAudit: ScimAuditContext;
  }
  interface FastifyContextConfig {
    auditType?: string;
    auditEvent?: string;
  }
}

/** Query strings are logged decoded (filter=userName eq "x"), as people read them. */
function readable(query: string): string {
  try {
    return decodeURIComponent(query.replace(/\+/g, ' '));
  } catch {
    return query;
  }
}

function requestLine(request: FastifyRequest): string {
  const [path, query = ''] = request.url.split('?', 2) as [string, string?];
  const q = query ? `?${clip(readable(redactQuery(query)), 2048)}` : '';
  const parts = [`${request.method} ${path}${q}`, `client ${request.ip}`];
  const ua = request.headers['user-agent'];
  if (ua) parts.push(`user agent "${clip(ua, 256)}"`);
  parts.push(request.scimAudit.principal ? `token "${request.scimAudit.principal}"` : 'no valid token');
  return parts.join(' · ');
}

function bodyLine(request: FastifyRequest): string | undefined {
  if (request.body === undefined || request.body === null) return undefined;
  return `Request body: ${clip(JSON.stringify(redact(request.body)))}`;
}

export function buildScimEntry(request: FastifyRequest, status: number): AuditEntry {
  const ctx = request.scimAudit;
  const failed = status >= 400;
  const outcome: Outcome = failed ? 'FAILURE' : 'SUCCESS';
  let first: string;
  if (ctx.authFailure) first = `Authentication failed: ${ctx.authFailure} (request: ${ctx.event})`;
  else if (failed) first = `${ctx.event} failed (${status}): ${ctx.error?.detail ?? 'no detail'}`;
  else first = ctx.summary ?? `${ctx.event} succeeded`;

  const lines = [first, requestLine(request)];
  const body = bodyLine(request);
  if (body) lines.push(body);
  if (ctx.error) lines.push(`Response: ${JSON.stringify(ctx.error)}`);
  return {
    ts: Date.now(),
    type: ctx.authFailure ? 'Auth' : ctx.type,
    protocol: 'SCIM',
    event: ctx.authFailure ? 'Authenticate' : ctx.event,
    http: status,
    log: lines.join('\n'),
    action: ctx.authFailure ? 'SCIM_AUTH' : (ctx.action ?? (failed ? 'SCIM_REQUEST' : 'SCIM_READ')),
    outcome,
    principal: ctx.principal ?? null,
    target: ctx.target ?? null,
    resourceId: ctx.resourceId ?? null,
    sourceIp: request.ip,
    userAgent: request.headers['user-agent'] ?? null,
    fingerprint: failed ? fingerprint(request, status) : null,
  };
}

/** What makes two failures "the same": the 401 cause, or the method, path and status. */
function fingerprint(request: FastifyRequest, status: number): string {
  const ctx = request.scimAudit;
  if (ctx.authFailure) return `scim-auth:${ctx.authReason ?? 'unknown'}${ctx.principal ? `:${ctx.principal}` : ''}`;
  return `scim:${request.method} ${request.url.split('?', 1)[0]} ${status}`;
}

/** Appends the entry (and marks the token used) — call inside a write-queue job. */
export function appendScimEntry(request: FastifyRequest, status: number): void {
  const { repos } = request.server;
  repos.audit.append(buildScimEntry(request, status));
  if (request.scimAudit.tokenId !== undefined) repos.tokens.touch(request.scimAudit.tokenId, Date.now());
  request.scimAudit.written = true;
}

/** onSend: requests whose entry was not written with a change (reads, errors, 401s) are logged here. */
export async function logOnSend(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const ctx = request.scimAudit;
  if (!ctx || ctx.written || ctx.skip) return;
  try {
    // the request changed nothing: unless DURABLE_READS is set, it is answered once its entry is
    // committed (visible, and kept if the process dies), not after the fsync that follows
    const durable = request.server.config.DURABLE_READS;
    await request.server.writeQueue.submit(() => appendScimEntry(request, reply.statusCode), undefined, { durable });
  } catch (error) {
    request.log.error({ err: error }, 'could not append the audit entry of a SCIM request');
  }
}
