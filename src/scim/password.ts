// Finds the cleartext password a client sends (Okta pushes it on create, PUT and PATCH) so that it
// can be hashed before the write; the password is write-only (RFC 7643 §4.1.1).
const isPassword = (key: string) => key.toLowerCase() === 'password';

function fromObject(value: unknown): string | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  for (const [k, v] of Object.entries(value)) if (isPassword(k) && typeof v === 'string') return v;
  return undefined;
}

export function passwordOfResource(body: unknown): string | undefined {
  return fromObject(body);
}

/** The last password set by a PatchOp body, if any. */
export function passwordOfPatch(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const entries = Object.entries(body);
  const ops = entries.find(([k]) => k.toLowerCase() === 'operations')?.[1];
  if (!Array.isArray(ops)) return undefined;
  let found: string | undefined;
  for (const op of ops as Record<string, unknown>[]) {
    if (!op || typeof op !== 'object') continue;
    const path = typeof op.path === 'string' ? op.path : undefined;
    if (path !== undefined && isPassword(path) && typeof op.value === 'string') found = op.value;
    else if (path === undefined) found = fromObject(op.value) ?? found;
  }
  return found;
}
