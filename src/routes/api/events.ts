// POST /api/v1/events: audit events from other IAM systems, as a JSON array (application/json) or
// one event per line (application/x-ndjson), at most 5,000 events and 10 MiB per request.
// 200: every event stored or already known (duplicate); 207: some were rejected — each item of
// `results` says which and why. Nothing is half-stored: the events and the request's summary entry
// commit together. Refused requests (401, 403, 413, 400…) get a summary entry too.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { clip } from '../../audit/redact.js';
import { INGEST_LIMITS, IngestError, jobItems, parseJsonBatch, parseNdjsonBatch, prepareBatch, summaryEntry, type IngestItem } from '../../services/ingest.js';

interface ParsedBody {
  format: 'json' | 'ndjson';
  items: IngestItem[];
  bytes: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** set once the request's summary entry is written */
    ingestLogged: boolean;
  }
}

const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson'];
const ACCEPTS = 'a JSON array of events as application/json, or one event per line as application/x-ndjson';
const fmt = (n: number) => n.toLocaleString('en-US');

function requestLine(request: FastifyRequest): string {
  const parts = [`${request.method} ${request.url.split('?', 1)[0]}`, `client ${request.ip}`];
  const ua = request.headers['user-agent'];
  if (ua) parts.push(`user agent ${JSON.stringify(clip(ua, 256))}`);
  const type = request.headers['content-type'];
  const length = request.headers['content-length'];
  if (type || length) parts.push([type ? clip(type, 100) : null, length ? `${fmt(Number(length) || 0)} bytes` : null].filter(Boolean).join(', '));
  return parts.join(' · ');
}

export default async function eventsRoutes(app: FastifyInstance): Promise<void> {
  app.decorateRequest('ingestLogged', false);

  // only the two accepted bodies; anything else is a 415 before a byte is parsed
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      const text = body as string;
      done(null, { format: 'json', items: parseJsonBatch(text), bytes: Buffer.byteLength(text) } satisfies ParsedBody);
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.addContentTypeParser(NDJSON_TYPES, { parseAs: 'string' }, (_request, body, done) => {
    try {
      const text = body as string;
      done(null, { format: 'ndjson', items: parseNdjsonBatch(text), bytes: Buffer.byteLength(text) } satisfies ParsedBody);
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  // a refused request leaves a trace too: who tried, and why it was refused
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.ingestLogged) return payload;
    request.ingestLogged = true;
    const status = reply.statusCode;
    const auth = request.apiAuthFailure;
    let reason = auth?.detail;
    if (!reason && typeof payload === 'string') {
      try {
        reason = (JSON.parse(payload) as { message?: string }).message;
      } catch {
        /* not JSON: keep no reason */
      }
    }
    const principal = request.apiToken?.name ?? auth?.tokenName ?? null;
    try {
      await app.writeQueue.submit(() =>
        app.repos.audit.append(
          summaryEntry({
            protocol: 'API',
            event: 'Ingest Events',
            headline: `Ingestion request refused (${status}): ${reason ?? 'no reason given'}`,
            context: [`${requestLine(request)} · ${principal ? `token "${principal}"` : 'no valid token'}`],
            principal,
            http: status,
            outcome: 'FAILURE',
            sourceIp: request.ip,
            userAgent: request.headers['user-agent'] ?? null,
          }),
        ),
      );
    } catch (error) {
      request.log.error({ err: error }, 'could not append the audit entry of a refused ingestion request');
    }
    return payload;
  });

  app.post(
    '/events',
    { bodyLimit: INGEST_LIMITS.bodyBytes, config: { tokenScope: 'ingest', accepts: ACCEPTS } },
    async (request, reply) => {
      const body = request.body as ParsedBody | undefined;
      if (!body) throw new IngestError(400, 'empty_batch', `The request has no body: send ${ACCEPTS}.`);
      const token = request.apiToken!;
      const provenance = `Received over the API with token "${token.name}"`;
      const prepared = prepareBatch(body.items, () => provenance);
      const result = await app.ingestWriter.store({
        prepared: jobItems(prepared),
        format: body.format,
        tokenId: token.id,
        tokenName: token.name,
        requestLine: `${requestLine(request)} · token "${token.name}"`,
        sourceIp: request.ip,
        userAgent: request.headers['user-agent'] ?? null,
        receivedAt: Date.now(),
      });
      request.ingestLogged = true;
      return reply.code(result.rejected > 0 ? 207 : 200).type('application/json; charset=utf-8').send(result);
    },
  );
}
