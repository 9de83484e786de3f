// The audit entry of a SCIM request on the event loop (the entry itself: audit/scim-entry.ts).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { buildScimEntry, type ScimAuditContext, type ScimRequestInfo } from '../../audit/scim-entry.js';

export type { ScimAuditContext };

declare module 'fastify' {
  interface FastifyRequest {
    scimAudit: ScimAuditContext;
  }
  interface FastifyContextConfig {
    auditType?: string;
    auditEvent?: string;
  }
}

export function requestInfo(request: FastifyRequest): ScimRequestInfo {
  return { method: request.method, url: request.url, ip: request.ip, userAgent: request.headers['user-agent'], body: request.body };
}

/** Appends the entry (and marks the token used) — call inside a write-queue job. */
export function appendScimEntry(request: FastifyRequest, status: number): void {
  const { repos } = request.server;
  repos.audit.append(buildScimEntry(requestInfo(request), request.scimAudit, status));
  if (request.scimAudit.tokenId !== undefined) repos.tokens.touch(request.scimAudit.tokenId, Date.now());
  request.scimAudit.written = true;
}

/** onSend: requests whose entry was not written with a change or by the reader thread (errors, 401s…) are logged here. */
export async function logOnSend(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const ctx = request.scimAudit;
  if (!ctx || ctx.written || ctx.skip) return;
  try {
    await request.server.writeQueue.submit(() => appendScimEntry(request, reply.statusCode));
  } catch (error) {
    request.log.error({ err: error }, 'could not append the audit entry of a SCIM request');
  }
}
