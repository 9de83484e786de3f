// Secrets never reach the audit trail: passwords, tokens, authorization headers and session ids are
// replaced before a request body, header or query is written down.

export const REDACTED = '[REDACTED]';
const SECRET_KEY = /pass(word|wd)?|secret|token|authori[sz]ation|cookie|session|api[-_]?key|credential/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** Deep copy of a JSON value with every secret replaced, including PATCH ops whose path names one. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 64) return '[nested too deep]';
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value === null || typeof value !== 'object') return value;
  const source = value as Record<string, unknown>;
  // the PATCH engine reads "op", "path" and "value" ignoring case (Entra ID sends "Path"/"Value"), so this does too
  const pathNamesSecret = Object.entries(source).some(
    ([key, v]) => key.toLowerCase() === 'path' && typeof v === 'string' && isSecretKey(v.split(/[.:[]/).pop() ?? ''),
  );
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(source)) {
    if (isSecretKey(key) || (pathNamesSecret && key.toLowerCase() === 'value')) out[key] = REDACTED;
    else out[key] = redact(v, depth + 1);
  }
  return out;
}

/** A query string with secret-looking parameters redacted. */
export function redactQuery(query: string): string {
  if (!query) return query;
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const key = eq < 0 ? pair : pair.slice(0, eq);
      let name = key;
      try {
        name = decodeURIComponent(key);
      } catch {
        /* keep the raw key */
      }
      return eq >= 0 && isSecretKey(name) ? `${key}=${REDACTED}` : pair;
    })
    .join('&');
}

/** Serialises for the log and cuts very large bodies, saying how much was left out. */
export function clip(text: string, max = 8192): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… [cut: ${text.length - max} more characters not stored]`;
}
