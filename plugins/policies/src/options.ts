/**
 * Reads a program's leading options the way getopt does when it stops at the
 * first operand (`sudo -u root rm -rf x`: options `-u root`, then `rm -rf x`).
 * Short options group (`-nu root`, `-uroot`); long ones take `--name=value`
 * or `--name value`. An option the spec does not know, or an option word only
 * known at run time, makes the result unknown: guessing whether it takes a
 * value would guess which word is the command.
 */
import { literalWord, type Word } from './shell-words.js';

export interface OptionSpec {
  /** Short options that take a value. */
  value?: string;
  /** Short options without a value. */
  flags?: string;
  /** Short options whose value, if any, is attached (`-e[EOF]`). */
  optional?: string;
  longValue?: readonly string[];
  longFlags?: readonly string[];
  /** Long options whose value, if any, follows `=`. */
  longOptional?: readonly string[];
  /** `-5` is an option (nice). */
  numeric?: boolean;
}

/** Each option seen (by letter, or long name) with its value: the empty word for a flag. */
export type ParsedOptions = { options: Map<string, Word>; operands: Word[] } | { unknown: string };

export function parseOptions(program: string, words: readonly Word[], spec: OptionSpec): ParsedOptions {
  const options = new Map<string, Word>();
  const flag = literalWord('');
  let i = 0;
  const valueAfter = (name: string): Word | undefined => {
    const next = words[++i];
    if (next === undefined || !next.single) return undefined;
    options.set(name, next);
    return next;
  };
  for (; i < words.length; i++) {
    const word = words[i] as Word;
    if (!word.literal) {
      // `FOO="$x"` cannot become an option; `"$x"`, `$x` or `*` can.
      if (CANNOT_START_OPTION.test(word.raw)) break;
      return { unknown: `\`${program}\`'s arguments are only known when the line runs (\`${word.raw}\`)` };
    }
    const text = word.value;
    if (text === '--') {
      i++;
      break;
    }
    if (text.startsWith('--')) {
      const eq = text.indexOf('=');
      const name = eq === -1 ? text.slice(2) : text.slice(2, eq);
      if (spec.longValue?.includes(name)) {
        if (eq !== -1) options.set(name, literalWord(text.slice(eq + 1)));
        else if (valueAfter(name) === undefined) return missing(program, text);
      } else if (spec.longFlags?.includes(name) && eq === -1) options.set(name, flag);
      else if (spec.longOptional?.includes(name)) options.set(name, eq === -1 ? flag : literalWord(text.slice(eq + 1)));
      else return notUnderstood(program, text);
      continue;
    }
    if (!text.startsWith('-') || text === '-') break;
    if (spec.numeric && /^-\d+$/.test(text)) {
      options.set('n', literalWord(text.slice(1)));
      continue;
    }
    for (let j = 1; j < text.length; j++) {
      const c = text[j] as string;
      if (spec.flags?.includes(c)) options.set(c, flag);
      else if (spec.value?.includes(c) || spec.optional?.includes(c)) {
        const attached = text.slice(j + 1);
        if (attached !== '' || spec.optional?.includes(c)) options.set(c, literalWord(attached));
        else if (valueAfter(c) === undefined) return missing(program, text);
        break;
      } else return notUnderstood(program, `-${c}`);
    }
  }
  return { options, operands: words.slice(i) };
}

const CANNOT_START_OPTION = /^[A-Za-z0-9_./~+:,@%=]/;

const notUnderstood = (program: string, option: string): ParsedOptions => ({ unknown: `\`${program}\`'s option \`${option}\` is not understood, so what it runs cannot be known` });
const missing = (program: string, option: string): ParsedOptions => ({ unknown: `the value of \`${program} ${option}\` is missing or only known when the line runs` });
