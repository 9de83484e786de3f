// SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (RFC 7644 §3.5.2): tokenizer, recursive-descent
// parser, canonical formatter and an in-memory evaluator over plain JSON resources.

import type { AttrPath, CompareOp, Filter, FilterValue, PatchPath } from './filter-ast.js';
import { invalidFilter, invalidPath, ScimError } from './errors.js';

export const MAX_FILTER_LENGTH = 10_000;
export const MAX_FILTER_DEPTH = 50;

export interface EvaluateOptions {
  /**
   * Whether string comparisons on this attribute are case-sensitive (RFC 7643 caseExact).
   * Inside a valuePath the path is made absolute: `emails[value eq "x"]` asks about emails.value.
   */
  caseExact?: (path: AttrPath) => boolean;
}

// ---------------------------------------------------------------------------------------------
// Tokenizer

type Fail = (detail: string) => ScimError;

type Token =
  | { kind: '(' | ')' | '[' | ']' | 'end'; pos: number }
  | { kind: 'word'; text: string; pos: number }
  | { kind: 'string'; value: string; raw: string; pos: number };

const COMPARE_OPS: ReadonlySet<string> = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);
const ATTR_NAME = /^(?:[A-Za-z][A-Za-z0-9_-]*|\$ref)$/;
const SCHEMA_URN = /^urn:[A-Za-z0-9][A-Za-z0-9-]*(?::[^:]+)+$/i;
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const WHITESPACE = new Set([' ', '\t', '\r', '\n']);
const WORD_END = new Set([' ', '\t', '\r', '\n', '(', ')', '[', ']', '"']);
const ESCAPES = new Map([
  ['"', '"'],
  ['\\', '\\'],
  ['/', '/'],
  ['b', '\b'],
  ['f', '\f'],
  ['n', '\n'],
  ['r', '\r'],
  ['t', '\t'],
]);

function tokenize(text: string, fail: Fail): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (WHITESPACE.has(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === '[' || c === ']') {
      tokens.push({ kind: c, pos: i });
      i++;
    } else if (c === '"') {
      const { value, end } = scanString(text, i, fail);
      tokens.push({ kind: 'string', value, raw: text.slice(i, end), pos: i });
      i = end;
    } else {
      const start = i;
      while (i < text.length && !WORD_END.has(text[i]!)) i++;
      tokens.push({ kind: 'word', text: text.slice(start, i), pos: start });
    }
  }
  tokens.push({ kind: 'end', pos: text.length });
  return tokens;
}

/** A JSON string literal starting at `start` (the opening quote). */
function scanString(text: string, start: number, fail: Fail): { value: string; end: number } {
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') return { value, end: i + 1 };
    if (c === '\\') {
      const e = text[i + 1];
      if (e === undefined) break;
      if (e === 'u') {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
          throw fail(`Invalid unicode escape "\\u${hex}" at position ${i}`);
        }
        value += String.fromCharCode(parseInt(hex, 16));
        i += 6;
        continue;
      }
      const decoded = ESCAPES.get(e);
      if (decoded === undefined) throw fail(`Invalid escape "\\${e}" in string at position ${i}`);
      value += decoded;
      i += 2;
      continue;
    }
    if (c < ' ') throw fail(`Unescaped control character in string at position ${i}`);
    value += c;
    i++;
  }
  throw fail(`Unterminated string starting at position ${start}`);
}

