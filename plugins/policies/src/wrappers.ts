/**
 * Programs and builtins that run another command or a shell string: what
 * each runs, read from its arguments. `sudo -u root rm -rf x` runs
 * `rm -rf x`; `bash -c 'rm x'` runs the script `rm x`; `eval "$x"` runs
 * something only known when the line runs.
 */
import { parseOptions, type OptionSpec } from './options.js';
import { literalWord, type Word } from './shell-words.js';
import { runsCode } from './variables.js';

/** A here-document or here-string on the command's standard input, when its text is known. */
export type Stdin = { text: string } | null;

export type Run = { command: Word[] } | { script: string } | { unknown: string };

type Unwrap = (args: Word[], stdin: Stdin, program: string) => Run[];

const NAME_ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/** A program that takes options, then runs its operands (after `operandsBefore` of its own, like timeout's DURATION); the options in `runsNothing` mean it runs nothing. */
function runsOperands(spec: OptionSpec, runsNothing: readonly string[] = [], operandsBefore = 0): Unwrap {
  return (args, _stdin, program) => {
    const parsed = parseOptions(program, args, spec);
    if ('unknown' in parsed) return [parsed];
    if (runsNothing.some((o) => parsed.options.has(o))) return [];
    const command = parsed.operands.slice(operandsBefore);
    return command.length > 0 ? [{ command }] : [];
  };
}

/** Leading `NAME=value` words (after sudo's or env's options) set the environment; a variable the shell runs as code makes the command unknown. */
function afterAssignments(words: Word[], program: string, anyName: boolean): Run[] {
  let i = 0;
  for (; i < words.length; i++) {
    const word = words[i] as Word;
    if (!word.literal && !NAME_ASSIGNMENT.test(word.raw)) break;
    const eq = word.value.indexOf('=');
    if (eq <= 0 || (!anyName && !NAME_ASSIGNMENT.test(word.value))) break;
    const name = word.value.slice(0, eq);
    if (runsCode(name)) return [{ unknown: `\`${program}\` sets \`${name}\`, which the shell runs as code` }];
  }
  const command = words.slice(i);
  return command.length > 0 ? [{ command }] : [];
}

const sudo: Unwrap = (args, stdin, program) => {
  const parsed = parseOptions(program, args, {
    value: 'aCDgpRrTtUu',
    flags: 'AbBEeHiKklnPSsVv',
    optional: 'h',
    longValue: ['askpass-program', 'close-from', 'chdir', 'group', 'host', 'prompt', 'chroot', 'role', 'type', 'command-timeout', 'other-user', 'user'],
    longFlags: ['askpass', 'background', 'bell', 'edit', 'set-home', 'help', 'login', 'remove-timestamp', 'reset-timestamp', 'list', 'non-interactive', 'preserve-groups', 'stdin', 'shell', 'version', 'validate', 'no-update'],
    longOptional: ['preserve-env'],
  });
  if ('unknown' in parsed) return [parsed];
  const o = parsed.options;
  // -e edits files; -l, -v, -K, -V and -h list, validate, forget or print: nothing runs.
  if (['e', 'edit', 'l', 'list', 'v', 'validate', 'K', 'remove-timestamp', 'V', 'version', 'help'].some((x) => o.has(x)) || o.get('h')?.value === '') return [];
  const runs = afterAssignments(parsed.operands, program, false);
  if (runs.length === 0 && ['s', 'shell', 'i', 'login'].some((x) => o.has(x))) return fromStdin(stdin, `${program} -s`);
  return runs;
};

const doas: Unwrap = (args, stdin, program) => {
  const parsed = parseOptions(program, args, { value: 'aCu', flags: 'Lns' });
  if ('unknown' in parsed) return [parsed];
  if (parsed.options.has('L') || parsed.options.has('C')) return [];
  if (parsed.operands.length === 0) return parsed.options.has('s') ? fromStdin(stdin, `${program} -s`) : [];
  return [{ command: parsed.operands }];
};

