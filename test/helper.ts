// Test support: each test file gets its own app on its own fresh, migrated SQLite file in a temp
// directory, closed in teardown. No mocks: the real app, the real database.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Test } from 'tap';
import { buildApp } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';

export interface TestContext {
  teardown(fn: () => unknown): void;
}

export interface Built {
  app: FastifyInstance;
  config: Config;
  dir: string;
  /** a valid SCIM token (SCIM enabled) unless built with { scim: false } */
  token: string;
  scim(opts: InjectOptions & { token?: string | null }): Promise<LightMyRequestResponse>;
}

export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'iamtrail-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function build(t: TestContext, env: Record<string, string> = {}, opts: { scim?: boolean } = {}): Promise<Built> {
  const dir = tempDir(t);
  const config = loadConfig({ DATABASE_PATH: join(dir, 'iamtrail.sqlite'), LOG_LEVEL: 'silent', PUBLIC_URL: 'https://iam.example.test', ...env });
  const app = await buildApp(config);
  t.teardown(() => app.close());
  await app.ready();
  let token = '';
  if (opts.scim !== false) {
    const { createSettingsService } = await import('../src/services/settings.js');
    const settings = createSettingsService(app.database.sqlite, app.repos);
    const actor = { name: 'test', protocol: 'CLI' as const };
    settings.setScimEnabled(true, actor);
    token = settings.createToken({ name: 'test-token' }, actor).token;
  }
  const scim = (o: InjectOptions & { token?: string | null }) => {
    const { token: explicit, headers, ...rest } = o;
    const auth = explicit === null ? {} : { authorization: `Bearer ${explicit ?? token}` };
    const url = typeof rest.url === 'string' && !rest.url.startsWith('/scim') ? `/scim/v2${rest.url}` : rest.url;
    const contentType = rest.payload !== undefined ? { 'content-type': 'application/scim+json' } : {};
    return app.inject({ ...rest, url, headers: { ...contentType, ...auth, ...headers } } as InjectOptions);
  };
  return { app, config, dir, token, scim };
}

/** All audit entries, oldest first. */
export function auditRows(app: FastifyInstance): Record<string, unknown>[] {
  return app.database.sqlite.prepare('SELECT * FROM audit_log ORDER BY id').all() as Record<string, unknown>[];
}

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

/** An /api/v1 JSON error: the status, a JSON body with this `error` code and a message that explains. */
export function expectJsonError(t: Test, res: LightMyRequestResponse, status: number, error: string): Record<string, any> {
  t.equal(res.statusCode, status, `status ${status}`);
  t.match(res.headers['content-type'], /^application\/json/, 'a JSON body');
  const body = res.json() as Record<string, any>;
  t.equal(body.error, error, `error ${error}`);
  t.type(body.message, 'string');
  t.ok(String(body.message).length > 10, 'a message that explains');
  return body;
}

/** A query string with every value percent-encoded (filters contain spaces and quotes). */
export function qs(params: Record<string, string | number>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
    .join('&');
}

/** The real CLI (bin/iamtrail.mjs) in a child process on a database file; never rejects. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin', 'iamtrail.mjs');

export function runCli(dbPath: string, args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: ROOT, env: { ...process.env, DATABASE_PATH: dbPath, LOG_LEVEL: 'silent' }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