function describe(token: Token, noun: string): string {
  switch (token.kind) {
    case 'end':
      return `the end of the ${noun}`;
    case 'word':
      return `"${truncate(token.text)}"`;
    case 'string':
      return `string ${truncate(token.raw)}`;
    default:
      return `"${token.kind}"`;
  }
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

// ---------------------------------------------------------------------------------------------
// Parser

/** attrPath = [URI ":"] ATTRNAME *1subAttr; the URN is everything before the last ':' (names never contain one). */
function parseAttrPath(text: string, pos: number, fail: Fail): AttrPath {
  const colon = text.lastIndexOf(':');
  const uri = colon >= 0 ? text.slice(0, colon) : undefined;
  if (uri !== undefined && !SCHEMA_URN.test(uri)) {
    throw fail(`Invalid schema URN "${truncate(uri)}" at position ${pos}`);
  }
  const names = text.slice(colon + 1).split('.');
  if (names.length > 2) {
    throw fail(`Attribute path "${truncate(text)}" at position ${pos} has more than one sub-attribute`);
  }
  let namePos = pos + colon + 1;
  for (const name of names) {
    if (name === '') throw fail(`Missing attribute name at position ${namePos}`);
    if (!ATTR_NAME.test(name)) throw fail(`Invalid attribute name "${truncate(name)}" at position ${namePos}`);
    namePos += name.length + 1;
  }
  const [attr, sub] = names as [string, string?];
  return { ...(uri !== undefined && { uri }), attr, ...(sub !== undefined && { sub }) };
}

function isKeyword(token: Token, keyword: string): boolean {
  return token.kind === 'word' && token.text.toLowerCase() === keyword;
}

/** A word that can only be a comparison value, used to reject `attr pr <value>` with a clear message. */
function looksLikeValue(token: Token): boolean {
  if (token.kind === 'string') return true;
  return token.kind === 'word' && /^(?:true|false|null|[-+.\d].*)$/i.test(token.text);
}

class Parser {
  private readonly tokens: Token[];
  private index = 0;
  private depth = 0;

  constructor(
    text: string,
    private readonly fail: Fail,
    private readonly noun: 'filter' | 'path',
  ) {
    this.tokens = tokenize(text, fail);
  }

  filter(): Filter {
    const filter = this.or(false);
    this.expectEnd();
    return filter;
  }

  /** PATH = attrPath / valuePath [subAttr] */
  patchPath(): PatchPath {
    const first = this.peek();
    if (first.kind !== 'word') {
      throw this.fail(`Expected an attribute path at position ${first.pos}, found ${this.describe(first)}`);
    }
    this.index++;
    const path = parseAttrPath(first.text, first.pos, this.fail);
    const open = this.peek();
    if (open.kind !== '[') {
      this.expectEnd();
      return { path };
    }
    this.index++;
    const filter = this.nested(open, () => this.or(true));
    this.close(open, ']');

    const after = this.peek();
    if (after.kind === 'end') return { path, filter };
    if (after.kind !== 'word' || !after.text.startsWith('.')) {
      throw this.fail(
        `Unexpected ${this.describe(after)} at position ${after.pos}; ` +
          'expected "." and a sub-attribute or the end of the path',
      );
    }
    const valueSub = after.text.slice(1);
    if (valueSub === '') throw this.fail(`Missing attribute name at position ${after.pos + 1}`);
    if (!ATTR_NAME.test(valueSub)) {
      throw this.fail(`Invalid attribute name "${truncate(valueSub)}" at position ${after.pos + 1}`);
    }
    this.index++;
    this.expectEnd();
    return { path, filter, valueSub };
  }

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private describe(token: Token): string {
    return describe(token, this.noun);
  }

  private or(inValuePath: boolean): Filter {
    let left = this.and(inValuePath);
    while (isKeyword(this.peek(), 'or')) {
      this.index++;
      left = { op: 'or', left, right: this.and(inValuePath) };
    }
    return left;
  }

  private and(inValuePath: boolean): Filter {
    let left = this.unary(inValuePath);
    while (isKeyword(this.peek(), 'and')) {
      this.index++;
      left = { op: 'and', left, right: this.unary(inValuePath) };
    }
    return left;
  }

  private unary(inValuePath: boolean): Filter {
    const token = this.peek();
    if (token.kind === '(') {
      this.index++;
      const inner = this.nested(token, () => this.or(inValuePath));
      this.close(token, ')');
      return inner;
    }
    if (isKeyword(token, 'not')) {
      this.index++;
      const open = this.peek();
      if (open.kind !== '(') {
        throw this.fail(`Expected "(" after "not" at position ${open.pos}, found ${this.describe(open)}`);
      }
      this.index++;
      const inner = this.nested(open, () => this.or(inValuePath));
      this.close(open, ')');
      return { op: 'not', filter: inner };
    }
    if (token.kind === 'word' && !isKeyword(token, 'and') && !isKeyword(token, 'or')) {
      return this.attrExp(token, inValuePath);
    }
    throw this.fail(`Expected an attribute path at position ${token.pos}, found ${this.describe(token)}`);
  }

  /**
   * attrExp = attrPath SP "pr" / attrPath SP compareOp SP compValue, or a valuePath, optionally
   * followed by a sub-attribute and a comparison (see subAttrAfterValuePath).
   */
  private attrExp(pathToken: Token & { kind: 'word' }, inValuePath: boolean): Filter {
    this.index++;
    const path = parseAttrPath(pathToken.text, pathToken.pos, this.fail);
    const open = this.peek();
    if (open.kind === '[') {
      if (inValuePath) {
        throw this.fail(`Nested "[" at position ${open.pos}: a value filter cannot contain another value filter`);
      }
      this.index++;
      const inner = this.nested(open, () => this.or(true));
      this.close(open, ']');
      const after = this.peek();
      if (after.kind === 'word' && after.text.startsWith('.')) {
        return { op: 'valuePath', path, filter: { op: 'and', left: inner, right: this.subAttrAfterValuePath(after) } };
      }
      return { op: 'valuePath', path, filter: inner };
    }
    return this.comparison(path, pathToken.text);
  }

  /**
   * `emails[type eq "work"].value eq "x"`: not in RFC 7644's filter ABNF (only PATCH paths allow a
   * subAttr after a valuePath), but Microsoft's SCIM validator and Entra ID send it. It is read as
   * `emails[type eq "work" and value eq "x"]`: one element must satisfy both, and the parser
   * builds exactly that tree, so evaluation and SQL need nothing of their own.
   */
  private subAttrAfterValuePath(token: Token & { kind: 'word' }): Filter {
    const name = token.text.slice(1);
    if (name === '') throw this.fail(`Missing attribute name at position ${token.pos + 1}`);
    if (!ATTR_NAME.test(name)) throw this.fail(`Invalid attribute name "${truncate(name)}" at position ${token.pos + 1}`);
    this.index++;
    return this.comparison({ attr: name }, token.text);
  }

  /** SP "pr" / SP compareOp SP compValue, after an attribute path written as `pathText`. */
  private comparison(path: AttrPath, pathText: string): Filter {
    const opToken = this.peek();
    if (opToken.kind !== 'word') {
      throw this.fail(
        `Expected an operator after "${truncate(pathText)}" at position ${opToken.pos}, ` +
          `found ${this.describe(opToken)}`,
      );
    }
    this.index++;
    const op = opToken.text.toLowerCase();
    if (op === 'pr') {
      const after = this.peek();
      if (looksLikeValue(after)) {
        throw this.fail(`Operator "pr" takes no value, found ${this.describe(after)} at position ${after.pos}`);
      }
      return { op: 'pr', path };
    }
    if (!COMPARE_OPS.has(op)) {
      throw this.fail(`Unknown operator "${truncate(opToken.text)}" at position ${opToken.pos}`);
    }
    return { op: op as CompareOp, path, value: this.value(opToken.text) };
  }

  /** compValue = false / null / true / number / string */
  private value(opText: string): FilterValue {
    const token = this.peek();
    if (token.kind === 'string') {
      this.index++;
      return token.value;
    }
    if (token.kind !== 'word') {
      throw this.fail(`Missing value after operator "${opText}" at position ${token.pos}`);
    }
    this.index++;
    const lower = token.text.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    if (lower === 'null') return null;
    if (/^[-+.\d]/.test(token.text)) {
      if (!JSON_NUMBER.test(token.text)) {
        throw this.fail(`Invalid number "${truncate(token.text)}" at position ${token.pos}`);
      }
      const number = Number(token.text);
      if (!Number.isFinite(number)) {
        throw this.fail(`Number "${truncate(token.text)}" at position ${token.pos} is out of range`);
      }
      return number;
    }
    throw this.fail(
      `Invalid value "${truncate(token.text)}" at position ${token.pos}; strings must be in double quotes`,
    );
  }

  private nested<T>(open: Token, parse: () => T): T {
    if (++this.depth > MAX_FILTER_DEPTH) {
      throw this.fail(`The ${this.noun} nests deeper than ${MAX_FILTER_DEPTH} levels at position ${open.pos}`);
    }
    const result = parse();
    this.depth--;
    return result;
  }

  private close(open: Token, closer: ')' | ']'): void {
    const token = this.peek();
    if (token.kind === closer) {
      this.index++;
      return;
    }
    throw this.fail(
      `Expected "${closer}" to close the "${open.kind}" at position ${open.pos}, ` +
        `found ${this.describe(token)} at position ${token.pos}`,
    );
  }

  private expectEnd(): void {
    const token = this.peek();
    if (token.kind === 'end') return;
    if (token.kind === ')' || token.kind === ']') {
      const opener = token.kind === ')' ? '(' : '[';
      throw this.fail(`Unbalanced "${token.kind}" at position ${token.pos} has no matching "${opener}"`);
    }
    const expected = this.noun === 'filter' ? '"and", "or" or the end of the filter' : 'the end of the path';
    throw this.fail(`Unexpected ${this.describe(token)} at position ${token.pos}; expected ${expected}`);
  }
}

function checkInput(text: unknown, noun: 'filter' | 'path', fail: Fail): string {
  if (typeof text !== 'string') throw fail(`The ${noun} must be a string`);
  if (text.length > MAX_FILTER_LENGTH) {
    throw fail(`The ${noun} is longer than ${MAX_FILTER_LENGTH} characters (${text.length})`);
  }
  if (text.trim() === '') throw fail(`The ${noun} is empty`);
  return text;
}

/** Parses a filter query parameter; every syntax problem becomes a 400 invalidFilter. */
export function parseFilter(text: string): Filter {
  try {
    return new Parser(checkInput(text, 'filter', invalidFilter), invalidFilter, 'filter').filter();
  } catch (error) {
    throw withoutPasswords(error, text, invalidFilter);
  }
}

/** Parses a PATCH operation's path; every syntax problem becomes a 400 invalidPath. */
export function parsePatchPath(text: string): PatchPath {
  try {
    return new Parser(checkInput(text, 'path', invalidPath), invalidPath, 'path').patchPath();
  } catch (error) {
    throw withoutPasswords(error, text, invalidPath);
  }
}

// ---------------------------------------------------------------------------------------------
// Passwords in filters

/**
 * A filter may compare the write-only password (`password eq "…"`): it is refused, but the request
 * is logged, so the compared value must not reach the audit trail. These functions work on text
 * that may not parse: strings are scanned leniently (an unterminated one runs to the end).
 */
const REDACTED_VALUE = '[REDACTED]';

function looseTokens(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (WHITESPACE.has(c)) i++;
    else if (c === '(' || c === ')' || c === '[' || c === ']') tokens.push({ kind: c, pos: i++ });
    else if (c === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      end = Math.min(end + 1, text.length);
      tokens.push({ kind: 'string', value: text.slice(i + 1, end - 1), raw: text.slice(i, end), pos: i });
      i = end;
    } else {
      const start = i;
      while (i < text.length && !WORD_END.has(text[i]!)) i++;
      tokens.push({ kind: 'word', text: text.slice(start, i), pos: start });
    }
  }
  return tokens;
}

