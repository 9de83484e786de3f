// Finds the cleartext password a client sends (Okta pushes it on create, PUT and PATCH) so that it
// can be hashed before the write; the password is write-only (RFC 7643 §4.1.1). The name may be
// written bare or URN-qualified (urn:ietf:params:scim:schemas:core:2.0:User:password).
import { USER_SCHEMA } from './schemas.js';

export type PasswordChange = { kind: 'set'; value: string } | { kind: 'remove' };

const QUALIFIED = `${USER_SCHEMA}:password`.toLowerCase();
const CORE = USER_SCHEMA.toLowerCase();
export const isPasswordName = (name: string) => {
  const lower = name.trim().toLowerCase();
  return lower === 'password' || lower === QUALIFIED;
};

function fromObject(value: unknown): string | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  for (const [k, v] of Object.entries(value)) if (isPasswordName(k) && typeof v === 'string') return v;
  // the core schema URN as an object key: { "urn:…:core:2.0:User": { "password": "…" } }
  for (const [k, v] of Object.entries(value)) if (k.toLowerCase() === CORE) return fromObject(v);
  return undefined;
}

/** A member read as the PATCH engine reads it (resource.ts keyOf): the first key equal ignoring case. */
function memberOf(object: object, name: string): unknown {
  const key = Object.keys(object).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : (object as Record<string, unknown>)[key];
}

export function passwordOfResource(body: unknown): string | undefined {
  return fromObject(body);
}

/** The net password change of a PatchOp body: the last set, or a remove. */
export function passwordOfPatch(body: unknown): PasswordChange | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const ops = memberOf(body, 'operations');
  if (!Array.isArray(ops)) return undefined;
  let change: PasswordChange | undefined;
  for (const op of ops as unknown[]) {
    if (!op || typeof op !== 'object' || Array.isArray(op)) continue;
    // Entra ID sends "Op"/"Path"/"Value": the keys are matched ignoring case, as the engine does
    const rawKind = memberOf(op, 'op');
    const kind = typeof rawKind === 'string' ? rawKind.toLowerCase() : '';
    const rawPath = memberOf(op, 'path');
    const path = typeof rawPath === 'string' && rawPath !== '' ? rawPath : undefined;
    const value = memberOf(op, 'value');
    if (path !== undefined && isPasswordName(path)) {
      if (kind === 'remove') change = { kind: 'remove' };
      else if (typeof value === 'string') change = { kind: 'set', value };
    } else if (path === undefined && kind !== 'remove') {
      const set = fromObject(value);
      if (set !== undefined) change = { kind: 'set', value: set };
    }
  }
  return change;
}
