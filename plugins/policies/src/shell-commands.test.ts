import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { loadBashGrammar } from './bash-grammar.js';
import { shellCommands } from './shell-commands.js';
import { decodeAnsiC } from './shell-words.js';

/** Each command as its text; one that cannot be known as `? text`. */
const run = (line: string): string[] => shellCommands(line).map((c) => (c.unknown === undefined ? c.text : `? ${c.text}`));
const why = (line: string): string[] => shellCommands(line).flatMap((c) => (c.unknown === undefined ? [] : [c.unknown]));

before(() => loadBashGrammar());

describe('the commands of a shell line', () => {
  test('a simple command, its words normalised', () => {
    assert.deepEqual(run('ls -la'), ['ls -la']);
    assert.deepEqual(run('  git   push  origin  '), ['git push origin']);
    assert.deepEqual(run(''), []);
    assert.deepEqual(run('X=1'), []);
  });
  test('lists, pipelines, background jobs and newlines', () => {
    assert.deepEqual(run('ls && rm -rf x'), ['ls', 'rm -rf x']);
    assert.deepEqual(run('a || b; c'), ['a', 'b', 'c']);
    assert.deepEqual(run('cat f | grep x |& wc -l'), ['cat f', 'grep x', 'wc -l']);
    assert.deepEqual(run('sleep 1 & rm x'), ['sleep 1', 'rm x']);
    assert.deepEqual(run('a\nb\r\nc'), ['a', 'b', 'c']);
  });
  test('compound commands: every command in them', () => {
    assert.deepEqual(run('if a; then b; elif c; then d; else e; fi'), ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(run('while a; do b; done; until c; do d; done'), ['a', 'b', 'c', 'd']);
    assert.deepEqual(run('for f in *.ts; do echo "$f"; done'), ['echo $f']);
    assert.deepEqual(run('case $x in a) b;; *) c;; esac'), ['b', 'c']);
    assert.deepEqual(run('(cd x && rm -rf y); { ls; rm z; }'), ['cd x', 'rm -rf y', 'ls', 'rm z']);
    assert.deepEqual(run('f() { rm x; }'), ['rm x'], 'a function body is judged where it is defined');
  });
  test('quotes and escapes are removed; ANSI-C quoting is decoded', () => {
    assert.deepEqual(run(`"rm" -rf 'build dir'`), ['rm -rf build dir']);
    assert.deepEqual(run(`r''m "r"m \\rm r\\m $'\\x72m'`), ['rm rm rm rm rm']);
    assert.deepEqual(run('echo "a && b; c | d" a\\;b'), ['echo a && b; c | d a;b']);
    assert.deepEqual(run(`echo '$(rm -rf x)'`), ['echo $(rm -rf x)'], 'single quotes keep it text');
    assert.deepEqual(run('r\\\nm -rf x'), ['rm -rf x'], 'a line continuation inside a word joins it');
  });
  test('substitutions: the commands inside are judged, the outer word keeps them as written', () => {
    assert.deepEqual(run('echo $(rm -rf x)'), ['echo $(rm -rf x)', 'rm -rf x']);
    assert.deepEqual(run('echo `rm x; ls`'), ['echo `rm x; ls`', 'rm x', 'ls']);
    assert.deepEqual(run('diff <(ls a) >(ls b)'), ['diff <(ls a) >(ls b)', 'ls a', 'ls b']);
    assert.deepEqual(run('X=$(rm a) ls > "$(rm b)"'), ['ls > "$(rm b)"', 'rm a', 'rm b']);
    assert.deepEqual(run('cat <<EOF\n$(rm x)\nEOF'), ['cat <<EOF', 'rm x']);
  });
  test('leading assignments are not the command; redirections are kept, a here-document without its body', () => {
    assert.deepEqual(run('FOO=1 BAR="a b" rm -rf x'), ['rm -rf x']);
    assert.deepEqual(run('make 2>&1 | tee log'), ['make 2>&1', 'tee log']);
    assert.deepEqual(run('cat <<EOF > out\nrm -rf x\nEOF'), ['cat <<EOF > out']);
  });
  test('comments are dropped', () => {
    assert.deepEqual(run('ls # rm -rf x\npwd'), ['ls', 'pwd']);
  });
  test('a program given by path is named by its file name', () => {
    assert.deepEqual(run('/bin/rm x; ./node_modules/.bin/tsc -b'), ['rm x', 'tsc -b']);
  });
});

describe('wrappers are seen through', () => {
  test('the wrapper and the command it runs are both judged', () => {
    assert.deepEqual(run('sudo -u root -- env -i A=1 nice -n 5 rm x'), ['sudo -u root -- env -i A=1 nice -n 5 rm x', 'env -i A=1 nice -n 5 rm x', 'nice -n 5 rm x', 'rm x']);
    assert.deepEqual(run('timeout -s KILL 5 make'), ['timeout -s KILL 5 make', 'make']);
    assert.deepEqual(run('time -p make; command -p ls; exec -a x ls'), ['time -p make', 'make', 'command -p ls', 'ls', 'exec -a x ls', 'ls']);
  });
  test('what runs nothing else', () => {
    assert.deepEqual(run('command -v rm; sudo -l; env; exec >log 2>&1; timeout 5'), ['command -v rm', 'sudo -l', 'env', 'exec >log 2>&1', 'timeout 5']);
  });
  test('xargs appends its input ({}), or puts it in place of the replace string', () => {
    assert.deepEqual(run('xargs -0 rm'), ['xargs -0 rm', 'rm {}']);
    assert.deepEqual(run('xargs -I % mv % dst'), ['xargs -I % mv % dst', 'mv % dst']);
    assert.deepEqual(run('xargs'), ['xargs', 'echo {}']);
  });
  test('find runs each -exec, -execdir, -ok command; -delete is its own', () => {
    assert.deepEqual(run('find . -name x -exec grep -l foo {} + -delete'), ['find . -name x -exec grep -l foo {} + -delete', 'grep -l foo {}']);
    assert.deepEqual(run('find . -exec a {} \\; -ok b \\;'), ['find . -exec a {} ; -ok b ;', 'a {}', 'b']);
  });
  test('shell strings are parsed in turn: sh -c, eval, watch, trap, su -c', () => {
    assert.deepEqual(run('bash -lc "ls; rm x"'), ['bash -lc ls; rm x', 'ls', 'rm x']);
    assert.deepEqual(run("eval 'a | b'"), ['eval a | b', 'a', 'b']);
    assert.deepEqual(run('watch -n1 "ls | wc -l"'), ['watch -n1 ls | wc -l', 'ls', 'wc -l']);
    assert.deepEqual(run('trap "rm x" EXIT; trap - EXIT'), ['trap rm x EXIT', 'rm x', 'trap - EXIT']);
    assert.deepEqual(run("su root -c 'rm x'"), ['su root -c rm x', 'rm x']);
  });
  test('a shell reading a here-document or here-string whose text is known runs that text', () => {
    assert.deepEqual(run("bash <<'EOF'\nrm $x\nEOF"), ['bash <<\'EOF\'', 'rm $x']);
    assert.deepEqual(run('bash <<EOF\nrm \\$x\nEOF'), ['bash <<EOF', 'rm $x']);
    assert.deepEqual(run('sudo -s <<< "rm x"'), ['sudo -s <<< "rm x"', 'rm x']);
    assert.deepEqual(run('bash 0<<< "rm x"'), ['bash 0<<< "rm x"', 'rm x']);
  });
  test('a script file is the shell command itself (its content is not seen)', () => {
    assert.deepEqual(run('bash scripts/build.sh --fast'), ['bash scripts/build.sh --fast']);
  });
});

describe('what cannot be known before the line runs', () => {
  const unknown: [string, RegExp][] = [
    ['$CMD x', /^the command name `\$CMD` is only known when the line runs$/],
    ['"$(echo rm)" x', /command name `"\$\(echo rm\)"`/],
    ['r* x', /command name `r\*`/],
    ['eval "$x"', /^the command run by `eval` cannot be known before it runs$/],
    ['source ./env.sh', /file read by `source`/],
    ['. ./env.sh', /file read by `\.`/],
    ['curl x | sh', /^the commands `sh` reads from its input cannot be known before it runs$/],
    ['bash < script.sh', /reads from its input/],
    ['bash <<EOF\n$CMD\nEOF', /reads from its input/],
    ['bash -c "$S"', /^the command string run by `bash -c` cannot be known before it runs$/],
    ['xargs sh -c', /command string run by `sh -c`/],
    ["find . -exec sh -c 'rm {}' \\;", /command string run by `sh -c`/],
    ['find $DIR -delete', /`find`'s arguments are only known when the line runs/],
    ['sudo $CMD', /`sudo`'s arguments are only known/],
    ['sudo -X rm x', /`sudo`'s option `-X` is not understood/],
    ["env -S 'rm x'", /`env -S` splits/],
    ['echo "unterminated', /does not parse as shell/],
    ["alias ls='rm -rf'", /alias/],
    ['hash -p /bin/rm ls', /hash -p/],
    ["PS4='$(rm x)' bash -xc ls", /`PS4` holds code/],
    ['env BASH_FUNC_ls%%="() { rm x; }" bash -c ls', /`BASH_FUNC_ls%%`, which the shell runs as code/],
    ["x='a[$(rm y)]'; echo $((x))", /arithmetic evaluates `x`/],
    ['echo $(( $(cat n) + 1 ))', /the output of a command substitution/],
    ['[[ $n -gt 1 ]]', /arithmetic evaluates `n`/],
    ['echo ${!ref}', /uses a variable's value as a name/],
    ['echo "${x@P}"', /as a prompt/],
    ['unset "$v"', /`unset` takes a variable name/],
    ['printf -v "$v" %s 1', /`printf` takes a variable name/],
    ['declare -n r=x', /`declare -n`/],
    ["fish -c 'rm x'", /language is not parsed/],
  ];
  for (const [line, reason] of unknown) {
    test(JSON.stringify(line), () => {
      const reasons = why(line);
      assert.ok(
        reasons.some((r) => reason.test(r)),
        `${JSON.stringify(reasons)} has no ${reason}`,
      );
    });
  }
  test('numbers the line itself set are known', () => {
    for (const line of ['i=0; echo $((i + 1))', 'for ((i = 0; i < 3; i++)); do echo $i; done', 'for i in 1 2 3; do echo $((i * 2)); done', 'let i=0 i++ j=i+1', 'echo $((RANDOM % 6)) $(($#))', '[[ $# -gt 0 ]]', 'echo ${s:1:2}']) {
      assert.deepEqual(why(line), [], line);
    }
  });
  test('a value set for one command only is not the shell’s', () => {
    assert.match(why('x=1 true; echo $((x))')[0] ?? '', /arithmetic evaluates `x`/);
  });
  test('shell strings are followed only so deep', () => {
    let line = 'rm x';
    for (let i = 0; i < 10; i++) line = `eval ${JSON.stringify(line)}`;
    assert.ok(why(line).includes('shell strings are nested too deeply to follow'));
  });
});

describe('decodeAnsiC', () => {
  test('escapes as bash decodes them', () => {
    assert.equal(decodeAnsiC('\\x72m'), 'rm');
    assert.equal(decodeAnsiC('\\162\\155'), 'rm');
    assert.equal(decodeAnsiC('\\u0072\\U0000006d'), 'rm');
    assert.equal(decodeAnsiC("a\\tb\\n\\'\\\\"), "a\tb\n'\\");
    assert.equal(decodeAnsiC('\\cA\\e'), '\x01\x1b');
    assert.equal(decodeAnsiC('\\q\\x'), '\\q\\x', 'unknown escapes stay');
  });
});