/** password, Password, urn:…:User:password, x.password: any name of the path is "password". */
function namesPassword(word: string): boolean {
  return /(?:^|[:.])password$/i.test(word) || /^password\./i.test(word);
}

/**
 * The value tokens of a text that are compared with a password: after a password path and its
 * operator, up to the next "and", "or" or bracket; every value inside `password[…]`.
 */
function passwordValueTokens(text: string): Token[] {
  if (!/password/i.test(text)) return [];
  const tokens = looseTokens(text);
  const secret: Token[] = [];
  let inPasswordBrackets = 0; // depth of "[" opened right after a password path
  let depth = 0;
  for (let k = 0; k < tokens.length; k++) {
    const token = tokens[k]!;
    if (token.kind === '[') {
      depth++;
      const before = tokens[k - 1];
      if (inPasswordBrackets === 0 && before?.kind === 'word' && namesPassword(before.text)) inPasswordBrackets = depth;
      continue;
    }
    if (token.kind === ']') {
      if (depth === inPasswordBrackets) inPasswordBrackets = 0;
      depth = Math.max(0, depth - 1);
      continue;
    }
    if (token.kind !== 'word' && token.kind !== 'string') continue;
    if (inPasswordBrackets > 0) {
      const before = tokens[k - 1];
      const isValue = token.kind === 'string' || (before?.kind === 'word' && COMPARE_OPS.has(before.text.toLowerCase()));
      if (isValue) secret.push(token);
      continue;
    }
    if (token.kind !== 'word' || !namesPassword(token.text)) continue;
    // everything after the path up to the next "and"/"or"/bracket, except a known operator
    for (k++; k < tokens.length; k++) {
      const next = tokens[k]!;
      if (next.kind !== 'word' && next.kind !== 'string') break;
      if (next.kind === 'word' && (isKeyword(next, 'and') || isKeyword(next, 'or'))) break;
      if (next.kind === 'word' && (COMPARE_OPS.has(next.text.toLowerCase()) || isKeyword(next, 'pr'))) continue;
      secret.push(next);
    }
    k--;
  }
  return secret;
}

