/**
 * Bash syntax trees from tree-sitter-bash, run as WebAssembly by
 * web-tree-sitter. Loading is asynchronous and happens once, when the first
 * decision needs it (`loadBashGrammar`); parsing is then synchronous, so the
 * policy engine stays synchronous too.
 *
 * A tree is copied out of WebAssembly memory into plain objects at once and
 * freed: walking plain objects is cheaper than crossing into WebAssembly for
 * every node, and nothing can leak.
 */
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import type * as TreeSitter from 'web-tree-sitter';

export interface SyntaxNode {
  type: string;
  named: boolean;
  start: number;
  end: number;
  children: SyntaxNode[];
}

export interface ParsedBash {
  root: SyntaxNode;
  /** Whether the text has a syntax error anywhere (an ERROR or a missing node). */
  hasError: boolean;
}

let parser: TreeSitter.Parser | undefined;
let loading: Promise<void> | undefined;

/** Loads the grammar; later calls return the same promise. */
export function loadBashGrammar(): Promise<void> {
  loading ??= (async () => {
    // V8 recompiles a hot WebAssembly function with TurboFan in the background;
    // for the grammar's lexer that took 30-40 MB of RSS that stayed, while the
    // baseline compiler (Liftoff) parses a command just as fast. It is the only
    // WebAssembly the daemon runs.
    setFlagsFromString('--liftoff-only');
    const require = createRequire(import.meta.url);
    // Required here, not imported at the top: a daemon that has decided nothing yet (one starting) does not load
    // it. A require, as import() would keep the bundle's chunk out of the compile cache (cli/src/compile-cache.ts).
    const { Language, Parser } = require('web-tree-sitter') as typeof TreeSitter;
    await Parser.init();
    const wasm = require.resolve('tree-sitter-bash/tree-sitter-bash.wasm');
    const loaded = new Parser();
    loaded.setLanguage(await Language.load(wasm));
    parser = loaded;
  })();
  // A load that failed is tried again by the next decision instead of failing every one after it.
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}

export function parseBash(text: string): ParsedBash {
  if (!parser) throw new Error('the bash grammar is not loaded: await loadBashGrammar() first');
  const tree = parser.parse(text);
  if (!tree) throw new Error('tree-sitter returned no tree');
  try {
    const cursor = tree.walk();
    try {
      return { root: copy(cursor), hasError: tree.rootNode.hasError };
    } finally {
      cursor.delete();
    }
  } finally {
    tree.delete();
  }
}

function copy(cursor: TreeSitter.TreeCursor): SyntaxNode {
  const node: SyntaxNode = { type: cursor.nodeType, named: cursor.nodeIsNamed, start: cursor.startIndex, end: cursor.endIndex, children: [] };
  if (cursor.gotoFirstChild()) {
    do node.children.push(copy(cursor));
    while (cursor.gotoNextSibling());
    cursor.gotoParent();
  }
  return node;
}
