import { existsSync } from 'node:fs';
import path from 'node:path';
import * as Type from '@sinclair/typebox';
import { definePlugin } from '@codepiper/sdk';

/**
 * The web dashboard: serves a built single-page app (web/dist) beside the
 * API, to anyone, since it must load to show its sign-in; the API it calls
 * is what the TCP listener guards. `defaultDir` is where the product keeps
 * its build; `dashboard.dir` in config.yaml serves another one.
 */
export function createDashboardPlugin(defaultDir: string) {
  return definePlugin({
    name: 'dashboard',
    api: '^1.0.0',
    description: 'The web dashboard’s files on the web listener',
    config: Type.Object({
      dir: Type.Optional(Type.String({ minLength: 1, description: 'A built dashboard to serve instead of the one that comes with CodePiper (absolute, or relative to $CODEPIPER_HOME)' })),
    }),
    register(ctx) {
      // Only a browser loads it, and only the web listener answers browsers.
      if (!ctx.kernel.webEnabled) return;
      const dir = ctx.config.dir === undefined ? defaultDir : path.resolve(ctx.paths.home, ctx.config.dir);
      // Vite names what it builds into assets/ after the content's hash.
      if (existsSync(path.join(dir, 'index.html'))) ctx.api.handleFiles(dir, { immutable: (file) => file.startsWith(`assets${path.sep}`) });
      else ctx.log.info({ dir }, 'no built dashboard here (pnpm --filter @codepiper/web build): the web listener serves the API only');
    },
  });
}
