// Events from other IAM systems: one validation and one way of storing them, shared by
// POST /api/v1/events (src/routes/api/events.ts) and `iamtrail import FILE` (src/cli.ts).
//
// An event is { id, timestamp, action, outcome, principal, targetUser, targetSystem, sourceIp,
// country, userAgent, ticket, detail }. Each valid event becomes one audit entry (protocol API),
// appended with appendIfNew on the sender's id — so a re-sent batch adds nothing and the red-flag
// rules run on every new entry — and each batch adds ONE summary entry, in the same transaction.
// Invalid events are rejected one by one with a reason; the valid ones of the batch are kept.
import { createReadStream, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import sjson from 'secure-json-parse';
import { catalogEntry } from '../audit/catalog.js';
import type { AuditEntry, Outcome } from '../audit/entry.js';
import { clip, mayHoldSecret, redact, redactText } from '../audit/redact.js';
import type { Sqlite } from '../db/connection.js';
import { describeJsonFault } from '../json-syntax.js';
import type { Repositories } from '../plugins/db.js';

export const INGEST_LIMITS = {
  /** events in one POST /api/v1/events */
  maxEvents: 5_000,
  /** request body of POST /api/v1/events */
  bodyBytes: 10 * 1024 * 1024,
  /** events per transaction of `iamtrail import` */
  importBatch: 1_000,
  idChars: 200,
  /** `detail`, serialised as JSON (or the string itself), in UTF-8 bytes */
  detailBytes: 8_192,
  /** levels of objects and arrays in `detail` ({"a":1} is 1) */
  detailDepth: 32,
  /** one NDJSON line or CSV record of an imported file */
  recordChars: 1024 * 1024,
} as const;

/** Longest accepted value of each optional text field, in characters. */
const TEXT_FIELDS = [
  ['principal', 256],
  ['targetUser', 256],
  ['targetSystem', 256],
  ['sourceIp', 64],
  ['country', 64],
  ['userAgent', 1024],
  ['ticket', 256],
] as const;

type TextField = (typeof TEXT_FIELDS)[number][0];

export const EVENT_FIELDS = ['id', 'timestamp', 'action', 'outcome', 'principal', 'targetUser', 'targetSystem', 'sourceIp', 'country', 'userAgent', 'ticket', 'detail'] as const;

const ACTION_CODE = /^[A-Z][A-Z0-9_]{1,63}$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A whole-request or whole-file problem; statusCode and error are what the API answers. */
export class IngestError extends Error {
  constructor(
    readonly statusCode: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

const fmt = (n: number) => n.toLocaleString('en-US');
const q = (s: string) => JSON.stringify(s);

// ---- catalog ------------------------------------------------------------------------------------

/**
 * Type (category) and Event (label) of an action code: from the event catalog; for a code the
 * catalog does not know, a category by prefix and the code itself as the Event.
 */
export function describeAction(code: string): { type: string; event: string } {
  const known = catalogEntry(code);
  if (known) return { type: known.category, event: known.label };
  let type = 'Other';
  if (/^(LOGIN|LOGOUT|IMPERSONATION|SAML)/.test(code) || code === 'USER_ACCOUNT_LOCKED' || code.startsWith('INCREMENT_FAIL')) type = 'Login';
  else if (code.includes('PASSWORD')) type = 'Password';
  else if (/^(PROVISIONING|DE_PROVISIONING|RETRY|SIMULATE)/.test(code)) type = 'Provisioning';
  else if (/^(SYNCHRONIZATION|RECONCIL)/.test(code) || code.includes('ORPHAN')) type = 'Synchronization';
  return { type, event: code };
}

// ---- one event ----------------------------------------------------------------------------------

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
const MAX_EPOCH_MS = 8.64e15;

/**
 * Epoch milliseconds from an ISO 8601 date-time (without a zone: UTC; a date alone: midnight UTC),
 * a number of epoch milliseconds, or a string of digits (CSV). Anything else, or an impossible
 * date (2024-02-30), is null.
 */
export function parseTimestamp(raw: unknown): number | null {
  if (typeof raw === 'number') return Number.isFinite(raw) && Math.abs(raw) <= MAX_EPOCH_MS ? Math.round(raw) : null;
  if (typeof raw !== 'string') return null;
  const text = raw.trim();
  if (/^-?\d{1,16}$/.test(text)) return parseTimestamp(Number(text));
  const m = ISO.exec(text);
  if (!m) return null;
  const [y, mo, d, h = 0, mi = 0, s = 0] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((v) => (v === undefined ? undefined : Number(v))) as number[];
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  if (mo! < 1 || mo! > 12 || d! < 1 || h > 23 || mi > 59 || s > 59) return null;
  const utc = Date.UTC(y!, mo! - 1, d!, h, mi, s, ms);
  const check = new Date(utc);
  if (check.getUTCDate() !== d || check.getUTCMonth() !== mo! - 1) return null;
  let offset = 0;
  const zone = m[8];
  if (zone && zone !== 'Z' && zone !== 'z') {
    const zm = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    const zh = Number(zm[2]);
    const zmin = Number(zm[3] ?? 0);
    if (zh > 23 || zmin > 59) return null;
    offset = (zm[1] === '-' ? -1 : 1) * (zh * 60 + zmin) * 60_000;
  }
  const value = utc - offset;
  return Math.abs(value) <= MAX_EPOCH_MS ? value : null;
}

/**
 * Whether a parsed JSON value nests objects and arrays deeper than `max` levels. Walked with a
 * stack, not recursion: JSON.parse takes any depth, but JSON.stringify (and any recursive walk) of
 * a value a few thousand levels deep overflows the call stack.
 */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [object, number][] = value !== null && typeof value === 'object' ? [[value, 1]] : [];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > max) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${clip(q(value), 60)}`;
  return `${typeof value} ${String(value)}`;
}

const has = (o: Record<string, unknown>, key: string) => Object.prototype.hasOwnProperty.call(o, key);
const absent = (v: unknown) => v === undefined || v === null || v === '';

export type PreparedEvent = { ok: true; id: string; entry: AuditEntry } | { ok: false; id: string | null; error: string };

/**
 * Validates one event and builds its audit entry. The Log text is the human line, the other fields,
 * `provenance` (how the event arrived: API token, or file and line) and the detail. Every problem of
 * the event is named, not only the first.
 */
export function prepareEvent(value: unknown, provenance: string): PreparedEvent {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, id: null, error: `an event is a JSON object, not ${describe(value)}` };
  }
  const e = value as Record<string, unknown>;
  const get = (key: string) => (has(e, key) ? e[key] : undefined);
  const errors: string[] = [];

  let id: string | null = null;
  const rawId = get('id');
  if (absent(rawId)) errors.push("id is required (the sending system's own event id)");
  else if (typeof rawId === 'number' && Number.isSafeInteger(rawId)) id = String(rawId);
  else if (typeof rawId !== 'string') errors.push(`id must be a string, not ${describe(rawId)}`);
  else if (rawId.length > INGEST_LIMITS.idChars) errors.push(`id is ${fmt(rawId.length)} characters long; at most ${INGEST_LIMITS.idChars} are allowed`);
  else if (!rawId.trim()) errors.push('id is blank');
  else if (CONTROL.test(rawId)) errors.push('id contains a control character (such as a line break)');
  else id = rawId;

  let action: string | null = null;
  const rawAction = get('action');
  if (absent(rawAction)) errors.push('action is required (a catalog code such as LOGIN)');
  else if (typeof rawAction !== 'string') errors.push(`action must be a string, not ${describe(rawAction)}`);
  else if (!ACTION_CODE.test(rawAction)) {
    errors.push(`action ${clip(q(rawAction), 80)} is not a catalog code: 2 to 64 upper-case letters, digits and _, starting with a letter (e.g. LOGIN)`);
  } else action = rawAction;

  let outcome: Outcome | null = null;
  const rawOutcome = get('outcome');
  if (!absent(rawOutcome)) {
    const upper = typeof rawOutcome === 'string' ? rawOutcome.trim().toUpperCase() : null;
    if (upper === 'SUCCESS' || upper === 'FAILURE') outcome = upper;
    else errors.push(`outcome must be SUCCESS or FAILURE, not ${describe(rawOutcome)}`);
  }

  const text: Partial<Record<TextField, string>> = {};
  for (const [field, max] of TEXT_FIELDS) {
    const raw = get(field);
    if (absent(raw)) continue;
    const value = typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : raw;
    if (typeof value !== 'string') errors.push(`${field} must be a string, not ${describe(raw)}`);
    else if (value.length > max) errors.push(`${field} is ${fmt(value.length)} characters long; at most ${fmt(max)} are allowed`);
    else if (CONTROL.test(value)) errors.push(`${field} contains a control character (such as a line break)`);
    else if (value.trim()) text[field] = value.trim();
  }

  let detail: string | undefined;
  const rawDetail = get('detail');
  if (!absent(rawDetail) && nestedDeeperThan(rawDetail, INGEST_LIMITS.detailDepth)) {
    errors.push(`detail is nested deeper than ${INGEST_LIMITS.detailDepth} levels of objects and arrays`);
  } else if (!absent(rawDetail)) {
    const serialised = typeof rawDetail === 'string' ? rawDetail : JSON.stringify(rawDetail);
    // UTF-8 is at most 3 bytes per UTF-16 unit: short texts need no exact count
    const bytes = serialised.length * 3 <= INGEST_LIMITS.detailBytes ? serialised.length : Buffer.byteLength(serialised, 'utf8');
    if (bytes > INGEST_LIMITS.detailBytes) {
      errors.push(`detail is ${fmt(bytes)} bytes when serialised; at most ${fmt(INGEST_LIMITS.detailBytes)} are allowed`);
    } else if (typeof rawDetail === 'string') {
      // one field, one line: a text with line breaks is shown as a JSON string, so it cannot add lines to the Log
      const text = redactText(rawDetail);
      detail = CONTROL.test(text) ? q(text) : text;
    } else {
      // redact (a deep copy) only when a secret-looking word appears anywhere in the detail
      detail = mayHoldSecret(serialised) ? JSON.stringify(redact(rawDetail)) : serialised;
    }
  }

  if (errors.length > 0 || id === null || action === null) return { ok: false, id, error: errors.join('; ') };

  const rawTs = get('timestamp');
  const ts = parseTimestamp(rawTs);
  const rawCountry = text.country;
  const country = rawCountry && /^[A-Za-z]{2}$/.test(rawCountry) ? rawCountry.toUpperCase() : null;
  const { type, event } = describeAction(action);

  // the human line first: LOGIN FAILURE for "jdoe" by "jdoe" on "Okta" from 203.0.113.7 (FR)
  let first = outcome ? `${action} ${outcome}` : action;
  if (text.targetUser) first += ` for ${q(text.targetUser)}`;
  if (text.principal) first += ` by ${q(text.principal)}`;
  if (text.targetSystem) first += ` on ${q(text.targetSystem)}`;
  if (text.sourceIp) first += ` from ${text.sourceIp}`;
  if (country) first += ` (${country})`;
  if (ts === null) first += ' — no valid timestamp';

  const fields = [`Event id ${q(id)}`];
  if (ts !== null) {
    // epoch seconds sent as milliseconds land in January 1970: say so rather than guess
    const seconds = typeof rawTs === 'number' && Math.abs(rawTs) < 1e11 && rawTs !== 0 ? ` (sent ${rawTs}: epoch milliseconds — were seconds meant?)` : '';
    fields.push(`time ${new Date(ts).toISOString()}${seconds}`);
  }
  else fields.push(absent(rawTs) ? 'no valid timestamp (none sent)' : `no valid timestamp (sent: ${nestedDeeperThan(rawTs, INGEST_LIMITS.detailDepth) ? `${describe(rawTs)} nested too deep to show` : clip(JSON.stringify(rawTs) ?? String(rawTs), 100)})`);
  if (rawCountry && !country) fields.push(`country ${q(rawCountry)} not stored (not a two-letter ISO 3166 code)`);
  if (text.userAgent) fields.push(`user agent ${q(text.userAgent)}`);
  if (text.ticket) fields.push(`ticket ${q(text.ticket)}`);

  const lines = [first, fields.join(' · '), provenance];
  if (detail !== undefined) lines.push(`Detail: ${detail}`);

  return {
    ok: true,
    id,
    entry: {
      ts,
      type,
      protocol: 'API',
      event,
      http: null,
      log: lines.join('\n'),
      action,
      outcome,
      principal: text.principal ?? null,
      target: text.targetUser ?? null,
      resourceId: null,
      sourceIp: text.sourceIp ?? null,
      userAgent: text.userAgent ?? null,
      eventId: id,
      country,
      ticket: text.ticket ?? null,
      targetSystem: text.targetSystem ?? null,
      fingerprint: null,
    },
  };
}

// ---- a batch ------------------------------------------------------------------------------------

export interface IngestItem {
  /** 0-based position of the event in the batch (API) or in the file (import) */
  index: number;
  /** 1-based line where the event starts (NDJSON, CSV, imported JSON) */
  line?: number;
  value?: unknown;
  /** the item could not be parsed at all */
  parseError?: string;
}

export interface ItemResult {
  index: number;
  line?: number;
  id: string | null;
  status: 'stored' | 'duplicate' | 'rejected';
  error?: string;
  entryId?: number;
}

export interface BatchResult {
  accepted: number;
  duplicates: number;
  rejected: number;
  results: ItemResult[];
}

export interface PreparedItem {
  item: IngestItem;
  event: PreparedEvent;
}

export function prepareBatch(items: IngestItem[], provenance: (item: IngestItem) => string): PreparedItem[] {
  return items.map((item) => ({
    item,
    event: item.parseError !== undefined ? { ok: false, id: null, error: item.parseError } : prepareEvent(item.value, provenance(item)),
  }));
}

function itemResult(item: IngestItem, id: string | null, status: ItemResult['status']): ItemResult {
  const r: ItemResult = { index: item.index, id, status };
  if (item.line !== undefined) r.line = item.line;
  return r;
}

/**
 * Appends the valid events (appendIfNew: a known sender id is a duplicate) and then the summary
 * entry built from the counts. Call it inside a transaction (a write-queue job, or db.transaction),
 * so the events of a batch and their summary are durable together or not at all.
 */
export function storeBatch(repos: Repositories, prepared: PreparedItem[], summary: (result: BatchResult) => AuditEntry): BatchResult {
  const result: BatchResult = { accepted: 0, duplicates: 0, rejected: 0, results: new Array<ItemResult>(prepared.length) };
  for (let i = 0; i < prepared.length; i++) {
    const { item, event } = prepared[i]!;
    if (!event.ok) {
      const r = itemResult(item, event.id, 'rejected');
      r.error = event.error;
      result.results[i] = r;
      result.rejected++;
      continue;
    }
    const entryId = repos.audit.appendIfNew(event.entry);
    if (entryId === null) {
      result.results[i] = itemResult(item, event.id, 'duplicate');
      result.duplicates++;
    } else {
      const r = itemResult(item, event.id, 'stored');
      r.entryId = entryId;
      result.results[i] = r;
      result.accepted++;
    }
  }
  repos.audit.append(summary(result));
  return result;
}

const plural = (n: number, one: string, many = `${one}s`) => `${fmt(n)} ${n === 1 ? one : many}`;

export function countsLine(r: { accepted: number; duplicates: number; rejected: number }): string {
  return `${fmt(r.accepted)} stored, ${plural(r.duplicates, 'duplicate')}, ${fmt(r.rejected)} rejected`;
}

/** Where an item is: "#3 (line 4, id "a1")". */
export function itemPlace(r: { index: number; line?: number; id: string | null }): string {
  const parts: string[] = [];
  if (r.line !== undefined) parts.push(`line ${r.line}`);
  if (r.id !== null) parts.push(`id ${clip(q(r.id), 80)}`);
  return `#${r.index}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

/** The detail lines of a summary entry: stored entry ids and the first rejections. */
function summaryDetail(result: BatchResult, maxErrors = 10): string[] {
  const lines: string[] = [];
  let low = Infinity;
  let high = -Infinity;
  for (const r of result.results) {
    if (r.entryId === undefined) continue;
    if (r.entryId < low) low = r.entryId;
    if (r.entryId > high) high = r.entryId;
  }
  if (result.accepted > 0) lines.push(low === high ? `Stored entry: #${low}` : `Stored entries: #${low}–#${high}`);
  if (result.rejected > 0) {
    const rejected = result.results.filter((r) => r.status === 'rejected');
    lines.push(`Rejected${rejected.length > maxErrors ? ` (first ${maxErrors} of ${fmt(rejected.length)})` : ''}:`);
    for (const r of rejected.slice(0, maxErrors)) lines.push(`  ${itemPlace(r)}: ${clip(r.error ?? '', 500)}`);
  }
  return lines;
}

export interface SummaryInput {
  protocol: 'API' | 'CLI';
  event: string;
  /** first line of the log */
  headline: string;
  /** request or file line(s) */
  context: string[];
  principal: string | null;
  http: number | null;
  outcome: Outcome;
  sourceIp?: string | null;
  userAgent?: string | null;
  result?: BatchResult;
  ts?: number;
}

/** The one summary entry of a batch (or of a refused ingestion request). */
export function summaryEntry(s: SummaryInput): AuditEntry {
  const lines = [s.headline, ...s.context, ...(s.result ? summaryDetail(s.result) : [])];
  return {
    ts: s.ts ?? Date.now(),
    type: 'Ingest',
    protocol: s.protocol,
    event: s.event,
    http: s.http,
    log: lines.join('\n'),
    action: 'EVENTS_INGESTED',
    outcome: s.outcome,
    principal: s.principal,
    target: null,
    resourceId: null,
    sourceIp: s.sourceIp ?? null,
    userAgent: s.userAgent ?? null,
  };
}

// ---- one request of POST /api/v1/events ---------------------------------------------------------

/**
 * What storing one API batch needs, as plain data: it is posted to the ingest writer thread
 * (src/services/ingest-writer.ts), so it holds no functions and only the fields storeBatch reads.
 */
export interface ApiBatchJob {
  prepared: PreparedItem[];
  format: 'json' | 'ndjson';
  tokenId: number;
  tokenName: string;
  /** the request line of the summary entry */
  requestLine: string;
  sourceIp: string;
  userAgent: string | null;
  /** when the request was received (the token's last use) */
  receivedAt: number;
}

/** The items without the raw event values, which storing does not read (less to copy to the thread). */
export function jobItems(prepared: PreparedItem[]): PreparedItem[] {
  return prepared.map(({ item, event }) => {
    const slim: IngestItem = { index: item.index };
    if (item.line !== undefined) slim.line = item.line;
    return { item: slim, event };
  });
}

/** Stores one API batch and its summary entry and notes the token's use; inside a transaction. */
export function storeApiBatch(repos: Repositories, job: ApiBatchJob): BatchResult {
  const n = job.prepared.length;
  const result = storeBatch(repos, job.prepared, (r) => {
    const status = r.rejected > 0 ? 207 : 200;
    return summaryEntry({
      protocol: 'API',
      event: 'Ingest Events',
      headline: `Ingested ${fmt(n)} event${n === 1 ? '' : 's'} (${job.format === 'json' ? 'JSON array' : 'NDJSON'}) with token "${job.tokenName}": ${countsLine(r)}`,
      context: [job.requestLine],
      principal: job.tokenName,
      http: status,
      outcome: status === 200 ? 'SUCCESS' : 'FAILURE',
      sourceIp: job.sourceIp,
      userAgent: job.userAgent,
      result: r,
    });
  });
  repos.tokens.touch(job.tokenId, job.receivedAt);
  return result;
}

// ---- request bodies -----------------------------------------------------------------------------

const SAFE_JSON = { protoAction: 'remove', constructorAction: 'remove' } as const;

function tooMany(count: number, max: number): IngestError {
  return new IngestError(
    413,
    'too_many_events',
    `The batch holds ${fmt(count)} events; at most ${fmt(max)} events are accepted per request. Split it into several requests.`,
  );
}

/** A JSON array of events (the whole body must parse, else 400). */
export function parseJsonBatch(text: string, maxEvents: number = INGEST_LIMITS.maxEvents): IngestItem[] {
  if (!text.trim()) throw new IngestError(400, 'empty_batch', 'The request body is empty: send a JSON array of events.');
  let value: unknown;
  try {
    value = sjson.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, undefined, SAFE_JSON);
  } catch {
    // said without JSON.parse's message, which quotes the body: the reason is logged
    throw new IngestError(400, 'invalid_json', `The body is not valid JSON: ${describeJsonFault(text)}. Nothing was stored.`);
  }
  if (!Array.isArray(value)) {
    throw new IngestError(400, 'not_an_array', `The body is ${describe(value)}: send a JSON array of events, or one event per line with Content-Type application/x-ndjson.`);
  }
  if (value.length > maxEvents) throw tooMany(value.length, maxEvents);
  if (value.length === 0) throw new IngestError(400, 'empty_batch', 'The array holds no events.');
  return value.map((v, index) => ({ index, value: v }));
}

/** One JSON event per line; blank lines are skipped, a line that does not parse is rejected alone. */
export function parseNdjsonBatch(text: string, maxEvents: number = INGEST_LIMITS.maxEvents): IngestItem[] {
  const lines = text.split('\n');
  let count = 0;
  for (const line of lines) if (line.trim()) count++;
  if (count > maxEvents) throw tooMany(count, maxEvents);
  if (count === 0) throw new IngestError(400, 'empty_batch', 'The request body holds no events: send one JSON event per line.');
  const items: IngestItem[] = [];
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n]!;
    if (!line.trim()) continue;
    if (n === 0 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    items.push(parseLine(line, items.length, n + 1));
  }
  return items;
}

