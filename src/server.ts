// The only place that listens: load the configuration, build the app, listen, close gracefully.
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const app = await buildApp(config);
  const close = async (signal: string) => {
    app.log.info({ signal }, 'shutting down');
    await app.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void close('SIGINT'));
  process.once('SIGTERM', () => void close('SIGTERM'));

  await app.listen({ port: config.PORT, host: config.HOST });
  // the SCIM reads' thread opens its connection now, not when the identity provider's first GET waits
  app.scimReader.start();
  for (const line of app.startupNotes()) app.log.warn(line);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
