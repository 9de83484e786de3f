// Secrets never reach the audit trail: passwords, tokens, authorization headers and session ids are
// replaced before a request body, header or query is written down.

import { redactFilterPasswords } from '../scim/filter.js';

export const REDACTED = '[REDACTED]';
/** Words that make a name secret, matched in the name lower-cased without "_", "-", "." and spaces (client_secret, privateKey, X-Api-Key). */
const SECRET_WORD = /pass|pwd|secret|token|authori[sz]ation|cookie|session|apikey|accesskey|privatekey|credential|bearer|jwt|assertion|samlresponse/;
/** Query parameter names too short or common to look for inside other names, secret when they are the whole name. */
const SECRET_PARAM = new Set(['key', 'sig', 'signature', 'code', 'otp', 'pin', 'auth', 'hash', 'nonce']);

const normalise = (name: string) => name.toLowerCase().replace(/[-_.\s]/g, '');
/** whether a name, or any name inside a text, holds a secret word (separators ignored) */
const namesSecret = (text: string) => SECRET_WORD.test(normalise(text));

/** isSecretKey() of the keys seen (request bodies repeat the same few dozen keys), at most 1,000 */
const secretKeys = new Map<string, boolean>();

export function isSecretKey(key: string): boolean {
  let secret = secretKeys.get(key);
  if (secret === undefined) {
    secret = namesSecret(key);
    if (secretKeys.size >= 1000) secretKeys.clear();
    secretKeys.set(key, secret);
  }
  return secret;
}

// "password=hunter2", "client_secret: abc", "\"pwd\":\"x\"", ":password => x" and "Authorization: Bearer …" in
// free text: the key (optionally quoted), "=", ":", "=>" or ":=", and the value (quoted, a scheme and its credential, or a word)
const PAIR = /(["']?)([A-Za-z][\w.-]*)\1(\s*(?:=>|:=|[:=])\s*)("(?:[^"\\]|\\.)*"?|'[^']*'?|(?:Bearer|Basic)\s+[^\s,;&]+|[^\s,;&"'})\]]+)/gi;
const BEARER = /\b(Bearer)\s+[A-Za-z0-9\-._~+/]+=*/gi;
// Basic only when what follows decodes to user:password, so that "Basic authentication" stays
const BASIC = /\b(Basic)\s+([A-Za-z0-9+/]{4,}={0,2})(?![\w+/=])/gi;

/** Free text with the values of secret-looking key=value / key: value pairs and Bearer/Basic credentials replaced. */
export function redactText(text: string): string {
  if (!/[:=]|bearer|basic/i.test(text)) return text;
  // exact and cheap: a secret key's letters appear in the text without its separators (a URN has
  // ":" but no secret word; checked before the pair scan, which cost a create ~6 µs per request)
  if (!namesSecret(text) && !/basic\s/i.test(text)) return text;
  let out = '';
  let from = 0;
  PAIR.lastIndex = 0;
  for (let m = PAIR.exec(text); m !== null; m = PAIR.exec(text)) {
    const [pair, quote = '', key = '', separator = '', value = ''] = m;
    if (!isSecretKey(key)) {
      // go on right after the key: the value may hold a pair of its own (https://…?access_token=…)
      PAIR.lastIndex = m.index + quote.length + key.length;
      continue;
    }
    const q = value[0] === '"' || value[0] === "'" ? value[0] : '';
    out += `${text.slice(from, m.index)}${quote}${key}${quote}${separator}${q}${REDACTED}${q}`;
    from = m.index + pair.length;
  }
  return (out + text.slice(from))
    .replace(BEARER, (_m, scheme: string) => `${scheme} ${REDACTED}`)
    .replace(BASIC, (m, scheme: string, credential: string) => (Buffer.from(credential, 'base64').toString('latin1').includes(':') ? `${scheme} ${REDACTED}` : m));
}

/** Whether a text (e.g. a serialised JSON value) may hold anything redact() would replace: a cheap test before a deep copy. */
export function mayHoldSecret(text: string): boolean {
  // not isSecretKey(): its cache is for keys, not whole texts; in JSON a tab after "Basic" is "\t"
  return namesSecret(text) || /basic(?:\s|\\[tnr])/i.test(text);
}

/** Deep copy of a JSON value with every secret replaced, including PATCH ops whose path names one and secrets inside strings. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 64) return '[nested too deep]';
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value === null || typeof value !== 'object') return value;
  const source = value as Record<string, unknown>;
  // the PATCH engine reads "op", "path" and "value" ignoring case (Entra ID sends "Path"/"Value"), so this does too
  let pathNamesSecret = false;
  for (const key in source) {
    const v = source[key];
    if (key.length === 4 && key.toLowerCase() === 'path' && typeof v === 'string' && isSecretKey(v.split(/[.:[]/).pop() ?? '')) pathNamesSecret = true;
  }
  const out: Record<string, unknown> = {};
  for (const key in source) {
    const v = source[key];
    const lower = key.toLowerCase();
    if (isSecretKey(key) || (pathNamesSecret && lower === 'value')) out[key] = REDACTED;
    // a .search filter or a PATCH path may compare the password: password eq "…"
    else if ((lower === 'filter' || lower === 'path') && typeof v === 'string') out[key] = redactFilterPasswords(v);
    else out[key] = redact(v, depth + 1);
  }
  return out;
}

function decoded(part: string): string | undefined {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** A query string with secret-looking parameters redacted, and the values a filter compares with the password. */
export function redactQuery(query: string): string {
  if (!query) return query;
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      const key = pair.slice(0, eq);
      const name = decoded(key) ?? key;
      if (isSecretKey(name) || SECRET_PARAM.has(normalise(name))) return `${key}=${REDACTED}`;
      if (name.toLowerCase() === 'filter') {
        const value = pair.slice(eq + 1);
        const text = decoded(value);
        // a value that does not decode cannot be parsed either (the request fails): redacted whole,
        // since "%70assword" names the password without saying "password"
        if (text === undefined) return `${key}=${REDACTED}`;
        const redacted = redactFilterPasswords(text);
        return redacted === text ? pair : `${key}=${encodeURIComponent(redacted)}`;
      }
      return pair;
    })
    .join('&');
}

/** Serialises for the log and cuts very large bodies, saying how much was left out. */
export function clip(text: string, max = 8192): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… [cut: ${text.length - max} more characters not stored]`;
}