function parseLine(line: string, index: number, lineNumber: number): IngestItem {
  try {
    return { index, line: lineNumber, value: sjson.parse(line, undefined, SAFE_JSON) };
  } catch {
    return { index, line: lineNumber, parseError: `line ${lineNumber} is not valid JSON: ${describeJsonFault(line, lineNumber)}` };
  }
}

// ---- files (iamtrail import) --------------------------------------------------------------------

export type FileFormat = 'json' | 'ndjson' | 'csv';

/** Readers yield the items of a file; fatal problems (no header, not an array) throw IngestError. */
type Reader = (chunks: AsyncIterable<string>) => AsyncGenerator<IngestItem>;

/** NDJSON, line by line: memory is bounded by the longest line (at most recordChars). */
async function* readNdjson(chunks: AsyncIterable<string>): AsyncGenerator<IngestItem> {
  let rest = '';
  let lineNumber = 0;
  let index = 0;
  let overlong = false;
  const finish = (line: string): IngestItem | null => {
    lineNumber++;
    if (overlong) {
      overlong = false;
      return { index: index++, line: lineNumber, parseError: `line ${lineNumber} is longer than ${fmt(INGEST_LIMITS.recordChars)} characters` };
    }
    if (lineNumber === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    if (!line.trim()) return null;
    return parseLine(line, index++, lineNumber);
  };
  for await (const chunk of chunks) {
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
      const line = overlong ? '' : rest + chunk.slice(start, nl);
      rest = '';
      start = nl + 1;
      const item = finish(line);
      if (item) yield item;
    }
    if (!overlong) {
      rest += chunk.slice(start);
      if (rest.length > INGEST_LIMITS.recordChars) {
        overlong = true;
        rest = '';
      }
    }
  }
  if (rest || overlong) {
    const item = finish(rest);
    if (item) yield item;
  }
}

