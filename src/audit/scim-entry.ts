// The audit entry of one SCIM request, built from plain data (so that the SCIM reader thread,
// which logs the reads it answers, builds exactly the entry the event loop would): the human line
// first, then the request (method, path, query, client, user agent, token) and the redacted body
// and error response.
import type { ScimErrorBody } from '../scim/errors.js';
import type { AuditEntry, Outcome } from './entry.js';
import { clip, redact, redactQuery } from './redact.js';

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
  /** set once the entry is written (inside a change's transaction, by the reader thread, or by the onSend hook) */
  written: boolean;
  /** Entra ID mode: refused requests are counted, not logged */
  skip: boolean;
}

/** What the entry says about the HTTP request (the parsed body, redacted when the entry is built). */
export interface ScimRequestInfo {
  method: string;
  url: string;
  ip: string;
  userAgent?: string;
  body?: unknown;
}

/** Query strings are logged decoded (filter=userName eq "x"), as people read them. */
function readable(query: string): string {
  try {
    return decodeURIComponent(query.replace(/\+/g, ' '));
  } catch {
    return query;
  }
}

function requestLine(request: ScimRequestInfo, ctx: ScimAuditContext): string {
  const [path, query = ''] = request.url.split('?', 2) as [string, string?];
  const q = query ? `?${clip(readable(redactQuery(query)), 2048)}` : '';
  const parts = [`${request.method} ${path}${q}`, `client ${request.ip}`];
  if (request.userAgent) parts.push(`user agent "${clip(request.userAgent, 256)}"`);
  parts.push(ctx.principal ? `token "${ctx.principal}"` : 'no valid token');
  return parts.join(' · ');
}

function bodyLine(request: ScimRequestInfo): string | undefined {
  if (request.body === undefined || request.body === null) return undefined;
  return `Request body: ${clip(JSON.stringify(redact(request.body)))}`;
}

/** What makes two failures "the same": the 401 cause, or the method, path and status. */
function fingerprint(request: ScimRequestInfo, ctx: ScimAuditContext, status: number): string {
  if (ctx.authFailure) return `scim-auth:${ctx.authReason ?? 'unknown'}${ctx.principal ? `:${ctx.principal}` : ''}`;
  return `scim:${request.method} ${request.url.split('?', 1)[0]} ${status}`;
}

export function buildScimEntry(request: ScimRequestInfo, ctx: ScimAuditContext, status: number): AuditEntry {
  const failed = status >= 400;
  const outcome: Outcome = failed ? 'FAILURE' : 'SUCCESS';
  let first: string;
  if (ctx.authFailure) first = `Authentication failed: ${ctx.authFailure} (request: ${ctx.event})`;
  else if (failed) first = `${ctx.event} failed (${status}): ${ctx.error?.detail ?? 'no detail'}`;
  else first = ctx.summary ?? `${ctx.event} succeeded`;

  const lines = [first, requestLine(request, ctx)];
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
    userAgent: request.userAgent ?? null,
    fingerprint: failed ? fingerprint(request, ctx, status) : null,
  };
}
