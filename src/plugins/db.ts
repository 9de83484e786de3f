// Opens the database for the app's lifetime and exposes the repositories and the group-commit queue.
import fp from 'fastify-plugin';
import { openDatabase, type Connection } from '../db/connection.js';
import { createAccountRepository, type AccountRepository } from '../db/account-repository.js';
import { createAuditRepository, type AuditRepository } from '../db/audit-repository.js';
import { createGroupRepository, createUserRepository, type GroupRepository, type UserRepository } from '../db/scim-repository.js';
import { createSettingsRepository, type SettingsRepository } from '../db/settings-repository.js';
import { createTokenRepository, type TokenRepository } from '../db/token-repository.js';
import { createWriteQueue, type WriteQueue } from '../db/write-queue.js';

export interface Repositories {
  accounts: AccountRepository;
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

export function createRepositories(connection: Connection): Repositories {
  const { sqlite } = connection;
  return {
    accounts: createAccountRepository(sqlite),
    audit: createAuditRepository(sqlite),
    settings: createSettingsRepository(sqlite),
    tokens: createTokenRepository(sqlite),
    users: createUserRepository(sqlite),
    groups: createGroupRepository(sqlite),
  };
}

export default fp<{ databasePath: string }>(
  async (app, opts) => {
    const connection = openDatabase(opts.databasePath);
    app.decorate('database', connection);
    app.decorate('repos', createRepositories(connection));
    app.decorate('writeQueue', createWriteQueue(connection.sqlite));
    app.addHook('onClose', async () => {
      app.writeQueue.flush();
      connection.close();
    });
  },
  { name: 'iamtrail-db' },
);
