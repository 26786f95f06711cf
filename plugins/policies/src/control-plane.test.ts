import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { loadBashGrammar } from './bash-grammar.js';
import { CONTROL_PLANE_GUARD, CONTROL_PLANE_RULE, ControlPlaneGuard, type ControlPlaneLayout } from './control-plane.js';
import { PolicyEngine, type PolicyLike } from './engine.js';
import { expandBraces, HomePaths } from './home-paths.js';

const HOME = '/home/u/.codepiper';
const LAYOUT = { home: HOME, socket: `${HOME}/daemon.sock`, userHome: '/home/u', tmuxDir: '/tmp/tmux-1000' };
const CWD = '/home/u/proj';

const policy = (p: Partial<PolicyLike> & Pick<PolicyLike, 'name' | 'action'>): PolicyLike => ({ id: p.name, tool: '*', args: null, rule: null, priority: 0, session: null, enabled: true, reason: '', ...p });
const guardPolicy = (enabled = true) => policy({ name: CONTROL_PLANE_GUARD, action: 'ask', builtin: true, enabled });
const allowAll = policy({ name: 'anything', action: 'allow' });
const noRm = policy({ name: 'no-rm', action: 'deny', tool: 'Bash', args: { command: 'rm *' }, reason: 'No mass deletes' });
const engine = (policies: PolicyLike[], layout: ControlPlaneLayout = LAYOUT) => new PolicyEngine(policies, 'ask', new ControlPlaneGuard(layout, false));
const bash = (command: string) => ({ tool: 'Bash', input: { command }, cwd: CWD });

before(() => loadBashGrammar());

