import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PolicyDecision } from '@codepiper/policies-contract';
import { startTestDaemon, type TestDaemon } from '@codepiper/sdk/testing';

const file = path.resolve(import.meta.dirname, '..', 'team-baseline.yaml');

describe('the team baseline policy set', () => {
  let daemon: TestDaemon;
  before(async () => {
    daemon = await startTestDaemon();
  });
  after(() => daemon?.stop());

  it('imports with `codepiper policy import`, and again by replacing its policies', async () => {
    const first = await daemon.cli(['policy', 'import', file]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout.trim(), `imported 10 policies from ${file} (10 new, 0 replaced)`);
    const again = await daemon.cli(['policy', 'import', file]);
    assert.equal(again.stdout.trim(), `imported 10 policies from ${file} (0 new, 10 replaced)`);
  });

  it('decides as the file says, by `codepiper policy test`', async () => {
    const cases: [tool: string, args: Record<string, string>, decision: string, policy: string | null][] = [
      ['Read', { file_path: '/repo/src/app.ts' }, 'allow', 'read-files'],
      ['Read', { file_path: '/repo/.env' }, 'deny', 'no-env-files'],
      ['Grep', { pattern: 'TODO' }, 'allow', 'search-files'],
      ['Bash', { command: 'npm test -- --watch=false' }, 'allow', 'run-tests'],
      ['Bash', { command: 'git status && npm test' }, 'allow', 'git-status'],
      ['Bash', { command: 'npm test && rm -rf build' }, 'deny', 'no-mass-delete'],
      ['Bash', { command: 'git push origin main' }, 'ask', 'git-push'],
      ['Bash', { command: 'git push --force origin main' }, 'deny', 'no-force-push'],
      ['Bash', { command: 'curl https://example.com' }, 'ask', null],
      ['terminal_input', { text: 'rm -rf /' }, 'deny', 'no-typed-mass-delete'],
    ];
    for (const [tool, args, decision, policy] of cases) {
      const result = await daemon.cli(['policy', 'test', '--tool', tool, '--args', JSON.stringify(args), '--json']);
      assert.equal(result.code, 0, result.stderr);
      const answer = JSON.parse(result.stdout) as PolicyDecision;
      assert.deepEqual([answer.decision, answer.policy?.name ?? null], [decision, policy], `${tool} ${JSON.stringify(args)}`);
    }
  });
});