const rawOf = (token: Token) => (token.kind === 'string' ? token.raw : token.kind === 'word' ? token.text : '');

/** The text with every value compared with a password replaced by "[REDACTED]" (quoted if it was). */
export function redactFilterPasswords(text: string): string {
  const secret = passwordValueTokens(text);
  if (secret.length === 0) return text;
  let out = '';
  let from = 0;
  for (const token of secret) {
    out += text.slice(from, token.pos) + (token.kind === 'string' ? `"${REDACTED_VALUE}"` : REDACTED_VALUE);
    from = token.pos + rawOf(token).length;
  }
  return out + text.slice(from);
}

/** A parse error of a text with password values, its detail without any of them. */
function withoutPasswords(error: unknown, text: unknown, make: Fail): unknown {
  if (!(error instanceof ScimError) || typeof text !== 'string') return error;
  const secret = passwordValueTokens(text);
  if (secret.length === 0) return error;
  let detail = error.message;
  // details quote a token as describe() and the messages above do: a word as "…", a string as its raw
  // text, both cut by truncate(); replace exactly those forms (a bare search for a short value
  // would garble the rest of the sentence)
  const forms = secret.flatMap((token) => (token.kind === 'string' ? [truncate(token.raw)] : [`"${truncate(rawOf(token))}"`]));
  for (const form of [...new Set(forms)].sort((a, b) => b.length - a.length)) detail = detail.split(form).join(REDACTED_VALUE);
  // a bad escape is quoted alone ("\u12G4"): drop it when it lies inside a password value
  const at = /at position (\d+)/.exec(detail);
  const position = at ? Number(at[1]) : -1;
  if (secret.some((token) => position >= token.pos && position < token.pos + rawOf(token).length)) {
    detail = detail.replace(/"\\[^"]*"/g, REDACTED_VALUE);
  }
  return make(detail);
}

