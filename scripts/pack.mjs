// Makes the one installable package, dist/codepiper-<version>.tgz: the CLI,
// the kernel and the first-party plugins bundled into one program (rolldown,
// from tsc's output), the built dashboard, and the npm packages they use as
// ordinary dependencies, at the versions the lockfile installed. No workspace
// link is left: `npm i -g ./dist/codepiper-<version>.tgz` is the whole install.
// Usage: node scripts/pack.mjs   (after scripts/setup.sh, which builds)
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { allPackages, root } from './workspace.mjs';

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const cli = readJson(path.join(root, 'cli', 'package.json'));

for (const [built, how] of [
  [path.join(root, 'cli', 'dist', 'codepiper.mjs'), 'the CLI'],
  [path.join(root, 'web', 'dist', 'index.html'), 'the dashboard'],
]) {
  if (!existsSync(built)) throw new Error(`${how} is not built (${built}): run scripts/setup.sh first`);
}

/** The workspace packages the CLI loads at run time: the SDK, the kernel and the plugins it depends on. */
const shipped = allPackages()
  .map((dir) => ({ dir, manifest: readJson(path.join(dir, 'package.json')) }))
  .filter(({ manifest }) => manifest.name === '@codepiper/sdk' || manifest.name in (cli.dependencies ?? {}));
const isOurs = (name) => name.startsWith('@codepiper/');

/** The version the lockfile installed for `dependency` of the package in `dir` (pnpm links each package's own). */
const installedVersion = (dir, dependency) => readJson(path.join(dir, 'node_modules', dependency, 'package.json')).version;

const dependencies = {};
const addDependencies = (dir, manifest) => {
  for (const name of Object.keys(manifest.dependencies ?? {}).filter((n) => !isOurs(n))) {
    const version = installedVersion(dir, name);
    if (dependencies[name] && dependencies[name] !== version) throw new Error(`${name} is installed at ${dependencies[name]} and ${version}: one version must serve every package`);
    dependencies[name] = version;
  }
};

const stage = mkdtempSync(path.join(tmpdir(), 'codepiper-pack-'));
try {
  // Our code in one program (the daemon a chunk of its own, loaded by `codepiper daemon` only); npm packages stay packages.
  const { rolldown } = await import(pathToFileURL(createRequire(path.join(root, 'cli', 'package.json')).resolve('rolldown')).href);
  const bundle = await rolldown({ input: path.join(root, 'cli', 'dist', 'main.js'), platform: 'node', logLevel: 'warn', external: (id) => !/^[./]/.test(id) && !isOurs(id) });
  await bundle.write({ dir: path.join(stage, 'cli', 'dist'), format: 'esm', entryFileNames: 'codepiper.mjs', chunkFileNames: 'codepiper-[name].mjs' });
  cpSync(path.join(root, 'cli', 'bin'), path.join(stage, 'cli', 'bin'), { recursive: true });
  // What our code reads beside itself, at the same place relative to the bundle as in the repository:
  // the dashboard two levels up, the analytics prices one level up.
  cpSync(path.join(root, 'web', 'dist'), path.join(stage, 'web', 'dist'), { recursive: true });
  cpSync(path.join(root, 'plugins', 'analytics', 'prices.json'), path.join(stage, 'cli', 'prices.json'));
  addDependencies(path.join(root, 'cli'), cli);
  for (const { dir, manifest } of shipped) addDependencies(dir, manifest);

  const manifest = {
    name: 'codepiper',
    version: cli.version,
    description: 'A daemon that owns your AI coding sessions (Claude Code, Codex, any terminal agent) so that they outlive the terminal that started them',
    license: cli.license,
    type: 'module',
    engines: { node: '>=20.17' },
    os: ['linux', 'darwin'],
    bin: { codepiper: 'cli/bin/codepiper.js' },
    files: ['cli', 'web/dist', 'README.md'],
    dependencies: Object.fromEntries(Object.entries(dependencies).sort(([a], [b]) => a.localeCompare(b))),
  };
  writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  cpSync(path.join(root, 'README.md'), path.join(stage, 'README.md'));

  const out = path.join(root, 'dist');
  mkdirSync(out, { recursive: true });
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: stage, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
  console.log(path.join(out, packed.filename));
} finally {
  rmSync(stage, { recursive: true, force: true });
}
