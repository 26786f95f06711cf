import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { repoRoot, tempHome } from './harness.js';

const script = path.join(repoRoot, 'scripts', 'check-boundaries.mjs');

function check(workspace: string): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [script, workspace], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A workspace of plugin, contract and example packages, each `{ dir: { 'package.json' name, version and deps, 'src/index.ts' text, 'src/index.test.ts' text } }`. */
function workspace(t: TestContext, packages: Record<string, { name?: string; version?: string; dependencies?: Record<string, string>; source: string; test?: string }>): string {
  const root = tempHome();
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  for (const [dir, { name = path.basename(dir), version = '1.0.0', dependencies = {}, source, test }] of Object.entries(packages)) {
    fs.mkdirSync(path.join(root, dir, 'src'), { recursive: true });
    fs.writeFileSync(path.join(root, dir, 'package.json'), JSON.stringify({ name, version, dependencies }));
    fs.writeFileSync(path.join(root, dir, 'src', 'index.ts'), source);
    if (test !== undefined) fs.writeFileSync(path.join(root, dir, 'src', 'index.test.ts'), test);
  }
  return root;
}

const TEST_KERNEL_IMPORT = "import { createTestKernel } from '@codepiper/core/test-kernel';\n";

describe('the plugin boundary check', () => {
  it('passes on this repository, examples included', () => {
    const { code, stdout } = check(repoRoot);
    const packageDirs = (parent: string): string[] => fs.readdirSync(path.join(repoRoot, parent)).filter((dir) => fs.existsSync(path.join(repoRoot, parent, dir, 'package.json')));
    const packages = [...packageDirs('plugins'), ...packageDirs('examples')];
    const contracts = packageDirs('plugins').filter((dir) => fs.existsSync(path.join(repoRoot, 'plugins', dir, 'contract', 'package.json')));
    assert.equal(code, 0);
    assert.equal(stdout.trim(), `plugin boundaries hold (${packages.length} packages and ${contracts.length} contracts checked)`);
  });

  it('fails, naming each file and import, when a plugin or an example reaches past the SDK (its tests may start the test kernel)', (t) => {
    const root = workspace(t, {
      'plugins/good': {
        dependencies: { '@codepiper/sdk': '*', yaml: '*' },
        source: "import fs from 'node:fs';\nimport { definePlugin } from '@codepiper/sdk';\nimport { parse } from 'yaml';\nimport { helper } from './helper.js';\n",
      },
      'plugins/into-core': { dependencies: { '@codepiper/sdk': '*' }, source: "import { Kernel } from '@codepiper/core';\n" },
      'plugins/tested': { dependencies: { '@codepiper/sdk': '*', '@codepiper/core': '*' }, source: "import { definePlugin } from '@codepiper/sdk';\n", test: TEST_KERNEL_IMPORT },
      'plugins/kernel-in-code': { dependencies: { '@codepiper/sdk': '*', '@codepiper/core': '*' }, source: TEST_KERNEL_IMPORT },
      'plugins/kernel-undeclared': { dependencies: { '@codepiper/sdk': '*' }, source: '', test: TEST_KERNEL_IMPORT },
      'examples/sneaky': {
        dependencies: { '@codepiper/sdk': '*' },
        source: "import { SqliteEventLog } from '../../../plugins/good/src/index.js';\nconst lodash = await import('lodash');\n",
      },
    });
    const { code, stderr } = check(root);
    assert.equal(code, 1);
    assert.deepEqual(stderr.trim().split('\n'), [
      'plugin boundary violations (5):',
      '  plugins/into-core/src/index.ts: imports "@codepiper/core"; plugins may use only @codepiper/sdk and the contract packages',
      '  plugins/kernel-in-code/src/index.ts: imports "@codepiper/core/test-kernel"; plugins may use only @codepiper/sdk and the contract packages',
      '  plugins/kernel-undeclared/src/index.test.ts: imports "@codepiper/core/test-kernel"; plugins may use only @codepiper/sdk and the contract packages',
      '  examples/sneaky/src/index.ts: imports "../../../plugins/good/src/index.js", outside its package',
      '  examples/sneaky/src/index.ts: imports "lodash", which its package.json does not list',
    ]);
  });

  it('admits the contract packages plugins publish, and only those; a contract uses only the plugin API and other contracts, at the version its service refs carry', (t) => {
    const root = workspace(t, {
      'plugins/tasks': { name: '@codepiper/plugin-tasks', dependencies: { '@codepiper/sdk': '*' }, source: "import { definePlugin } from '@codepiper/sdk';\n" },
      'plugins/tasks/contract': {
        name: '@codepiper/tasks-contract',
        version: '1.2.0',
        dependencies: { '@codepiper/sdk': '*', '@codepiper/plugin-tasks': '*' },
        source: "import { createServiceRef } from '@codepiper/sdk';\nimport { queue } from '@codepiper/plugin-tasks';\nexport const TASKS_CONTRACT = '1.1.0';\n",
      },
      'plugins/board': {
        dependencies: { '@codepiper/sdk': '*', '@codepiper/tasks-contract': '*', '@codepiper/plugin-tasks': '*' },
        source: "import { tasksRef } from '@codepiper/tasks-contract';\nimport { queue } from '@codepiper/plugin-tasks';\n",
      },
      'examples/undeclared': { dependencies: { '@codepiper/sdk': '*' }, source: "import { tasksRef } from '@codepiper/tasks-contract';\n" },
    });
    const { code, stdout, stderr } = check(root);
    assert.equal(code, 1, stdout);
    assert.deepEqual(stderr.trim().split('\n'), [
      'plugin boundary violations (4):',
      '  plugins/board/src/index.ts: imports "@codepiper/plugin-tasks"; plugins may use only @codepiper/sdk and the contract packages',
      '  examples/undeclared/src/index.ts: imports "@codepiper/tasks-contract", which its package.json does not list',
      '  plugins/tasks/contract/src/index.ts: imports "@codepiper/plugin-tasks"; contracts may use only @codepiper/sdk and other contracts',
      '  plugins/tasks/contract/src/index.ts: TASKS_CONTRACT is 1.1.0, but @codepiper/tasks-contract is version 1.2.0; they move together',
    ]);
  });
});
