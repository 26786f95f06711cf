/**
 * A new user starts an agent without choosing a model: whatever model the
 * pinned agent CLI picks by itself must have a shipped price, or every cost
 * they see is "unpriced". When a new pinned version changes its default,
 * this fails until prices.json has it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { sessionEndpoints } from '@codepiper/sessions-contract';
import type { UsageReport } from '@codepiper/analytics-contract';
import { claudeBin, prepareClaudeHome, removeClaudeHome, type ClaudeHome } from './agents/claude.js';
import { codexBin, codexKeyVar, prepareCodexHome, type CodexHome } from './agents/codex.js';
import { TestDaemon, waitFor } from './harness.js';
import { FakeAnthropic, isMainConversation, lastUserText } from './model-servers/anthropic.js';
import { FakeResponses, isStructured, lastUserText as lastCodexText } from './model-servers/openai-responses.js';

/** Starts a session with no model option, sends one prompt, and returns the usage report once the answer is counted. */
async function usageOfOneTurn(daemon: TestDaemon, start: { provider: string; cwd: string; env: Record<string, string> }): Promise<UsageReport> {
  const session = await daemon.client.call(sessionEndpoints.start, { body: { ...start, prompt: 'say hello' } });
  try {
    return await waitFor('the answer in the usage ledger', async () => {
      const result = await daemon.cli(['analytics', '--by', 'model', '--session', session.id, '--json']);
      assert.equal(result.code, 0, result.stderr);
      const report = JSON.parse(result.stdout) as UsageReport;
      return report.total.responses > 0 ? report : undefined;
    }, 90_000);
  } finally {
    await daemon.client.call(sessionEndpoints.kill, { params: { id: session.id } });
  }
}

describe('the model each pinned agent CLI uses by default has a shipped price', { timeout: 300_000 }, () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  test('Claude Code, started with no model', async () => {
    const fake = await FakeAnthropic.start([{ when: (r) => isMainConversation(r) && lastUserText(r).includes('say hello'), reply: { text: 'hello' } }]);
    const workdir = mkdtempSync('/tmp/cpt-dm-claude-');
    const home: ClaudeHome = await prepareClaudeHome({ cwd: workdir, apiKey: 'sk-ant-default-model-0123456789', baseUrl: fake.url });
    const daemon = await TestDaemon.start({ CODEPIPER_CLAUDE_BIN: claudeBin });
    cleanups.push(() => fake.close(), () => rmSync(workdir, { recursive: true, force: true }), () => removeClaudeHome(home), () => daemon.dispose());

    const report = await usageOfOneTurn(daemon, { provider: 'claude-code', cwd: workdir, env: home.env });
    const asked = fake.messageRequests().filter(isMainConversation).map((r) => r.body.model);
    assert.deepEqual(report.rows.map((r) => r.key), [...new Set(asked)], 'the ledger names the model Claude asked for');
    assert.deepEqual(report.total.unpricedModels, [], `no shipped price for ${report.rows.map((r) => r.key).join(', ')}`);
    assert.ok((report.total.cost ?? 0) > 0);
  });

  test('Codex, with no model in its config', async () => {
    const fake = await FakeResponses.start([{ when: (r) => lastCodexText(r) === 'say hello', reply: { text: 'hello' } }]);
    const workdir = mkdtempSync('/tmp/cpt-dm-codex-');
    const codex: CodexHome = await prepareCodexHome({ baseUrl: fake.url, trustedDirs: [workdir], model: null });
    const daemon = await TestDaemon.start({ CODEPIPER_CODEX_BIN: codexBin, [codexKeyVar]: codex.env[codexKeyVar]! });
    cleanups.push(() => fake.close(), () => rmSync(workdir, { recursive: true, force: true }), () => rmSync(codex.codexHome, { recursive: true, force: true }), () => daemon.dispose());

    const report = await usageOfOneTurn(daemon, { provider: 'codex', cwd: workdir, env: codex.env });
    const asked = fake.responseRequests().filter((r) => !isStructured(r)).map((r) => r.body.model);
    assert.deepEqual(report.rows.map((r) => r.key), [...new Set(asked)], 'the ledger names the model Codex asked for');
    assert.deepEqual(report.total.unpricedModels, [], `no shipped price for ${report.rows.map((r) => r.key).join(', ')}`);
    assert.ok((report.total.cost ?? 0) > 0);
  });
});
