/**
 * Claude Code's own permission rule syntax: `Tool` or `Tool(specifier)`.
 * - `Bash(npm run build)`: exactly that command; `Bash(git push:*)`: that
 *   command prefix and any arguments; `*` inside is a glob (`Bash(npm run *)`).
 * - File tools (`Read`, `Edit`, `Write`, `MultiEdit`, `NotebookEdit`, `Glob`,
 *   `Grep`, `LS`): a path glob on the tool's path (`Read(src/**)`, `Edit(*.md)`).
 * - `WebFetch(domain:example.com)`: the URL's host is the domain or under it.
 * - `terminal_input(glob)`: the typed text.
 */
import { globToRegExp } from './glob.js';

export class PolicyError extends Error {
  override readonly name = 'PolicyError';
}

export type PartMatcher = (value: string) => boolean;

export interface ParsedRule {
  tool: string;
  /** The input field the specifier is matched on, and how; none for a bare `Tool`. */
  field?: { names: readonly string[]; match: PartMatcher; shell: boolean };
}

export const FILE_TOOLS = new Set(['Read', 'Edit', 'Write', 'MultiEdit', 'NotebookEdit', 'Glob', 'Grep', 'LS']);
const FILE_FIELDS = ['file_path', 'path', 'notebook_path'] as const;
const TOOL_NAME = /^[A-Za-z_][A-Za-z0-9_.*-]*$/;

export function parseRule(rule: string): ParsedRule {
  const text = rule.trim();
  const open = text.indexOf('(');
  if (open === -1) {
    if (!TOOL_NAME.test(text)) throw new PolicyError(`bad rule "${rule}": expected Tool or Tool(specifier), e.g. Bash(git push:*)`);
    return { tool: text };
  }
  const tool = text.slice(0, open);
  if (!text.endsWith(')')) throw new PolicyError(`bad rule "${rule}": missing the closing ")"`);
  if (!TOOL_NAME.test(tool)) throw new PolicyError(`bad rule "${rule}": "${tool}" is not a tool name`);
  const spec = text.slice(open + 1, -1);
  if (spec.trim() === '') throw new PolicyError(`bad rule "${rule}": the specifier in (...) is empty; write ${tool} alone for every call`);
  if (tool === 'Bash') return { tool, field: { names: ['command'], match: commandMatcher(spec), shell: true } };
  if (tool === 'terminal_input') return { tool, field: { names: ['text'], match: regexMatcher(globToRegExp(spec)), shell: true } };
  if (FILE_TOOLS.has(tool)) return { tool, field: { names: FILE_FIELDS, match: pathMatcher(spec), shell: false } };
  if (tool === 'WebFetch') {
    if (!spec.startsWith('domain:') || spec.length === 'domain:'.length) throw new PolicyError(`bad rule "${rule}": WebFetch takes (domain:example.com)`);
    return { tool, field: { names: ['url'], match: domainMatcher(spec.slice('domain:'.length)), shell: false } };
  }
  throw new PolicyError(`bad rule "${rule}": a specifier is understood for Bash, WebFetch, terminal_input and file tools (${[...FILE_TOOLS].join(', ')}); for ${tool} use --tool and --args`);
}

const regexMatcher = (re: RegExp): PartMatcher => (value) => re.test(value);

/** `git push:*` → `git push` alone or followed by arguments; otherwise a glob of the whole command. */
export function commandMatcher(spec: string): PartMatcher {
  if (spec.endsWith(':*')) {
    const prefix = spec.slice(0, -2).trim();
    const re = globToRegExp(prefix);
    const withArgs = globToRegExp(`${prefix} *`);
    return (value) => re.test(value) || withArgs.test(value);
  }
  return regexMatcher(globToRegExp(spec));
}

/** A path glob; a relative glob also matches under any directory (`src/**` matches `/repo/src/a.ts`). */
function pathMatcher(spec: string): PartMatcher {
  const re = globToRegExp(spec, { path: true });
  if (spec.startsWith('/')) return regexMatcher(re);
  const clean = spec.replace(/^\.\//, '');
  const anywhere = globToRegExp(`**/${clean}`, { path: true });
  return (value) => re.test(value) || anywhere.test(value);
}

function domainMatcher(domain: string): PartMatcher {
  const want = domain.toLowerCase();
  return (value) => {
    let host: string;
    try {
      host = new URL(value).hostname.toLowerCase();
    } catch {
      return false;
    }
    return host === want || host.endsWith(`.${want}`);
  };
}
