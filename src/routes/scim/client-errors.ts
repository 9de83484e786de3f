// Requests that Node's HTTP parser refuses before Fastify sees them: request line and headers over
// 16 KB (431: an identity provider's long OR filter in the query string), a request that is not
// HTTP (400), one that did not arrive in time (408). Fastify answers those with its own JSON; under
// /scim/v2 the answer is an RFC 7644 error body instead, and the refusal is an audit entry like any
// SCIM request (only the request line is readable: no token, no headers).
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyInstance } from 'fastify';
import type { AuditEntry } from '../../audit/entry.js';
import { clip, redactQuery } from '../../audit/redact.js';
import { errorBody } from '../../scim/errors.js';

const REASONS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'The request line and headers are over 16 KB. Send a long filter in the body of POST /scim/v2/Users/.search (or /Groups/.search) instead of the query string.'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'The request did not arrive in time.'],
};
const NOT_HTTP: [number, string, string] = [400, 'Bad Request', 'The request is not valid HTTP/1.1.'];

/** A request target under the SCIM base path, /scim/v2 (with or without a path or query after it). */
export const isScimTarget = (target: string) => /^\/scim\/v2(?:[/?]|$)/.test(target);

export function clientErrorHandler(this: FastifyInstance, err: ConnectionError, socket: Socket): void {
  // a reset connection has nobody left to answer
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, statusText, detail] = REASONS[err.code ?? ''] ?? NOT_HTTP;
  // the bytes received so far (a Buffer, whatever Fastify's type says)
  const raw = err.rawPacket as unknown as Buffer | undefined;
  const requestLine = Buffer.isBuffer(raw) ? (raw.subarray(0, 4096).toString('latin1').split('\r\n', 1)[0] ?? '') : '';
  const [, method, target] = /^([A-Z]{3,10}) (\S+)/.exec(requestLine) ?? [];
  const scim = target !== undefined && isScimTarget(target);
  let body: string;
  let type: string;
  if (scim) {
    body = JSON.stringify(errorBody(status, detail));
    type = 'application/scim+json; charset=utf-8';
    logRefusal(this, { status, detail, method: method!, target: target!, ip: socket.remoteAddress ?? null });
  } else {
    body = JSON.stringify({ error: statusText, message: detail, statusCode: status });
    type = 'application/json; charset=utf-8';
  }
  this.log.debug({ err }, `client error ${status}`);
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${statusText}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: ${type}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}

function logRefusal(app: FastifyInstance, r: { status: number; detail: string; method: string; target: string; ip: string | null }): void {
  // Entra ID mode: SCIM requests are refused and not logged (the seed: "no new SCIM events")
  if (app.repos.settings.provisioningMode() === 'entra') return;
  const [path, query] = r.target.split('?', 2) as [string, string?];
  const shown = `${clip(path, 512)}${query ? `?${clip(redactQuery(query), 512)}` : ''}`;
  const entry: AuditEntry = {
    ts: Date.now(),
    type: 'Endpoint',
    protocol: 'SCIM',
    event: 'Unknown Endpoint',
    http: r.status,
    log: [`Unknown Endpoint failed (${r.status}): ${r.detail}`, `${r.method} ${shown} · client ${r.ip ?? 'unknown'} · headers not read (refused before parsing)`].join('\n'),
    action: 'SCIM_REQUEST',
    outcome: 'FAILURE',
    principal: null,
    target: null,
    resourceId: null,
    sourceIp: r.ip,
    userAgent: null,
    fingerprint: `scim:${r.method} ${clip(path, 512)} ${r.status}`,
  };
  app.writeQueue.submit(() => app.repos.audit.append(entry)).catch((error: unknown) => app.log.error({ err: error }, 'could not log a refused SCIM request'));
}