const env: Unwrap = (args, _stdin, program) => {
  const words = args[0]?.literal && args[0].value === '-' ? args.slice(1) : args;
  const parsed = parseOptions(program, words, {
    value: 'uCS',
    flags: 'i0v',
    longValue: ['unset', 'chdir', 'split-string'],
    longFlags: ['ignore-environment', 'null', 'debug', 'list-signal-handling', 'help', 'version'],
    longOptional: ['block-signal', 'default-signal', 'ignore-signal'],
  });
  if ('unknown' in parsed) return [parsed];
  if (parsed.options.has('S') || parsed.options.has('split-string')) return [{ unknown: `\`${program} -S\` splits its command out of a string when it runs` }];
  if (parsed.options.has('help') || parsed.options.has('version')) return [];
  return afterAssignments(parsed.operands, program, true);
};

const xargs: Unwrap = (args, _stdin, program) => {
  const parsed = parseOptions(program, args, {
    value: 'aEILnPsd',
    flags: '0prtxo',
    optional: 'eil',
    longValue: ['arg-file', 'delimiter', 'max-args', 'max-procs', 'max-chars', 'process-slot-var'],
    longFlags: ['null', 'interactive', 'no-run-if-empty', 'verbose', 'exit', 'open-tty', 'show-limits', 'help', 'version'],
    longOptional: ['eof', 'replace', 'max-lines'],
  });
  if ('unknown' in parsed) return [parsed];
  const o = parsed.options;
  if (o.has('help') || o.has('version')) return [];
  const command = parsed.operands.length > 0 ? parsed.operands : [literalWord('echo')];
  const given = o.get('I') ?? o.get('i') ?? o.get('replace');
  const replace = given === undefined ? undefined : given.value || '{}';
  // Its input's words are appended, or put in place of the replace string.
  return [{ command: replace === undefined ? [...command, INPUT] : command.map((w) => (replace !== '' && w.value.includes(replace) ? fromInput(w) : w)) }];
};

/** Words xargs reads from its input: one or more, only known when it runs. */
const INPUT: Word = { value: '{}', raw: '{}', literal: false, single: false };
const fromInput = (word: Word): Word => ({ ...word, literal: false });

/** Tests of find that take a value, which may then be known only at run time (`-name "$x"`). */
const FIND_VALUES = new Set(
  'name iname path ipath wholename iwholename lname ilname regex iregex regextype newer anewer cnewer samefile type xtype user group uid gid perm size links inum mtime mmin atime amin ctime cmin used maxdepth mindepth fstype context printf fprint fprint0 fprintf fls'
    .split(' ')
    .map((t) => `-${t}`),
);
const FIND_RUNS = new Set(['-exec', '-execdir', '-ok', '-okdir']);

/** `find ... -exec CMD {} ;` runs CMD for each file; `-delete` and the rest are find's own. */
const find: Unwrap = (args, _stdin, program) => {
  const runs: Run[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i] as Word;
    if (!word.literal && !FIND_VALUES.has(args[i - 1]?.value ?? '')) return [{ unknown: `\`${program}\`'s arguments are only known when the line runs (\`${word.raw}\`)` }];
    if (!word.literal || !FIND_RUNS.has(word.value)) continue;
    const command: Word[] = [];
    for (i++; i < args.length; i++) {
      const w = args[i] as Word;
      if (w.literal && (w.value === ';' || (w.value === '+' && command.at(-1)?.value === '{}'))) break;
      // `{}` becomes the file's name.
      command.push(w.value.includes('{}') ? fromInput(w) : w);
    }
    if (command.length > 0) runs.push({ command });
  }
  return runs;
};

/** `watch CMD...` runs `sh -c "CMD..."`; with -x it runs CMD itself. */
const watch: Unwrap = (args, _stdin, program) => {
  const parsed = parseOptions(program, args, {
    value: 'nq',
    flags: 'bcCeghprtvwx',
    optional: 'd',
    longValue: ['interval', 'equexit'],
    longFlags: ['beep', 'color', 'no-color', 'errexit', 'chgexit', 'precise', 'no-rerun', 'no-title', 'no-wrap', 'exec', 'help', 'version'],
    longOptional: ['differences'],
  });
  if ('unknown' in parsed) return [parsed];
  const o = parsed.options;
  if (parsed.operands.length === 0 || ['h', 'help', 'v', 'version'].some((x) => o.has(x))) return [];
  if (o.has('x') || o.has('exec')) return [{ command: parsed.operands }];
  return scriptFrom(parsed.operands, `the command run by \`${program}\``);
};

