// appPath finds the application's directories from src/ (tsx) and from dist/src/ (compiled: npm
// start, the container), where a fixed "../../../views" pointed at dist/views, which does not exist.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { appPath } from '../../src/paths.js';
import { tempDir } from '../helper.js';

t.test('views, public and db/migrations from both layouts', async (t) => {
  const app = tempDir(t);
  for (const dir of ['views', 'public', 'db/migrations/meta', 'src/routes/console', 'dist/src/routes/console', 'dist/src/db']) mkdirSync(join(app, dir), { recursive: true });
  writeFileSync(join(app, 'db/migrations/meta/_journal.json'), '{}');
  for (const layout of ['src', 'dist/src']) {
    const console = pathToFileURL(join(app, layout, 'routes/console/index.js')).href;
    t.equal(appPath(console, 'views'), join(app, 'views'), `views from ${layout}`);
    t.equal(appPath(console, 'public'), join(app, 'public'), `public from ${layout}`);
    const db = pathToFileURL(join(app, layout, 'db/connection.js')).href;
    t.equal(appPath(db, join('db', 'migrations'), join('meta', '_journal.json')), join(app, 'db/migrations'), `migrations from ${layout}`);
  }
  t.throws(() => appPath(pathToFileURL(join(app, 'src/x.js')).href, 'no-such-dir'), /no-such-dir not found/);
});