/**
 * RFC 4180 CSV records: fields separated by commas, records by CRLF, LF or CR; a field in double
 * quotes may hold commas, line breaks and doubled quotes (""). Yields [startLine, fields] per
 * record, or [startLine, error] for a record that cannot be read (unterminated quote, too long).
 * Blank lines are skipped. Lenient where RFC 4180 is silent: a quote inside an unquoted field, or
 * text after a closing quote, is kept literally.
 */
async function* csvRecords(chunks: AsyncIterable<string>): AsyncGenerator<[number, string[] | string]> {
  const QUOTE = 34;
  const COMMA = 44;
  const LF = 10;
  const CR = 13;
  const START = 0; // at the start of a field
  const PLAIN = 1; // in an unquoted field
  const QUOTED = 2; // in a quoted field
  const CLOSED = 3; // after a quote in a quoted field: the end, or the first of ""
  const SKIP = 4; // a record too long: dropped up to the next line break
  let state = START;
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let sawCR = false;
  let first = true;

  for await (const chunk of chunks) {
    let i = first && chunk.charCodeAt(0) === 0xfeff ? 1 : 0;
    first = false;
    let run = i; // start of the pending run of field characters in this chunk
    for (; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (state === QUOTED) {
        if (c === QUOTE) {
          field += chunk.slice(run, i);
          state = CLOSED;
        } else if (c === LF) line++;
        continue;
      }
      if (c === LF && sawCR) {
        // the LF of a CRLF: the CR ended the record already
        sawCR = false;
        run = i + 1;
        continue;
      }
      sawCR = false;
      if (c === LF || c === CR) {
        let out: [number, string[] | string] | null = null;
        if (state === SKIP) {
          out = [recordLine, `the record starting on line ${recordLine} is longer than ${fmt(INGEST_LIMITS.recordChars)} characters (an unterminated quote?)`];
        } else {
          if (state === PLAIN) field += chunk.slice(run, i);
          if (state !== START || fields.length > 0) {
            fields.push(field);
            out = [recordLine, fields];
          }
        }
        fields = [];
        field = '';
        state = START;
        line++;
        recordLine = line;
        sawCR = c === CR;
        run = i + 1;
        if (out) yield out;
        continue;
      }
      if (state === SKIP) continue;
      if (c === COMMA && state !== PLAIN) {
        fields.push(field);
        field = '';
        state = START;
        run = i + 1;
      } else if (c === COMMA) {
        fields.push(field + chunk.slice(run, i));
        field = '';
        state = START;
        run = i + 1;
      } else if (state === START) {
        if (c === QUOTE) {
          state = QUOTED;
          run = i + 1;
        } else {
          state = PLAIN;
          run = i;
        }
      } else if (state === CLOSED) {
        if (c === QUOTE) field += '"';
        state = c === QUOTE ? QUOTED : PLAIN;
        run = c === QUOTE ? i + 1 : i;
      }
    }
    if (state === PLAIN || state === QUOTED) field += chunk.slice(run);
    // a record is checked at chunk ends (chunks are far smaller than the limit)
    if (state !== SKIP) {
      let size = field.length;
      for (const f of fields) size += f.length;
      if (size > INGEST_LIMITS.recordChars) {
        state = SKIP;
        fields = [];
        field = '';
      }
    }
  }
  if (state === QUOTED) {
    yield [recordLine, `the quoted field in the record starting on line ${recordLine} is never closed (the file ends inside it)`];
  } else if (state === SKIP) {
    yield [recordLine, `the record starting on line ${recordLine} is longer than ${fmt(INGEST_LIMITS.recordChars)} characters`];
  } else if (state !== START || fields.length > 0) {
    fields.push(field);
    yield [recordLine, fields];
  }
}

