// The use cases, built once from the repositories.
import fp from 'fastify-plugin';
import { createAdminService, type AdminService } from '../services/admins.js';
import { createAuthService, type AuthService } from '../services/auth.js';
import { createProvisioningService, type ProvisioningService } from '../services/provisioning.js';
import { createInlineScimReader, createThreadScimReader, type ScimReader } from '../services/scim-reader.js';
import { runRead, type ReadJob } from '../services/scim-reads.js';
import { createSettingsService, type SettingsService } from '../services/settings.js';

declare module 'fastify' {
  interface FastifyInstance {
    provisioning: ProvisioningService;
    /** SCIM reads, on a reader thread of their own */
    scimReader: ScimReader;
    settingsService: SettingsService;
    auth: AuthService;
    admins: AdminService;
  }
}

export default fp(
  async (app) => {
    const { repos } = app;
    const { sqlite } = app.database;
    const provisioning = createProvisioningService({ users: repos.users, groups: repos.groups });
    app.decorate('provisioning', provisioning);
    const inline = (job: ReadJob) => runRead(provisioning, job);
    const scimReader = sqlite.memory
      ? createInlineScimReader(inline)
      : createThreadScimReader({
          databasePath: sqlite.name,
          inline,
          onThreadError: (message) => app.log.error(`the SCIM reader thread stopped (${message}); reads run on the event loop for now`),
        });
    app.decorate('scimReader', scimReader);
    app.addHook('onClose', () => scimReader.close());
    app.decorate('settingsService', createSettingsService(sqlite, repos));
    app.decorate('auth', createAuthService(sqlite, repos, repos.accounts, app.config));
    app.decorate('admins', createAdminService(sqlite, repos));
  },
  { name: 'iamtrail-services', dependencies: ['iamtrail-db'] },
);
