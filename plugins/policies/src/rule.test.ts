import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { globPrefix, globToRegExp } from './glob.js';
import { parseRule, PolicyError } from './rule.js';

const matches = (rule: string, value: string): boolean => {
  const parsed = parseRule(rule);
  assert.ok(parsed.field, `${rule} has a specifier`);
  return parsed.field.match(value);
};

describe('globs', () => {
  test('plain globs: * crosses spaces and slashes, ? is one character, \\ escapes', () => {
    assert.ok(globToRegExp('rm *').test('rm -rf /tmp/x'));
    assert.ok(!globToRegExp('rm *').test('rmdir x'));
    assert.ok(globToRegExp('mcp__*').test('mcp__github__create_issue'));
    assert.ok(!globToRegExp('mcp__*').test('Read'));
    assert.ok(globToRegExp('a?c').test('abc'));
    assert.ok(globToRegExp('a\\*c').test('a*c') && !globToRegExp('a\\*c').test('abc'));
    assert.ok(globToRegExp('x.y').test('x.y') && !globToRegExp('x.y').test('xzy'), 'regex characters are literal');
    assert.ok(globToRegExp('Read').test('Read') && !globToRegExp('Read').test('ReadFile'), 'exact unless a glob');
  });
  test('the literal text every match starts with', () => {
    assert.equal(globPrefix('git push *'), 'git push ');
    assert.equal(globPrefix('a\\*b?c'), 'a*b');
    assert.equal(globPrefix('*'), '');
    assert.equal(globPrefix('ls'), 'ls');
  });
  test('path globs: * stops at /, ** crosses it', () => {
    assert.ok(globToRegExp('src/*.ts', { path: true }).test('src/a.ts'));
    assert.ok(!globToRegExp('src/*.ts', { path: true }).test('src/a/b.ts'));
    assert.ok(globToRegExp('src/**', { path: true }).test('src/a/b.ts'));
    assert.ok(globToRegExp('**/*.md', { path: true }).test('README.md'));
  });
});

describe('Claude Code rule syntax', () => {
  test('a bare tool', () => {
    assert.deepEqual(parseRule('Read'), { tool: 'Read' });
    assert.deepEqual(parseRule('mcp__github__*'), { tool: 'mcp__github__*' });
  });
  test('Bash(prefix:*) is the prefix alone or with any arguments', () => {
    assert.ok(matches('Bash(git push:*)', 'git push'));
    assert.ok(matches('Bash(git push:*)', 'git push origin main'));
    assert.ok(!matches('Bash(git push:*)', 'git pushx'));
    assert.ok(!matches('Bash(git push:*)', 'git status'));
  });
  test('Bash(command) is exact; * inside is a glob', () => {
    assert.ok(matches('Bash(npm run build)', 'npm run build'));
    assert.ok(!matches('Bash(npm run build)', 'npm run build --watch'));
    assert.ok(matches('Bash(npm run *)', 'npm run test'));
  });
  test('file tools take a path glob, relative globs match under any directory', () => {
    assert.ok(matches('Read(src/**)', '/repo/src/a/b.ts'));
    assert.ok(matches('Edit(*.md)', '/repo/README.md'));
    assert.ok(!matches('Edit(/etc/*)', '/repo/etc/x'));
    assert.ok(matches('Edit(/etc/*)', '/etc/passwd'));
    assert.ok(matches('Read(./.env)', '/repo/.env'));
    assert.ok(!matches('Read(./.env)', '/repo/.envrc'));
  });
  test('WebFetch(domain:...) matches the host and its subdomains', () => {
    assert.ok(matches('WebFetch(domain:example.com)', 'https://example.com/a'));
    assert.ok(matches('WebFetch(domain:example.com)', 'https://docs.example.com/'));
    assert.ok(!matches('WebFetch(domain:example.com)', 'https://example.com.evil.net/'));
    assert.ok(!matches('WebFetch(domain:example.com)', 'not a url'));
  });
  test('terminal_input(glob) matches the text', () => {
    assert.ok(matches('terminal_input(rm *)', 'rm -rf x'));
  });
  test('bad rule strings are clear errors', () => {
    for (const [rule, message] of [
      ['Bash(git push:*', /closing/],
      ['Bash()', /empty/],
      ['(ls)', /not a tool name/],
      ['Bash git', /Tool or Tool\(specifier\)/],
      ['', /Tool or Tool\(specifier\)/],
      ['WebFetch(example.com)', /domain:/],
      ['mcp__x(foo)', /specifier is understood for/],
    ] as const) {
      assert.throws(() => parseRule(rule), (error: unknown) => error instanceof PolicyError && message.test(error.message), rule);
    }
  });
});