/** CSV with a header row naming the event fields (any order, case-insensitive; other columns ignored). */
async function* readCsv(chunks: AsyncIterable<string>): AsyncGenerator<IngestItem> {
  let header: (string | null)[] | undefined;
  let index = 0;
  const known = new Map<string, string>(EVENT_FIELDS.map((f) => [f.toLowerCase(), f]));
  for await (const [line, record] of csvRecords(chunks)) {
    if (!header) {
      if (typeof record === 'string') throw new IngestError(400, 'bad_header', `The CSV header cannot be read: ${record}`);
      header = record.map((name) => known.get(name.trim().toLowerCase()) ?? null);
      const seen = new Set<string>();
      for (const name of header) {
        if (name && seen.has(name)) throw new IngestError(400, 'bad_header', `The CSV header names the column "${name}" twice`);
        if (name) seen.add(name);
      }
      const missing = ['id', 'action'].filter((f) => !seen.has(f));
      if (missing.length > 0) {
        throw new IngestError(
          400,
          'bad_header',
          `The CSV header (line 1) has no ${missing.join(' and ')} column: the first line must name the fields, e.g. ${EVENT_FIELDS.join(',')}`,
        );
      }
      continue;
    }
    if (typeof record === 'string') {
      yield { index: index++, line, parseError: record };
      continue;
    }
    if (record.length > header.length) {
      yield { index: index++, line, parseError: `line ${line} has ${record.length} fields but the header has ${header.length}` };
      continue;
    }
    const event: Record<string, unknown> = {};
    for (let i = 0; i < record.length; i++) {
      const name = header[i];
      if (!name) continue;
      let value: unknown = record[i];
      if (name === 'detail' && typeof value === 'string' && /^\s*[[{]/.test(value)) {
        try {
          value = sjson.parse(value, undefined, SAFE_JSON);
        } catch {
          /* not JSON after all: keep the text */
        }
      }
      event[name] = value;
    }
    yield { index: index++, line, value: event };
  }
  if (!header) throw new IngestError(400, 'bad_header', 'The CSV file is empty: the first line must name the fields');
}

/**
 * A JSON array, element by element: a small scanner finds where each top-level element starts and
 * ends (strings, escapes and nesting), so even a large file is never held whole, and each element
 * has a line number. An element that does not parse is rejected alone.
 */
async function* readJsonArray(chunks: AsyncIterable<string>): AsyncGenerator<IngestItem> {
  let state: 'before' | 'inside' | 'after' = 'before';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let element = '';
  let elementLine = 0;
  let started = false; // an element has begun (non-whitespace seen)
  let line = 1;
  let index = 0;
  let first = true;
  const emit = (): IngestItem => {
    const text = element.trim();
    element = '';
    started = false;
    if (!text) return { index: index++, line: elementLine, parseError: `an empty element on line ${elementLine} (two commas in a row?)` };
    return parseJsonElement(text, index++, elementLine);
  };
  for await (const chunk of chunks) {
    let i = 0;
    if (first && chunk.charCodeAt(0) === 0xfeff) i = 1;
    first = false;
    let from = started ? i : -1; // start of the element text in this chunk
    for (; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c === 10) line++;
      if (state === 'before') {
        if (c === 91) state = 'inside';
        else if (c !== 32 && c !== 9 && c !== 10 && c !== 13) {
          throw new IngestError(400, 'not_an_array', `The file is not a JSON array: it starts with ${q(chunk.slice(i, i + 20))} (line ${line})`);
        }
        continue;
      }
      if (state === 'after') {
        if (c !== 32 && c !== 9 && c !== 10 && c !== 13) throw new IngestError(400, 'invalid_json', `Unexpected text after the end of the JSON array (line ${line})`);
        continue;
      }
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 92) escaped = true;
        else if (c === 34) inString = false;
        continue;
      }
      if (!started) {
        if (c === 32 || c === 9 || c === 10 || c === 13) continue;
        if (depth === 0 && c === 93) {
          // "]" right after "[" or after a trailing comma
          state = 'after';
          continue;
        }
        started = true;
        elementLine = line;
        from = i;
      }
      if (c === 34) inString = true;
      else if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) {
        if (depth > 0) depth--;
        else if (c === 93) {
          // the "]" that closes the array
          element += chunk.slice(from, i);
          from = -1;
          yield emit();
          state = 'after';
        }
        // a stray "}" stays in the element, which then fails to parse
      } else if (c === 44 && depth === 0) {
        element += chunk.slice(from, i);
        from = -1;
        yield emit();
      }
    }
    if (from !== -1) element += chunk.slice(from);
  }
  if (state === 'before') throw new IngestError(400, 'not_an_array', 'The file is empty: expected a JSON array of events');
  if (state === 'inside') {
    if (started) yield { index: index++, line: elementLine, parseError: `the file ends inside the JSON array (line ${line}): the element starting on line ${elementLine} is incomplete` };
    else throw new IngestError(400, 'invalid_json', `The file ends before the JSON array is closed with "]" (line ${line})`);
  }
}

