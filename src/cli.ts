// The operator CLI: tokens and SCIM on/off against the same DATABASE_PATH as the server. The server
// reads these settings on every request, so changes take effect at once, without a restart.
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.js';
import { openDatabase } from './db/connection.js';
import type { TokenRecord, TokenScope } from './db/token-repository.js';
import { TokenError } from './auth/tokens.js';
import { createRepositories } from './plugins/db.js';
import { createAdminService } from './services/admins.js';
import { PasswordPolicyError } from './services/auth.js';
import { importFile, importReport, IngestError, progressBar, type FileFormat } from './services/ingest.js';
import { createSettingsService, SettingsError, type Actor } from './services/settings.js';

const USAGE = `Usage: iamtrail <command>

  token create --name NAME [--expires-in-days N] [--scope scim|ingest|read]
                              create a token; the token alone is printed on the last line
  token list                  list tokens (name, scope, created, expires, last used, status)
  token revoke NAME           revoke a token at once
  scim enable | disable       turn SCIM provisioning on or off
  admin create --username NAME --password-stdin
                              create a console administrator (password read from stdin)
  admin set-password --username NAME --password-stdin
                              set a console account's password (unlocks it)
  import FILE [--format json|ndjson|csv]
                              import audit events from a JSON array, NDJSON or CSV file
                              (exit code 1 if any event was rejected)

The database is DATABASE_PATH (default ./data/iamtrail.sqlite), as for the server.`;

class UsageError extends Error {}

function actor(): Actor {
  let name = 'operator';
  try {
    name = userInfo().username;
  } catch {
    /* no passwd entry in some containers */
  }
  return { name: `cli:${name}`, protocol: 'CLI' };
}

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().replace('.000Z', 'Z'));

function status(t: TokenRecord, now: number): string {
  if (t.revokedAt !== null) return 'revoked';
  if (t.expiresAt !== null && t.expiresAt <= now) return 'expired';
  return 'active';
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export async function run(argv: string[], env: Record<string, string | undefined>, out: (s: string) => void): Promise<number> {
  const [group, command, ...rest] = argv;
  if (!group || group === 'help' || group === '--help' || group === '-h') {
    out(USAGE);
    return group ? 0 : 2;
  }
  const config = loadConfig(env);
  const connection = openDatabase(config.DATABASE_PATH);
  // on stderr: stdout's last line may be a token that scripts read
  for (const warning of connection.warnings) console.error(`iamtrail: warning: ${warning}`);
  try {
    const repos = createRepositories(connection, config.TZ);
    const settings = createSettingsService(connection.sqlite, repos);
    const admins = createAdminService(connection.sqlite, repos);
    const key = group === 'import' ? 'import' : `${group} ${command ?? ''}`.trim();
    switch (key) {
      case 'token create': {
        const { values } = parseArgs({
          args: rest,
          options: { name: { type: 'string' }, 'expires-in-days': { type: 'string' }, scope: { type: 'string', default: 'scim' } },
          strict: true,
        });
        if (!values.name) throw new UsageError('token create needs --name NAME');
        const scope = values.scope as TokenScope;
        if (!['scim', 'ingest', 'read'].includes(scope)) throw new UsageError('--scope is scim, ingest or read');
        const days = values['expires-in-days'];
        if (days !== undefined && !/^\d+$/.test(days)) throw new UsageError('--expires-in-days is a whole number of days');
        const { token, record } = settings.createToken({ name: values.name, scope, expiresInDays: days ? Number(days) : null }, actor());
        out(`Created ${record.scope} token "${record.name}"${record.expiresAt ? `, expires ${iso(record.expiresAt)}` : ', never expires'}.`);
        out('Copy it now: it is shown only this once and stored only as a hash.');
        out(token);
        return 0;
      }
      case 'token list': {
        const now = Date.now();
        const tokens = repos.tokens.list();
        if (tokens.length === 0) {
          out('No tokens. Create one with: iamtrail token create --name NAME');
          return 0;
        }
        const rows = [['NAME', 'SCOPE', 'CREATED', 'EXPIRES', 'LAST USED', 'STATUS']];
        for (const t of tokens) rows.push([t.name, t.scope, iso(t.createdAt), iso(t.expiresAt), iso(t.lastUsedAt), status(t, now)]);
        out(table(rows));
        return 0;
      }
      case 'token revoke': {
        const name = rest.join(' ').trim();
        if (!name) throw new UsageError('token revoke needs the token NAME');
        const t = settings.revokeToken(name, actor());
        out(`Revoked token "${t.name}".`);
        return 0;
      }
      case 'scim enable':
      case 'scim disable': {
        const enable = command === 'enable';
        const changed = settings.setScimEnabled(enable, actor());
        out(`SCIM provisioning is ${enable ? 'enabled' : 'disabled'}${changed ? '' : ' (it already was)'}.`);
        return 0;
      }
      case 'admin create':
      case 'admin set-password': {
        const { values } = parseArgs({ args: rest, options: { username: { type: 'string' }, 'password-stdin': { type: 'boolean' } }, strict: true });
        if (!values.username || !values['password-stdin']) throw new UsageError(`admin ${command} needs --username NAME --password-stdin`);
        const password = await readPassword();
        const done =
          command === 'create'
            ? await admins.createAdministrator(values.username, password, actor())
            : await admins.setPassword(values.username, password, actor());
        out(done);
        return 0;
      }
      case 'import': {
        const { values, positionals } = parseArgs({ args: argv.slice(1), options: { format: { type: 'string' } }, allowPositionals: true, strict: true });
        if (positionals.length !== 1) throw new UsageError('import needs one FILE');
        const format = values.format as FileFormat | undefined;
        if (format !== undefined && !['json', 'ndjson', 'csv'].includes(format)) throw new UsageError('--format is json, ndjson or csv');
        const file = positionals[0]!;
        const bar = progressBar(process.stderr);
        const result = await importFile(connection.sqlite, repos, { path: file, format, principal: actor().name, onProgress: (p) => bar.update(p) });
        bar.done({ bytes: result.bytes, totalBytes: result.bytes, events: result.events, elapsedMs: result.elapsedMs });
        for (const line of importReport(file, result)) out(line);
        return result.rejected > 0 ? 1 : 0;
      }
      default:
        throw new UsageError(`Unknown command "${argv.join(' ')}"`);
    }
  } finally {
    connection.close();
  }
}

/** The password from standard input (first line), so it never appears in the shell history or ps. */
async function readPassword(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const password = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  if (!password) throw new UsageError('no password on standard input');
  return password;
}

async function main(): Promise<void> {
  try {
    process.exitCode = await run(process.argv.slice(2), process.env, (s) => process.stdout.write(`${s}\n`));
  } catch (error) {
    // node:util parseArgs refuses an unknown option, a missing or dash-led value ("--expires-in-days
    // -1"), a stray argument: ERR_PARSE_ARGS_*, with a message that says which; a usage error
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS_')) {
      console.error(`iamtrail: ${(error as Error).message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else if (error instanceof ConfigError || error instanceof TokenError || error instanceof SettingsError || error instanceof PasswordPolicyError || error instanceof IngestError) {
      console.error(`iamtrail: ${(error as Error).message}`);
      process.exitCode = 1;
    } else {
      throw error;
    }
  }
}

await main();
