/**
 * The list a `foreach` walks, from the value its `items` resolved to: a list as
 * it is; text holding a JSON array, that array; other text, its non-empty
 * lines, trimmed (so `${ls.output}` walks one line at a time); anything else, a
 * list of that one value.
 */
export function foreachItems(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed.startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(trimmed);
        if (Array.isArray(parsed)) return parsed;
      } catch {
        // Not JSON: lines.
      }
    }
    return trimmed === '' ? [] : trimmed.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  }
  if (value === undefined || value === null) return [];
  return [value];
}
