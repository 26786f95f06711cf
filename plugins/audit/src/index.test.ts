import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestKernel, type TestKernel } from '@codepiper/core/test-kernel';
import { auditEndpoints, auditLogRef, type AuditQuery, type AuditRecord } from '@codepiper/audit-contract';
import audit from './index.js';

const decision = (sessionId: string, tool: string, outcome: AuditRecord['decision']): AuditRecord => ({
  sessionId,
  tool,
  input: { command: 'ls' },
  decision: outcome,
  reason: 'a test',
  policyId: null,
  policyName: 'default',
  rule: '*',
  source: 'test',
  answeredBy: 'default',
  durationMs: 0.5,
});

describe('the audit plugin', () => {
  let kernel: TestKernel;
  before(async () => {
    kernel = await createTestKernel({ plugins: [audit] });
    const trail = kernel.service(auditLogRef);
    await trail.append(decision('aaaa1111-0000', 'Bash', 'deny'));
    await trail.record({ action: 'auth.login', outcome: 'deny', reason: 'wrong password', actor: 'tcp:10.0.0.7', details: { attempts: 3 } }, 'auth');
    await trail.append(decision('bbbb2222-0000', 'Read', 'allow'));
    await trail.record({ action: 'auth.lockout', outcome: 'deny', reason: 'too many failures', actor: 'tcp:10.0.0.7' }, 'auth');
    await trail.record({ action: 'authx.other', outcome: 'allow', reason: 'not auth.*', actor: 'unix:local' }, 'test');
  });
  after(() => kernel.stop());

  const list = async (query: AuditQuery) => (await kernel.client.call(auditEndpoints.list, { query })).entries;

  it('lists every line oldest first, numbered in order, a security event with its action as tool and its actor as who answered', async () => {
    const entries = await list({});
    assert.deepEqual(
      entries.map((e) => [e.id, e.tool, e.decision, e.answeredBy]),
      [
        [1, 'Bash', 'deny', 'default'],
        [2, 'auth.login', 'deny', 'tcp:10.0.0.7'],
        [3, 'Read', 'allow', 'default'],
        [4, 'auth.lockout', 'deny', 'tcp:10.0.0.7'],
        [5, 'authx.other', 'allow', 'unix:local'],
      ],
    );
    assert.deepEqual(entries[1]!.input, { attempts: 3 });
    assert.deepEqual(entries[3]!.input, {}, 'an event without details');
  });

  it('filters by action prefix, exact tool, decision, session prefix and position', async () => {
    const ids = async (query: AuditQuery) => (await list(query)).map((e) => e.id);
    assert.deepEqual(await ids({ tool: 'auth.*' }), [2, 4], 'auth.* is not authx');
    assert.deepEqual(await ids({ tool: 'auth' }), [], 'an exact tool');
    assert.deepEqual(await ids({ decision: 'allow' }), [3, 5]);
    assert.deepEqual(await ids({ session: 'bbbb' }), [3]);
    assert.deepEqual(await ids({ session: '%' }), [], 'LIKE wildcards are literal');
    assert.deepEqual(await ids({ after: 3 }), [4, 5]);
    assert.deepEqual(await ids({ newest: true, limit: 2 }), [5, 4]);
  });

  it('refuses a query out of its schema with a 400 naming the field', async () => {
    await assert.rejects(kernel.client.call(auditEndpoints.list, { query: { limit: 0 } }), (error: Error & { status?: number }) => {
      assert.equal(error.status, 400);
      assert.match(error.message, /limit/);
      return true;
    });
  });
});
