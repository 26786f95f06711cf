import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestKernel, fakeService, type TestKernel } from '@codepiper/core/test-kernel';
import { auditLogRef, type AuditLog, type SecurityEvent } from '@codepiper/audit-contract';
import { secretEndpoints } from '@codepiper/secrets-contract';
import { sessionSecret } from '@codepiper/sessions-contract';
import secrets from './index.js';

describe('the secrets plugin', () => {
  let kernel: TestKernel;
  const recorded: { event: SecurityEvent; source: string }[] = [];
  const trail: AuditLog = {
    append: () => Promise.reject(new Error('the secrets plugin records security events only')),
    record: async (event, source) => void recorded.push({ event, source }),
  };
  before(async () => {
    kernel = await createTestKernel({ plugins: [secrets], services: [fakeService(auditLogRef, trail)] });
  });
  after(() => kernel.stop());

  it('gives a starting session the value of a secret it names, and nothing for one it does not know', async () => {
    await kernel.client.call(secretEndpoints.set, { params: { name: 'GITHUB_TOKEN' }, body: { value: 'ghp_s3cret' } });
    assert.deepEqual(await kernel.callHook(sessionSecret, { name: 'GITHUB_TOKEN', sessionId: 'a-session' }), { value: 'ghp_s3cret' });
    assert.equal(await kernel.callHook(sessionSecret, { name: 'NPM_TOKEN', sessionId: 'a-session' }), undefined);
  });

  it('records each change in the audit trail, never the value', async () => {
    await kernel.client.call(secretEndpoints.set, { params: { name: 'NPM_TOKEN' }, body: { value: 'npm_first' } });
    await kernel.client.call(secretEndpoints.set, { params: { name: 'NPM_TOKEN' }, body: { value: 'npm_second' } });
    await kernel.client.call(secretEndpoints.remove, { params: { name: 'NPM_TOKEN' } });
    assert.deepEqual(
      recorded.map(({ event, source }) => [event.action, event.reason, source]),
      [
        ['secrets.set', 'secret GITHUB_TOKEN created', 'secrets'],
        ['secrets.set', 'secret NPM_TOKEN created', 'secrets'],
        ['secrets.set', 'secret NPM_TOKEN replaced', 'secrets'],
        ['secrets.remove', 'secret NPM_TOKEN deleted', 'secrets'],
      ],
    );
    assert.deepEqual(recorded[1]!.event.details, { name: 'NPM_TOKEN' });
    assert.doesNotMatch(JSON.stringify(recorded), /ghp_s3cret|npm_first|npm_second/);
  });

  it('cannot start without the audit trail, and says which service is missing', async () => {
    await assert.rejects(createTestKernel({ plugins: [secrets] }), {
      message: 'plugin "secrets" uses service "audit.log" (The append-only audit trail: permission decisions and security events), which no installed plugin provides',
    });
  });
});