function parseJsonElement(text: string, index: number, line: number): IngestItem {
  try {
    return { index, line, value: sjson.parse(text, undefined, SAFE_JSON) };
  } catch {
    // (on the element's first line, the column counts from where the element starts)
    return { index, line, parseError: `the element starting on line ${line} is not valid JSON: ${describeJsonFault(text, line)}` };
  }
}

const READERS: Record<FileFormat, Reader> = { json: readJsonArray, ndjson: readNdjson, csv: readCsv };

/** The items of a file's text, given in chunks (as read from disk). */
export function readItems(format: FileFormat, chunks: AsyncIterable<string>): AsyncGenerator<IngestItem> {
  return READERS[format](chunks);
}

/** The format from the extension (.json, .ndjson/.jsonl, .csv), else from the first character. */
export function detectFormat(path: string, firstChars: string): FileFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson';
  if (ext === '.csv') return 'csv';
  const c = firstChars.replace(/^\uFEFF/, '').trimStart()[0];
  if (c === '[') return 'json';
  if (c === '{') return 'ndjson';
  return 'csv';
}

export interface ImportProgress {
  bytes: number;
  totalBytes: number;
  events: number;
  elapsedMs: number;
}

export interface ImportOptions {
  path: string;
  format?: FileFormat;
  /** who imports: cli:<user> */
  principal: string;
  batchSize?: number;
  onProgress?: (p: ImportProgress) => void;
  /** rejections kept for the report */
  maxErrors?: number;
}

