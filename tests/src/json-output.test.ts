import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteDaemon } from './harness.js';

/** Every listing command's --json: one object, its list under the list's name (the API's response). */
const LISTINGS: [string[], string][] = [
  [['ls'], 'sessions'],
  [['prune'], 'removed'],
  [['policy', 'list'], 'policies'],
  [['policy', 'export'], 'policies'],
  [['approvals'], 'approvals'],
  [['audit'], 'entries'],
  [['secret', 'list'], 'secrets'],
  [['workflow', 'list'], 'runs'],
  [['auth', 'sessions'], 'sessions'],
  [['analytics'], 'rows'],
];

describe('--json output has one shape', () => {
  const suite = suiteDaemon();

  test('a listing is one object with its list under its name; a thing is one object', async () => {
    for (const [args, key] of LISTINGS) {
      const result = await suite.daemon.cli([...args, '--json']);
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
      const value = JSON.parse(result.stdout) as Record<string, unknown>;
      assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), `${args.join(' ')} prints an object`);
      assert.ok(Array.isArray(value[key]), `${args.join(' ')} holds its list under "${key}": ${result.stdout.slice(0, 200)}`);
    }
    const started = await suite.daemon.cli(['start', '-p', 'shell', '-d', suite.workdir, '--json', '--', 'cat']);
    const session = JSON.parse(started.stdout) as { id: string };
    for (const args of [['show', session.id], ['output', session.id], ['stop', session.id], ['daemon', 'status'], ['doctor']]) {
      const result = await suite.daemon.cli([...args, '--json']);
      const value = JSON.parse(result.stdout) as unknown;
      assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), `${args.join(' ')} prints an object`);
    }
  });
});
