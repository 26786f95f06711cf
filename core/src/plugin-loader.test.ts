import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { ApiClient, daemonEndpoints, PLUGIN_API_VERSION, type AnyPlugin } from '@codepiper/sdk';
import { createKernel, type Kernel } from './kernel.js';
import { tempDir } from './testing.js';

/**
 * Plugin modules as a third party ships them. They export plain definition
 * objects (what `definePlugin` returns) so that they need no SDK install in
 * the temporary directory.
 */
const pluginSource = (name: string, body = '', extra = '') =>
  `export default { name: ${JSON.stringify(name)}, api: '^1.0.0', description: 'a test plugin', ${extra}
  register(ctx) { ${body} } };\n`;

const builtIn: AnyPlugin = { name: 'builtin', api: '^1.0.0', description: 'first party', register: () => undefined };
/** A service ref as a third party's module holds it (what `createServiceRef` returns). */
const THING = "{ id: 'local.thing', description: 'a thing', contract: '1.0.0' }";

function homeWith(t: TestContext, files: Record<string, string>): string {
  const home = tempDir(t);
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(home, name)), { recursive: true });
    fs.writeFileSync(path.join(home, name), text);
  }
  return home;
}

function kernelIn(t: TestContext, home: string): Kernel {
  const kernel = createKernel({ plugins: [builtIn], env: { CODEPIPER_HOME: home } });
  t.after(() => kernel.stop('test over'));
  return kernel;
}

/** Starts a kernel whose config lists `entries`; resolves with the start-up error message. */
async function failure(t: TestContext, files: Record<string, string>, entries: string[]): Promise<{ message: string; home: string }> {
  const home = homeWith(t, { ...files, 'config.yaml': `log_level: info\nplugins:\n${entries.map((e) => `  - ${e}\n`).join('')}` });
  const error = await kernelIn(t, home)
    .start()
    .then(
      () => assert.fail('the kernel started'),
      (e: unknown) => e as Error,
    );
  return { message: error.message, home };
}

describe('plugins listed in config.yaml', () => {
  it('loads them by path and by package name, after the built-in plugins', async (t) => {
    const home = homeWith(t, {
      'local/plugin.mjs': pluginSource('local-one', `ctx.services.provide(${THING}, () => ({}));`, `provides: [${THING}],`),
      'node_modules/codepiper-plugin-packaged/package.json': JSON.stringify({ name: 'codepiper-plugin-packaged', type: 'module', exports: { '.': './main.js' } }),
      'node_modules/codepiper-plugin-packaged/main.js': pluginSource('packaged', '', `uses: [${THING}],`),
      'config.yaml': 'plugins:\n  - codepiper-plugin-packaged\n  - ./local/plugin.mjs\n',
    });
    const kernel = kernelIn(t, home);
    await kernel.start();
    const status = await new ApiClient({ socketPath: kernel.paths.socket }).call(daemonEndpoints.status);
    assert.deepEqual(
      status.plugins.map((p) => p.name),
      ['builtin', 'local-one', 'packaged'],
    );
  });

  it('names the entry, where it is listed and the file when it cannot be loaded', async (t) => {
    const cases: { files?: Record<string, string>; entry: string; expect: (home: string) => string }[] = [
      { entry: './missing.mjs', expect: (home) => `${home}/config.yaml:3:5: plugin "./missing.mjs": no such file: ${home}/missing.mjs` },
      {
        entry: 'codepiper-plugin-nowhere',
        expect: (home) => `${home}/config.yaml:3:5: plugin "codepiper-plugin-nowhere": package not found (install it in ${home}, or beside CodePiper)`,
      },
      {
        files: { 'helper.mjs': 'export const helper = 1;\n' },
        entry: './helper.mjs',
        expect: (home) =>
          `${home}/config.yaml:3:5: plugin "./helper.mjs" (${home}/helper.mjs): its default export is not a plugin definition (export default definePlugin({ name, api, description, register }))`,
      },
      {
        files: { 'crash.mjs': "throw new Error('no API key in the environment');\n" },
        entry: './crash.mjs',
        expect: (home) => `${home}/config.yaml:3:5: plugin "./crash.mjs" (${home}/crash.mjs): failed to load: no API key in the environment`,
      },
      {
        files: { 'future.mjs': pluginSource('future').replace("api: '^1.0.0'", "api: '^2.0.0'") },
        entry: './future.mjs',
        expect: (home) =>
          `${home}/config.yaml:3:5: plugin "./future.mjs" (${home}/future.mjs): "future" needs plugin API ^2.0.0, but this daemon provides plugin API ${PLUGIN_API_VERSION}`,
      },
      {
        files: { 'impostor.mjs': pluginSource('builtin') },
        entry: './impostor.mjs',
        expect: (home) => `${home}/config.yaml:3:5: plugin "./impostor.mjs" (${home}/impostor.mjs): another plugin is already named "builtin"`,
      },
    ];
    for (const { files = {}, entry, expect } of cases) {
      const { message, home } = await failure(t, files, [entry]);
      assert.equal(message, expect(home));
    }
  });

  it('names the plugin and its file when it fails to register or to start', async (t) => {
    const register = await failure(t, { 'wiring.mjs': pluginSource('wiring', "throw new Error('bad wiring');") }, ['./wiring.mjs']);
    assert.equal(register.message, `plugin "wiring" (${register.home}/wiring.mjs) failed to register: bad wiring`);

    const start = await failure(t, { 'starter.mjs': pluginSource('starter', "return { start() { throw new Error('port 80 is taken'); } };") }, ['./starter.mjs']);
    assert.equal(start.message, `plugin "starter" (${start.home}/starter.mjs) failed to start: port 80 is taken`);
  });

  it('leaves a malformed list to the config check, which names the line', async (t) => {
    const { message, home } = await failure(t, {}, ['{ path: ./x.mjs }']);
    assert.equal(message, `${home}/config.yaml:3:5: plugins.0: expected string, got {"path":"./x.mjs"}`);
  });
});
