import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createTestKernel, fakeService, type TestKernel } from '@codepiper/core/test-kernel';
import { auditLogRef, type AuditLog, type AuditRecord } from '@codepiper/audit-contract';
import { CodePiperError } from '@codepiper/sdk';
import { eventLogRef, type CodePiperEvent, type EventLog } from '@codepiper/events-contract';
import { policyEndpoints, toolPermission } from '@codepiper/policies-contract';
import { sessionDirectoryRef, type SessionDirectory, type SessionRecord } from '@codepiper/sessions-contract';
import policies from './index.js';

const now = new Date().toISOString();
const session: SessionRecord = {
  id: '5e55b0a1-7c1e-4d2b-9a55-1f2e3d4c5b6a',
  name: 'refactor',
  provider: 'claude-code',
  cwd: '/work/project',
  command: ['claude'],
  status: 'working',
  statusDetail: null,
  exitCode: null,
  createdAt: now,
  updatedAt: now,
  endedAt: null,
  tmuxSession: 'cp-5e55b0a1',
  metadata: {},
};

/** The policies plugin with fakes for the audit trail, the event log and the session directory, recording what it sends them. */
async function policiesKernel(config: Record<string, unknown> = {}) {
  const audited: AuditRecord[] = [];
  const events: CodePiperEvent[] = [];
  const audit: AuditLog = {
    append: async (record) => {
      audited.push(record);
      return { ...record, id: audited.length, ts: new Date().toISOString() };
    },
    record: async () => undefined,
  };
  const eventLog: EventLog = {
    append: async (event, source) => {
      const stored = { ...event, id: events.length + 1, ts: new Date().toISOString(), source };
      events.push(stored);
      return stored;
    },
    list: async () => events,
    lines: async function* () {},
    latestId: async () => events.length,
    subscribe: () => () => undefined,
  };
  const directory: SessionDirectory = {
    resolve: async (ref) => {
      if (session.id.startsWith(ref)) return session;
      throw new CodePiperError('not_found', `session ${ref} not found`);
    },
    list: async () => [session],
    setStatus: async () => session,
    updateMetadata: async () => session,
    endTurn: async () => session,
  };
  const kernel = await createTestKernel({
    plugins: [policies],
    services: [fakeService(auditLogRef, audit), fakeService(eventLogRef, eventLog), fakeService(sessionDirectoryRef, directory)],
    config: { policies: config },
  });
  const ask = (toolName: string, toolInput: unknown) => kernel.callHook(toolPermission, { session, stage: 'check', toolName, toolInput, signal: new AbortController().signal });
  return { kernel, audited, events, ask };
}

describe('the policies plugin, in a test kernel with fake services', () => {
  const kernels: TestKernel[] = [];
  after(() => Promise.all(kernels.map((kernel) => kernel.stop())));

  it('answers an agent’s tool call by the policy that matches it, and records the decision in the trail and as an event', async () => {
    const { kernel, audited, events, ask } = await policiesKernel();
    kernels.push(kernel);
    await kernel.client.call(policyEndpoints.create, { body: { name: 'no-force-push', action: 'deny', rule: 'Bash(git push --force:*)', reason: 'history is shared' } });

    assert.deepEqual(await ask('Bash', { command: 'git push --force origin main' }), { decision: 'deny', reason: 'history is shared' });
    const verdict = await ask('Bash', { command: 'git status' });
    assert.equal(verdict?.decision, 'ask', 'no policy matches: the default, ask, passed on explicitly');

    assert.deepEqual(
      audited.map((r) => [r.sessionId, r.tool, r.decision, r.policyName, r.answeredBy, r.source]),
      [
        [session.id, 'Bash', 'deny', 'no-force-push', 'policy', 'claude-code.check'],
        [session.id, 'Bash', 'ask', 'default', 'default', 'claude-code.check'],
      ],
    );
    assert.deepEqual(
      events.filter((e) => e.type === 'policy.decision').map((e) => (e.payload as { decision: string; auditId: number }).decision),
      ['deny', 'ask'],
    );
  });

  it('denies what no policy matches when the configured default is deny', async () => {
    const { kernel, ask } = await policiesKernel({ default_action: 'deny' });
    kernels.push(kernel);
    assert.equal((await ask('WebFetch', { url: 'https://example.com' }))?.decision, 'deny');
  });

  it('refuses a policy scoped to a session the directory does not know, as the directory says', async () => {
    const { kernel } = await policiesKernel();
    kernels.push(kernel);
    await assert.rejects(kernel.client.call(policyEndpoints.create, { body: { action: 'allow', tool: 'Read', session: 'ffff' } }), (error: Error & { status?: number; code?: string }) => {
      assert.equal(error.status, 404);
      assert.match(error.message, /session ffff not found/);
      return true;
    });
  });
});
