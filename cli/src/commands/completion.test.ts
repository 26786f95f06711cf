import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/codepiper.cjs', import.meta.url));
const script = (shell: string): string => execFileSync(process.execPath, [bin, 'completion', shell], { encoding: 'utf8' });
const has = (program: string): boolean => spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;

/** What bash offers after the words typed so far (the last one being completed). */
function bashOffers(...words: string[]): string[] {
  const line = ['codepiper', ...words];
  const program = `${script('bash')}
COMP_WORDS=(${line.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${line.length - 1}; _codepiper; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync('bash', ['-c', program], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
}

describe('shell completion', () => {
  it('bash completes commands, their actions and their flags', () => {
    assert.deepEqual(bashOffers('da'), ['daemon']);
    assert.deepEqual(bashOffers('s'), ['secret', 'send', 'sessions', 'show', 'start', 'stop']);
    assert.deepEqual(bashOffers('daemon', 's'), ['status', 'stop']);
    assert.deepEqual(bashOffers('workflow', ''), ['cancel', 'list', 'logs', 'run', 'status', 'validate']);
    assert.deepEqual(bashOffers('start', '--prov'), ['--provider']);
    assert.deepEqual(bashOffers('ls', '--st'), ['--status']);
    assert.deepEqual(bashOffers('tail', 'ab12', '-'), ['--follow', '--help', '--lines', '-f', '-n']);
  });

  it('zsh takes the bash completion through bashcompinit', { skip: !has('zsh') && 'zsh is not installed' }, () => {
    // -f: no user start-up files; the script loads compinit itself when nothing has.
    const registered = execFileSync('zsh', ['-fc', `${script('zsh')}\nprint -r -- \${_comps[codepiper]}`], { encoding: 'utf8', env: { ...process.env, HOME: tmpdir() } });
    assert.equal(registered.trim(), '_bash_complete -o filenames -F _codepiper');
  });

  it('fish completes commands, actions and flags', { skip: !has('fish') && 'fish is not installed' }, () => {
    const offers = (line: string): string[] =>
      execFileSync('fish', ['-c', `${script('fish')}\ncomplete -C ${JSON.stringify(line)}`], { encoding: 'utf8' }).split('\n').filter(Boolean).map((l) => l.split('\t')[0]!).sort();
    assert.deepEqual(offers('codepiper da'), ['daemon']);
    assert.deepEqual(offers('codepiper daemon s'), ['status', 'stop']);
    assert.deepEqual(offers('codepiper start --prov'), ['--provider']);
  });

  it('refuses a shell it does not know, naming the ones it does', () => {
    const result = spawnSync(process.execPath, [bin, 'completion', 'tcsh'], { encoding: 'utf8' });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /no completion for "tcsh"; choose bash, zsh, fish/);
  });
});
