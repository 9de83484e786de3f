// The operator CLI's token commands and its usage errors: the real bin/iamtrail.mjs in a child
// process on a temp database. A mistyped command line gets a one-line reason and the usage (exit 2),
// never a stack trace; the database is left as it was.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { runCli, tempDir } from '../helper.js';

function tokens(dbPath: string): { name: string; scope: string; expires_at: number | null; revoked_at: number | null }[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare('SELECT name, scope, expires_at, revoked_at FROM api_tokens ORDER BY id').all() as never;
  } finally {
    db.close();
  }
}

t.test('token create, list and revoke', async (t) => {
  const db = join(tempDir(t), 'cli.sqlite');
  const created = await runCli(db, ['token', 'create', '--name', 'entra', '--expires-in-days', '30']);
  t.equal(created.code, 0, created.stderr);
  const lines = created.stdout.trim().split('\n');
  t.match(lines[0], /^Created scim token "entra", expires \d{4}-\d\d-\d\dT/);
  t.match(lines.at(-1), /^iamt_[A-Za-z0-9_-]{43,}$/, 'the token alone on the last line');
  const [row] = tokens(db);
  t.equal(row?.scope, 'scim');
  t.ok(Math.abs(row!.expires_at! - (Date.now() + 30 * 86_400_000)) < 60_000, 'expires in 30 days');

  const list = await runCli(db, ['token', 'list']);
  t.equal(list.code, 0);
  t.match(list.stdout, /entra/);
  t.notMatch(list.stdout, lines.at(-1)!, 'the list never shows the token');

  t.equal((await runCli(db, ['token', 'revoke', 'entra'])).code, 0);
  t.ok(tokens(db)[0]!.revoked_at, 'revoked');
});

t.test('a mistyped command line: the reason and the usage, exit 2, nothing created', async (t) => {
  const db = join(tempDir(t), 'cli.sqlite');
  const cases: [string, string[], RegExp][] = [
    ['a negative expiry', ['token', 'create', '--name', 'x', '--expires-in-days', '-1'], /--expires-in-days/],
    ['a negative expiry written with =', ['token', 'create', '--name', 'x', '--expires-in-days=-1'], /--expires-in-days is a whole number of days/],
    ['an unknown option', ['token', 'create', '--name', 'x', '--bogus'], /Unknown option '--bogus'/],
    ['an option without its value', ['token', 'create', '--name'], /--name/],
    ['a stray argument', ['token', 'create', '--name', 'x', 'extra'], /extra/],
    ['an unknown scope', ['token', 'create', '--name', 'x', '--scope', 'admin'], /--scope is scim, ingest or read/],
  ];
  for (const [what, args, reason] of cases) {
    const run = await runCli(db, args);
    t.equal(run.code, 2, `${what}: exit 2`);
    t.match(run.stderr, /^iamtrail: /, `${what}: one line saying what is wrong`);
    t.match(run.stderr, reason, `${what}: names the problem`);
    t.match(run.stderr, /Usage: iamtrail <command>/, `${what}: then the usage`);
    t.notMatch(run.stderr, /\n\s+at /, `${what}: no stack trace`);
    t.equal(run.stdout, '', `${what}: nothing on stdout`);
  }
  t.same(tokens(db), [], 'no token was created');
});
