// The use cases, built once from the repositories.
import fp from 'fastify-plugin';
import { createAdminService, type AdminService } from '../services/admins.js';
import { createAuthService, type AuthService } from '../services/auth.js';
import { createProvisioningService, type ProvisioningService } from '../services/provisioning.js';
import { createSettingsService, type SettingsService } from '../services/settings.js';

declare module 'fastify' {
  interface FastifyInstance {
    provisioning: ProvisioningService;
    settingsService: SettingsService;
    auth: AuthService;
    admins: AdminService;
  }
}

export default fp(
  async (app) => {
    const { repos } = app;
    const { sqlite } = app.database;
    app.decorate('provisioning', createProvisioningService({ users: repos.users, groups: repos.groups }));
    app.decorate('settingsService', createSettingsService(sqlite, repos));
    app.decorate('auth', createAuthService(sqlite, repos, repos.accounts, app.config));
    app.decorate('admins', createAdminService(sqlite, repos));
  },
  { name: 'iamtrail-services', dependencies: ['iamtrail-db'] },
);
