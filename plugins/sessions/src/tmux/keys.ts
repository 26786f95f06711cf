import type { KeyName } from '@codepiper/sessions-contract';

const NAMED: Readonly<Record<string, string>> = {
  enter: 'Enter',
  escape: 'Escape',
  tab: 'Tab',
  'shift+tab': 'BTab',
  backspace: 'BSpace',
  delete: 'DC',
  space: 'Space',
  up: 'Up',
  down: 'Down',
  left: 'Left',
  right: 'Right',
  home: 'Home',
  end: 'End',
  pageup: 'PPage',
  pagedown: 'NPage',
  insert: 'IC',
  f1: 'F1',
  f2: 'F2',
  f3: 'F3',
  f4: 'F4',
  f5: 'F5',
  f6: 'F6',
  f7: 'F7',
  f8: 'F8',
  f9: 'F9',
  f10: 'F10',
  f11: 'F11',
  f12: 'F12',
};

/**
 * The tmux name of an SDK key (`ctrl+c` → `C-c`, `pageup` → `PPage`), or
 * undefined for anything outside the fixed set. Only these names ever reach a
 * tmux command line.
 */
export function tmuxKey(key: KeyName | string): string | undefined {
  if (Object.hasOwn(NAMED, key)) return NAMED[key];
  const ctrl = /^ctrl\+([a-z[\]\\])$/.exec(key);
  if (ctrl) return `C-${ctrl[1]!}`;
  const alt = /^alt\+([a-z0-9])$/.exec(key);
  if (alt) return `M-${alt[1]!}`;
  return undefined;
}
