// Opens the database for the app's lifetime and exposes the repositories and the group-commit queue.
import fp from 'fastify-plugin';
import { openDatabase, type Connection } from '../db/connection.js';
import { createAccountRepository, type AccountRepository } from '../db/account-repository.js';
import { createAuditRepository, type AuditRepository } from '../db/audit-repository.js';
import { createGroupRepository, createUserRepository, type GroupRepository, type UserRepository } from '../db/scim-repository.js';
import { createSettingsRepository, type SettingsRepository } from '../db/settings-repository.js';
import { createTokenRepository, type TokenRepository } from '../db/token-repository.js';
import { createWriteQueue, type WriteQueue } from '../db/write-queue.js';
import { createFlagRepository, type FlagRepository } from '../db/flag-repository.js';
import { createRuleEngine, type RuleEngine } from '../audit/rule-engine.js';

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
    app.decorate('database', connection);
    app.decorate('repos', createRepositories(connection, opts.timeZone));
    app.decorate('writeQueue', createWriteQueue(connection.sqlite));
    app.addHook('onClose', async () => {
      app.writeQueue.flush();
      connection.close();
    });
  },
  { name: 'iamtrail-db' },
);
