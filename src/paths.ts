// The application's own files next to its code (db/migrations, views, public): found by walking up
// from the calling module, so that the same code works from src/ (tsx, tests) and from dist/src/
// (compiled: `npm start` in a checkout, and the container image).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest `relative` (containing `marker`, if given) in a directory above `moduleUrl`. */
export function appPath(moduleUrl: string, relative: string, marker?: string): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, relative);
    if (existsSync(marker ? join(candidate, marker) : candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`${relative} not found next to the application`);
}
