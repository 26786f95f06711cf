/**
 * Globs as policies use them. In a plain glob (`--tool`, `--args`) `*` matches
 * any run of characters (spaces and `/` included) and `?` one character. In a
 * path glob (file rules like `Read(src/**)`) `*` stops at `/` and `**` crosses
 * it. `\` makes the next character literal. Everything else matches itself.
 */
export function globToRegExp(glob: string, options: { path?: boolean } = {}): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '\\' && i + 1 < glob.length) {
      source += escape(glob[++i] as string);
    } else if (c === '*') {
      if (options.path && glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          source += '(?:.*/)?'; // `**/` also matches no directory at all
        } else source += '.*';
      } else source += options.path ? '[^/]*' : '.*';
    } else if (c === '?') {
      source += options.path ? '[^/]' : '.';
    } else source += escape(c);
  }
  return new RegExp(`^${source}$`, 's');
}

/** The text every match starts with (`git push *` → `git push `): a cheap test before the regular expression. */
export function globPrefix(glob: string): string {
  let prefix = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' || c === '?') break;
    prefix += c === '\\' && i + 1 < glob.length ? (glob[++i] as string) : c;
  }
  return prefix;
}

const escape = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

export const hasGlob = (text: string): boolean => /(?<!\\)[*?]/.test(text);
