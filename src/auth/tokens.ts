// Bearer tokens: 256 random bits, shown once, stored as SHA-256 (a slow password hash would add
// nothing for a random 256-bit secret and would prevent the indexed lookup by hash).
import { createHash, randomBytes } from 'node:crypto';
import type { TokenRecord, TokenRepository, TokenScope } from '../db/token-repository.js';

export const TOKEN_PREFIX = 'iamt_';

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export type TokenCheck =
  | { ok: true; token: TokenRecord }
  | { ok: false; reason: 'missing' | 'malformed' | 'unknown' | 'revoked' | 'expired' | 'wrong-scope'; token?: TokenRecord; detail: string };

/** Checks an Authorization header value; the detail names the token but never its value. */
export function checkBearer(header: string | undefined, tokens: TokenRepository, scope: TokenScope, now: number): TokenCheck {
  if (!header) return { ok: false, reason: 'missing', detail: 'No Authorization header: a Bearer token is required' };
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) return { ok: false, reason: 'malformed', detail: 'The Authorization header is not of the form "Bearer <token>"' };
  const token = tokens.byHash(hashToken(match[1]!));
  if (!token) return { ok: false, reason: 'unknown', detail: 'Unknown token: it matches no token issued by this server' };
  if (token.revokedAt !== null) {
    return { ok: false, reason: 'revoked', token, detail: `Token "${token.name}" was revoked at ${new Date(token.revokedAt).toISOString()}` };
  }
  if (token.expiresAt !== null && token.expiresAt <= now) {
    return { ok: false, reason: 'expired', token, detail: `Token "${token.name}" expired at ${new Date(token.expiresAt).toISOString()}` };
  }
  if (token.scope !== scope) {
    return { ok: false, reason: 'wrong-scope', token, detail: `Token "${token.name}" has scope "${token.scope}", not "${scope}"` };
  }
  return { ok: true, token };
}

export interface CreatedToken {
  token: string;
  record: TokenRecord;
}

export class TokenError extends Error {}

export function createToken(
  tokens: TokenRepository,
  input: { name: string; scope?: TokenScope; expiresInDays?: number | null; createdBy?: string | null },
  now: number,
): CreatedToken {
  const name = input.name.trim();
  if (!/^[\w .@-]{1,64}$/.test(name)) throw new TokenError('A token name is 1 to 64 letters, digits, spaces, dots, @, _ or -');
  if (tokens.byName(name)) throw new TokenError(`A token named "${name}" already exists`);
  const days = input.expiresInDays;
  if (days !== undefined && days !== null && (!Number.isInteger(days) || days < 1 || days > 3650)) {
    throw new TokenError('The expiry is a whole number of days between 1 and 3650');
  }
  const token = generateToken();
  const record = tokens.insert({
    name,
    tokenHash: hashToken(token),
    scope: input.scope ?? 'scim',
    createdAt: now,
    expiresAt: days ? now + days * 86_400_000 : null,
    createdBy: input.createdBy ?? null,
  });
  return { token, record };
}
