/** `[major, minor]` from text such as `v20.17.0`, `tmux 3.3a` or `tmux next-3.4`. */
export function parseVersion(text: string): [number, number] | undefined {
  const match = /(\d+)\.(\d+)/.exec(text);
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

export const atLeast = ([major, minor]: readonly [number, number], [minMajor, minMinor]: readonly [number, number]): boolean =>
  major > minMajor || (major === minMajor && minor >= minMinor);
