import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cac } from 'cac';
import { optionValue, optionValues, parseEnv, parseKeys, parsePositiveInt, parseStatus } from './args.js';
import { protectWords, unprotect } from './command-line.js';
import { UsageError } from './errors.js';

/** Parses `argv` the way the program does, with one command `show <id> [...words]`. */
function parse(argv: string[]): { args: readonly string[]; options: Record<string, unknown> } {
  const cli = cac('t');
  cli.command('show <id> [...words]').option('--json', '').option('-n, --name <name>', '');
  cli.parse(['node', 't', ...protectWords(argv)], { run: false });
  return { args: unprotect(cli.args), options: unprotect(cli.options) };
}

describe('protectWords / unprotect', () => {
  it('keeps numeric-looking ids and values as typed', () => {
    const { args, options } = parse(['show', '--json', '0123', '-n', '007', '1e3']);
    assert.deepEqual(args, ['0123', '1e3']);
    assert.equal(options.name, '007');
    assert.equal(options.json, true);
  });

  it('handles --option=value and leaves words after -- alone', () => {
    const { options } = parse(['show', 'x', '--name=0x10', '--', '42', '-n']);
    assert.equal(options.name, '0x10');
    assert.deepEqual(options['--'], ['42', '-n']);
  });

  it('leaves non-numeric words untouched', () => {
    assert.deepEqual(protectWords(['show', 'abc', '-n', 'name', '--', '1']), ['show', 'abc', '-n', 'name', '--', '1']);
  });
});

describe('optionValue / optionValues', () => {
  it('accepts a single value, rejects repeats and missing values', () => {
    assert.equal(optionValue('a', '--name'), 'a');
    assert.equal(optionValue(undefined, '--name'), undefined);
    assert.throws(() => optionValue(['a', 'b'], '--name'), /--name may be given only once/);
    assert.throws(() => optionValues(true, '--env'), /--env needs a value/);
    assert.deepEqual(optionValues(['A=1', 'B=2'], '--env'), ['A=1', 'B=2']);
  });
});

describe('parseEnv', () => {
  it('splits at the first =, later pairs win, values may be empty or contain =', () => {
    assert.deepEqual(parseEnv(['A=1', 'B=x=y', 'A=2', 'EMPTY=']), { A: '2', B: 'x=y', EMPTY: '' });
  });

  it('is undefined without pairs', () => {
    assert.equal(parseEnv([]), undefined);
  });

  it('rejects pairs without = and invalid names', () => {
    assert.throws(() => parseEnv(['NOVALUE']), (e) => e instanceof UsageError && /NAME=VALUE, got "NOVALUE"/.test(e.message));
    assert.throws(() => parseEnv(['1A=x']), /"1A" is not a valid variable name/);
    assert.throws(() => parseEnv(['=x']), /"" is not a valid variable name/);
    assert.throws(() => parseEnv(['A-B=x']), /"A-B"/);
  });

  it('keeps __proto__ as an ordinary name', () => {
    assert.deepEqual(Object.keys(parseEnv(['__proto__=x']) ?? {}), ['__proto__']);
  });
});

describe('parseKeys', () => {
  it('normalises key names', () => {
    assert.deepEqual(parseKeys(['Ctrl-C', 'ESC', 'C-d', 'up', 'shift+tab']), ['ctrl+c', 'escape', 'ctrl+d', 'up', 'shift+tab']);
  });

  it('names every unknown key and lists the valid ones', () => {
    assert.throws(
      () => parseKeys(['enter', 'bogus', 'ctrl+1']),
      (e) => e instanceof UsageError && e.message.startsWith('unknown key "bogus", "ctrl+1"; valid keys: enter, escape,') && e.message.includes('ctrl+<a-z'),
    );
  });
});

describe('parsePositiveInt', () => {
  it('accepts whole numbers from 1', () => {
    assert.equal(parsePositiveInt('50', '--lines'), 50);
  });

  it('rejects anything else', () => {
    for (const bad of ['0', '-1', '1.5', 'ten', '', '1e3']) {
      assert.throws(() => parsePositiveInt(bad, '--lines'), (e) => e instanceof UsageError && e.message.includes(`got "${bad}"`));
    }
  });
});

describe('parseStatus', () => {
  it('accepts known statuses only', () => {
    assert.equal(parseStatus('waiting'), 'waiting');
    assert.equal(parseStatus(undefined), undefined);
    assert.throws(() => parseStatus('asleep'), /--status must be one of starting, running/);
  });
});