// ---------------------------------------------------------------------------------------------
// Formatting

export function formatAttrPath(path: AttrPath): string {
  return `${path.uri === undefined ? '' : `${path.uri}:`}${path.attr}${path.sub === undefined ? '' : `.${path.sub}`}`;
}

export function formatPatchPath(path: PatchPath): string {
  const filter = path.filter === undefined ? '' : `[${formatFilter(path.filter)}]`;
  const sub = path.valueSub === undefined ? '' : `.${path.valueSub}`;
  return `${formatAttrPath(path.path)}${filter}${sub}`;
}

function precedence(filter: Filter): number {
  return filter.op === 'or' ? 1 : filter.op === 'and' ? 2 : 3;
}

/** Canonical text with lower-case keywords and only the parentheses the tree needs. */
export function formatFilter(filter: Filter): string {
  switch (filter.op) {
    case 'and':
    case 'or': {
      // The parser builds left-associative chains, so a right operand of equal precedence needs parentheses.
      const own = precedence(filter);
      return `${group(filter.left, own)} ${filter.op} ${group(filter.right, own + 1)}`;
    }
    case 'not':
      return `not (${formatFilter(filter.filter)})`;
    case 'pr':
      return `${formatAttrPath(filter.path)} pr`;
    case 'valuePath':
      return `${formatAttrPath(filter.path)}[${formatFilter(filter.filter)}]`;
    default:
      return `${formatAttrPath(filter.path)} ${filter.op} ${JSON.stringify(filter.value)}`;
  }
}