describe('the control-plane guard', () => {
  const e = engine([guardPolicy(), allowAll, noRm]);

  test('a call that touches the home or socket is asked about, even under allow *', () => {
    const calls = [
      { tool: 'Read', input: { file_path: `${HOME}/plugins/secrets/secret.key` } },
      bash('cat ~/.codepiper/codepiper.db'),
      bash('sqlite3 $CODEPIPER_HOME/codepiper.db'),
      bash('sqlite3 "${CODEPIPER_HOME}/codepiper.db" .dump'),
      bash('codepiper policy create --action allow --tool "*"'),
      bash(`tmux -S ${HOME}/plugins/sessions/tmux.sock send-keys -t x 'rm -rf /' Enter`),
      bash(`curl --unix-socket ${HOME}/daemon.sock http://localhost/policies`),
      { tool: 'Write', input: { file_path: `${HOME}/config.yaml`, content: 'plugins: []\n' } },
      { tool: 'Edit', input: { file_path: '/home/u/proj/../.codepiper/config.yaml', old_string: 'a', new_string: 'b' } },
    ];
    for (const call of calls) {
      const d = e.decide(call);
      assert.equal(d.decision, 'ask', JSON.stringify(call.input));
      assert.deepEqual(d.policy, { id: CONTROL_PLANE_GUARD, name: CONTROL_PLANE_GUARD });
      assert.equal(d.rule, CONTROL_PLANE_RULE);
      assert.match(d.reason, /builtin:control-plane-guard\)$/);
    }
  });

  test('the reason names what was touched', () => {
    assert.match(e.decide({ tool: 'Read', input: { file_path: `${HOME}/plugins/secrets/secret.key` } }).reason, /^`\/home\/u\/\.codepiper\/plugins\/secrets\/secret\.key` is in the daemon's home \(\/home\/u\/\.codepiper\); /);
    assert.match(e.decide(bash('cat ~/.codepiper/codepiper.db')).reason, /^`~\/\.codepiper\/codepiper\.db` is in the daemon's home/);
    assert.match(e.decide(bash('ls ~/.codepiper')).reason, /^`~\/\.codepiper` is the daemon's home/);
    assert.match(e.decide(bash('sqlite3 $CODEPIPER_HOME/codepiper.db')).reason, /^`\$CODEPIPER_HOME` names the daemon's home/);
    assert.match(e.decide(bash('ls && codepiper policy list')).reason, /^`codepiper policy list` runs the codepiper CLI/);
    assert.match(e.decide(bash(`tmux -S ${HOME}/plugins/sessions/tmux.sock ls`)).reason, /drives the daemon's tmux server/);
  });

  test('for a shell line, the commands that touch it are marked', () => {
    const d = e.decide(bash('ls && cat ~/.codepiper/config.yaml | grep key'));
    assert.deepEqual(
      d.parts.map((p) => [p.command, p.decision, p.policy]),
      [
        ['ls', 'allow', 'anything'],
        ['cat ~/.codepiper/config.yaml', 'ask', CONTROL_PLANE_GUARD],
        ['grep key', 'allow', 'anything'],
      ],
    );
  });

  test("a user's deny still denies", () => {
    const d = e.decide(bash(`rm ${HOME}/x`));
    assert.equal(d.decision, 'deny');
    assert.equal(d.reason, 'No mass deletes');
    assert.equal(e.decide(bash(`cat ${HOME}/x; rm -rf build`)).decision, 'deny');
    const strict = new PolicyEngine([guardPolicy()], 'deny', new ControlPlaneGuard(LAYOUT, false));
    assert.equal(strict.decide({ tool: 'Read', input: { file_path: `${HOME}/config.yaml` } }).decision, 'deny', 'a default deny is not softened to ask');
  });

  test('ordinary calls elsewhere are left to the policies', () => {
    const calls = [
      { tool: 'Read', input: { file_path: '/home/u/proj/README.md' } },
      { tool: 'Write', input: { file_path: '/home/u/proj/notes.md', content: 'the config is in ~/.codepiper/config.yaml' } },
      { tool: 'Edit', input: { file_path: '/home/u/proj/a.ts', old_string: '~/.codepiper', new_string: '$CODEPIPER_HOME' } },
      { tool: 'WebFetch', input: { url: 'https://example.com/a/../b', prompt: 'read ~/.codepiper' } },
      { tool: 'Grep', input: { pattern: 'codepiper', path: '/home/u/proj' } },
      bash('ls -la /home/u/.codepiper-old ~/proj'),
      bash('git commit -m "fix" && git push'),
      bash('tmux -L mine new-session -d'),
      bash('tmux -S /tmp/other.sock ls'),
      bash('grep -rn codepiper src/'),
      bash('cp notes.txt ~/'),
      bash('cat ~/*/x'),
      bash('echo $HOME ${HOME:-/root}'),
    ];
    for (const call of calls) assert.equal(e.decide(call).decision, 'allow', JSON.stringify(call.input));
    assert.equal(e.decide({ tool: 'terminal_input', input: { text: 'cat ~/.codepiper/x' } }).decision, 'allow', 'typed text is not an agent tool call');
  });

  test('ways around it that are seen', () => {
    const lines = [
      'cat "/home/u/.code"piper/x',
      "cat $'\\x2fhome/u/.codepiper/x'",
      'cat ~/.code*/codepiper.db',
      'cat /home/u/.codepipe?/codepiper.db',
      'cat /home/u/.[c]odepiper/codepiper.db',
      'cat ~/.{codepiper,nothing}/codepiper.db',
      'cat $HOME/.codepiper/x',
      'cat ${HOME}/.codepiper/x',
      'cat ~u/.codepiper/x',
      'cd ~ && cat .codepiper/codepiper.db',
      'cd /home/u/proj/sub && cat ../../.codepiper/x',
      'cat ../.codepiper/x',
      'echo plugins: > ~/.codepiper/config.yaml',
      '{ echo x; } >> ~/.codepiper/config.yaml',
      'socat - UNIX-CONNECT:/home/u/.codepiper/daemon.sock',
      'nc -U /home/u/.codepiper/daemon.sock',
      'python3 -c "open(\'/home/u/.codepiper/codepiper.db\')"',
      'sudo -u u cat /home/u/.codepiper/codepiper.db',
      'bash -c "cat ~/.codepiper/codepiper.db"',
      'npx codepiper policy list',
      'node /usr/lib/node_modules/@codepiper/cli/bin/codepiper.cjs policy list',
      '/usr/local/bin/codepiper daemon stop',
      'tmux send-keys -t other "rm -rf /" Enter',
      'tmux -S "$SOCK" ls',
      'socat - UNIX-CONNECT:"${TMUX%%,*}"',
      'grep -r totp ~',
      'find / -name secret.key',
      'tar czf /tmp/all.tgz /home/u',
      'rsync -a ~/ /mnt/backup/',
    ];
    const missed = lines.filter((line) => e.decide(bash(line)).decision !== 'ask');
    assert.deepEqual(missed, []);
    assert.equal(e.decide({ tool: 'Grep', input: { pattern: 'key', path: '/home/u' } }).decision, 'ask');
    assert.equal(e.decide({ tool: 'Glob', input: { pattern: '**/*.key', path: '/home/u' } }).decision, 'ask');
    assert.equal(e.decide({ tool: 'Glob', input: { pattern: '*.md', path: '/home/u' } }).decision, 'allow');
    assert.equal(e.decide({ tool: 'mcp__files__read', input: { options: { paths: ['/tmp/a', '~/.codepiper/codepiper.db'] } } }).decision, 'ask', 'nested inputs');
  });

  test('a session working inside the home touches it with every relative path', () => {
    assert.equal(e.decide({ tool: 'Bash', input: { command: 'cat config.yaml' }, cwd: HOME }).decision, 'ask');
  });

  test('a real path and the socket outside the home are covered too', () => {
    const aliased = engine([guardPolicy(), allowAll], { ...LAYOUT, home: '/tmp/link', socket: '/run/cp/daemon.sock', aliases: ['/private/tmp/link'] });
    assert.equal(aliased.decide({ tool: 'Read', input: { file_path: '/private/tmp/link/config.yaml' } }).decision, 'ask');
    assert.equal(aliased.decide(bash('curl --unix-socket /run/cp/daemon.sock http://x/')).decision, 'ask');
    assert.equal(aliased.decide(bash('ls /run/cp')).decision, 'allow');
  });

  test('disabled, or without the guard, the policies alone decide', () => {
    const off = engine([guardPolicy(false), allowAll, noRm]);
    assert.equal(off.decide({ tool: 'Read', input: { file_path: `${HOME}/config.yaml` } }).decision, 'allow');
    assert.equal(off.decide(bash('codepiper policy list')).decision, 'allow');
    assert.equal(off.decide(bash(`rm ${HOME}/x`)).decision, 'deny');
    const none = new PolicyEngine([guardPolicy(), allowAll]);
    assert.equal(none.decide({ tool: 'Read', input: { file_path: `${HOME}/config.yaml` } }).decision, 'allow', 'the row alone matches nothing');
  });
});

describe('paths in the home', () => {
  const paths = new HomePaths(LAYOUT, false);
  test('inside, above, and neither', () => {
    assert.equal(paths.inside(HOME), HOME);
    assert.equal(paths.inside(`${HOME}/a/b`), HOME);
    assert.equal(paths.inside(`${HOME}-old/a`), undefined);
    assert.equal(paths.above('/home/u'), true);
    assert.equal(paths.above('/'), true);
    assert.equal(paths.above(HOME), false);
    assert.equal(paths.above('/home/u/proj'), false);
  });
  test('patterns follow bash: `*` does not match a leading dot, `**` reaches anything below', () => {
    assert.equal(paths.inside('/home/u/.code*'), HOME);
    assert.equal(paths.inside('/home/u/*/x'), undefined);
    assert.equal(paths.inside('/home/**/x'), HOME);
    assert.equal(paths.inside('/home/u/.[!x]odepiper/y'), HOME);
  });
  test('expansion', () => {
    assert.deepEqual(paths.resolve('~/.codepiper/../.codepiper/x', []), [`${HOME}/x`]);
    assert.deepEqual(paths.resolve('$CODEPIPER_HOME', []), [HOME]);
    assert.deepEqual(paths.resolve('$OTHER/x', ['/a']), []);
    assert.deepEqual(paths.resolve('x', ['/a', '/b']), ['/a/x', '/b/x']);
    assert.deepEqual(expandBraces('a{b,c}d{e,f}'), ['abde', 'abdf', 'acde', 'acdf']);
  });
  test('case is folded where file systems fold it', () => {
    assert.equal(new HomePaths(LAYOUT, true).inside('/home/u/.CodePiper/x'), HOME);
    assert.equal(paths.inside('/home/u/.CodePiper/x'), undefined);
  });
});
