import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import css from 'highlight.js/lib/languages/css';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import markdown from 'highlight.js/lib/languages/markdown';
import python from 'highlight.js/lib/languages/python';
import ruby from 'highlight.js/lib/languages/ruby';
import rust from 'highlight.js/lib/languages/rust';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';

// The languages agents most often edit; a file of another shows uncoloured.
for (const [name, language] of Object.entries({ bash, css, go, java, javascript, json, markdown, python, ruby, rust, typescript, xml, yaml })) hljs.registerLanguage(name, language);

/** The highlight.js language of a file, from its extension (`tsx` → typescript); undefined when none is loaded. */
export function languageOf(file: string): string | undefined {
  const extension = /\.([^./]+)$/.exec(file)?.[1]?.toLowerCase();
  if (!extension) return undefined;
  const alias = { tsx: 'typescript', jsx: 'javascript', mjs: 'javascript', cjs: 'javascript', mts: 'typescript', cts: 'typescript', html: 'xml', svg: 'xml', yml: 'yaml', sh: 'bash' }[extension] ?? extension;
  return hljs.getLanguage(alias) ? alias : undefined;
}

/** One line of code as HTML with highlight.js's classes, its text escaped; each line on its own (a comment spanning lines is coloured where it starts). */
export function highlightLine(text: string, language: string): string {
  return hljs.highlight(text, { language, ignoreIllegals: true }).value;
}