export interface ImportResult {
  format: FileFormat;
  events: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  /** the first maxErrors rejections */
  errors: ItemResult[];
  batches: number;
  bytes: number;
  elapsedMs: number;
}

/**
 * Imports a JSON array, NDJSON or CSV file, streaming, in transactions of batchSize events (each
 * with its summary entry). BEGIN IMMEDIATE and the busy timeout let it run next to the server.
 */
export async function importFile(sqlite: Sqlite, repos: Repositories, opts: ImportOptions): Promise<ImportResult> {
  let totalBytes: number;
  try {
    const stat = statSync(opts.path);
    if (!stat.isFile()) throw new IngestError(400, 'not_a_file', `${opts.path} is not a file`);
    totalBytes = stat.size;
  } catch (error) {
    if (error instanceof IngestError) throw error;
    throw new IngestError(400, 'unreadable', `Cannot read ${opts.path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const started = Date.now();
  const batchSize = opts.batchSize ?? INGEST_LIMITS.importBatch;
  const maxErrors = opts.maxErrors ?? 20;
  const name = basename(opts.path);
  let bytes = 0;

  const stream = createReadStream(opts.path, { highWaterMark: 256 * 1024 });
  const iterator = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const decoder = new StringDecoder('utf8');
  const read = async (): Promise<string | null> => {
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = await iterator.next();
      } catch (error) {
        throw new IngestError(400, 'unreadable', `Cannot read ${opts.path}: ${(error as Error).message}`);
      }
      if (next.done) return null;
      bytes += next.value.length;
      const text = decoder.write(next.value);
      if (text) return text;
    }
  };
  // the first chunk is read ahead, to tell the format when the extension does not
  const head = await read();
  const format = opts.format ?? detectFormat(opts.path, head ?? '');
  const chunks = async function* (): AsyncGenerator<string> {
    if (head) yield head;
    for (let text = await read(); text !== null; text = await read()) yield text;
    const tail = decoder.end();
    if (tail) yield tail;
  };

  const result: ImportResult = { format, events: 0, accepted: 0, duplicates: 0, rejected: 0, errors: [], batches: 0, bytes: 0, elapsedMs: 0 };
  const store = sqlite.transaction((prepared: PreparedItem[], first: number, last: number, batch: number) =>
    storeBatch(repos, prepared, (r) =>
      summaryEntry({
        protocol: 'CLI',
        event: 'Import Events',
        headline: `Imported ${plural(prepared.length, 'event')} from ${name} with the iamtrail CLI: ${countsLine(r)}`,
        context: [`File ${opts.path} (${format.toUpperCase()}), batch ${batch}, ${first === last ? `line ${first}` : `lines ${first}–${last}`} · by ${opts.principal}`],
        principal: opts.principal,
        http: null,
        outcome: r.rejected > 0 ? 'FAILURE' : 'SUCCESS',
        result: r,
      }),
    ),
  );

  const flush = (items: IngestItem[]) => {
    if (items.length === 0) return;
    result.batches++;
    const prepared = prepareBatch(items, (item) => `Imported by ${opts.principal} from ${name}${item.line !== undefined ? ` line ${item.line}` : ` item ${item.index}`}`);
    const first = items[0]!.line ?? items[0]!.index;
    const last = items[items.length - 1]!.line ?? items[items.length - 1]!.index;
    const r = store.immediate(prepared, first, last, result.batches);
    result.events += items.length;
    result.accepted += r.accepted;
    result.duplicates += r.duplicates;
    result.rejected += r.rejected;
    for (const item of r.results) {
      if (item.status === 'rejected' && result.errors.length < maxErrors) result.errors.push(item);
    }
    opts.onProgress?.({ bytes, totalBytes, events: result.events, elapsedMs: Date.now() - started });
  };

  let batch: IngestItem[] = [];
  try {
    for await (const item of READERS[format](chunks())) {
      batch.push(item);
      if (batch.length >= batchSize) {
        flush(batch);
        batch = [];
      }
    }
    flush(batch);
  } finally {
    stream.destroy();
  }
  result.bytes = bytes;
  result.elapsedMs = Date.now() - started;
  return result;
}

/** The report of an import, for stdout. */
export function importReport(path: string, r: ImportResult): string[] {
  const lines = [`Imported ${path} (${r.format.toUpperCase()}): ${plural(r.events, 'event')} read — ${countsLine(r)}.`];
  if (r.rejected > 0) {
    lines.push(r.rejected > r.errors.length ? `First ${r.errors.length} of ${fmt(r.rejected)} rejected events:` : 'Rejected events:');
    for (const e of r.errors) lines.push(`  ${e.line !== undefined ? `line ${e.line}` : `item ${e.index}`}${e.id !== null ? ` (id ${clip(q(e.id), 80)})` : ''}: ${e.error}`);
  }
  return lines;
}

/** A progress bar on a TTY (percent of bytes, events/s), redrawn at most 10 times a second; else nothing until the end. */
export function progressBar(stream: NodeJS.WriteStream): { update(p: ImportProgress): void; done(p: ImportProgress): void } {
  let last = 0;
  const rate = (p: ImportProgress) => (p.elapsedMs > 0 ? Math.round((p.events * 1000) / p.elapsedMs) : 0);
  const render = (p: ImportProgress) => {
    const share = p.totalBytes > 0 ? Math.min(1, p.bytes / p.totalBytes) : 1;
    const width = 30;
    const filled = Math.round(share * width);
    return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}%  ${fmt(p.events)} events  ${fmt(rate(p))} events/s`;
  };
  return {
    update(p) {
      if (!stream.isTTY) return;
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      stream.write(`\r${render(p)}\x1b[K`);
    },
    done(p) {
      if (stream.isTTY) stream.write(`\r${render({ ...p, bytes: p.totalBytes })}\x1b[K\n`);
      else stream.write(`${fmt(p.events)} events read in ${(p.elapsedMs / 1000).toFixed(1)} s (${fmt(rate(p))} events/s)\n`);
    },
  };
}
