/**
 * Whether text names the daemon's home or something in it, as a path would
 * be read: `~`, `~user`, `$HOME` and `$CODEPIPER_HOME` expanded, `..`
 * resolved (`/home/u/x/../.codepiper/secret.key`), a relative path against
 * each directory it may be relative to, `{a,b}` expanded and a pattern
 * (`~/.code*`) matched as bash would (`*` does not match a leading dot).
 * Purely textual: a symlink that leads into the home is not seen.
 */
import path from 'node:path';

export interface HomeLayout {
  /** The daemon's home, absolute. */
  home: string;
  /** Its socket (normally inside the home). */
  socket: string;
  /** The user's home, for `~` and `$HOME`. */
  userHome: string;
  /** Other absolute spellings of the home, such as its real path when a symlink leads to it. */
  aliases?: readonly string[];
}

/** A path found in text: as written, what it resolved to, and whether that is the home itself (or the socket). */
export interface Found {
  written: string;
  resolved: string;
  exact: boolean;
}

const SEPARATORS = /[\s"'`;|&<>(),=:]+/;
const QUOTED = /"([^"]*)"|'([^']*)'/g;
const MAX_BRACE_WORDS = 64;

export class HomePaths {
  private readonly roots: string[];
  private readonly fold: (text: string) => string;

  constructor(
    readonly layout: HomeLayout,
    caseInsensitive = process.platform === 'darwin' || process.platform === 'win32',
  ) {
    this.fold = caseInsensitive ? (text) => text.toLowerCase() : (text) => text;
    const all = [layout.home, ...(layout.aliases ?? []), layout.socket].map((p) => this.fold(path.resolve(p)));
    this.roots = [...new Set(all)].filter((root, _, list) => !list.some((other) => other !== root && root.startsWith(`${other}/`)));
  }

  /** The absolute paths a word may name: relative words against each base; none for a word led by another variable. */
  resolve(word: string, bases: readonly string[]): string[] {
    const out: string[] = [];
    for (const each of expandBraces(word.trim())) {
      const expanded = this.expand(each);
      if (expanded === undefined || expanded === '') continue;
      if (expanded.startsWith('/')) out.push(path.resolve(expanded));
      else for (const base of bases) out.push(path.resolve(base, expanded));
    }
    return out;
  }

  /** Whether an absolute path (a pattern allowed) is the home, the socket, or inside the home. */
  inside(absolute: string): string | undefined {
    const p = this.fold(absolute);
    const pattern = hasPattern(p);
    return this.roots.find((root) => (pattern ? patternReaches(p, root) : p === root || p.startsWith(`${root}/`)));
  }

  /** Whether an absolute path is a directory above the home (a recursive walk from it goes through the home). */
  above(absolute: string): boolean {
    const p = this.fold(absolute);
    if (hasPattern(p)) return false;
    return this.roots.some((root) => root !== p && root.startsWith(p === '/' ? '/' : `${p}/`));
  }

  /** The first path in the text that is in the home: the whole text, each quoted part, each word between separators. */
  findIn(text: string, bases: readonly string[]): Found | undefined {
    for (const candidate of candidates(text)) {
      for (const resolved of this.resolve(candidate, bases)) {
        const root = this.inside(resolved);
        if (root !== undefined) return { written: candidate, resolved, exact: root === this.fold(resolved) };
      }
    }
    return undefined;
  }

  private expand(word: string): string | undefined {
    const { userHome, home } = this.layout;
    const variable = /^\$(?:\{(HOME|CODEPIPER_HOME)\}|(HOME|CODEPIPER_HOME)\b)/.exec(word);
    if (variable) return ((variable[1] ?? variable[2]) === 'HOME' ? userHome : home) + word.slice(variable[0].length);
    if (word.startsWith('$')) return undefined;
    const tilde = /^~([A-Za-z0-9._-]*)(?=\/|$)/.exec(word);
    if (tilde) return (tilde[1] ? path.join(path.dirname(userHome), tilde[1]) : userHome) + word.slice(tilde[0].length);
    return word;
  }
}

/** Whether text refers to `$CODEPIPER_HOME` (also `${CODEPIPER_HOME...}`): the home by name. */
export const namesHomeVariable = (text: string): boolean => /\$\{?CODEPIPER_HOME\b/.test(text);

function candidates(text: string): Set<string> {
  const out = new Set<string>();
  const add = (word: string) => {
    const trimmed = word.trim();
    if (trimmed === '') return;
    out.add(trimmed);
    // `-S/path`, `--file/..`, `x~/y`: the path inside a word.
    const at = trimmed.search(/[/~$]/);
    if (at > 0) out.add(trimmed.slice(at));
  };
  add(text);
  for (const m of text.matchAll(QUOTED)) add(m[1] ?? m[2] ?? '');
  for (const word of text.split(SEPARATORS)) add(word);
  return out;
}

/** `a{b,c}d` → `abd`, `acd` (innermost first); a limited number of words. */
export function expandBraces(word: string): string[] {
  const m = /\{([^{}]*,[^{}]*)\}/.exec(word);
  if (!m) return [word];
  const out: string[] = [];
  for (const alternative of (m[1] as string).split(',')) {
    out.push(...expandBraces(word.slice(0, m.index) + alternative + word.slice(m.index + m[0].length)));
    if (out.length >= MAX_BRACE_WORDS) break;
  }
  return out.slice(0, MAX_BRACE_WORDS);
}

const hasPattern = (text: string): boolean => /[*?[]/.test(text);

/** Whether the pattern can match the root or something inside it, segment by segment; `**` reaches anything below. */
function patternReaches(pattern: string, root: string): boolean {
  const want = root.split('/');
  const have = pattern.split('/');
  for (const [i, name] of want.entries()) {
    const segment = have[i];
    if (segment === undefined) return false;
    if (segment === '**') return true;
    if (!segmentMatches(segment, name)) return false;
  }
  return true;
}

function segmentMatches(segment: string, name: string): boolean {
  if (!hasPattern(segment)) return segment === name;
  // bash: a pattern matches a leading dot only when it starts with one.
  if (name.startsWith('.') && !segment.startsWith('.')) return false;
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i] as string;
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close === -1) source += '\\[';
      else {
        const body = segment.slice(i + 1, close).replace(/^[!^]/, '^').replace(/[\\\]]/g, '\\$&');
        source += `[${body}]`;
        i = close;
      }
    } else source += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  try {
    return new RegExp(`^${source}$`, 's').test(name);
  } catch {
    return true;
  }
}