function group(filter: Filter, minimum: number): string {
  const text = formatFilter(filter);
  return precedence(filter) < minimum ? `(${text})` : text;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

type JsonObject = Record<string, unknown>;

function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Looks a key up the way SCIM names match: case-insensitively, preferring an exact match. */
function getProperty(object: unknown, name: string): unknown {
  if (!isRecord(object)) return undefined;
  if (Object.hasOwn(object, name)) return object[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(object)) {
    if (key.toLowerCase() === lower) return object[key];
  }
  return undefined;
}

/**
 * Extension attributes live under their schema URN key. A URN with no such key but listed in
 * `schemas` is taken to be the core schema, whose attributes sit at the top level.
 */
function schemaContainer(resource: unknown, uri: string): unknown {
  const extension = getProperty(resource, uri);
  if (extension !== undefined) return extension;
  const schemas = getProperty(resource, 'schemas');
  const lower = uri.toLowerCase();
  const listed = Array.isArray(schemas) && schemas.some((s) => typeof s === 'string' && s.toLowerCase() === lower);
  return listed ? resource : undefined;
}

function elementsOf(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  return value === undefined || value === null ? [] : [value];
}

/** The raw values a path selects; a sub-attribute of a multi-valued attribute yields one per element. */
function select(resource: unknown, path: AttrPath): unknown[] {
  const container = path.uri === undefined ? resource : schemaContainer(resource, path.uri);
  const value = getProperty(container, path.attr);
  if (path.sub === undefined) return [value];
  const sub = path.sub;
  return elementsOf(value).map((element) => getProperty(element, sub));
}

/** The values a comparison sees: array elements one by one, complex values by their `value` sub-attribute. */
function operands(resource: unknown, path: AttrPath): unknown[] {
  const values = select(resource, path)
    .flatMap((value) => (Array.isArray(value) ? value : [value]))
    .map((value) => (isRecord(value) ? getProperty(value, 'value') : value));
  // An empty multi-valued attribute is unassigned, the same as null (RFC 7643 §2.5).
  return values.length === 0 ? [null] : values;
}

function isPresent(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isRecord(value)) return Object.keys(value).length > 0;
  return true;
}

function compare(op: CompareOp, actual: unknown, expected: FilterValue, exact: boolean): boolean {
  const left = actual === undefined ? null : actual;
  if (left === null || expected === null) {
    // Absent and null are the same thing; only eq/ne are meaningful against them.
    if (op === 'eq') return left === expected;
    if (op === 'ne') return left !== expected;
    return false;
  }
  if (typeof left === 'string' && typeof expected === 'string') {
    const a = exact ? left : left.toLowerCase();
    const b = exact ? expected : expected.toLowerCase();
    switch (op) {
      case 'eq': return a === b;
      case 'ne': return a !== b;
      case 'co': return a.includes(b);
      case 'sw': return a.startsWith(b);
      case 'ew': return a.endsWith(b);
      case 'gt': return a > b;
      case 'ge': return a >= b;
      case 'lt': return a < b;
      case 'le': return a <= b;
    }
  }
  if (typeof left === 'number' && typeof expected === 'number') {
    switch (op) {
      case 'eq': return left === expected;
      case 'ne': return left !== expected;
      case 'gt': return left > expected;
      case 'ge': return left >= expected;
      case 'lt': return left < expected;
      case 'le': return left <= expected;
      default: return false;
    }
  }
  if (typeof left === 'boolean' && typeof expected === 'boolean') {
    if (op === 'eq') return left === expected;
    if (op === 'ne') return left !== expected;
    return false;
  }
  // Values of different types are never identical.
  return op === 'ne';
}

function evaluate(filter: Filter, resource: unknown, caseExact: (path: AttrPath) => boolean): boolean {
  switch (filter.op) {
    case 'and':
      return evaluate(filter.left, resource, caseExact) && evaluate(filter.right, resource, caseExact);
    case 'or':
      return evaluate(filter.left, resource, caseExact) || evaluate(filter.right, resource, caseExact);
    case 'not':
      return !evaluate(filter.filter, resource, caseExact);
    case 'pr':
      return select(resource, filter.path).some(isPresent);
    case 'valuePath': {
      const parent = filter.path;
      const absolute = (inner: AttrPath): boolean => caseExact({ ...parent, sub: inner.attr });
      return select(resource, parent)
        .flatMap(elementsOf)
        .some((element) => isRecord(element) && evaluate(filter.filter, element, absolute));
    }
    default: {
      const exact = caseExact(filter.path);
      return operands(resource, filter.path).some((value) => compare(filter.op, value, filter.value, exact));
    }
  }
}

/**
 * Evaluates a filter against a plain JSON resource (or one element of a multi-valued attribute).
 * A comparison on a multi-valued attribute holds when any element satisfies it.
 */
export function evaluateFilter(filter: Filter, resource: unknown, options: EvaluateOptions = {}): boolean {
  return evaluate(filter, resource, options.caseExact ?? (() => false));
}
