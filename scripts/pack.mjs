// Makes the one installable package, dist/codepiper-<version>.tgz: the CLI
// with the kernel, the first-party plugins and the npm packages they use,
// as the build bundled them (cli/rolldown.config.mjs), the built dashboard,
// and as dependencies only the packages that cannot be bundled, at the
// versions the lockfile installed. No workspace link is left:
// `npm i -g ./dist/codepiper-<version>.tgz` is the whole install.
// Usage: node scripts/pack.mjs   (after scripts/setup.sh, which builds)
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BUNDLED_MODULES, RUNTIME_PACKAGES } from '../cli/rolldown.config.mjs';
import { root } from './workspace.mjs';

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const cliDir = path.join(root, 'cli');
const cli = readJson(path.join(cliDir, 'package.json'));
const bundleDir = path.join(cliDir, 'dist');

for (const [built, how] of [
  [path.join(bundleDir, 'codepiper.cjs'), 'the CLI'],
  [path.join(root, 'web', 'dist', 'index.html'), 'the dashboard'],
]) {
  if (!existsSync(built)) throw new Error(`${how} is not built (${built}): run scripts/setup.sh first`);
}

const bundleFiles = readdirSync(bundleDir).filter((file) => /^codepiper.*\.cjs$/.test(file));

/** The version the lockfile installed for the CLI's dependency `name`. */
const installedVersion = (name) => readJson(path.join(cliDir, 'node_modules', name, 'package.json')).version;

/** The npm packages bundled into our files: the packages (`node_modules/<name>/`) of the files the build lists. */
function bundledPackages() {
  const dirs = new Map();
  for (const file of readJson(path.join(cliDir, BUNDLED_MODULES))) {
    const [, dir, name] = /^(.*\/node_modules\/((?:@[^/]+\/)?[^/]+))\//.exec(file) ?? [];
    if (name) dirs.set(name, dir);
  }
  return [...dirs].sort(([a], [b]) => a.localeCompare(b));
}

/** Each bundled package's name, version, license and license text: their licenses ask for the notice to travel with the code. */
function thirdPartyNotices() {
  const sections = bundledPackages().map(([name, dir]) => {
    const manifest = readJson(path.join(dir, 'package.json'));
    const licenseFile = readdirSync(dir).find((file) => /^(licen[cs]e|copying)/i.test(file));
    const text = licenseFile ? readFileSync(path.join(dir, licenseFile), 'utf8').trim() : `License: ${manifest.license ?? 'see the package'}`;
    return `## ${name} ${manifest.version} (${manifest.license ?? 'unknown'})\n\n${text}\n`;
  });
  return `# Third-party software bundled in codepiper\n\n${sections.join('\n')}`;
}

const stage = mkdtempSync(path.join(tmpdir(), 'codepiper-pack-'));
try {
  mkdirSync(path.join(stage, 'cli', 'dist'), { recursive: true });
  for (const file of bundleFiles) cpSync(path.join(bundleDir, file), path.join(stage, 'cli', 'dist', file));
  cpSync(path.join(cliDir, 'bin'), path.join(stage, 'cli', 'bin'), { recursive: true });
  // The dashboard, where the bundle looks for it as in the repository: two levels up.
  cpSync(path.join(root, 'web', 'dist'), path.join(stage, 'web', 'dist'), { recursive: true });
  writeFileSync(path.join(stage, 'THIRD_PARTY_LICENSES.md'), thirdPartyNotices());

  const manifest = {
    name: 'codepiper',
    version: cli.version,
    description: 'A daemon that owns your AI coding sessions (Claude Code, Codex, any terminal agent) so that they outlive the terminal that started them',
    license: cli.license,
    type: 'module',
    engines: { node: '>=20.17' },
    os: ['linux', 'darwin'],
    bin: { codepiper: 'cli/bin/codepiper.cjs' },
    files: ['cli', 'web/dist', 'README.md', 'THIRD_PARTY_LICENSES.md'],
    dependencies: Object.fromEntries(RUNTIME_PACKAGES.map((name) => [name, installedVersion(name)])),
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