const STDIN_PATH = /^\/dev\/(stdin|fd\/0)$|^\/proc\/(self|\d+)\/fd\/0$/;

const SHELL_LONG_FLAGS = ['login', 'noprofile', 'norc', 'posix', 'restricted', 'verbose', 'noediting', 'debugger', 'dump-strings', 'dump-po-strings', 'wordexp', 'protected', 'pretty-print'];

/** `sh -c STRING` runs STRING; `sh FILE` runs a script (judged as `sh FILE`); `sh` alone or `sh -s` reads its input. */
function shell(parses: boolean): Unwrap {
  return (args, stdin, program) => {
    let command = false;
    let fromInput = false;
    let i = 0;
    for (; i < args.length; i++) {
      const word = args[i] as Word;
      if (!word.literal) {
        // After -c it is the command string, judged below.
        if (!command) return [{ unknown: `\`${program}\`'s arguments are only known when the line runs (\`${word.raw}\`)` }];
        break;
      }
      const text = word.value;
      if (text === '--' || text === '-') {
        i++;
        break;
      }
      if (text.startsWith('--')) {
        const name = text.slice(2);
        if (name === 'help' || name === 'version') return [];
        if (name === 'rcfile' || name === 'init-file') i++;
        else if (!SHELL_LONG_FLAGS.includes(name)) return [{ unknown: `\`${program}\`'s option \`${text}\` is not understood, so what it runs cannot be known` }];
        continue;
      }
      if (!/^[-+]./.test(text)) break;
      for (const c of text.slice(1)) {
        if (c === 'c') command = true;
        else if (c === 's') fromInput = true;
        else if (c === 'o' || c === 'O') i++;
        else if (!/[abefhiklmnprtuvxBCDEHIPTV]/.test(c)) return [{ unknown: `\`${program}\`'s option \`${text[0]}${c}\` is not understood, so what it runs cannot be known` }];
      }
    }
    const operands = args.slice(i);
    if (command) {
      const string = operands[0];
      if (string === undefined) return [];
      if (!string.literal) return [{ unknown: `the command string run by \`${program} -c\` cannot be known before it runs` }];
      return parses ? [{ script: string.value }] : [{ unknown: `\`${program}\`'s language is not parsed` }];
    }
    // A script file is judged as the shell command itself, unless the file is its input again.
    if (operands.length > 0 && !fromInput && !STDIN_PATH.test(operands[0]?.value ?? '')) return [];
    return parses ? fromStdin(stdin, program) : [{ unknown: `\`${program}\`'s language is not parsed` }];
  };
}

/** A shell reading commands from its standard input: known only for a here-document or here-string whose text is known. */
function fromStdin(stdin: Stdin, program: string): Run[] {
  return stdin ? [{ script: stdin.text }] : [{ unknown: `the commands \`${program}\` reads from its input cannot be known before it runs` }];
}

/** Words joined by spaces and run as a shell line (`eval`, `watch`). */
function scriptFrom(words: Word[], what: string): Run[] {
  if (words.length === 0) return [];
  if (words.some((w) => !w.literal)) return [{ unknown: `${what} cannot be known before it runs` }];
  return [{ script: words.map((w) => w.value).join(' ') }];
}

/** `su [options] [user] -c STRING`: util-linux su takes options anywhere. */
const su: Unwrap = (args, stdin, program) => {
  for (let i = 0; i < args.length; i++) {
    const word = args[i] as Word;
    if (!word.literal) return [{ unknown: `\`${program}\`'s arguments are only known when the line runs (\`${word.raw}\`)` }];
    const text = word.value;
    const inline = /^--(?:session-)?command=(.*)$/s.exec(text);
    const string = inline ? literalWord(inline[1] as string) : /^(-[lmpP]*c|--command|--session-command)$/.test(text) ? args[i + 1] : undefined;
    if (inline || string) return string?.literal ? [{ script: string.value }] : [{ unknown: `the command string run by \`${program} -c\` cannot be known before it runs` }];
  }
  return fromStdin(stdin, program);
};

