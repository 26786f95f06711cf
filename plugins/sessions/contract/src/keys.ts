/**
 * Key names users type (`codepiper keys <id> ctrl+c up enter`). They are
 * validated here, once, and mapped to the terminal's own names by the
 * sessions plugin.
 */
const NAMED_KEYS = [
  'enter', 'escape', 'tab', 'shift+tab', 'backspace', 'delete', 'space',
  'up', 'down', 'left', 'right', 'home', 'end', 'pageup', 'pagedown', 'insert',
  'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'f8', 'f9', 'f10', 'f11', 'f12',
] as const;

const ALIASES: Readonly<Record<string, string>> = { esc: 'escape', return: 'enter', del: 'delete', bs: 'backspace' };

export type KeyName = (typeof NAMED_KEYS)[number] | `ctrl+${string}` | `alt+${string}`;

/** A JSON-schema pattern matching every valid key name (after normalisation). */
export const KEY_NAME_PATTERN = `^(${NAMED_KEYS.map((k) => k.replace('+', '\\+')).join('|')}|ctrl\\+[a-z\\[\\]\\\\]|alt\\+[a-z0-9])$`;
const keyPattern = new RegExp(KEY_NAME_PATTERN);

/** Normalises a user's key name (`Ctrl-C`, `ESC`, `C-c`) or returns undefined if it is not a key. */
export function parseKeyName(input: string): KeyName | undefined {
  let key = input.trim().toLowerCase().replace(/^(ctrl|control|c)-/, 'ctrl+').replace(/^(alt|meta|m)-/, 'alt+');
  key = ALIASES[key] ?? key;
  return keyPattern.test(key) ? (key as KeyName) : undefined;
}

export const KEY_NAMES: readonly string[] = NAMED_KEYS;
