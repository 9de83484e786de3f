#!/usr/bin/env node
// `npm start`: the server from the TypeScript sources in a checkout (tsx), or compiled in an image.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = `${root}src/server.ts`;

if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(source).href);
} else {
  await import(pathToFileURL(`${root}dist/src/server.js`).href);
}