/** `trap ACTION SIGNAL...`: ACTION runs as a shell line when the signal comes. */
const trap: Unwrap = (args) => {
  const operands = args[0]?.value === '--' ? args.slice(1) : args;
  if (operands.length < 2 || ['-p', '-l', '-P'].includes(operands[0]?.value ?? '')) return [];
  const action = operands[0] as Word;
  if (action.literal && (action.value === '' || action.value === '-')) return [];
  return scriptFrom([action], 'the command run by `trap`');
};

/** `mapfile -C CALLBACK` evaluates CALLBACK as it reads. */
const mapfile: Unwrap = (args, _stdin, program) => {
  const parsed = parseOptions(program, args, { value: 'dnOsuCc', flags: 't' });
  if ('unknown' in parsed) return [parsed];
  const callback = parsed.options.get('C');
  return callback === undefined ? [] : scriptFrom([callback], `the callback of \`${program} -C\``);
};

const unknown = (why: string): Unwrap => () => [{ unknown: why }];

/** What changes what later commands run (an alias, a hashed path, a loaded builtin). */
const redefines = (what: (args: Word[]) => boolean, why: string): Unwrap => (args) => (what(args) ? [{ unknown: why }] : []);

export const WRAPPERS: ReadonlyMap<string, Unwrap> = new Map<string, Unwrap>([
  ['sudo', sudo],
  ['doas', doas],
  ['env', env],
  ['command', runsOperands({ flags: 'pvV' }, ['v', 'V'])],
  ['builtin', runsOperands({})],
  ['exec', runsOperands({ value: 'a', flags: 'cl' })],
  ['nohup', runsOperands({ longFlags: ['help', 'version'] }, ['help', 'version'])],
  ['nice', runsOperands({ value: 'n', numeric: true, longValue: ['adjustment'], longFlags: ['help', 'version'] }, ['help', 'version'])],
  ['time', runsOperands({ value: 'fo', flags: 'apqvV', longValue: ['format', 'output'], longFlags: ['append', 'verbose', 'portability', 'quiet', 'help', 'version'] }, ['V', 'help', 'version'])],
  ['timeout', runsOperands({ value: 'sk', flags: 'v', longValue: ['signal', 'kill-after'], longFlags: ['preserve-status', 'foreground', 'verbose', 'help', 'version'] }, ['help', 'version'], 1)],
  ['stdbuf', runsOperands({ value: 'ioe', longValue: ['input', 'output', 'error'], longFlags: ['help', 'version'] }, ['help', 'version'])],
  ['setsid', runsOperands({ flags: 'cfw', longFlags: ['ctty', 'fork', 'wait', 'help', 'version'] }, ['help', 'version'])],
  ['pkexec', runsOperands({ longValue: ['user'], longFlags: ['disable-internal-agent', 'keep-cwd', 'help', 'version'] }, ['help', 'version'])],
  ['chroot', runsOperands({ longValue: ['userspec', 'groups'], longFlags: ['skip-chdir', 'help', 'version'] }, ['help', 'version'], 1)],
  ['coproc', runsOperands({})],
  ['busybox', (args) => (args.length === 0 || /^--(list|list-full|help|install)$/.test(args[0]?.value ?? '') ? [] : [{ command: args }])],
  ['xargs', xargs],
  ['find', find],
  ['watch', watch],
  ['sh', shell(true)],
  ['bash', shell(true)],
  ['dash', shell(true)],
  ['zsh', shell(true)],
  ['ksh', shell(true)],
  ['mksh', shell(true)],
  ['ash', shell(true)],
  ['rbash', shell(true)],
  ['fish', shell(false)],
  ['su', su],
  ['eval', (args) => scriptFrom(args, 'the command run by `eval`')],
  ['trap', trap],
  ['mapfile', mapfile],
  ['readarray', mapfile],
  ['source', unknown('the commands in the file read by `source` cannot be known before it runs')],
  ['.', unknown('the commands in the file read by `.` cannot be known before it runs')],
  ['alias', redefines((args) => args.some((w) => !w.literal || w.value.includes('=')), 'an alias changes what later commands run')],
  ['hash', redefines((args) => args.some((w) => !w.literal || /^-\w*p/.test(w.value)), '`hash -p` changes which program a name runs')],
  ['enable', redefines((args) => args.some((w) => !w.literal || /^-\w*f/.test(w.value)), '`enable -f` loads a builtin from a file')],
]);
