#!/usr/bin/env node
// Runs the iamtrail CLI: from the TypeScript sources in a checkout (tsx), or compiled in an image.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = `${root}src/cli.ts`;
const compiled = `${root}dist/src/cli.js`;

if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(source).href);
} else if (existsSync(compiled)) {
  await import(pathToFileURL(compiled).href);
} else {
  console.error('iamtrail: neither src/cli.ts nor dist/src/cli.js found');
  process.exit(1);
}
