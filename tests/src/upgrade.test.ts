import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { databasePath } from '@codepiper/sdk';
import type { AuditEntry } from '@codepiper/audit-contract';
import type { SessionRecord } from '@codepiper/sessions-contract';
import { repoRoot, TestDaemon } from './harness.js';

/** Homes written by released versions: their databases as SQL and their secret keys (see fixtures/make-home.ts). */
const RELEASES = ['0.1.0'];

describe('upgrades keep data', () => {
  for (const release of RELEASES) {
    test(`a home written by ${release} opens, with its sessions, events, policies, usage and workflow runs`, async () => {
      const daemon = new TestDaemon();
      try {
        const fixture = path.join(repoRoot, 'tests', 'fixtures', `home-${release}`);
        mkdirSync(path.dirname(daemon.secretKey), { recursive: true, mode: 0o700 });
        copyFileSync(path.join(fixture, 'secret.key'), daemon.secretKey);
        chmodSync(daemon.secretKey, 0o600);
        execFileSync('sqlite3', [databasePath(daemon.home)], { input: readFileSync(path.join(fixture, 'codepiper.sql')) });
        // The fixture's events are as old as the release: kept whatever today's date (their removal is events.test's).
        writeFileSync(path.join(daemon.home, 'config.yaml'), 'events:\n  keep_days: 0\n');
        await daemon.start();
        const json = async <T>(...args: string[]): Promise<T> => {
          const result = await daemon.cli([...args, '--json']);
          assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
          return JSON.parse(result.stdout) as T;
        };

        const { sessions } = await json<{ sessions: SessionRecord[] }>('ls');
        const byName = new Map(sessions.map((s) => [s.name, s]));
        assert.deepEqual([byName.get('exited-7')?.status, byName.get('exited-7')?.exitCode], ['exited', 7]);
        assert.deepEqual([byName.get('killed')?.status, byName.get('killed')?.statusDetail], ['exited', 'killed']);
        assert.match((await daemon.cli(['output', 'exited-7'])).stdout, /the build failed/);
        const events = (await daemon.cli(['events', 'killed', '--json'])).stdout.trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
        assert.deepEqual(events.slice(0, 2), ['session.started', 'session.status']);
        assert.ok(events.includes('session.exited'));

        const { policies } = await json<{ policies: { name: string; action: string }[] }>('policy', 'list');
        assert.ok(policies.some((p) => p.name === 'no-rm' && p.action === 'deny'));
        const decision = await json<{ decision: string; policy: { name: string } | null }>('policy', 'test', '--tool', 'Bash', '--args', '{"command":"rm -rf /"}');
        assert.deepEqual([decision.decision, decision.policy?.name], ['deny', 'no-rm']);

        const usage = await json<{ total: { responses: number; input: number; output: number } }>('analytics', '--by', 'day');
        assert.deepEqual([usage.total.responses, usage.total.input, usage.total.output], [3, 36, 750]);
        const { runs } = await json<{ runs: { name: string; status: string }[] }>('workflow', 'list');
        assert.deepEqual(runs.map((r) => [r.name, r.status]), [['hello', 'succeeded']]);

        // The audit trail the policies plugin kept is now the audit plugin's, ids and all, and still append-only.
        const audit = async () => (await json<{ entries: AuditEntry[] }>('audit')).entries.map((e) => [e.id, e.tool, e.decision, e.policyName, e.answeredBy]);
        assert.deepEqual(await audit(), [
          [1, 'Bash', 'deny', 'no-rm', 'policy'],
          [2, 'secrets.set', 'allow', '-', 'unix:local'],
        ]);
        const sql = (statement: string): string => execFileSync('sqlite3', [databasePath(daemon.home), statement], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        assert.equal(sql("SELECT name FROM sqlite_master WHERE name LIKE 'policy_audit%'"), '');
        assert.throws(() => sql('DELETE FROM audit_trail'), /the audit trail is append-only/);

        // And it goes on working: a new session beside the old ones, a new line in the trail after the old ones.
        const started = await daemon.cli(['start', '-p', 'shell', '-d', '/tmp', '--', 'true']);
        assert.equal(started.code, 0, started.stderr);
        assert.equal((await daemon.cli(['secret', 'set', 'UPGRADED'], { input: 'value' })).code, 0);
        assert.deepEqual((await audit()).at(-1), [3, 'secrets.set', 'allow', '-', 'unix:local']);
      } finally {
        await daemon.dispose();
      }
    });
  }
});
