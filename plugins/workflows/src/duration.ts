const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration such as `500ms`, `30s`, `5m`, `1h` or `1m30s`: one or more
 * number-unit pairs (units ms, s, m, h, largest first). A bare number has no
 * unit and is refused, so `timeout: 30` cannot mean 30 ms to one reader and
 * 30 s to another. Returns milliseconds, or undefined when `text` is not one.
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(trimmed)) return undefined;
  let total = 0;
  let lastUnit = Infinity;
  for (const match of trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    const unit = UNIT_MS[match[2] as string] as number;
    if (unit >= lastUnit) return undefined; // `5s1m`, `1m1m`: units must shrink
    lastUnit = unit;
    total += Number(match[1]) * unit;
  }
  return Math.round(total);
}

/** Milliseconds as a workflow file writes them: 90000 → `1m30s`, 500 → `500ms`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  let rest = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}
