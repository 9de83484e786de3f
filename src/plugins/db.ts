// Opens the database for the app's lifetime and exposes the repositories and the group-commit queue.
import fp from 'fastify-plugin';
import { openDatabase, type Connection } from '../db/connection.js';
import { createAccountRepository, type AccountRepository } from '../db/account-repository.js';
import { createAuditRepository, type AuditRepository } from '../db/audit-repository.js';
import { createGroupRepository, createUserRepository, type GroupRepository, type UserRepository } from '../db/scim-repository.js';
import { createSettingsRepository, type SettingsRepository } from '../db/settings-repository.js';
import { createTokenRepository, type TokenRepository } from '../db/token-repository.js';
import { createWriteQueue, type WriteQueue } from '../db/write-queue.js';
import { startCheckpointer, type Checkpointer } from '../db/checkpointer.js';
import { createFlagRepository, type FlagRepository } from '../db/flag-repository.js';
import { createRuleEngine, type RuleEngine } from '../audit/rule-engine.js';
import { createInlineIngestWriter, createThreadIngestWriter, type IngestWriter } from '../services/ingest-writer.js';

const CHECKPOINTER_WAL_BYTES = 8 * 1024 * 1024;
/**
 * The audit entries of SCIM requests that changed nothing (reads, refusals) are answered at their
 * COMMIT and on disk this long after it at the latest (sooner if a change's sync comes first).
 */
const LAZY_SYNC_MS = 50;

export interface Repositories {
  accounts: AccountRepository;
  flags: FlagRepository;
  /** the red-flag rules, run on every appended entry */
  rules: RuleEngine;
  audit: AuditRepository;
  settings: SettingsRepository;
  tokens: TokenRepository;
  users: UserRepository;
  groups: GroupRepository;
}

declare module 'fastify' {
  interface FastifyInstance {
    database: Connection;
    repos: Repositories;
    writeQueue: WriteQueue;
    /** stores POST /api/v1/events batches (on a writer thread of its own) */
    ingestWriter: IngestWriter;
  }
}

export function createRepositories(connection: Connection, timeZone: string): Repositories {
  const { sqlite } = connection;
  const audit = createAuditRepository(sqlite);
  const settings = createSettingsRepository(sqlite);
  const flags = createFlagRepository(sqlite);
  const rules = createRuleEngine({ sqlite, settings, flags, timeZone });
  audit.onAppend((entry) => rules.evaluate(entry));
  return {
    accounts: createAccountRepository(sqlite),
    audit,
    flags,
    rules,
    settings,
    tokens: createTokenRepository(sqlite),
    users: createUserRepository(sqlite),
    groups: createGroupRepository(sqlite),
  };
}

export default fp<{ databasePath: string; timeZone: string }>(
  async (app, opts) => {
    const connection = openDatabase(opts.databasePath);
    // legacy SCIM names that start-up could not give a fold key (src/db/scim-keys.ts)
    for (const warning of connection.warnings) app.log.warn(warning);
    app.decorate('database', connection);
    app.decorate('repos', createRepositories(connection, opts.timeZone));
    // The checkpointer thread starts once the server is busy (WAL ≥ 8 MiB). Without it, SQLite's
    // auto-checkpoint runs inside the COMMIT of whichever connection crosses 50,000 WAL pages: on the
    // event loop, a pause of every request for as long as the copy takes. Under bench:scim (a 0.4 GB
    // file; four runs each, rates within the noise) the largest latency of the GET phase went from
    // 53-167 ms (once 2.4 s) to 20-27 ms, of the PATCH phase from 175-197 to 107-173 ms, for ~5 MB
    // more RSS. At 10 M entries (8 GB) it raised bench:ingest from 5,372 to 6,491 events/s.
    let checkpointer: Checkpointer | undefined;
    const onWalSize = (bytes: number) => {
      if (checkpointer || bytes < CHECKPOINTER_WAL_BYTES) return;
      checkpointer = startCheckpointer(connection.sqlite.name, 100);
    };
    // a rollback undoes entries the rules may have counted (reconciliation-drift keeps some counts)
    const writeQueue = createWriteQueue(connection.sqlite, { onWalSize, lazySyncMs: LAZY_SYNC_MS, onRollback: () => app.repos.rules.forget() });
    app.decorate('writeQueue', writeQueue);
    const ingestWriter = connection.sqlite.memory
      ? createInlineIngestWriter(app.repos, writeQueue)
      : createThreadIngestWriter({ databasePath: connection.sqlite.name, timeZone: opts.timeZone, onWalSize });
    app.decorate('ingestWriter', ingestWriter);
    app.addHook('onClose', async () => {
      await ingestWriter.close();
      writeQueue.close();
      await checkpointer?.stop();
      connection.close();
    });
  },
  { name: 'iamtrail-db' },
);
