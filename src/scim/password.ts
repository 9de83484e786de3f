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

export function passwordOfResource(body: unknown): string | undefined {
  return fromObject(body);
}

/** The net password change of a PatchOp body: the last set, or a remove. */
export function passwordOfPatch(body: unknown): PasswordChange | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const ops = Object.entries(body).find(([k]) => k.toLowerCase() === 'operations')?.[1];
  if (!Array.isArray(ops)) return undefined;
  let change: PasswordChange | undefined;
  for (const op of ops as Record<string, unknown>[]) {
    if (!op || typeof op !== 'object') continue;
    const kind = typeof op.op === 'string' ? op.op.toLowerCase() : '';
    const path = typeof op.path === 'string' ? op.path : undefined;
    if (path !== undefined && isPasswordName(path)) {
      if (kind === 'remove') change = { kind: 'remove' };
      else if (typeof op.value === 'string') change = { kind: 'set', value: op.value };
    } else if (path === undefined && kind !== 'remove') {
      const value = fromObject(op.value);
      if (value !== undefined) change = { kind: 'set', value };
    }
  }
  return change;
}
