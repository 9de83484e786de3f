// The use cases, built once from the repositories.
import fp from 'fastify-plugin';
import { createProvisioningService, type ProvisioningService } from '../services/provisioning.js';

declare module 'fastify' {
  interface FastifyInstance {
    provisioning: ProvisioningService;
  }
}

export default fp(
  async (app) => {
    app.decorate('provisioning', createProvisioningService({ users: app.repos.users, groups: app.repos.groups }));
  },
  { name: 'iamtrail-services', dependencies: ['iamtrail-db'] },
);
