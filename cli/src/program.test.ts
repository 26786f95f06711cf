import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { CODEPIPER_VERSION } from '@codepiper/sdk';
import { cac } from 'cac';
import { COMMAND_GROUPS, createProgram, run } from './program.js';

/** Runs `argv`, capturing what it writes; none of these reach the daemon. */
async function capture(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  // Only text is the CLI's: under `node --test` the runner sends its own events through this stdout as
  // bytes, and swallowing them would lose the results of the tests around (a failure among them).
  const write = process.stdout.write.bind(process.stdout);
  const out = mock.method(process.stdout, 'write', (chunk: string | Uint8Array, ...rest: unknown[]) =>
    typeof chunk === 'string' ? ((stdout += chunk), true) : (write as (...args: unknown[]) => boolean)(chunk, ...rest),
  );
  const err = mock.method(process.stderr, 'write', (chunk: string) => ((stderr += chunk), true));
  const info = mock.method(console, 'info', (text: string) => (stdout += `${text}\n`));
  try {
    return { code: await run(argv), stdout, stderr };
  } finally {
    out.mock.restore();
    err.mock.restore();
    info.mock.restore();
  }
}

describe('program', () => {
  it('gives every command a description and an example', async () => {
    for (const command of (await createProgram()).commands) {
      assert.ok(command.description, `${command.name} has a description`);
      assert.ok(command.examples.length > 0, `${command.name} has examples`);
    }
  });

  it('knows which group registers each command word, so a command line loads only its own', async () => {
    for (const group of COMMAND_GROUPS) {
      const alone = cac('codepiper');
      await (await group.load())(alone, []);
      const words = alone.commands.flatMap((command) => [command.name, ...command.aliasNames]);
      assert.deepEqual([...words].sort(), [...group.words].sort());
    }
  });

  it('prints the bare version', async () => {
    assert.deepEqual(await capture(['--version']), { code: 0, stdout: `${CODEPIPER_VERSION}\n`, stderr: '' });
  });

  it('prints the help without a command', async () => {
    const { code, stdout } = await capture([]);
    assert.equal(code, 0);
    assert.match(stdout, /Commands:/);
    assert.match(stdout, /sessions/);
  });

  it('prints a command’s help with its examples', async () => {
    const { code, stdout } = await capture(['start', '--help']);
    assert.equal(code, 0);
    assert.match(stdout, /Examples:[\s\S]*codepiper start -p shell/);
  });

  it('exits 2 on usage errors, before talking to the daemon', async () => {
    for (const [argv, message] of [
      [['frobnicate'], 'codepiper: unknown command "frobnicate" (see: codepiper --help)'],
      [['--bogus'], 'codepiper: Unknown option `--bogus` (see: codepiper --help)'],
      [['show'], 'codepiper: missing required args for command `show <id>` (see: codepiper show --help)'],
      [['show', 'ab', '--bogus'], 'codepiper: Unknown option `--bogus` (see: codepiper show --help)'],
      [['show', 'ab', '--', 'x'], 'codepiper: unexpected arguments after "--": x (see: codepiper show --help)'],
      [['ls', '--status', 'asleep'], 'codepiper: --status must be one of starting, running, working, idle, waiting, unreachable, exited, crashed; got "asleep" (see: codepiper ls --help)'],
      [['tail', 'ab', '-n', '0'], 'codepiper: --lines expects a whole number of at least 1, got "0" (see: codepiper tail --help)'],
      [['start', '-d', '.'], 'codepiper: missing --provider (for example: -p shell) (see: codepiper start --help)'],
      [['start', '-p', 'shell', '--env', 'X'], 'codepiper: --env expects NAME=VALUE, got "X" (see: codepiper start --help)'],
      [['daemon', 'reboot'], 'codepiper: unknown daemon action "reboot" (expected stop, restart, status, install or uninstall) (see: codepiper daemon --help)'],
    ] as const) {
      const { code, stderr } = await capture([...argv]);
      assert.equal(stderr, `${message}\n`, argv.join(' '));
      assert.equal(code, 2, argv.join(' '));
    }
  });

  it('checks the directory of start locally (exit 1)', async () => {
    const { code, stderr } = await capture(['start', '-p', 'shell', '-d', '/nonexistent/dir']);
    assert.equal(stderr, 'codepiper: directory "/nonexistent/dir" does not exist\n');
    assert.equal(code, 1);
  });
});
